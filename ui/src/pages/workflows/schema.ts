// The pure logic behind SchemaForm: which widget a JSON Schema gets, the initial value
// its defaults make, turning typed text into values, validating a value (required,
// type, minimum/maximum, lengths, pattern, enum, a few formats), and mapping errors (the
// client's and the server's `invalid_inputs` details) to the field that shows them.
// Errors are keyed by JSON pointer ("" is the whole value, "/a/0" the first item of a).
import type { JsonSchema } from "../../api/types";

/** Messages by the JSON pointer of the field they are about. */
export type FieldErrors = Record<string, string[]>;

/** How a schema is edited: a scalar input, a select, a group of fields, a list of
 * scalar rows, or raw JSON for anything else. */
export type FieldKind = "string" | "enum" | "number" | "integer" | "boolean" | "object" | "array" | "json";

/** One problem the server found in the inputs (`details` of a 422 `invalid_inputs`). */
export interface InputProblem {
  path: string;
  keyword?: string;
  message: string;
}

// ---- JSON pointers ----

/** `key` appended to pointer `parent` (escaped as RFC 6901 says). */
export function childPath(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** The keys of a pointer (`""` has none). */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .replace(/^\//, "")
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The value at `pointer` inside `value`, or undefined. */
export function getAt(value: unknown, pointer: string): unknown {
  let v = value;
  for (const key of parsePointer(pointer)) {
    if (Array.isArray(v)) v = /^\d+$/.test(key) ? v[Number(key)] : undefined;
    else if (isObject(v)) v = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    else return undefined;
  }
  return v;
}

// ---- kinds ----

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The schema's `type` as a list (empty when it says none). */
export function schemaTypes(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === "string");
  return typeof s.type === "string" ? [s.type] : [];
}

/** The one type a schema allows besides `null`, or null when it allows none or several. */
function soleType(s: JsonSchema): string | null {
  const types = schemaTypes(s).filter((t) => t !== "null");
  if (types.length === 1) return types[0];
  if (types.length === 0 && s.properties) return "object";
  return null;
}

function isScalar(v: unknown): boolean {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}

export function fieldKind(s: JsonSchema): FieldKind {
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every(isScalar)) return "enum";
  const t = soleType(s);
  switch (t) {
    case "string":
    case "number":
    case "integer":
    case "boolean":
      return t;
    case "object":
      return s.properties && Object.keys(s.properties).length > 0 ? "object" : "json";
    case "array": {
      const items = isObject(s.items) ? (s.items as JsonSchema) : null;
      if (!items) return "json";
      const k = fieldKind(items);
      return k === "object" || k === "array" || k === "json" ? "json" : "array";
    }
    default:
      return "json";
  }
}

/** Whether `name` is in the object schema's `required`. */
export function isRequired(parent: JsonSchema, name: string): boolean {
  return Array.isArray(parent.required) && parent.required.includes(name);
}

// ---- defaults ----

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** The initial value of a field: the schema's `default`; for a group, its fields'
 * defaults (an optional group with none is left out); a required checkbox starts
 * false (a checkbox always shows a value). The whole form (`root`) is always an
 * object when its schema is one. */
export function defaults(s: JsonSchema, required = false, root = true): unknown {
  return initial(s, required, root)[0];
}

/** The initial value, and whether it holds a `default` (a group of fields is made only
 * for one, or when it is required). */
function initial(s: JsonSchema, required: boolean, root: boolean): [unknown, boolean] {
  if (s.default !== undefined) return [clone(s.default), true];
  const kind = fieldKind(s);
  if (kind === "object") {
    const out: Record<string, unknown> = {};
    let meant = false;
    for (const [k, child] of Object.entries(s.properties ?? {})) {
      const [v, m] = initial(child, isRequired(s, k), false);
      if (v !== undefined) out[k] = v;
      meant ||= m;
    }
    return [meant || required || root ? out : undefined, meant];
  }
  if (kind === "boolean" && required) return [false, false];
  if (root && kind === "json" && soleType(s) === "object") return [{}, false];
  return [undefined, false];
}

// ---- coercion ----

/** The value typed text stands for in a number field: undefined when empty, the
 * number when it reads as one, else the text itself (which validation then refuses). */
export function parseNumberText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? n : text;
}

/** The text a number field shows for a value. */
export function numberText(v: unknown): string {
  if (v === undefined || v === null) return "";
  return String(v);
}

