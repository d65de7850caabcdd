// The API's JSON shapes the console reads (see /openapi.json for the full
// description). Only what the console uses is typed; the rest is `unknown`.

export type ExecutionStatus =
  | "pending"
  | "running"
  | "paused"
  | "succeeded"
  | "failed"
  | "cancelled";

export type TaskStatus =
  | "pending"
  | "queued"
  | "running"
  | "retrying"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

export interface Links {
  self: string;
  [name: string]: string;
}

export interface ExecutionSummary {
  id: string;
  workflow: string;
  workflow_id: string;
  version: number;
  status: ExecutionStatus;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  parent: { execution: string; task: string; item?: number | null } | null;
  retry_of: string | null;
  /** What started it (null for executions recorded before origins were). */
  origin?: Origin | null;
  error: ErrorValue | null;
  links: Links;
}

export type OriginKind = "api" | "mcp" | "cli" | "schedule" | "webhook" | "event" | "retry" | "workflow" | "template";

export interface Origin {
  kind: OriginKind;
  /** Who or which: a token's name, a trigger's id, the original or parent execution, a template. */
  by: string | null;
}

export interface ErrorValue {
  class?: string;
  message?: string;
  [k: string]: unknown;
}

export interface ExecutionList {
  executions: ExecutionSummary[];
  next_cursor?: string | null;
}

export interface Waiting {
  for: "approval" | "event" | "timer" | "child" | "worker" | string;
  until?: string | null;
  prompt?: string;
  approvers?: unknown;
  form?: unknown;
  execution?: string;
  links?: Record<string, string>;
  [k: string]: unknown;
}

export interface TaskView {
  status: TaskStatus;
  attempts: number;
  output: unknown;
  error: ErrorValue | null;
  started_at: string | null;
  ended_at: string | null;
  skip_reason?: string;
  waiting?: Waiting;
  items?: TaskView[];
  recovered_by?: string;
}

export interface ExecutionDetail extends ExecutionSummary {
  inputs: unknown;
  outputs: unknown;
  tasks: Record<string, TaskView>;
}

export interface EventView {
  seq: number;
  at: string;
  kind: string;
  event: Record<string, unknown>;
  summary?: string;
}

export interface EventList {
  execution_id: string;
  events: EventView[];
}

export interface WorkflowSummary {
  id: string;
  name: string;
  version: number;
  description: string | null;
  created_at: string;
  links: Links;
}

export interface WorkflowList {
  workflows: WorkflowSummary[];
  next_cursor?: string | null;
}

export interface WorkflowDetail extends WorkflowSummary {
  format: "yaml" | "json";
  source: string;
  definition: WorkflowDefinition | null;
}

export interface TaskDefinition {
  type: string;
  description?: string;
  needs?: string[];
  if?: unknown;
  for_each?: unknown;
  concurrency?: number;
  with?: Record<string, unknown>;
  join?: string;
  on_error?: string;
  [k: string]: unknown;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  inputs?: JsonSchema;
  tasks: Record<string, TaskDefinition>;
  outputs?: Record<string, unknown>;
  [k: string]: unknown;
}

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  [k: string]: unknown;
};

export interface GraphNode {
  id: string;
  type: string;
  description?: string | null;
  needs: string[];
  if?: string | null;
  for_each?: unknown;
  concurrency?: number | null;
  join: string;
  on_error: string;
}

export interface Graph {
  name: string;
  nodes: GraphNode[];
  edges: { from: string; to: string; join: string }[];
  order: string[];
}

export interface RetryResponse {
  execution_id: string | null;
  original: string;
  workflow: string;
  version: number;
  rerun: string[];
  reused: string[];
}

/** `GET /api/executions/{id}/tasks/{task}/inputs`: a task's `with` as its attempt saw
 * it, evaluated again by the server; values computed from `$secrets` are `"***"`. */
export interface TaskInputs {
  task: string;
  item: number | null;
  with: unknown;
  secrets_redacted: boolean;
  evaluated_at: string;
}

/** A message on `/ws/executions/{id}`. */
export type ExecutionMessage =
  | { type: "snapshot" | "resync"; execution: ExecutionDetail; last_seq: number }
  | { type: "event"; seq: number; at: string; kind: string; summary: string; event: Record<string, unknown> }
  | { type: "finished"; execution: ExecutionDetail };

/** A message on `/ws/workflows`. */
export interface WorkflowsMessage {
  type: string;
  [k: string]: unknown;
}
