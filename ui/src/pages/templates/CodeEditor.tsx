// A plain text editor for a template's YAML (or JSON): a monospace <textarea> without
// wrapping, beside a gutter of line numbers that scrolls with it, where the lines a
// diagnostic points at are marked. `jumpTo` (through the ref) puts the cursor at a
// line and column and scrolls it into view.
import { forwardRef, useImperativeHandle, useRef } from "react";
import { offsetOf } from "./logic";

export interface CodeEditorHandle {
  jumpTo: (line: number, column: number) => void;
}

const LINE_HEIGHT = 19;

export const CodeEditor = forwardRef<
  CodeEditorHandle,
  { value: string; onChange: (v: string) => void; marks: Map<number, "error" | "warning">; label: string; disabled?: boolean }
>(function CodeEditor({ value, onChange, marks, label, disabled }, ref) {
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  useImperativeHandle(ref, () => ({
    jumpTo(line, column) {
      const t = area.current;
      if (!t) return;
      const at = offsetOf(t.value, line, column);
      t.focus();
      t.setSelectionRange(at, at);
      t.scrollTop = Math.max(0, (line - 4) * LINE_HEIGHT);
    },
  }));
  const lines = value.split("\n").length;
  return (
    <div className="tpl-editor" style={{ ["--tpl-lh" as string]: `${LINE_HEIGHT}px` }}>
      <div className="tpl-gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => {
          const mark = marks.get(i + 1);
          return (
            <div key={i} className={mark ? `tpl-line-${mark}` : undefined} data-line={i + 1}>
              {i + 1}
            </div>
          );
        })}
      </div>
      <textarea
        ref={area}
        aria-label={label}
        name="source"
        className="mono"
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        wrap="off"
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        onKeyDown={(e) => {
          // Tab indents by two spaces (YAML takes no tabs) instead of leaving the field.
          if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey) return;
          e.preventDefault();
          const t = e.currentTarget;
          const { selectionStart: s, selectionEnd: end } = t;
          const next = `${t.value.slice(0, s)}  ${t.value.slice(end)}`;
          onChange(next);
          requestAnimationFrame(() => t.setSelectionRange(s + 2, s + 2));
        }}
      />
    </div>
  );
});
