// The template editor: a new template (`/templates/_new`: `_` starts no template name,
// so it names no template) or a new version of one (`/templates/:name/edit`). The text
// is YAML or JSON; "Check" asks the server without storing (`?dry_run=true`), "Create"
// or "Save version" stores (`POST /api/templates`, `PUT /api/templates/{name}`). The
// server's diagnostics are listed with their line:column and marked in the gutter. A
// file can be loaded; a Tekton template file is converted by the server, the converted
// template put in the editor and the conversion report shown.
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError, api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { CodeEditor, type CodeEditorHandle } from "./CodeEditor";
import { ConversionReport, DiagnosticList } from "./Reports";
import { sendText } from "./http";
import { STARTER, diagnosticsOf, isTekton, markedLines, nameInText } from "./logic";
import type { ConversionIssue, Diagnostic, TemplateDetail, TemplatePreview, TemplateSaved } from "./types";

type Outcome =
  | { kind: "checked"; preview: TemplatePreview }
  | { kind: "saved"; saved: TemplateSaved }
  | { kind: "refused"; message: string; diagnostics: Diagnostic[] };

export default function EditorPage() {
  const routeName = useParams().name ?? null;
  // A fresh editor for each template (and for a new one).
  return <Editor key={routeName ?? "_new"} routeName={routeName} />;
}

