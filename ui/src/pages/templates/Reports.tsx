// What the server said about a template's text: its diagnostics (errors of a refused
// definition, warnings of an accepted one), each with its line:column (a button that
// moves the editor's cursor there), and the report of a Tekton conversion (places in
// the Tekton file).
import { placeText } from "./logic";
import type { ConversionIssue, Diagnostic } from "./types";

export function DiagnosticList({ items, onJump }: { items: Diagnostic[]; onJump?: (d: Diagnostic) => void }) {
  if (items.length === 0) return null;
  return (
    <ul className="tpl-diags" data-testid="diagnostics">
      {items.map((d, i) => (
        <li key={i} className={`tpl-diag tpl-diag-${d.severity === "error" ? "error" : "warning"}`} data-line={d.line} data-column={d.column}>
          {onJump && d.line > 0 ? (
            <button type="button" className="link tpl-place mono" onClick={() => onJump(d)} title="Go to this place in the text">
              {placeText(d)}
            </button>
          ) : (
            <span className="tpl-place mono">{placeText(d)}</span>
          )}
          <span className="tpl-sev">{d.severity}</span>
          {d.path && <code className="tpl-path">{d.path}</code>}
          <span className="tpl-msg">{d.message}</span>
        </li>
      ))}
    </ul>
  );
}

export function ConversionReport({ file, items }: { file: string; items: ConversionIssue[] }) {
  return (
    <div className="tpl-conversion" data-testid="conversion-report">
      <h3>
        Converted from the Tekton file <code>{file}</code>
      </h3>
      {items.length === 0 ? (
        <p className="muted">Everything was carried over exactly.</p>
      ) : (
        <>
          <p className="muted">
            {items.length} thing{items.length === 1 ? "" : "s"} could not be carried over exactly: check {items.length === 1 ? "it" : "them"} in the converted
            template before relying on it. Places are in {file}.
          </p>
          <ul className="tpl-diags">
            {items.map((c, i) => (
              <li key={i} className={`tpl-diag tpl-conv-${c.kind}`} data-kind={c.kind}>
                <span className="tpl-place mono">
                  {file}:{placeText(c)}
                </span>
                <span className={`tpl-kind tpl-kind-${c.kind}`}>{c.kind}</span>
                {c.path && <code className="tpl-path">{c.path}</code>}
                <span className="tpl-msg">{c.message}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