/** The value of a raw-JSON field: `{ok, value}` (empty text is undefined) or the
 * parse error. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
}

/** The text a raw-JSON field shows for a value. */
export function jsonText(v: unknown): string {
  return v === undefined ? "" : JSON.stringify(v, null, 2);
}

/** `obj` with `key` set to `v`, or removed when `v` is undefined. */
export function withKey(obj: unknown, key: string, v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = isObject(obj) ? { ...obj } : {};
  if (v === undefined) delete out[key];
  else out[key] = v;
  return out;
}

// ---- validation ----

export function deepEqual(a: unknown, b: unknown): boolean {
  // NaN (a YAML `.nan`) equals itself here: the same text must compare equal.
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    // Own keys only: a key named `constructor` must not meet Object.prototype's.
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function matchesType(t: string, v: unknown): boolean {
  switch (t) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v);
    case "object":
      return isObject(v);
    default:
      return true;
  }
}

const ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  null: "null",
  array: "a list",
  object: "an object",
};

/** Describes a scalar for a message: strings quoted, others as JSON. */
function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}

const FORMATS: Record<string, RegExp> = {
  date: /^\d{4}-\d{2}-\d{2}$/,
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  time: /^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/,
  email: /^[^\s@]+@[^\s@]+$/,
  uri: /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/,
};

/** An example of each format, for placeholders and messages. */
export const FORMAT_EXAMPLES: Record<string, string> = {
  date: "2026-12-01",
  "date-time": "2026-12-01T09:30:00Z",
  time: "09:30:00",
  email: "name@example.com",
  uri: "https://example.com/path",
};

function add(out: FieldErrors, path: string, message: string): void {
  (out[path] ??= []).push(message);
}

/** Every problem of `value` against schema `s`, by the pointer of the value it is
 * about (a missing required field is reported at the field itself). */
export function validate(s: JsonSchema, value: unknown, path = "", out: FieldErrors = {}): FieldErrors {
  if (value === undefined) return out;
  const types = schemaTypes(s);
  if (types.length > 0 && !types.some((t) => matchesType(t, value))) {
    const wanted = types.map((t) => ARTICLE[t] ?? t).join(" or ");
    add(out, path, `must be ${wanted}`);
    return out;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) {
    add(out, path, `must be one of ${s.enum.map(show).join(", ")}`);
  }
  if (s.const !== undefined && !deepEqual(s.const, value)) add(out, path, `must be ${show(s.const)}`);
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) add(out, path, `must be at least ${s.minimum}`);
    if (typeof s.maximum === "number" && value > s.maximum) add(out, path, `must be at most ${s.maximum}`);
    const exMin = s.exclusiveMinimum;
    const exMax = s.exclusiveMaximum;
    if (typeof exMin === "number" && value <= exMin) add(out, path, `must be more than ${exMin}`);
    if (typeof exMax === "number" && value >= exMax) add(out, path, `must be less than ${exMax}`);
    const step = s.multipleOf;
    if (typeof step === "number" && step > 0 && Math.abs(value / step - Math.round(value / step)) > 1e-9) {
      add(out, path, `must be a multiple of ${step}`);
    }
  }
  if (typeof value === "string") {
    const len = [...value].length;
    if (typeof s.minLength === "number" && len < s.minLength) {
      add(out, path, s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`);
    }
    if (typeof s.maxLength === "number" && len > s.maxLength) add(out, path, `must be at most ${s.maxLength} characters`);
    if (typeof s.pattern === "string") {
      let re: RegExp | null = null;
      try {
        re = new RegExp(s.pattern, "u");
      } catch {
        re = null; // a pattern JavaScript cannot read: the server judges it
      }
      if (re && !re.test(value)) add(out, path, `must match the pattern ${s.pattern}`);
    }
    if (typeof s.format === "string" && FORMATS[s.format] && !FORMATS[s.format].test(value)) {
      add(out, path, `must be a ${s.format}, such as ${FORMAT_EXAMPLES[s.format]}`);
    }
  }
  if (Array.isArray(value)) {
    const minItems = s.minItems;
    const maxItems = s.maxItems;
    if (typeof minItems === "number" && value.length < minItems) add(out, path, `needs at least ${minItems} item${minItems === 1 ? "" : "s"}`);
    if (typeof maxItems === "number" && value.length > maxItems) add(out, path, `takes at most ${maxItems} item${maxItems === 1 ? "" : "s"}`);
    if (s.uniqueItems === true && value.some((x, i) => value.findIndex((y) => deepEqual(x, y)) !== i)) {
      add(out, path, "must not repeat an item");
    }
    if (isObject(s.items)) value.forEach((x, i) => validate(s.items as JsonSchema, x, childPath(path, i), out));
  }
  if (isObject(value)) {
    for (const name of Array.isArray(s.required) ? s.required : []) {
      if (value[name] === undefined) add(out, childPath(path, name), "required");
    }
    for (const [k, child] of Object.entries(s.properties ?? {})) {
      validate(child, value[k], childPath(path, k), out);
    }
    if (s.additionalProperties === false) {
      for (const k of Object.keys(value)) {
        if (!(s.properties && k in s.properties) && value[k] !== undefined) add(out, path, `does not take \`${k}\``);
      }
    }
  }
  return out;
}

