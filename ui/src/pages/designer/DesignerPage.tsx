// The visual workflow designer (`/workflows/new`, `/workflows/:name/edit`). Its state
// is one definition (with its YAML text), kept in an undo history: the canvas, the
// property editor and the YAML text all edit it; the YAML text is parsed (debounced)
// back into it, a parse error leaving the last good definition on the canvas. The
// server validates the text as it changes; saving stores a new workflow or, after a
// line diff against the stored text, a new version. Unsaved edits hold back leaving
// the page (UnsavedGuard); node positions are kept per document (layoutStore.ts).
// In template mode (`/templates/_new/design`, `/templates/:name/design`) the document
// is a whole template: the canvas and properties edit its `workflow:` part (through
// templateDoc.ts), the panel with no task selected its own fields and parameters; it
// is checked with `POST /api/templates?dry_run=true` and saved as a template.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import type { WorkflowDetail } from "../../api/types";
import { sendText } from "../templates/http";
import type { TemplateDetail } from "../templates/types";
import { ErrorBox } from "../../components/ErrorBox";
import { deepEqual } from "../workflows/schema";
import { getTaskTypes, initialWith, sendYaml, validateTemplateYaml, validateYaml, type TaskType, type Validation } from "./api";
import { Canvas, autoLayout, freeSpot, type Positions } from "./Canvas";
import { lineRange } from "./diagnostics";
import { push, redo, start, undo, type History } from "./history";
import { Library } from "./Library";
import { lineDiff } from "./lineDiff";
import { addTask, connect, disconnect, emptyDefinition, renameTask, type Block, type Definition } from "./model";
import { nodeOfPath, refOf, removeNode, SUBS, toGraph } from "./nodes";
import { Properties } from "./Properties";
import { TemplatePanel } from "./TemplatePanel";
import { UnsavedGuard } from "./UnsavedGuard";
import { DescribeDialog } from "../assist/DescribeDialog";
import { assistStatus } from "../assist/api";
import { layoutKey, loadLayout, saveLayout } from "./layoutStore";
import { emptyTemplate, templateNodeOfPath, withWorkflow, workflowDiagnostics, workflowOf } from "./templateDoc";
import { parseDefinition, toYaml } from "./yamlText";

function fresh(template: boolean): History {
  const def = template ? emptyTemplate() : emptyDefinition();
  return start({ def, text: toYaml(def) });
}

function editable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

/** The page, afresh for each workflow (or a new one). */
export default function DesignerPage() {
  const name = useParams().name ?? null;
  // Template mode (`/templates/_new/design`, `/templates/:name/design`): the document
  // is a template, the canvas and properties edit its `workflow:` part.
  const template = useLocation().pathname.startsWith("/templates/");
  return <Designer key={`${template}:${name ?? ""}`} name={name} template={template} />;
}

