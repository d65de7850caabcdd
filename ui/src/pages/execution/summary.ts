// One line per event, for the event log. The WebSocket's `event` messages carry the
// server's own line (`summary`); events read over REST do not, so this says the same
// thing in the same words (the engine's `describe`). Pure.
import type { EventView } from "../../api/types";
import { type EventData, errorOf, itemOf, obj, str, num, unitName } from "./fields";

const SKIP_WHY: Record<string, string> = {
  condition: "its condition is false",
  upstream: "a dependency failed",
  upstream_failed: "a dependency failed",
  upstream_skipped: "its dependencies were skipped",
  other_outcome: "it handles another outcome",
  nothing_to_undo: "its task did not succeed: nothing to undo",
  not_needed: "its task did not fail: no fallback needed",
};

/** Why a task was skipped, for people. */
export function skipWhy(reason: string | undefined): string {
  return (reason && SKIP_WHY[reason]) ?? reason ?? "unknown";
}

function article(name: string): string {
  return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`;
}

function errorText(e: EventData): string {
  const err = errorOf(e);
  if (!err) return "";
  return `${err.message ?? ""} (${err.class ?? "error"})`;
}

/** What an attempt waits for (`wait` of `attempt_waiting`), in words. */
export function waitText(w: EventData | undefined): string {
  if (!w) return "something";
  switch (str(w, "on")) {
    case "timer":
      return `its timer, due ${str(w, "due") ?? "?"}`;
    case "child":
      return `sub-workflow ${str(w, "execution") ?? "?"}`;
    case "signal": {
      const name = str(w, "name") ?? "signal";
      const key = str(w, "key");
      const what = key ? (name === "worker" ? `a worker on queue \`${key}\`` : `${article(name)} \`${key}\``) : article(name);
      const until = str(w, "until");
      return until ? `${what} until ${until}` : what;
    }
    default:
      return "something";
  }
}

export function summarize(kind: string, e: EventData): string {
  const task = str(e, "task") ?? "?";
  const unit = unitName(task, itemOf(e));
  const attempt = num(e, "attempt");
  switch (kind) {
    case "execution_started":
      return `started ${str(e, "workflow") ?? "?"} version ${num(e, "version") ?? "?"}`;
    case "task_started": {
      const items = e.items;
      return Array.isArray(items) ? `${task}: started (${items.length} items)` : `${task}: started`;
    }
    case "task_skipped":
      return `${task}: skipped because ${skipWhy(str(e, "reason"))}`;
    case "attempt_started":
      return `${unit}: attempt ${attempt} started${e.recovered ? " again after a restart" : ""}`;
    case "attempt_waiting":
      return `${unit}: attempt ${attempt} waits for ${waitText(obj(e, "wait"))}`;
    case "signal_received": {
      const by = str(e, "by");
      return `${unit}: attempt ${attempt} received ${article(str(e, "name") ?? "signal")}${by ? ` from ${by}` : ""}`;
    }
    case "attempt_succeeded":
      return `${unit}: attempt ${attempt} succeeded`;
    case "attempt_failed":
      return `${unit}: attempt ${attempt} failed: ${errorText(e)}`;
    case "retry_scheduled":
      return `${unit}: will retry (attempt ${attempt}) at ${str(e, "due") ?? "?"}`;
    case "timer_fired":
      switch (str(e, "timer")) {
        case "retry":
          return `${unit}: retrying`;
        case "sleep":
          return `${unit}: slept`;
        case "wait":
          return `${unit}: the wait reached its timeout`;
        default:
          return "the workflow's timeout passed";
      }
    case "task_succeeded":
      return `${task}: succeeded`;
    case "task_failed":
      return `${task}: failed: ${errorOf(e)?.message ?? ""}`;
    case "task_cancelled":
      return `${task}: cancelled`;
    case "cancel_requested": {
      const r = str(e, "reason");
      return r ? `cancelling: ${r}` : "cancelling";
    }
    case "paused":
      return "paused";
    case "resumed":
      return "resumed";
    case "stopping": {
      const { kind: _k, ...rest } = e;
      return `stopping: ${JSON.stringify(rest)}`;
    }
    case "task_held":
      return `${task}: held for a decision (retry, skip or fail): ${errorOf(e)?.message ?? ""}`;
    case "task_decided":
      return `${task}: ${str(e, "action") ?? "?"} (decided)`;
    case "task_recovered":
      return `${task}: recovered: its fallback's output stands in`;
    case "ending": {
      const outcome = obj(e, "outcome");
      const k = outcome ? str(outcome, "kind") : undefined;
      return `ending (${outcome && k ? summarize(k, outcome) : "?"}): running its handlers`;
    }
    case "execution_succeeded":
      return "succeeded";
    case "execution_failed":
      return `failed: ${errorText(e)}`;
    case "execution_cancelled":
      return "cancelled";
    default:
      return kind;
  }
}

/** The event's line: the server's when it sent one. */
export function eventLine(ev: EventView): string {
  return ev.summary ?? summarize(ev.kind, ev.event);
}