// ---- errors to fields ----

/** The pointer of the field that shows a problem at `pointer`: the deepest field the
 * form draws on that path (a problem inside a raw-JSON field, or about a key the schema
 * does not declare, is shown at the field that holds it). */
export function fieldFor(s: JsonSchema, pointer: string): string {
  let schema = s;
  let path = "";
  for (const key of parsePointer(pointer)) {
    const kind = fieldKind(schema);
    if (kind === "object") {
      const child = schema.properties?.[key];
      if (!child) return path;
      schema = child;
    } else if (kind === "array" && /^\d+$/.test(key)) {
      schema = (schema.items as JsonSchema) ?? {};
    } else return path;
    path = childPath(path, key);
  }
  return path;
}

/** `problems` keyed by the field that shows each; a problem below its field keeps
 * its own place in its message (`/0/name: required`). */
export function errorsByField(s: JsonSchema, problems: FieldErrors | InputProblem[]): FieldErrors {
  const list: InputProblem[] = Array.isArray(problems)
    ? problems
    : Object.entries(problems).flatMap(([path, messages]) => messages.map((message) => ({ path, message })));
  const out: FieldErrors = {};
  for (const p of list) {
    const field = fieldFor(s, p.path);
    const rest = p.path.slice(field.length);
    add(out, field, rest ? `${rest}: ${p.message}` : p.message);
  }
  for (const k of Object.keys(out)) out[k] = [...new Set(out[k])];
  return out;
}

/** The problems of a 422 `invalid_inputs` answer's `details`, each at the value it is
 * about: the server reports a missing required input at its parent, naming it in
 * backquotes (`missing required input \`city\``); it is moved to the input itself. */
export function serverProblems(details: unknown): InputProblem[] {
  if (!Array.isArray(details)) return [];
  const out: InputProblem[] = [];
  for (const d of details) {
    if (!isObject(d) || typeof d.message !== "string") continue;
    const path = typeof d.path === "string" ? d.path : "";
    const keyword = typeof d.keyword === "string" ? d.keyword : undefined;
    const missing = keyword === "required" ? /`([^`]+)`/.exec(d.message) : null;
    if (missing) out.push({ path: childPath(path, missing[1]), keyword, message: "required" });
    else out.push({ path, keyword, message: d.message });
  }
  return out;
}

/** The server's problems that still apply: those whose value has not changed since
 * the inputs were sent (editing a field clears what the server said about it). */
export function stillStanding(problems: InputProblem[], sent: unknown, now: unknown): InputProblem[] {
  return problems.filter((p) => deepEqual(getAt(sent, p.path), getAt(now, p.path)));
}

/** Both sets of messages, merged field by field. */
export function mergeErrors(a: FieldErrors, b: FieldErrors): FieldErrors {
  const out: FieldErrors = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = [...new Set([...(out[k] ?? []), ...v])];
  return out;
}

/** The type a field's label names: `integer, 1 to 10`, `string, date`. */
export function typeHint(s: JsonSchema): string {
  const kind = fieldKind(s);
  const parts: string[] = [];
  if (kind === "enum") parts.push("choice");
  else if (kind === "array") parts.push(`list of ${soleType((s.items as JsonSchema) ?? {}) ?? "values"}`);
  else if (kind === "json") parts.push(soleType(s) ? `${soleType(s)}, JSON` : "JSON");
  else if (kind !== "object") parts.push(kind);
  const min = typeof s.minimum === "number" ? s.minimum : null;
  const max = typeof s.maximum === "number" ? s.maximum : null;
  if (min !== null && max !== null) parts.push(`${min} to ${max}`);
  else if (min !== null) parts.push(`≥ ${min}`);
  else if (max !== null) parts.push(`≤ ${max}`);
  if (typeof s.format === "string") parts.push(s.format);
  return parts.join(", ");
}
