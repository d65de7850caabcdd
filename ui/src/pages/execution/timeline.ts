// The timeline's facts, from the event log: for every task and fan-out item, each
// attempt's queue wait (from the moment it could run: the task's start decision, a
// retry's timer, a person's "retry", to the attempt starting), its run time, what it
// waited on while running (approval, event, timer, child, worker) and the backoff
// before the next attempt. Built incrementally (`apply` one event at a time, in seq
// order), so a live page never rebuilds it; bars.ts turns it into bars and rows. Pure.
import type { ErrorValue, EventView } from "../../api/types";
import { type EventData, errorOf, itemOf, ms, num, obj, str } from "./fields";

export type SegmentKind = "queue" | "run" | "wait" | "backoff";

export interface Segment {
  kind: SegmentKind;
  from: number;
  to: number;
  attempt: number;
  /** Open: still going (drawn to `now`). */
  open: boolean;
  /** For a wait: what it waits on. */
  label?: string;
}

export interface WaitSpan {
  on: string;
  from: number;
  to: number | null;
}

export type Outcome = "running" | "succeeded" | "failed" | "cancelled";

export interface AttemptTrack {
  attempt: number;
  readyAt: number | null;
  startedAt: number;
  endedAt: number | null;
  outcome: Outcome;
  error?: ErrorValue;
  waits: WaitSpan[];
  backoff: { from: number; due: number | null; to: number | null } | null;
  recovered?: boolean;
}

export interface UnitTrack {
  item: number | null;
  /** When it could run next (its queue wait starts), while no attempt runs. */
  readyAt: number | null;
  attempts: AttemptTrack[];
  /** When it ended without running (cancelled while queued). */
  droppedAt: number | null;
}

export interface TaskTrack {
  task: string;
  startedAt: number | null;
  endedAt: number | null;
  status: string;
  skipReason?: string;
  reused?: boolean;
  fanOut: boolean;
  units: UnitTrack[];
  /** The seqs of this task's events (its items' included). */
  seqs: number[];
}

export interface Timeline {
  t0: number | null;
  end: number | null;
  lastAt: number | null;
  tasks: Map<string, TaskTrack>;
  pauses: { from: number; to: number | null }[];
  /** How many events were applied (the last seq). */
  seq: number;
}

export function emptyTimeline(): Timeline {
  return { t0: null, end: null, lastAt: null, tasks: new Map(), pauses: [], seq: 0 };
}

function newUnit(item: number | null, readyAt: number | null): UnitTrack {
  return { item, readyAt, attempts: [], droppedAt: null };
}

function trackOf(tl: Timeline, name: string): TaskTrack {
  let t = tl.tasks.get(name);
  if (!t) {
    t = { task: name, startedAt: null, endedAt: null, status: "pending", fanOut: false, units: [], seqs: [] };
    tl.tasks.set(name, t);
  }
  return t;
}

function unitOf(t: TaskTrack, item: number | null): UnitTrack {
  const i = item ?? 0;
  while (t.units.length <= i) t.units.push(newUnit(item === null ? null : t.units.length, t.startedAt));
  return t.units[i];
}

function current(u: UnitTrack): AttemptTrack | undefined {
  const a = u.attempts[u.attempts.length - 1];
  return a && a.endedAt === null ? a : undefined;
}

function lastAttempt(u: UnitTrack): AttemptTrack | undefined {
  return u.attempts[u.attempts.length - 1];
}

function endWaits(a: AttemptTrack, at: number) {
  for (const w of a.waits) if (w.to === null) w.to = at;
}

function endAttempt(a: AttemptTrack, at: number, outcome: Outcome) {
  a.endedAt = at;
  a.outcome = outcome;
  endWaits(a, at);
}

/** Ends what is still open in `t` at `at` (a cancel, the execution's end). */
function closeTask(t: TaskTrack, at: number) {
  for (const u of t.units) {
    const a = current(u);
    if (a) endAttempt(a, at, "cancelled");
    const last = lastAttempt(u);
    if (last?.backoff && last.backoff.to === null) last.backoff.to = at;
    if (u.readyAt !== null) {
      u.droppedAt = at;
      u.readyAt = null;
    }
  }
}

/** What a wait is on, in one word: approval, event, worker, timer, child. */
function waitOn(w: EventData | undefined): string {
  if (!w) return "wait";
  const on = str(w, "on");
  if (on === "signal") return str(w, "name") ?? "signal";
  if (on === "timer") return "timer";
  if (on === "child") return "child";
  return on ?? "wait";
}

