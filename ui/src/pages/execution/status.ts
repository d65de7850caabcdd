// Task statuses as this page shows them: the console's palette (`statusColor`), plus
// `held` (a task waiting for a person's decision) and `not run` (a task of a finished
// execution that never started, nor was skipped). Pure.
import type { TaskView } from "../../api/types";
import { statusColor } from "../../components/Status";

export const NOT_RUN = "not run";

export function taskColor(status: string): string {
  if (status === "held") return statusColor("paused");
  if (status === NOT_RUN) return statusColor("skipped");
  return statusColor(status);
}

/** The status to draw for a task: its own, or `not run` once the execution ended. */
export function shownStatus(view: TaskView | undefined, ended: boolean): string {
  const s = view?.status ?? "pending";
  return ended && (s === "pending" || s === "queued") ? NOT_RUN : s;
}

/** Whether a task is done with (dimmed on the graph). */
export function isDim(status: string): boolean {
  return status === "skipped" || status === NOT_RUN || status === "cancelled";
}
