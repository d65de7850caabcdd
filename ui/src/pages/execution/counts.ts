// A fan-out's items counted by status, and said in one short line
// (`9,990 ✓ 8 ✗ 2 running`). Pure.
import type { TaskView } from "../../api/types";

export type Counts = Record<string, number>;

/** The order statuses are said in: what matters at night first. */
const ORDER = ["succeeded", "failed", "running", "retrying", "held", "queued", "pending", "cancelled", "skipped"];
const SYMBOL: Record<string, string> = { succeeded: "✓", failed: "✗" };

export function countItems(items: readonly Pick<TaskView, "status">[] | undefined): Counts {
  const c: Counts = {};
  for (const it of items ?? []) c[it.status] = (c[it.status] ?? 0) + 1;
  return c;
}

function rank(s: string): number {
  const i = ORDER.indexOf(s);
  return i < 0 ? ORDER.length : i;
}

/** The statuses present, in reading order. */
export function countEntries(c: Counts): [string, number][] {
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

const NUMBER = new Intl.NumberFormat("en-US");

export function formatCount(n: number): string {
  return NUMBER.format(n);
}

export function formatCounts(c: Counts): string {
  const parts = countEntries(c).map(([s, n]) => (SYMBOL[s] ? `${formatCount(n)} ${SYMBOL[s]}` : `${formatCount(n)} ${s}`));
  return parts.length ? parts.join(" ") : "no items";
}
