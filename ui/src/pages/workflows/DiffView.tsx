// The structural difference between two versions of a workflow or a template, as the
// server computes it (`GET /api/{workflows|templates}/{name}/diff?from=&to=`): each
// change with its JSON pointer into the definition, what it was and what it became.
import { useEffect, useState } from "react";
import { api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import type { Change, WorkflowDiff } from "./types";

/** A version to pick: its number, and a note when the resource keeps one. */
export interface DiffVersion {
  version: number;
  note?: string | null;
}

function Value({ v }: { v: unknown }) {
  if (v === undefined) return <span className="muted">—</span>;
  const text = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v, null, 2);
  return text.includes("\n") || text.length > 60 ? <pre>{text}</pre> : <code>{text}</code>;
}

/** A pointer that may wrap after each `/`. */
function pointerText(path: string) {
  if (!path) return "/";
  return path
    .split("/")
    .slice(1)
    .map((seg, i) => (
      <span key={i}>
        /{seg}
        <wbr />
      </span>
    ));
}

export function DiffView({
  name,
  versions,
  from,
  to,
  onPick,
  resource = "workflows",
}: {
  name: string;
  versions: DiffVersion[];
  from: number;
  to: number;
  onPick: (from: number, to: number) => void;
  /** Whose versions: a workflow's (default) or a template's. */
  resource?: "workflows" | "templates";
}) {
  const [diff, setDiff] = useState<WorkflowDiff | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (from === to) {
      setDiff({ name, from, to, changes: [] });
      setError(null);
      return;
    }
    const ctl = new AbortController();
    api
      .get<WorkflowDiff>(`/api/${resource}/${encodeURIComponent(name)}/diff`, { from, to }, ctl.signal)
      .then((d) => {
        setDiff(d);
        setError(null);
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      });
    return () => ctl.abort();
  }, [name, from, to, resource]);

  const pick = (label: string, value: number, set: (v: number) => void) => (
    <label>
      {label}
      <select name={`diff-${label.toLowerCase()}`} value={value} onChange={(e) => set(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
            {v.note ? ` · ${v.note}` : ""}
          </option>
        ))}
      </select>
    </label>
  );
  const current = diff && diff.from === from && diff.to === to ? diff : null;
  return (
    <div className="wf-diff" data-testid={resource === "templates" ? "template-diff" : "version-diff"}>
      <div className="row">
        {pick("From", from, (f) => onPick(f, to))}
        {pick("To", to, (t) => onPick(from, t))}
        {current && (
          <span className="muted">
            {from === to
              ? "the same version"
              : current.changes.length === 0
                ? "no changes (only the order of keys differs, or nothing)"
                : `${current.changes.length} change${current.changes.length === 1 ? "" : "s"}`}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
      {current && current.changes.length > 0 && (
        <table className="list diff">
          <thead>
            <tr>
              <th>Where</th>
              <th>Change</th>
              <th>Before (v{from})</th>
              <th>After (v{to})</th>
            </tr>
          </thead>
          <tbody>
            {current.changes.map((c: Change) => (
              <tr key={c.path} data-path={c.path} data-change={c.change}>
                <td className="mono">{pointerText(c.path)}</td>
                <td>
                  <span className={`change change-${c.change}`}>{c.change}</span>
                </td>
                <td className="diff-before">
                  <Value v={c.before} />
                </td>
                <td className="diff-after">
                  <Value v={c.after} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
