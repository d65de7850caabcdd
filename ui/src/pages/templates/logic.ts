// The pure logic of the template pages (tested in logic.test.ts): the rows of a
// parameters schema, the library's search and filters, the built-ins, the graph of
// a template's workflow, diagnostics and where they point in a text, the report of
// an import, and the names of downloaded exports.
import type { Graph, GraphNode, JsonSchema } from "../../api/types";
import type { Diagnostic, ImportResult, TemplateBody, TemplateSummary } from "./types";

// ---- texts sent ----

/** The content type of a definition's text: JSON when it reads as a JSON value, else YAML. */
export function contentTypeOf(text: string): "application/json" | "application/yaml" {
  const t = text.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      JSON.parse(t);
      return "application/json";
    } catch {
      // YAML's flow style looks like JSON too: let the YAML reader say what is wrong.
    }
  }
  return "application/yaml";
}

/** Whether `text` is a template file of the original Tekton Harmonia (JSON with a
 * `workflow_definition`), which the server converts. */
export function isTekton(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) && "workflow_definition" in v;
  } catch {
    return false;
  }
}

/** The template's `name` as the text writes it (top-level `name:` in YAML, or JSON's). */
export function nameInText(text: string): string | null {
  try {
    const v = JSON.parse(text) as { name?: unknown };
    return typeof v?.name === "string" ? v.name : null;
  } catch {
    const m = /^name:[ \t]*(["']?)([^"'#\s]+)\1[ \t]*(#.*)?$/m.exec(text);
    return m ? m[2] : null;
  }
}

/** What is wrong with a workflow name (the server's rule), or null. */
export function workflowNameProblem(name: string): string | null {
  if (name === "") return null;
  if (name.length > 128) return "at most 128 characters";
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) return "use lowercase letters, digits, _ and -, starting with a letter or a digit";
  return null;
}

// ---- built-ins ----

/** The templates every server starts with (docs/templates.md). The API has no flag for
 * them: a built-in is one of these names whose first version's note is `built in`. */
export const BUILTIN_TEMPLATES = ["data-pipeline", "etl", "http-fan-out", "retry-api-call", "scheduled-report"];

/** Whether a template is a built-in: by its name, and (when known) its first version's note. */
export function isBuiltin(name: string, firstNote?: string | null): boolean {
  return BUILTIN_TEMPLATES.includes(name) && (firstNote === undefined || firstNote === "built in");
}

// ---- parameters ----

export interface ParamRow {
  /** Dotted from the top: `headers`, `retry.max_attempts`. */
  name: string;
  depth: number;
  type: string;
  required: boolean;
  hasDefault: boolean;
  default?: unknown;
  description: string | null;
  /** Other constraints in words: `pattern ^https?://`, `at least 1 character`. */
  constraints: string[];
}

function typeNames(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === "string");
  if (typeof s.type === "string") return [s.type];
  if (s.properties) return ["object"];
  return [];
}

