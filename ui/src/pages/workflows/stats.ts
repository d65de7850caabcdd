// What a workflow's recent executions say: how many ended, how many of those
// succeeded, and the latest one. Pure (tested).
import type { ExecutionSummary } from "../../api/types";

export interface RunStats {
  /** Executions looked at (the newest, up to the page size). */
  total: number;
  /** Those that ended: succeeded, failed or cancelled. */
  ended: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Those not ended yet (pending, running, paused). */
  open: number;
  /** succeeded / ended, or null when none ended. */
  rate: number | null;
  /** The newest execution. */
  last: ExecutionSummary | null;
}

/** The stats of `executions` (any order). */
export function runStats(executions: ExecutionSummary[]): RunStats {
  let succeeded = 0;
  let failed = 0;
  let cancelled = 0;
  let last: ExecutionSummary | null = null;
  for (const x of executions) {
    if (x.status === "succeeded") succeeded++;
    else if (x.status === "failed") failed++;
    else if (x.status === "cancelled") cancelled++;
    if (!last || x.created_at > last.created_at || (x.created_at === last.created_at && x.id > last.id)) last = x;
  }
  const ended = succeeded + failed + cancelled;
  return {
    total: executions.length,
    ended,
    succeeded,
    failed,
    cancelled,
    open: executions.length - ended,
    rate: ended > 0 ? succeeded / ended : null,
    last,
  };
}

/** A rate for people: `83%`, `100%`, `—`. */
export function formatRate(rate: number | null): string {
  if (rate === null) return "—";
  const pct = rate * 100;
  return `${pct > 0 && pct < 1 ? "<1" : pct > 99 && pct < 100 ? ">99" : Math.round(pct)}%`;
}

/** The class of a rate's colour: good, fair, poor. */
export function rateClass(rate: number | null): string {
  if (rate === null) return "rate-none";
  return rate >= 0.95 ? "rate-good" : rate >= 0.7 ? "rate-fair" : "rate-poor";
}

/** How long ago `iso` was, for the lists: `just now` within a second (either way: the
 * server's clock and this one differ a little), else `3 m ago` (lib/time's words). */
export function agoText(iso: string, now: number, format: (iso: string, now: number) => string): string {
  const t = Date.parse(iso);
  if (!Number.isNaN(t) && Math.abs(now - t) < 1000) return "just now";
  if (!Number.isNaN(t) && t > now && t - now < 5000) return "just now";
  return format(iso, now);
}
