// Moving templates between servers (`/templates/import`: `import` is a reserved
// template name). Export: some or every template, with all their versions, as one
// YAML or JSON document (saved through a Blob link). Import: an export document or a
// single template file sent to `POST /api/templates/import` (`?strict=true` to refuse
// any difference), and the report by template: versions created, versions unchanged,
// or the conflict that stopped a strict import (nothing is then written).
import { useRef, useState } from "react";
import { Link } from "react-router";
import { ApiError } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { ExportButtons } from "./ExportButtons";
import { DiagnosticList } from "./Reports";
import { sendText } from "./http";
import { conflictingTemplate, diagnosticsOf, groupImport, isBuiltin, versionsText, type ImportRow } from "./logic";
import type { Diagnostic, ImportResult } from "./types";
import { useTemplates } from "./useTemplates";

type Report =
  | { kind: "done"; file: string; strict: boolean; rows: ImportRow[] }
  | { kind: "conflict"; file: string; template: string | null; message: string }
  | { kind: "invalid"; file: string; message: string; diagnostics: Diagnostic[] };

export default function ImportExportPage() {
  const { templates, error, reload } = useTemplates();
  const [picked, setPicked] = useState<Set<string> | null>(null);
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [strict, setStrict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);

  const all = (templates ?? []).map((t) => t.name);
  const chosen = picked ?? new Set(all);
  const names = chosen.size === all.length ? [] : all.filter((n) => chosen.has(n));
  const toggle = (n: string) => {
    const next = new Set(chosen);
    if (next.has(n)) next.delete(n);
    else next.add(n);
    setPicked(next);
  };

  const run = async () => {
    if (!file) return;
    setBusy(true);
    setReport(null);
    setFailure(null);
    try {
      const r = await sendText<ImportResult>("POST", "/api/templates/import", file.text, { strict: strict || undefined });
      setReport({ kind: "done", file: file.name, strict, rows: groupImport(r) });
      reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setReport({ kind: "conflict", file: file.name, template: conflictingTemplate(e.message), message: e.message });
      else if (e instanceof ApiError && e.code === "invalid_definition" && Array.isArray(e.details)) {
        setReport({ kind: "invalid", file: file.name, message: e.message, diagnostics: diagnosticsOf(e.details) });
      } else setFailure(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="tpl-page">
      <div className="tpl-header">
        <h1>Import and export templates</h1>
        <span className="spacer" />
        <Link to="/templates">All templates</Link>
      </div>
      <div className="wf-grid">
        <section className="panel tpl-import" aria-label="Import">
          <h2>Import</h2>
          <p className="muted">
            An export document (<code>format: harmonia-templates/1</code>) or one template file, YAML or JSON. A version whose content this server has already is
            unchanged; any other is stored as a new version.
          </p>
          <div className="row">
            <button type="button" onClick={() => input.current?.click()} disabled={busy}>
              Choose a file…
            </button>
            <input
              ref={input}
              type="file"
              hidden
              accept=".yaml,.yml,.json,application/json,application/yaml"
              data-testid="import-file"
              onChange={(e) => {
                // Read at once: the file is sent as it was when chosen.
                const el = e.currentTarget;
                const f = el.files?.[0];
                setReport(null);
                setFailure(null);
                if (!f) return;
                f.text()
                  .then((text) => setFile({ name: f.name, text }))
                  .catch((err) => setFailure(err))
                  .finally(() => {
                    el.value = "";
                  });
              }}
            />
            <span className={file ? "mono" : "muted"}>{file ? file.name : "no file chosen"}</span>
          </div>
          <label className="tpl-check">
            <input type="checkbox" name="strict" checked={strict} onChange={(e) => setStrict(e.target.checked)} />
            Strict: refuse the whole import when a template here has other content (nothing is written)
          </label>
          <div className="row">
            <button type="button" className="primary" onClick={run} disabled={!file || busy}>
              {busy ? "Importing…" : "Import"}
            </button>
          </div>
          <ErrorBox error={failure} />
          {report && <ImportReport report={report} />}
        </section>

        <section className="panel tpl-export-panel" aria-label="Export">
          <h2>Export</h2>
          <p className="muted">Templates with every version, their notes and creation times. Importing the file elsewhere makes the same templates there.</p>
          <ErrorBox error={error} />
          {templates && (
            <>
              <div className="row tpl-pick-all">
                <button type="button" className="link" onClick={() => setPicked(new Set(all))}>
                  All
                </button>
                <button type="button" className="link" onClick={() => setPicked(new Set())}>
                  None
                </button>
                <span className="muted">{chosen.size === all.length ? `every template (${all.length})` : `${chosen.size} of ${all.length}`}</span>
              </div>
              <ul className="tpl-pick">
                {templates.map((t) => (
                  <li key={t.name}>
                    <label className="tpl-check">
                      <input type="checkbox" checked={chosen.has(t.name)} onChange={() => toggle(t.name)} />
                      {t.name} <span className="muted">v{t.version}{isBuiltin(t.name) ? " · built-in" : ""}</span>
                    </label>
                  </li>
                ))}
              </ul>
              {chosen.size > 0 ? <ExportButtons names={names} /> : <p className="muted">Choose a template to export.</p>}
            </>
          )}
        </section>
      </div>
    </div>
  );
}

function ImportReport({ report }: { report: Report }) {
  if (report.kind === "conflict") {
    return (
      <div className="tpl-import-report" data-testid="import-report" data-result="conflict">
        <div className="error-box" role="alert">
          <strong>Conflict</strong>
          {report.template && (
            <>
              {" "}
              on <Link to={`/templates/${encodeURIComponent(report.template)}`}>{report.template}</Link>
            </>
          )}
          : {report.message}. Nothing was written.
        </div>
      </div>
    );
  }
  if (report.kind === "invalid") {
    return (
      <div className="tpl-import-report" data-testid="import-report" data-result="invalid">
        <div className="error-box" role="alert">
          {report.file} was refused: {report.message.replace(/ \(request\)$/, "")}. Nothing was written.
        </div>
        <DiagnosticList items={report.diagnostics} />
      </div>
    );
  }
  const created = report.rows.reduce((n, r) => n + r.created.length, 0);
  const unchanged = report.rows.reduce((n, r) => n + r.unchanged.length, 0);
  return (
    <div className="tpl-import-report" data-testid="import-report" data-result="done">
      <div className="tpl-ok" role="status">
        Imported {report.file}
        {report.strict ? " (strict)" : ""}: {created} version{created === 1 ? "" : "s"} created, {unchanged} unchanged.
      </div>
      <table className="list compact">
        <thead>
          <tr>
            <th>Template</th>
            <th>Result</th>
            <th>Created</th>
            <th>Unchanged</th>
          </tr>
        </thead>
        <tbody>
          {report.rows.map((r) => {
            const result = r.created.length === 0 ? "unchanged" : r.unchanged.length === 0 ? "created" : "new versions";
            return (
              <tr key={r.name} data-name={r.name} data-result={result}>
                <td>
                  <Link to={`/templates/${encodeURIComponent(r.name)}`}>{r.name}</Link>
                </td>
                <td>
                  <span className={`tpl-result tpl-result-${result.replace(" ", "-")}`}>{result}</span>
                </td>
                <td>{versionsText(r.created)}</td>
                <td>{versionsText(r.unchanged)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