/** A schema's type for people: `string`, `integer`, `list of string`, `one of "." | "!"`, `any`. */
export function typeText(s: JsonSchema): string {
  if (Array.isArray(s.enum) && s.enum.length > 0) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(" | ")}`;
  if (s.const !== undefined) return `exactly ${JSON.stringify(s.const)}`;
  const types = typeNames(s);
  if (types.length === 0) return "any";
  return types
    .map((t) => {
      if (t !== "array") return t;
      const items = s.items && typeof s.items === "object" && !Array.isArray(s.items) ? (s.items as JsonSchema) : null;
      return items ? `list of ${typeText(items)}` : "list";
    })
    .join(" or ");
}

/** The constraints of a schema besides its type, in words. */
export function constraintsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  const n = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : null);
  if (n("minimum") !== null && n("maximum") !== null) out.push(`${n("minimum")} to ${n("maximum")}`);
  else if (n("minimum") !== null) out.push(`≥ ${n("minimum")}`);
  else if (n("maximum") !== null) out.push(`≤ ${n("maximum")}`);
  if (n("exclusiveMinimum") !== null) out.push(`> ${n("exclusiveMinimum")}`);
  if (n("exclusiveMaximum") !== null) out.push(`< ${n("exclusiveMaximum")}`);
  if (n("minLength") !== null) out.push(`at least ${n("minLength")} character${n("minLength") === 1 ? "" : "s"}`);
  if (n("maxLength") !== null) out.push(`at most ${n("maxLength")} characters`);
  if (n("minItems") !== null) out.push(`at least ${n("minItems")} item${n("minItems") === 1 ? "" : "s"}`);
  if (n("maxItems") !== null) out.push(`at most ${n("maxItems")} items`);
  if (typeof s.pattern === "string") out.push(`pattern ${s.pattern}`);
  if (typeof s.format === "string") out.push(`format ${s.format}`);
  if (s.uniqueItems === true) out.push("no repeats");
  if (s.not && typeof s.not === "object") {
    const not = s.not as JsonSchema;
    out.push(not.const !== undefined ? `not ${JSON.stringify(not.const)}` : Array.isArray(not.enum) ? `none of ${not.enum.map((v) => JSON.stringify(v)).join(", ")}` : "not (a schema)");
  }
  if (s["x-multiline"] === true) out.push("multiline");
  return out;
}

/** The parameters a schema declares, one row each, nested objects' properties after
 * their parent (dotted). A schema without properties has no rows. */
export function parameterRows(schema: JsonSchema | null | undefined, prefix = "", depth = 0): ParamRow[] {
  if (!schema || typeof schema !== "object") return [];
  const required = Array.isArray(schema.required) ? schema.required : [];
  const rows: ParamRow[] = [];
  for (const [key, raw] of Object.entries(schema.properties ?? {})) {
    const child = (raw && typeof raw === "object" ? raw : {}) as JsonSchema;
    const name = prefix ? `${prefix}.${key}` : key;
    rows.push({
      name,
      depth,
      type: typeText(child),
      required: required.includes(key),
      hasDefault: child.default !== undefined,
      default: child.default,
      description: typeof child.description === "string" ? child.description : typeof child.title === "string" ? child.title : null,
      constraints: constraintsOf(child),
    });
    if (child.properties && depth < 4) rows.push(...parameterRows(child, name, depth + 1));
  }
  return rows;
}

/** A summary of a parameters schema: `2 parameters, 1 required`. */
export function parametersSummary(schema: JsonSchema | null | undefined): string {
  const top = parameterRows(schema).filter((r) => r.depth === 0);
  if (top.length === 0) return "no parameters";
  const req = top.filter((r) => r.required).length;
  return `${top.length} parameter${top.length === 1 ? "" : "s"}${req ? `, ${req} required` : ""}`;
}

/** A default as the table shows it: strings quoted, objects in JSON. */
export function valueText(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

// ---- the library ----

export interface LibraryFilter {
  q: string;
  tags: string[];
  category: string;
}

/** The templates matching the search (in names, descriptions, tags and categories,
 * ignoring case), carrying every tag asked for, in the category asked for. */
export function filterTemplates<T extends Pick<TemplateSummary, "name" | "description" | "tags" | "category">>(list: T[], f: LibraryFilter): T[] {
  const words = f.q.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((t) => {
    if (f.category && (t.category ?? "") !== f.category) return false;
    if (f.tags.some((tag) => !t.tags.includes(tag))) return false;
    const hay = [t.name, t.description ?? "", t.category ?? "", ...t.tags].join("\n").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Each value with how many templates have it, most common first, then by name. */
export function counted(values: (string | null | undefined)[]): { value: string; count: number }[] {
  const m = new Map<string, number>();
  for (const v of values) if (v) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

// ---- the graph ----

function names(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** The task graph of a template's workflow, in the shape of the workflows' `/graph`
 * (`needs` are explicit in a definition, so the edges are exactly them). */
export function graphOf(name: string, body: TemplateBody | null | undefined): Graph {
  const tasks = body?.tasks && typeof body.tasks === "object" ? body.tasks : {};
  const ids = new Set(Object.keys(tasks));
  const nodes: GraphNode[] = Object.entries(tasks).map(([id, t]) => ({
    id,
    type: typeof t.type === "string" ? t.type : "?",
    description: typeof t.description === "string" ? t.description : null,
    needs: names(t.needs).filter((n) => ids.has(n)),
    if: t.if === undefined || t.if === null ? null : typeof t.if === "string" ? t.if : JSON.stringify(t.if),
    for_each: t.for_each ?? null,
    concurrency: typeof t.concurrency === "number" ? t.concurrency : null,
    join: typeof t.join === "string" ? t.join : "all",
    on_error: typeof t.on_error === "string" ? t.on_error : "fail",
  }));
  const edges = nodes.flatMap((n) => n.needs.map((from) => ({ from, to: n.id, join: n.join })));
  return { name, nodes, edges, order: nodes.map((n) => n.id) };
}

// ---- diagnostics ----

/** The diagnostics in an error's `details` (anything else is left out), by place. */
export function diagnosticsOf(details: unknown): Diagnostic[] {
  if (!Array.isArray(details)) return [];
  return details
    .filter((d): d is Diagnostic => typeof d === "object" && d !== null && typeof (d as Diagnostic).message === "string")
    .map((d) => ({ ...d, line: Number(d.line) || 0, column: Number(d.column) || 0, path: d.path ?? "", severity: d.severity ?? "error" }))
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** `12:5`, or `—` for no place. */
export function placeText(d: { line: number; column: number }): string {
  return d.line > 0 ? `${d.line}:${d.column}` : "—";
}

/** The offset in `text` of a line and column (both from 1; columns in characters),
 * clamped to the text. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf("\n", offset);
  const lineText = text.slice(offset, end < 0 ? text.length : end);
  // Columns count characters (code points), JavaScript offsets UTF-16 units.
  const chars = [...lineText].slice(0, Math.max(0, column - 1)).join("");
  return offset + chars.length;
}

/** The lines diagnostics point at, each with its worst severity. */
export function markedLines(diags: { line: number; severity: string }[]): Map<number, "error" | "warning"> {
  const out = new Map<number, "error" | "warning">();
  for (const d of diags) {
    if (d.line <= 0) continue;
    const s = d.severity === "error" ? "error" : "warning";
    if (out.get(d.line) !== "error") out.set(d.line, s);
  }
  return out;
}

// ---- import ----

export interface ImportRow {
  name: string;
  created: number[];
  unchanged: number[];
}

/** An import's report by template (by name), versions in order. */
export function groupImport(r: ImportResult): ImportRow[] {
  const m = new Map<string, ImportRow>();
  const row = (name: string) => {
    let x = m.get(name);
    if (!x) m.set(name, (x = { name, created: [], unchanged: [] }));
    return x;
  };
  for (const t of r.created) row(t.name).created.push(t.version);
  for (const t of r.unchanged) row(t.name).unchanged.push(t.version);
  const rows = [...m.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const x of rows) {
    x.created.sort((a, b) => a - b);
    x.unchanged.sort((a, b) => a - b);
  }
  return rows;
}

/** `v1, v2 and v3`; `v1–v4` for a run of more than two. */
export function versionsText(vs: number[]): string {
  if (vs.length === 0) return "—";
  const runs: string[] = [];
  for (let i = 0; i < vs.length; ) {
    let j = i;
    while (j + 1 < vs.length && vs[j + 1] === vs[j] + 1) j++;
    if (j - i >= 2) runs.push(`v${vs[i]}–v${vs[j]}`);
    else for (let k = i; k <= j; k++) runs.push(`v${vs[k]}`);
    i = j + 1;
  }
  return runs.length === 1 ? runs[0] : `${runs.slice(0, -1).join(", ")} and ${runs.at(-1)}`;
}

/** The template a strict import's conflict names (`template \`greet\`: ...`), or null. */
export function conflictingTemplate(message: string): string | null {
  return /template `([^`]+)`/.exec(message)?.[1] ?? null;
}

// ---- export ----

/** The file name of an export: `template-greet.yaml` for one, `templates-a-b.json`
 * for a few, `templates-2026-11-30-2047.yaml` for all (local time). */
export function exportFileName(names: string[], format: "yaml" | "json", now: Date = new Date()): string {
  const ext = format === "json" ? "json" : "yaml";
  if (names.length === 1) return `template-${names[0]}.${ext}`;
  if (names.length > 1 && names.length <= 3) return `templates-${names.join("-")}.${ext}`;
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}`;
  return `templates-${names.length ? `${names.length}-` : ""}${stamp}.${ext}`;
}

// ---- a new template ----

/** What the editor starts with for a new template. */
export const STARTER = `name: my-template
description: What this template does.
tags: [example]
category: examples
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1, description: Whom to greet}
    punctuation: {type: string, enum: [".", "!"], default: "!"}
workflow:
  tasks:
    hello:
      type: set
      with: {message: "hello \${ $params.who }\${ $params.punctuation }"}
  outputs:
    message: \${ $tasks.hello.output.message }
`;
