// The timeline as the Gantt draws it: each unit's bars (queue, run, wait, backoff, with
// what is still going drawn up to `now`), the rows (a task, its attempts, a fan-out
// folded or item by item), the span it covers, and the busy time the axis must not
// compress. Pure.
import type { Segment, TaskTrack, Timeline, UnitTrack } from "./timeline";

/** The bars of one unit (a task, or a fan-out item), open ones drawn up to `now`. */
export function unitSegments(u: UnitTrack, now: number, attempt?: number): Segment[] {
  const out: Segment[] = [];
  for (const a of u.attempts) {
    if (attempt !== undefined && a.attempt !== attempt) continue;
    if (a.readyAt !== null && a.readyAt < a.startedAt) {
      out.push({ kind: "queue", from: a.readyAt, to: a.startedAt, attempt: a.attempt, open: false });
    }
    const end = a.endedAt ?? now;
    let cursor = a.startedAt;
    for (const w of a.waits) {
      if (w.from > cursor) out.push({ kind: "run", from: cursor, to: w.from, attempt: a.attempt, open: false });
      const wEnd = w.to ?? end;
      out.push({ kind: "wait", from: w.from, to: wEnd, attempt: a.attempt, open: w.to === null, label: w.on });
      cursor = Math.max(cursor, wEnd);
    }
    if (end > cursor || (cursor === a.startedAt && a.waits.length === 0)) {
      out.push({ kind: "run", from: cursor, to: Math.max(cursor, end), attempt: a.attempt, open: a.endedAt === null });
    }
    if (a.backoff) {
      const to = a.backoff.to ?? Math.max(a.backoff.from, Math.min(now, a.backoff.due ?? now));
      out.push({ kind: "backoff", from: a.backoff.from, to, attempt: a.attempt, open: a.backoff.to === null });
    }
  }
  // Ready but not started: queued now, or until it was dropped.
  if (attempt === undefined && u.readyAt !== null) {
    out.push({ kind: "queue", from: u.readyAt, to: Math.max(u.readyAt, now), attempt: u.attempts.length + 1, open: true });
  }
  return out;
}

export type Row =
  | { kind: "task"; key: string; task: string; fanOut: boolean; expanded: boolean; attempts: number }
  | { kind: "attempt"; key: string; task: string; attempt: number }
  | { kind: "item"; key: string; task: string; item: number };

/** The rows of the Gantt: one per task in `order` (the plan's, so tasks that never
 * ran have a row too), one per attempt of a task tried more than once, and for a
 * fan-out one aggregated row, or one per item when `expanded` has it. */
export function buildRows(order: readonly string[], tl: Timeline, expanded: ReadonlySet<string>): Row[] {
  const rows: Row[] = [];
  const names = [...order, ...[...tl.tasks.keys()].filter((k) => !order.includes(k))];
  for (const task of names) {
    const t = tl.tasks.get(task);
    const fanOut = !!t?.fanOut;
    const attempts = t && !fanOut ? (t.units[0]?.attempts.length ?? 0) : 0;
    const open = fanOut && expanded.has(task);
    rows.push({ kind: "task", key: `t:${task}`, task, fanOut, expanded: open, attempts });
    if (!t) continue;
    if (fanOut) {
      if (open) for (let i = 0; i < t.units.length; i++) rows.push({ kind: "item", key: `i:${task}:${i}`, task, item: i });
    } else if (attempts > 1) {
      for (const a of t.units[0].attempts) rows.push({ kind: "attempt", key: `a:${task}:${a.attempt}`, task, attempt: a.attempt });
    }
  }
  return rows;
}

/** The first and last moments the timeline covers (the end is `now` while it runs). */
export function span(tl: Timeline, now: number): { t0: number; t1: number } | null {
  if (tl.t0 === null) return null;
  const t1 = tl.end ?? Math.max(now, tl.lastAt ?? tl.t0);
  return { t0: tl.t0, t1: Math.max(t1, tl.t0 + 1) };
}

/** The spans of the runs of a fan-out's items (for its aggregated row's density). */
export function runSpans(t: TaskTrack, now: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const u of t.units) for (const a of u.attempts) out.push({ from: a.startedAt, to: a.endedAt ?? now });
  return out;
}

/** The busy times of `tl` (queues and runs, not waits or backoffs): what the
 * timeline must not compress. */
export function busySpans(tl: Timeline, now: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const t of tl.tasks.values()) {
    for (const u of t.units) {
      // As `unitSegments` draws them, without making the segments (10,000 items).
      for (const a of u.attempts) {
        const end = a.endedAt ?? now;
        if (a.readyAt !== null && a.readyAt < a.startedAt) out.push({ from: a.readyAt, to: a.startedAt });
        let cursor = a.startedAt;
        for (const w of a.waits) {
          if (w.from > cursor) out.push({ from: cursor, to: w.from });
          cursor = Math.max(cursor, w.to ?? end);
        }
        if (end > cursor || (cursor === a.startedAt && a.waits.length === 0)) out.push({ from: cursor, to: Math.max(cursor, end) });
      }
      if (u.readyAt !== null) out.push({ from: u.readyAt, to: Math.max(u.readyAt, now) });
    }
  }
  return out;
}
