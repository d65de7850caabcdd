// Small marks shared by the template pages: the built-in badge and a template's tags.
export function BuiltinBadge() {
  return (
    <span className="tpl-builtin" title="Ships with every Harmonia server">
      built-in
    </span>
  );
}

export function Tags({ tags, onPick }: { tags: string[]; onPick?: (tag: string) => void }) {
  if (tags.length === 0) return null;
  return (
    <span className="tpl-tags">
      {tags.map((t) =>
        onPick ? (
          <button type="button" key={t} className="tpl-tag" onClick={() => onPick(t)} title={`Only templates tagged ${t}`}>
            {t}
          </button>
        ) : (
          <span key={t} className="tpl-tag">
            {t}
          </span>
        ),
      )}
    </span>
  );
}
