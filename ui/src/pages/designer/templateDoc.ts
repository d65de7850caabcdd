// The designer in template mode: the document it edits is a whole template (`name`,
// `description`, `tags`, `category`, `parameters`, `workflow:`); the canvas and the
// property editor work on its `workflow:` part. These pure functions get and set that
// part (with `params` standing for the parameters, so `$params.<name>` completes),
// and map the server's diagnostics of the template onto the workflow part's paths.
import type { Diagnostic } from "./api";
import type { Definition } from "./model";
import { nodeOfPath } from "./nodes";

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A starting template. */
export function emptyTemplate(): Definition {
  return { name: "new-template", workflow: { tasks: {} } };
}

/** The parameter names the template's `parameters` schema declares. */
export function parameterNames(doc: Definition): string[] {
  const p = doc.parameters;
  return isObj(p) && isObj(p.properties) ? Object.keys(p.properties) : [];
}

/** The workflow part as a definition the designer edits (`params`: one key per parameter). */
export function workflowOf(doc: Definition): Definition {
  const wf = isObj(doc.workflow) ? (doc.workflow as Definition) : {};
  const params: Record<string, null> = {};
  for (const k of parameterNames(doc)) params[k] = null;
  return { ...wf, params };
}

/** The template with its workflow part replaced by `wf` (its `params` left out). */
export function withWorkflow(doc: Definition, wf: Definition): Definition {
  const { params: _params, ...rest } = wf;
  void _params;
  return { ...doc, workflow: rest };
}

/** Sets one top-level field of the template (`undefined`, "" or an empty list removes it). */
export function setTemplateField(doc: Definition, key: string, value: unknown): Definition {
  const out = { ...doc };
  if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) delete out[key];
  else out[key] = value;
  return out;
}

/** Tags typed as `a, b` → a list (blank ones dropped). */
export function parseTags(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

/** The diagnostics of the workflow part, with paths relative to it (`workflow.tasks.x` → `tasks.x`). */
export function workflowDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags.filter((d) => d.path === "workflow" || d.path.startsWith("workflow.")).map((d) => ({ ...d, path: d.path.replace(/^workflow\.?/, "") }));
}

/** The node a template diagnostic's path is about (`workflow.tasks.fetch.with` → fetch). */
export function templateNodeOfPath(path: string): string | null {
  return path.startsWith("workflow.") ? nodeOfPath(path.slice("workflow.".length)) : null;
}
