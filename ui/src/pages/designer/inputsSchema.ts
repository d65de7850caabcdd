// The workflow's inputs schema (`inputs: {type: object, required: [...], properties:
// {...}}`) as rows of a table, both ways: a row per property (name, type, required,
// default, description, enum for strings). Keywords the table does not edit — of the
// schema or of a property — are kept as they were.

export const INPUT_TYPES = ["string", "integer", "number", "boolean", "array", "object"] as const;

export interface InputRow {
  name: string;
  /** One of INPUT_TYPES, or "" (none written). */
  type: string;
  required: boolean;
  /** The default as typed ("" = none): strings as they are, the rest as JSON. */
  default: string;
  description: string;
  /** Allowed values of a string, comma-separated ("" = any). */
  enum: string;
  /** The property's other keywords, kept. */
  extra: Record<string, unknown>;
}

export interface InputsTable {
  rows: InputRow[];
  /** The schema's other keywords (besides type, required, properties), kept. */
  rest: Record<string, unknown>;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The rows of an inputs schema (none when it is not a mapping). */
export function schemaToRows(schema: unknown): InputsTable {
  if (!isObj(schema)) return { rows: [], rest: {} };
  const { type: _type, required, properties, ...rest } = schema;
  const req = Array.isArray(required) ? required.filter((x): x is string => typeof x === "string") : [];
  const rows: InputRow[] = [];
  for (const [name, prop] of Object.entries(isObj(properties) ? properties : {})) {
    const p = isObj(prop) ? { ...prop } : {};
    const row: InputRow = { name, type: "", required: req.includes(name), default: "", description: "", enum: "", extra: {} };
    if (typeof p.type === "string" && (INPUT_TYPES as readonly string[]).includes(p.type)) {
      row.type = p.type;
      delete p.type;
    }
    if (typeof p.description === "string") {
      row.description = p.description;
      delete p.description;
    }
    if ("default" in p) {
      row.default = typeof p.default === "string" && row.type === "string" ? p.default : JSON.stringify(p.default);
      delete p.default;
    }
    if (row.type === "string" && Array.isArray(p.enum) && p.enum.every((x) => typeof x === "string" && !x.includes(","))) {
      row.enum = (p.enum as string[]).join(", ");
      delete p.enum;
    }
    row.extra = p;
    rows.push(row);
  }
  // A required name with no property is kept as one (so nothing is lost).
  for (const r of req) if (!rows.some((x) => x.name === r)) rows.push({ name: r, type: "", required: true, default: "", description: "", enum: "", extra: {} });
  void _type;
  return { rows, rest };
}

/** A default as typed, as the value it stands for (per the type). */
export function parseDefault(type: string, text: string): unknown {
  if (text === "") return undefined;
  if (type === "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The inputs schema of rows (undefined when there is nothing to write). */
export function rowsToSchema(table: InputsTable): Record<string, unknown> | undefined {
  const { rows, rest } = table;
  if (rows.length === 0 && Object.keys(rest).length === 0) return undefined;
  const properties: Record<string, unknown> = {};
  for (const r of rows) {
    const p: Record<string, unknown> = {};
    if (r.type) p.type = r.type;
    if (r.description) p.description = r.description;
    const d = parseDefault(r.type, r.default);
    if (d !== undefined) p.default = d;
    if (r.type === "string" && r.enum.trim()) p.enum = r.enum.split(",").map((x) => x.trim()).filter(Boolean);
    Object.assign(p, r.extra);
    properties[r.name] = p;
  }
  const required = rows.filter((r) => r.required).map((r) => r.name);
  const out: Record<string, unknown> = { type: "object" };
  if (required.length) out.required = required;
  out.properties = properties;
  return { ...out, ...rest };
}

/** A property name not yet taken: `input`, `input_2`, … */
export function freshInputName(rows: InputRow[], stem = "input"): string {
  const taken = new Set(rows.map((r) => r.name));
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

export function newRow(rows: InputRow[], stem = "input"): InputRow {
  return { name: freshInputName(rows, stem), type: "string", required: false, default: "", description: "", enum: "", extra: {} };
}