function Editor({ routeName }: { routeName: string | null }) {
  // The template saving adds a version to (set once a new one is created).
  const [target, setTarget] = useState<string | null>(routeName);
  const [text, setText] = useState(routeName ? "" : STARTER);
  const [loaded, setLoaded] = useState(!routeName);
  const [baseVersion, setBaseVersion] = useState<number | null>(null);
  const [note, setNote] = useState("");
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [conversion, setConversion] = useState<{ file: string; items: ConversionIssue[] } | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [exists, setExists] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editor = useRef<CodeEditorHandle>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setTarget(routeName);
    if (!routeName) return;
    const ctl = new AbortController();
    setLoaded(false);
    api
      .get<TemplateDetail>(`/api/templates/${encodeURIComponent(routeName)}`, undefined, ctl.signal)
      .then((d) => {
        setText(d.source);
        setBaseVersion(d.version);
        setLoaded(true);
      })
      .catch((e) => (e as Error).name !== "AbortError" && setFailure(e));
    return () => ctl.abort();
  }, [routeName]);

  const diagnostics: Diagnostic[] =
    outcome?.kind === "refused" ? outcome.diagnostics : outcome?.kind === "checked" ? outcome.preview.warnings : outcome?.kind === "saved" ? outcome.saved.warnings : [];

  const send = async (dryRun: boolean, to: string | null = target) => {
    setBusy(true);
    setFailure(null);
    setExists(null);
    setOutcome(null);
    const query = { dry_run: dryRun || undefined, note: !dryRun && note ? note : undefined };
    try {
      if (dryRun) {
        const preview = to
          ? await sendText<TemplatePreview>("PUT", `/api/templates/${encodeURIComponent(to)}`, text, query)
          : await sendText<TemplatePreview>("POST", "/api/templates", text, query);
        setOutcome({ kind: "checked", preview });
      } else {
        const saved = to
          ? await sendText<TemplateSaved>("PUT", `/api/templates/${encodeURIComponent(to)}`, text, query)
          : await sendText<TemplateSaved>("POST", "/api/templates", text, query);
        setOutcome({ kind: "saved", saved });
        setTarget(saved.template.name);
        setBaseVersion(saved.template.version);
        if (saved.conversion) setConversion((c) => ({ file: c?.file ?? "the file", items: saved.conversion ?? [] }));
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === "invalid_definition" && Array.isArray(e.details)) {
        setOutcome({ kind: "refused", message: e.message, diagnostics: diagnosticsOf(e.details) });
      } else if (e instanceof ApiError && e.status === 409 && !to) {
        setExists(nameInText(text));
        setFailure(e);
      } else setFailure(e);
    } finally {
      setBusy(false);
    }
  };

  const load = async (file: File) => {
    const content = await file.text();
    setConversion(null);
    setOutcome(null);
    setFailure(null);
    if (!isTekton(content)) {
      setText(content);
      return;
    }
    // A Tekton file: the server converts it (a dry run stores nothing).
    setBusy(true);
    try {
      const preview = await sendText<TemplatePreview>("POST", "/api/templates", content, { dry_run: true });
      setText(preview.source);
      setConversion({ file: file.name, items: preview.conversion ?? [] });
      setOutcome({ kind: "checked", preview });
    } catch (e) {
      // Refused: the Tekton text goes in the editor, so the places point into it.
      setText(content);
      if (e instanceof ApiError && e.code === "invalid_definition" && Array.isArray(e.details)) {
        setOutcome({ kind: "refused", message: e.message, diagnostics: diagnosticsOf(e.details) });
      } else setFailure(e);
    } finally {
      setBusy(false);
    }
  };

  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const title = target ? `Edit template ${target}` : "New template";

  return (
    <div className="tpl-page tpl-editor-page">
      <div className="tpl-header">
        <h1>{title}</h1>
        {target && baseVersion !== null && <span className="muted">latest v{baseVersion}: saving stores the next version when the content differs</span>}
        <span className="spacer" />
        {target && <Link to={`/templates/${encodeURIComponent(target)}`}>Open {target}</Link>}
        <Link to="/templates">All templates</Link>
      </div>
      <p className="muted tpl-help">
        A template is a workflow with parameters: <code>name</code>, <code>description</code>, <code>tags</code>, <code>category</code>, <code>parameters</code> (a JSON
        Schema of an object) and <code>workflow</code> (whose expressions read <code>$params</code>). See <code>docs/templates.md</code>.
      </p>

      <div className="tpl-editor-grid">
        <section className="panel">
          <div className="row tpl-editor-tools">
            <button type="button" onClick={() => fileInput.current?.click()} disabled={busy}>
              Load a file…
            </button>
            <input
              ref={fileInput}
              type="file"
              accept=".yaml,.yml,.json,application/json,application/yaml"
              hidden
              data-testid="template-file"
              onChange={(e) => {
                const el = e.currentTarget;
                const f = el.files?.[0];
                if (f) load(f).finally(() => (el.value = ""));
              }}
            />
            <span className="muted">YAML or JSON; a Tekton template file (JSON with a <code>workflow_definition</code>) is converted.</span>
          </div>
          {loaded ? (
            <CodeEditor ref={editor} value={text} onChange={setText} marks={markedLines(diagnostics)} label="Template source" disabled={busy} />
          ) : (
            <div className="muted">Loading…</div>
          )}
          <div className="row tpl-editor-actions">
            <label>
              Change note
              <input name="note" value={note} placeholder="optional" onChange={(e) => setNote(e.target.value)} />
            </label>
            <button type="button" onClick={() => send(true)} disabled={busy || !loaded}>
              Check
            </button>
            <button type="button" className="primary" onClick={() => send(false)} disabled={busy || !loaded}>
              {target ? "Save version" : "Create"}
            </button>
          </div>
        </section>

        <section className="panel tpl-report" aria-live="polite">
          <h2>Report</h2>
          {!outcome && !failure && !conversion && <p className="muted">Check or save to see what the server says.</p>}
          <ErrorBox error={failure} />
          {exists && (
            <button type="button" onClick={() => send(false, exists)} disabled={busy}>
              Store it as a new version of {exists}
            </button>
          )}
          {outcome?.kind === "refused" && (
            <div className="error-box" role="alert">
              Refused: {outcome.message.replace(/ \(request\)$/, "")}.
            </div>
          )}
          {outcome?.kind === "checked" && (
            <div className="tpl-ok" role="status">
              Valid{warnings ? `, with ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}: checked only, nothing is stored yet.
            </div>
          )}
          {outcome?.kind === "saved" && <Saved saved={outcome.saved} />}
          <DiagnosticList items={diagnostics} onJump={(d) => editor.current?.jumpTo(d.line, d.column)} />
          {conversion && <ConversionReport file={conversion.file} items={conversion.items} />}
        </section>
      </div>
    </div>
  );
}

function Saved({ saved }: { saved: TemplateSaved }) {
  const t = saved.template;
  const link = <Link to={`/templates/${encodeURIComponent(t.name)}`}>{t.name}</Link>;
  return (
    <div className="tpl-ok" role="status" data-testid="saved" data-outcome={saved.outcome}>
      {saved.outcome === "created" ? (
        <>
          Stored template {link} v{t.version}.
        </>
      ) : (
        <>
          Template {link} is unchanged: v{t.version} has this content already.
        </>
      )}{" "}
      <Link to={`/templates/${encodeURIComponent(t.name)}?instantiate=1`}>Instantiate it</Link>
    </div>
  );
}
