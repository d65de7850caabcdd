// Live state: folding events into the execution as the API shows it (`ExecutionDetail`),
// the way the engine folds them into its own state, so that a WebSocket `event`
// updates the page without reading the execution again. The snapshot, a `resync` and
// `finished` replace the state wholesale; between them, `applyEvent` mutates it in
// place (a 10,000-item fan-out is not copied per event). Pure apart from that.
import type { ErrorValue, ExecutionDetail, TaskStatus, TaskView, Waiting } from "../../api/types";
import { type EventData, errorOf, itemOf, num, obj, str } from "./fields";

function blankTask(): TaskView {
  return { status: "pending", attempts: 0, output: null, error: null, started_at: null, ended_at: null };
}

function task(x: ExecutionDetail, name: string): TaskView {
  let t = x.tasks[name];
  if (!t) {
    t = blankTask();
    x.tasks[name] = t;
  }
  return t;
}

/** The unit an event is about: the task, or one of its items. */
function unit(x: ExecutionDetail, e: EventData): TaskView | undefined {
  const name = str(e, "task");
  if (!name) return undefined;
  const t = task(x, name);
  const item = itemOf(e);
  if (item === null) return t;
  if (!t.items) t.items = [];
  while (t.items.length <= item) t.items.push(blankTask());
  return t.items[item];
}

const ENDED = new Set(["succeeded", "failed", "skipped", "cancelled"]);

/** The server's status of a task held under `on_error: pause`, which the shared
 * `TaskStatus` type does not list. */
export const HELD = "held" as TaskStatus;

/** What a wait looks like in the API's `waiting` (see the server's TaskView). */
export function waitingOf(wait: EventData | undefined, execution: string, taskName: string): Waiting | undefined {
  if (!wait) return undefined;
  switch (str(wait, "on")) {
    case "timer":
      return { for: "timer", until: str(wait, "due") ?? null };
    case "child": {
      const id = str(wait, "execution");
      return { for: "child", execution: id, links: id ? { execution: `/api/executions/${id}` } : undefined };
    }
    case "signal": {
      const name = str(wait, "name") ?? "signal";
      const spec = obj(wait, "spec") ?? {};
      const w: Waiting = { ...spec, for: name, until: str(wait, "until") ?? null };
      if (name === "approval") {
        const base = `/api/executions/${execution}/tasks/${taskName}`;
        w.links = { approve: `${base}/approve`, reject: `${base}/reject` };
      }
      return w;
    }
    default: {
      const { on: _on, ...rest } = wait;
      return { for: str(wait, "on") ?? "something", ...rest };
    }
  }
}

