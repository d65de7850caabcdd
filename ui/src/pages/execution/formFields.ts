// An approval's `form` (a JSON Schema) as simple fields: strings (a select when the
// schema lists values), numbers, integers, booleans; anything else is edited as JSON.
// Pure: the values people typed become the answer's `inputs`.
import type { JsonSchema } from "../../api/types";

export type FieldKind = "string" | "enum" | "number" | "integer" | "boolean" | "json";

export interface Field {
  name: string;
  kind: FieldKind;
  required: boolean;
  title: string;
  description?: string;
  options?: unknown[];
  schema: JsonSchema;
}

function typeOf(s: JsonSchema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
}

export function fieldsOf(form: unknown): Field[] {
  if (!form || typeof form !== "object") return [];
  const schema = form as JsonSchema;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, s]) => {
    const t = typeOf(s);
    const kind: FieldKind = Array.isArray(s.enum)
      ? "enum"
      : t === "string" || t === "number" || t === "integer" || t === "boolean"
        ? t
        : "json";
    return { name, kind, required: required.has(name), title: s.title ?? name, description: s.description, options: s.enum, schema: s };
  });
}

/** The initial text of each field: its default, or empty. */
export function initialValues(fields: Field[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const f of fields) {
    const d = f.schema.default;
    if (f.kind === "boolean") out[f.name] = d === true;
    else if (d === undefined) out[f.name] = "";
    else out[f.name] = f.kind === "json" || f.kind === "enum" ? JSON.stringify(d) : String(d);
  }
  return out;
}

/** The answer's inputs from the fields' texts; empty optional fields are left out (the
 * server fills defaults and reports what the form refuses). Throws on bad JSON. */
export function collect(fields: Field[], values: Record<string, string | boolean>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === "boolean") {
      out[f.name] = v === true;
      continue;
    }
    const text = typeof v === "string" ? v : "";
    if (text.trim() === "") continue;
    switch (f.kind) {
      case "string":
        out[f.name] = text;
        break;
      case "number":
      case "integer": {
        const n = Number(text);
        out[f.name] = Number.isFinite(n) ? n : text;
        break;
      }
      case "enum":
      case "json":
        try {
          out[f.name] = JSON.parse(text);
        } catch {
          throw new Error(`${f.title}: not valid JSON`);
        }
        break;
    }
  }
  return out;
}
