// Reading an event's fields: REST and WebSocket events carry the engine's event as
// loose JSON (`Record<string, unknown>`); these helpers read one field with its type,
// so the reducers never cast. Pure.
import type { ErrorValue } from "../../api/types";

export type EventData = Record<string, unknown>;

export function str(e: EventData, key: string): string | undefined {
  const v = e[key];
  return typeof v === "string" ? v : undefined;
}

export function num(e: EventData, key: string): number | undefined {
  const v = e[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The fan-out item an event names, or null for the task itself. */
export function itemOf(e: EventData): number | null {
  return num(e, "item") ?? null;
}

export function obj(e: EventData, key: string): EventData | undefined {
  const v = e[key];
  return v && typeof v === "object" && !Array.isArray(v) ? (v as EventData) : undefined;
}

export function errorOf(e: EventData, key = "error"): ErrorValue | undefined {
  return obj(e, key) as ErrorValue | undefined;
}

/** Milliseconds since the epoch of an RFC 3339 time, or null. */
export function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** `task` or `task[item]`, as the engine names a unit. */
export function unitName(task: string, item: number | null | undefined): string {
  return item === null || item === undefined ? task : `${task}[${item}]`;
}
