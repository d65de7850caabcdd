// The JSON shapes of `/api/analytics/...` (docs/monitoring.md, "Analytics"; the
// server's views in crates/server/src/views/analytics.rs). Durations are whole ms.

/** The window an answer is about: created from `since` (included) to `until` (excluded). */
export interface AnalyticsWindow {
  since: string;
  until: string;
  workflow: string | null;
}

export interface StatusCounts {
  total: number;
  pending: number;
  running: number;
  paused: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface DurationStats {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** `GET /api/analytics/summary`. */
export interface Summary {
  window: AnalyticsWindow;
  executions: StatusCounts;
  /** succeeded / ended, rounded to thousandths; null when none ended. */
  success_rate: number | null;
  throughput: { ended_per_minute: number };
  durations: DurationStats | null;
  open_now: number;
}

export interface Bucket {
  start: string;
  executions: StatusCounts;
}

/** `GET /api/analytics/timeseries`. */
export interface Timeseries {
  window: AnalyticsWindow;
  bucket_seconds: number;
  buckets: Bucket[];
}

export interface DurationGroup extends DurationStats {
  workflow: string;
  /** `by=task`: the task; else null. */
  task: string | null;
  /** `by=task`: the attempts of these runs; else null. */
  attempts: number | null;
  /** `by=task`: from ready to first attempt; null when not sampled. */
  queue_wait: DurationStats | null;
}

/** `GET /api/analytics/durations`. */
export interface Durations {
  window: AnalyticsWindow;
  by: "workflow" | "task";
  groups: DurationGroup[];
  queue_wait_sampled_executions: number | null;
}

export interface ClassFailures {
  class: string | null;
  executions: number;
  task_runs: number;
  example_execution: string;
}

export interface TaskFailures {
  workflow: string;
  task: string;
  count: number;
  classes: { class: string | null; count: number }[];
  example_execution: string;
}

export interface WorkflowFailures {
  workflow: string;
  failed_executions: number;
  ended_executions: number;
  failure_rate: number | null;
  failed_task_runs: number;
  example_execution: string;
}

export interface MessageFailures {
  pattern: string;
  class: string | null;
  count: number;
  example_message: string;
  example_execution: string;
}

/** `GET /api/analytics/errors`. */
export interface Errors {
  window: AnalyticsWindow;
  failed_executions: number;
  failed_task_runs: number;
  by_class: ClassFailures[];
  by_task: TaskFailures[];
  by_workflow: WorkflowFailures[];
  messages: MessageFailures[];
}

/** `GET /api/analytics/resources`. */
export interface Resources {
  measured_at: string;
  process: { cpu_user_ms: number | null; cpu_system_ms: number | null; rss_bytes: number | null };
  database_bytes: number | null;
  open_executions: number;
  queued_task_runs: number;
  worker_task_runs: number;
}