function Designer({ name, template }: { name: string | null; template: boolean }) {
  const navigate = useNavigate();
  const [hist, setHist] = useState<History | null>(() => (name ? null : fresh(template)));
  const [stored, setStored] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [draft, setDraft] = useState(hist?.present.text ?? "");
  const [parseError, setParseError] = useState<string | null>(null);
  const [positions, setPositions] = useState<Positions>(() => loadLayout(layoutKey(template, name)));
  // The text the edits are measured against: the stored one, or the new document's.
  const [baseline, setBaseline] = useState<string | null>(() => hist?.present.text ?? null);
  // Set once saved: leaving is no longer held back.
  const saved = useRef(false);
  const [fitKey, setFitKey] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  // Where the library adds tasks: `tasks` or a handler block.
  const [block, setBlock] = useState<Block>("tasks");
  const [types, setTypes] = useState<TaskType[] | null>(null);
  // Whether the assistant has a model (then a new workflow can be described).
  const [canDescribe, setCanDescribe] = useState(false);
  const [describing, setDescribing] = useState(false);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [reviewing, setReviewing] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const textArea = useRef<HTMLTextAreaElement>(null);

  // The stored workflow, when editing one.
  useEffect(() => {
    if (!name) return;
    const ctl = new AbortController();
    api
      .get<WorkflowDetail | TemplateDetail>(`/api/${template ? "templates" : "workflows"}/${encodeURIComponent(name)}`, undefined, ctl.signal)
      .then((d) => {
        const parsed = parseDefinition(d.source);
        const def = parsed.ok ? parsed.def : ((("template" in d ? d.template : (d as WorkflowDetail).definition) ?? {}) as Definition);
        const text = d.format === "yaml" ? d.source : toYaml(def);
        setStored(text);
        setBaseline(text);
        setHist(start({ def, text }));
        setDraft(text);
        setFitKey((k) => k + 1);
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setLoadError(e);
      });
    return () => ctl.abort();
  }, [name, template]);

  useEffect(() => {
    const ctl = new AbortController();
    getTaskTypes(ctl.signal)
      .then((t) => setTypes(t.types))
      .catch(() => setTypes([]));
    return () => ctl.abort();
  }, []);
  useEffect(() => {
    if (name || template) return;
    const ctl = new AbortController();
    assistStatus(ctl.signal)
      .then((s) => setCanDescribe(s.configured))
      .catch(() => setCanDescribe(false));
    return () => ctl.abort();
  }, [name, template]);
  const typeMap = useMemo(() => Object.fromEntries((types ?? []).map((t) => [t.name, t])), [types]);

  const present = hist?.present ?? null;
  // The document (a workflow, or a template) and the workflow the canvas edits.
  const doc = present?.def ?? null;
  const def = useMemo(() => (doc && template ? workflowOf(doc) : doc), [doc, template]);
  const text = present?.text ?? "";

  const commitDoc = useCallback((next: Definition, tag: string | null = null) => {
    setMessage(null);
    setHist((h) => (h ? push(h, { def: next, text: toYaml(next, h.present.text) }, tag) : h));
  }, []);
  // A new workflow (part): in template mode, set in the template.
  const commit = useCallback(
    (next: Definition, tag: string | null = null) => {
      setMessage(null);
      setHist((h) => {
        if (!h) return h;
        const nextDoc = template ? withWorkflow(h.present.def, next) : next;
        return push(h, { def: nextDoc, text: toYaml(nextDoc, h.present.text) }, tag);
      });
    },
    [template],
  );
  const taskOf = template ? templateNodeOfPath : nodeOfPath;

  // The text follows the definition (canvas and form edits, undo).
  useEffect(() => {
    setDraft(text);
    setParseError(null);
  }, [text]);

  // Typing in the YAML: parsed 300 ms after the last key.
  useEffect(() => {
    if (!hist || draft === hist.present.text) return;
    const timer = setTimeout(() => {
      const parsed = parseDefinition(draft);
      if (!parsed.ok) {
        setParseError(`line ${parsed.line ?? "?"}: ${parsed.error}`);
        return;
      }
      setParseError(null);
      setHist((h) => {
        if (!h) return h;
        if (deepEqual(parsed.def, h.present.def)) return { ...h, present: { ...h.present, text: draft } };
        return push(h, { def: parsed.def, text: draft }, "text");
      });
    }, 300);
    return () => clearTimeout(timer);
  }, [draft, hist]);

  // The server's diagnostics, 500 ms after the text last changed.
  useEffect(() => {
    if (!text) return;
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      (template ? validateTemplateYaml(text) : validateYaml(text, ctl.signal))
        .then((v) => {
          if (!ctl.signal.aborted) setValidation(v);
        })
        .catch((e) => {
          if ((e as Error).name !== "AbortError") setValidation({ valid: false, diagnostics: [{ severity: "error", path: "", message: String((e as Error).message) }] });
        });
    }, 500);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [text, template]);

  const graph = useMemo(() => toGraph(def ?? {}), [def]);

  // The layout is kept for the next visit (a new document's once it has a name).
  useEffect(() => {
    saveLayout(layoutKey(template, name), positions, graph.nodes.map((n) => n.id));
  }, [positions, graph, template, name]);

  // Nodes without a place get dagre's (all of them at first: then fit the view).
  useEffect(() => {
    const missing = graph.nodes.filter((n) => !positions[n.id]);
    if (!missing.length) return;
    const auto = autoLayout(graph);
    setPositions((p) => {
      const out = { ...p };
      // Where dagre would put it, moved down off any node already placed.
      for (const n of missing) out[n.id] ??= freeSpot(auto[n.id], Object.values(out));
      return out;
    });
    setFitKey((k) => k + 1);
  }, [graph, positions]);

  const diagnostics = validation?.diagnostics ?? [];
  const errorsByTask = useMemo(() => {
    const out: Record<string, number> = {};
    for (const d of diagnostics) {
      const t = taskOf(d.path) ?? d.task;
      if (t && d.severity === "error") out[t] = (out[t] ?? 0) + 1;
    }
    return out;
  }, [diagnostics, taskOf]);

  const doUndo = useCallback(() => setHist((h) => (h ? undo(h) : h)), []);
  const doRedo = useCallback(() => setHist((h) => (h ? redo(h) : h)), []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || editable(e.target)) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) doUndo();
      else if ((k === "z" && e.shiftKey) || k === "y") doRedo();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [doUndo, doRedo]);

  if (loadError) return <ErrorBox error={loadError} />;
  if (!hist || !def || !doc) return <div className="loading">Loading…</div>;

  const add = (type: string, pos?: { x: number; y: number }) => {
    const r = addTask(def, type, initialWith(typeMap[type]), block);
    if (pos) setPositions((p) => ({ ...p, [r.name]: pos }));
    commit(r.def);
    setSelected(r.name);
  };

  // `to` needs `from`: both tasks of one block (a handler needs only handlers of its
  // own block; a fallback or compensation needs nothing).
  const onConnect = (from: string, to: string) => {
    const a = refOf(def, from);
    const b = refOf(def, to);
    if (!a || !b) return;
    if (a.sub || b.sub) {
      setMessage(`\`${a.sub ? from : to}\` is a ${(a.sub ?? b.sub)!}: it takes no needs (it runs with its task)`);
      return;
    }
    if (a.block !== b.block) {
      const handler = b.block === "tasks" ? a : b;
      setMessage(`\`${handler.name}\` is a handler (\`${handler.block}\`): it runs after every task, and needs only handlers of its own block`);
      return;
    }
    const r = connect(def, from, to, b.block);
    if (r.ok) commit(r.def);
    else setMessage(r.error);
  };

  const onDelete = (tasks: string[], edges: { from: string; to: string }[]) => {
    let next = def;
    for (const e of edges) next = disconnect(next, e.from, e.to, refOf(next, e.to)?.block ?? "tasks");
    // Fallbacks and compensations first: their task may go too.
    for (const t of [...tasks].sort((x, y) => Number(y.includes(".")) - Number(x.includes(".")))) {
      const r = refOf(next, t);
      if (r) next = removeNode(next, r);
    }
    if (tasks.includes(selected ?? "")) setSelected(null);
    if (next !== def) commit(next);
  };

  const onRename = (from: string, to: string): string | null => {
    const r = renameTask(def, from, to, refOf(def, from)?.block ?? "tasks");
    if (!r.ok) return r.error;
    setPositions((p) => {
      const out = { ...p };
      for (const [a, b] of [[from, to], ...SUBS.map((s) => [`${from}.${s}`, `${to}.${s}`])]) {
        if (out[a]) out[b] = out[a];
        delete out[a];
      }
      return out;
    });
    setSelected(to);
    commit(r.def);
    return null;
  };

  // A drafted workflow replaces the document (an edit undo takes back).
  const takeDraft = (yaml: string) => {
    const parsed = parseDefinition(yaml);
    if (!parsed.ok) {
      setMessage(`the draft does not read: ${parsed.error}`);
      return;
    }
    setMessage(null);
    setSelected(null);
    setPositions({});
    setHist((h) => (h ? push(h, { def: parsed.def, text: yaml }, "describe") : h));
  };

  // Saved, the workflow's page; with `run`, its inputs form open (`?execute=1`).
  const save = async (run = false) => {
    setSaving(true);
    setSaveError(null);
    const ids = graph.nodes.map((n) => n.id);
    try {
      if (template) {
        if (name) await sendText("PUT", `/api/templates/${encodeURIComponent(name)}`, text);
        else await sendText("POST", "/api/templates", text);
        saved.current = true;
        saveLayout(layoutKey(true, String(name ?? doc.name)), positions, ids);
        navigate(`/templates/${encodeURIComponent(String(name ?? doc.name))}`);
        return;
      }
      if (name) await sendYaml("PUT", `/api/workflows/${encodeURIComponent(name)}`, text);
      else await sendYaml("POST", "/api/workflows", text);
      saved.current = true;
      saveLayout(layoutKey(false, String(name ?? def.name)), positions, ids);
      navigate(`/workflows/${encodeURIComponent(String(name ?? def.name))}${run ? "?execute=1" : ""}`);
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  };

  // A problem: its task selected, else its line of the YAML.
  const showProblem = (task: string | null, line: number | undefined) => {
    if (task && refOf(def, task)) setSelected(task);
    else if (line && textArea.current) {
      const [from, to] = lineRange(draft, line);
      textArea.current.focus();
      textArea.current.setSelectionRange(from, to);
    }
  };

  const errorCount = diagnostics.filter((d) => d.severity === "error").length;
  const dirty = draft !== (baseline ?? draft) || text !== (baseline ?? text);
  return (
    <div className="dz-page">
      <UnsavedGuard dirty={dirty} released={saved} what={template ? (name ? `template ${name}` : "the new template") : name ? `workflow ${name}` : "the new workflow"} />
      <div className="dz-toolbar">
        <h1>{template ? (name ? `Design template ${name}` : "New template") : name ? `Edit ${name}` : "New workflow"}</h1>
        <button type="button" onClick={doUndo} disabled={!hist.past.length} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button type="button" onClick={doRedo} disabled={!hist.future.length} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button type="button" onClick={() => { setPositions(autoLayout(graph)); setFitKey((k) => k + 1); }}>
          Layout
        </button>
        {canDescribe && (
          <button type="button" onClick={() => setDescribing(true)} title="Draft a workflow from a description (the assistant)">
            Describe…
          </button>
        )}
        <span className="spacer" />
        <span className={`dz-status ${errorCount ? "dz-bad" : "dz-good"}`} role="status">
          {!validation ? "Checking…" : errorCount ? `${errorCount} error${errorCount === 1 ? "" : "s"}` : "Valid"}
        </span>
        {name && <Link to={`/${template ? "templates" : "workflows"}/${encodeURIComponent(name)}`}>Cancel</Link>}
        <button type="button" className="primary" disabled={saving || !!parseError} onClick={() => (name ? setReviewing(true) : save())}>
          {name ? "Review & save…" : "Save"}
        </button>
        {!name && !template && (
          <button type="button" disabled={saving || !!parseError} onClick={() => save(true)} title="Save, then open the form to run it">
            Save &amp; run…
          </button>
        )}
      </div>
      {message && (
        <div className="dz-message" role="alert">
          {message} <button type="button" onClick={() => setMessage(null)}>OK</button>
        </div>
      )}
      <ErrorBox error={saveError} />
      {describing && <DescribeDialog onUse={takeDraft} onClose={() => setDescribing(false)} />}
      {reviewing && name && (
        <div className="dz-review panel" aria-label="Changes">
          <h2>Changes against the stored version</h2>
          <pre className="dz-diff">
            {lineDiff(stored ?? "", text).map((l, i) => (
              <div key={i} className={`dz-diff-${l.kind}`}>
                {l.kind === "add" ? "+ " : l.kind === "del" ? "- " : "  "}
                {l.text}
              </div>
            ))}
          </pre>
          <button type="button" className="primary" disabled={saving} onClick={() => save()}>
            Save new version
          </button>{" "}
          {!template && (
            <>
              <button type="button" disabled={saving} onClick={() => save(true)}>
                Save &amp; run…
              </button>{" "}
            </>
          )}
          <button type="button" onClick={() => setReviewing(false)}>
            Back
          </button>
        </div>
      )}
      <div className="dz-grid">
        <Library types={types} onAdd={(t) => add(t)} block={block} onBlock={setBlock} />
        <Canvas
          graph={graph}
          positions={positions}
          errors={errorsByTask}
          selected={selected}
          fitKey={fitKey}
          onSelect={setSelected}
          onMove={(id, pos) => setPositions((p) => ({ ...p, [id]: pos }))}
          onConnect={onConnect}
          onDelete={onDelete}
          onDropType={(t, pos) => add(t, pos)}
        />
        <div className="dz-yaml">
          <label htmlFor="dz-yaml-text">YAML</label>
          <textarea ref={textArea} id="dz-yaml-text" aria-label="YAML" spellCheck={false} value={draft} onChange={(e) => setDraft(e.target.value)} />
          {parseError && (
            <div className="dz-parse-error" role="alert">
              {parseError}
            </div>
          )}
        </div>
        <Properties
          def={def}
          task={selected && refOf(def, selected) ? selected : null}
          types={typeMap}
          diagnostics={template ? workflowDiagnostics(diagnostics) : diagnostics}
          onChange={commit}
          template={template ? <TemplatePanel doc={doc} diagnostics={diagnostics} onChange={commitDoc} /> : undefined}
          onRename={onRename}
          onSelect={setSelected}
          onToggleNeed={(need, on) => (on ? onConnect(need, selected!) : commit(disconnect(def, need, selected!, refOf(def, selected!)?.block ?? "tasks")))}
        />
        <section className="dz-diagnostics" aria-label="Diagnostics">
          <h2>Problems</h2>
          {diagnostics.length === 0 && <div className="muted">{validation ? "None." : "…"}</div>}
          <ul>
            {diagnostics.map((d, i) => {
              const t = d.task ?? taskOf(d.path);
              return (
                <li key={i} className={`dz-diag dz-diag-${d.severity}`}>
                  <button type="button" className="link" onClick={() => showProblem(t, d.line)}>
                    <span className="dz-diag-path">{d.path || "(document)"}</span>
                    {d.line ? <span className="muted"> line {d.line}</span> : null}: {d.message}
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      </div>
    </div>
  );
}