/** Folds one event into `tl`. Events must come in seq order. */
export function applyToTimeline(tl: Timeline, ev: EventView): void {
  if (ev.seq <= tl.seq) return;
  tl.seq = ev.seq;
  const at = ms(ev.at);
  if (at === null) return;
  tl.lastAt = at;
  const e = ev.event;
  const name = str(e, "task");
  const item = itemOf(e);
  const t = name ? trackOf(tl, name) : undefined;
  t?.seqs.push(ev.seq);
  switch (ev.kind) {
    case "execution_started": {
      tl.t0 ??= at;
      const reused = e.reused;
      if (Array.isArray(reused)) {
        for (const r of reused) {
          const n = r && typeof r === "object" ? str(r as EventData, "task") : undefined;
          if (!n) continue;
          const rt = trackOf(tl, n);
          Object.assign(rt, { startedAt: at, endedAt: at, status: "succeeded", reused: true });
        }
      }
      return;
    }
    case "task_started": {
      if (!t) return;
      t.startedAt = at;
      t.status = "running";
      const items = e.items;
      if (Array.isArray(items)) {
        t.fanOut = true;
        t.units = items.map((_, i) => newUnit(i, at));
      } else {
        t.units = [newUnit(null, at)];
      }
      return;
    }
    case "task_skipped":
      if (!t) return;
      t.status = "skipped";
      t.skipReason = str(e, "reason");
      t.endedAt = at;
      return;
    case "attempt_started": {
      if (!t) return;
      const u = unitOf(t, item);
      const prev = current(u);
      if (prev) endAttempt(prev, at, "cancelled");
      const readyAt = u.readyAt ?? t.startedAt;
      u.readyAt = null;
      u.droppedAt = null;
      u.attempts.push({
        attempt: num(e, "attempt") ?? u.attempts.length + 1,
        readyAt: readyAt !== null && readyAt <= at ? readyAt : null,
        startedAt: at,
        endedAt: null,
        outcome: "running",
        waits: [],
        backoff: null,
        recovered: e.recovered === true || undefined,
      });
      if (t.status === "pending") t.status = "running";
      t.startedAt ??= at;
      return;
    }
    case "attempt_waiting": {
      if (!t) return;
      const a = current(unitOf(t, item));
      if (!a) return;
      endWaits(a, at);
      a.waits.push({ on: waitOn(obj(e, "wait")), from: at, to: null });
      return;
    }
    case "signal_received": {
      if (!t) return;
      const a = current(unitOf(t, item));
      if (a) endWaits(a, at);
      return;
    }
    case "attempt_succeeded":
    case "attempt_failed": {
      if (!t) return;
      const a = current(unitOf(t, item));
      if (!a) return;
      endAttempt(a, at, ev.kind === "attempt_succeeded" ? "succeeded" : "failed");
      if (ev.kind === "attempt_failed") a.error = errorOf(e);
      return;
    }
    case "retry_scheduled": {
      if (!t) return;
      const a = lastAttempt(unitOf(t, item));
      if (a) a.backoff = { from: a.endedAt ?? at, due: ms(str(e, "due")), to: null };
      return;
    }
    case "timer_fired": {
      if (!t) return;
      const u = unitOf(t, item);
      const timer = str(e, "timer");
      if (timer === "retry") {
        const a = lastAttempt(u);
        if (a?.backoff && a.backoff.to === null) a.backoff.to = at;
        // A retry's timer after its task ended (a fan-out failing fast) starts nothing.
        if (t.endedAt === null) u.readyAt = at;
      } else {
        const a = current(u);
        if (a) endWaits(a, at);
      }
      return;
    }
    case "task_succeeded":
    case "task_failed":
    case "task_recovered":
      if (!t) return;
      t.status = ev.kind === "task_failed" ? "failed" : "succeeded";
      t.endedAt = at;
      // Items that never started, or waited to be retried (a fan-out failing fast),
      // stop waiting here.
      for (const u of t.units) {
        if (u.readyAt !== null && !current(u)) {
          u.droppedAt = at;
          u.readyAt = null;
        }
        const last = lastAttempt(u);
        if (last?.backoff && last.backoff.to === null) last.backoff.to = at;
      }
      return;
    case "task_cancelled":
      if (!t) return;
      t.status = "cancelled";
      t.endedAt = at;
      closeTask(t, at);
      return;
    case "task_held":
      if (t) t.status = "held";
      return;
    case "task_decided": {
      if (!t) return;
      const action = str(e, "action");
      if (action === "retry") {
        t.status = "running";
        t.endedAt = null;
        for (const u of t.units) if (lastAttempt(u)?.outcome === "failed") u.readyAt = at;
      } else {
        t.status = action === "skip" ? "succeeded" : "failed";
        t.endedAt = at;
      }
      return;
    }
    case "paused":
      tl.pauses.push({ from: at, to: null });
      return;
    case "resumed": {
      const p = tl.pauses[tl.pauses.length - 1];
      if (p && p.to === null) p.to = at;
      return;
    }
    case "execution_succeeded":
    case "execution_failed":
    case "execution_cancelled": {
      tl.end = at;
      for (const p of tl.pauses) if (p.to === null) p.to = at;
      for (const task of tl.tasks.values()) {
        closeTask(task, at);
        if (task.endedAt === null && task.startedAt !== null) task.endedAt = at;
      }
      return;
    }
    default:
      return;
  }
}

export function buildTimeline(events: readonly EventView[]): Timeline {
  const tl = emptyTimeline();
  for (const ev of events) applyToTimeline(tl, ev);
  return tl;
}
