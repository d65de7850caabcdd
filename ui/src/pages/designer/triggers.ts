// The workflow's `triggers:` list as rows: each entry a mapping of one kind
// (`schedule`, `webhook`, `event`) to its fields. Editing sets one field (a dotted
// path such as `verify.preset`), keeping every other field — and entries of kinds or
// shapes the editor does not know — as they were.

export const TRIGGER_KINDS = ["schedule", "webhook", "event"] as const;
export const VERIFY_PRESETS = ["github", "gitlab", "stripe", "slack", "hmac", "none"];

export interface TriggerRow {
  /** The entry's kind (its one key), or "" when it is not of that shape. */
  kind: string;
  body: Record<string, unknown>;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function triggerRows(triggers: unknown): TriggerRow[] {
  if (!Array.isArray(triggers)) return [];
  return triggers.map((t) => {
    if (isObj(t)) {
      const keys = Object.keys(t);
      if (keys.length === 1 && isObj(t[keys[0]])) return { kind: keys[0], body: t[keys[0]] as Record<string, unknown> };
      if (keys.length === 1 && t[keys[0]] === null) return { kind: keys[0], body: {} };
    }
    return { kind: "", body: {} };
  });
}

/** A field of a body by dotted path (undefined when absent). */
export function getField(body: Record<string, unknown>, path: string): unknown {
  let v: unknown = body;
  for (const k of path.split(".")) v = isObj(v) ? v[k] : undefined;
  return v;
}

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): Record<string, unknown> {
  const [k, ...rest] = keys;
  const out = { ...obj };
  if (rest.length === 0) {
    if (value === undefined || value === "") delete out[k];
    else out[k] = value;
    return out;
  }
  const inner = setPath(isObj(out[k]) ? (out[k] as Record<string, unknown>) : {}, rest, value);
  if (Object.keys(inner).length === 0) delete out[k];
  else out[k] = inner;
  return out;
}

/** The list with field `path` of entry `index` set (`undefined` or "" removes it). */
export function setTriggerField(triggers: unknown, index: number, path: string, value: unknown): unknown[] {
  const list = Array.isArray(triggers) ? triggers : [];
  const rows = triggerRows(list);
  const row = rows[index];
  if (!row || !row.kind) return list;
  return list.map((t, i) => (i === index ? { [row.kind]: setPath(row.body, path.split("."), value) } : t));
}

/** A new entry of `kind`, with what it needs to start. */
export function newTrigger(kind: string): Record<string, unknown> {
  if (kind === "schedule") return { schedule: { cron: "0 0 * * *" } };
  if (kind === "webhook") return { webhook: { name: "hook", verify: { preset: "none" } } };
  return { event: { type: "my.event" } };
}

export function addTrigger(triggers: unknown, kind: string): unknown[] {
  return [...(Array.isArray(triggers) ? triggers : []), newTrigger(kind)];
}

export function removeTrigger(triggers: unknown, index: number): unknown[] | undefined {
  const out = (Array.isArray(triggers) ? triggers : []).filter((_, i) => i !== index);
  return out.length ? out : undefined;
}
