// Where the designer keeps node positions between visits: the browser's local storage,
// one entry per workflow or template (positions are the designer's, not the
// definition's: the YAML stays free of them). What is read is checked (finite numbers
// only); storage that is full or off loses the layout, never the page.
import type { Positions } from "./Canvas";

const PREFIX = "harmonia.designer.layout:";

/** The storage key of a document's layout (none for one not yet saved). */
export function layoutKey(template: boolean, name: string | null): string | null {
  return name ? `${PREFIX}${template ? "template" : "workflow"}:${name}` : null;
}

/** The positions kept under `key` (empty when none, or unreadable). */
export function loadLayout(key: string | null, storage: Pick<Storage, "getItem"> | undefined = globalThis.localStorage): Positions {
  if (!key || !storage) return {};
  try {
    const raw: unknown = JSON.parse(storage.getItem(key) ?? "{}");
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
    const out: Positions = {};
    for (const [id, p] of Object.entries(raw as Record<string, unknown>)) {
      const q = p as { x?: unknown; y?: unknown } | null;
      if (q && typeof q.x === "number" && typeof q.y === "number" && Number.isFinite(q.x) && Number.isFinite(q.y)) {
        Object.defineProperty(out, id, { value: { x: q.x, y: q.y }, enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** Keeps the positions of the nodes `ids` under `key`. */
export function saveLayout(key: string | null, positions: Positions, ids: string[], storage: Pick<Storage, "setItem"> | undefined = globalThis.localStorage): void {
  if (!key || !storage) return;
  const out: Positions = {};
  for (const id of ids) {
    const p = Object.hasOwn(positions, id) ? positions[id] : undefined;
    if (p) Object.defineProperty(out, id, { value: { x: Math.round(p.x), y: Math.round(p.y) }, enumerable: true, writable: true, configurable: true });
  }
  try {
    storage.setItem(key, JSON.stringify(out));
  } catch {
    // Full or disabled storage: the layout is not kept, the page goes on.
  }
}
