// The API shapes of triggers and webhook deliveries (`/api/triggers`,
// `/api/triggers/{id}/deliveries`, `/api/deliveries/{id}/replay`).

export type TriggerKind = "schedule" | "webhook" | "event";

export interface TriggerView {
  /** `<workflow>.<position>`. */
  id: string;
  workflow: string;
  version: number;
  position: number;
  kind: TriggerKind | string;
  /** The fields of its kind, as written. */
  definition: Record<string, unknown>;
  paused: boolean;
  paused_since: string | null;
  /** For a schedule only. */
  schedule?: { fired_through: string | null; next_fires: string[] };
  links: { self: string; workflow: string; pause: string; resume: string; deliveries?: string; backfill?: string };
}

export interface TriggerList {
  triggers: TriggerView[];
}

export interface DeliveryView {
  id: number;
  trigger: string;
  hook: string;
  received_at: string;
  /** started, duplicate, rejected, forbidden, paused, invalid or failed. */
  verdict: string;
  reason: string | null;
  verified: boolean;
  execution_id: string | null;
  method: string;
  body_bytes: number;
  replay_of: number | null;
}

export interface DeliveryPage {
  deliveries: DeliveryView[];
  next_cursor: string | null;
}

export interface HookReceipt {
  execution_id: string;
  workflow: string;
  trigger: string;
  duplicate: boolean;
  delivery: number | null;
}