/** Applies one event (`kind`, its fields `e`, at time `at`) to `x`. */
export function applyEvent(x: ExecutionDetail, kind: string, e: EventData, at: string): void {
  switch (kind) {
    case "execution_started": {
      x.status = "running";
      x.started_at ??= at;
      const reused = e.reused;
      if (Array.isArray(reused)) {
        for (const r of reused) {
          if (!r || typeof r !== "object") continue;
          const name = str(r as EventData, "task");
          if (!name) continue;
          const t = task(x, name);
          Object.assign(t, { status: "succeeded", output: (r as EventData).output ?? null, started_at: at, ended_at: at });
        }
      }
      return;
    }
    case "task_started": {
      const name = str(e, "task");
      if (!name) return;
      const t = task(x, name);
      t.status = "running";
      t.started_at ??= at;
      const items = e.items;
      if (Array.isArray(items)) t.items = items.map(blankTask);
      return;
    }
    case "task_skipped": {
      const t = unit(x, e);
      if (!t) return;
      t.status = "skipped";
      t.skip_reason = str(e, "reason");
      t.ended_at = at;
      return;
    }
    case "attempt_started": {
      const u = unit(x, e);
      if (!u) return;
      u.status = "running";
      u.attempts = num(e, "attempt") ?? u.attempts + 1;
      u.started_at ??= at;
      u.ended_at = null;
      u.waiting = undefined;
      if (itemOf(e) !== null) {
        const t = task(x, str(e, "task")!);
        t.attempts += 1;
        t.started_at ??= at;
      }
      return;
    }
    case "attempt_waiting": {
      const u = unit(x, e);
      if (u) u.waiting = waitingOf(obj(e, "wait"), x.id, str(e, "task") ?? "");
      return;
    }
    case "signal_received": {
      const u = unit(x, e);
      if (u) u.waiting = undefined;
      return;
    }
    case "attempt_succeeded": {
      const u = unit(x, e);
      if (!u) return;
      u.status = "succeeded";
      u.output = e.output ?? null;
      u.error = null;
      u.waiting = undefined;
      u.ended_at = at;
      return;
    }
    case "attempt_failed": {
      const u = unit(x, e);
      if (!u) return;
      u.error = errorOf(e) ?? null;
      u.waiting = undefined;
      // An item's failure is final unless a retry is scheduled (the next event); a
      // task's own status waits for `task_failed` or `retry_scheduled`.
      if (itemOf(e) !== null) {
        u.status = "failed";
        u.ended_at = at;
      }
      return;
    }
    case "retry_scheduled": {
      const u = unit(x, e);
      if (!u) return;
      u.status = "retrying";
      u.ended_at = null;
      return;
    }
    case "timer_fired": {
      if (str(e, "timer") === "retry") {
        const u = unit(x, e);
        if (u && u.status === "retrying") u.status = "queued";
      } else if (str(e, "timer") === "wait") {
        const u = unit(x, e);
        if (u) u.waiting = undefined;
      }
      return;
    }
    case "task_succeeded": {
      const t = unit(x, e);
      if (!t) return;
      t.status = "succeeded";
      t.ended_at = at;
      t.waiting = undefined;
      if (t.items) t.output = t.items.map((i) => i.output);
      return;
    }
    case "task_failed": {
      const t = unit(x, e);
      if (!t) return;
      t.status = "failed";
      t.error = errorOf(e) ?? t.error;
      t.ended_at = at;
      t.waiting = undefined;
      // A fan-out fails fast: its items that had not ended were cancelled.
      for (const i of t.items ?? []) {
        if (!ENDED.has(i.status)) {
          i.status = "cancelled";
          i.ended_at = at;
        }
      }
      return;
    }
    case "task_cancelled": {
      const t = unit(x, e);
      if (!t) return;
      t.status = "cancelled";
      t.ended_at = at;
      t.waiting = undefined;
      for (const i of t.items ?? []) {
        if (!ENDED.has(i.status)) {
          i.status = "cancelled";
          i.ended_at = at;
          i.waiting = undefined;
        }
      }
      return;
    }
    case "task_recovered": {
      const t = unit(x, e);
      if (!t) return;
      t.status = "succeeded";
      t.output = e.output ?? null;
      t.recovered_by = "fallback";
      t.ended_at = at;
      return;
    }
    case "task_held": {
      const t = unit(x, e);
      if (!t) return;
      t.status = HELD;
      t.error = errorOf(e) ?? t.error;
      x.status = "paused";
      return;
    }
    case "task_decided": {
      const t = unit(x, e);
      if (!t) return;
      const action = str(e, "action");
      if (action === "retry") {
        t.status = "running";
        t.ended_at = null;
        for (const i of t.items ?? []) if (i.status === "failed") i.status = "pending";
      } else if (action === "skip") {
        t.status = "succeeded";
        t.output = e.output ?? null;
        t.ended_at = at;
      } else if (action === "fail") {
        t.status = "failed";
        t.ended_at = at;
      }
      if (!Object.values(x.tasks).some((v) => v.status === HELD) && x.status === "paused" && action !== undefined) {
        x.status = "running";
      }
      return;
    }
    case "paused":
      if (x.status === "running") x.status = "paused";
      return;
    case "resumed":
      if (x.status === "paused") x.status = "running";
      return;
    case "execution_succeeded":
      x.status = "succeeded";
      x.outputs = e.outputs ?? null;
      x.ended_at = at;
      return;
    case "execution_failed":
      x.status = "failed";
      x.error = (errorOf(e) as ErrorValue | undefined) ?? x.error;
      x.ended_at = at;
      return;
    case "execution_cancelled":
      x.status = "cancelled";
      x.ended_at = at;
      return;
    default:
      return;
  }
}
