// The page's window as the URL keeps it (`?window=1h|24h|7d|30d`, or `since` and
// `until` for a custom one, and `workflow`), turned into the `since` and `until` the
// API takes, and the links the page gives into the executions list. Pure (tested).
import { normalLocalInput } from "../../lib/time";

export const PRESETS = [
  { key: "1h", label: "Last hour", ms: 3_600_000 },
  { key: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { key: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { key: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
] as const;

export type PresetKey = (typeof PRESETS)[number]["key"];
export const DEFAULT_PRESET: PresetKey = "24h";

/** What the URL asks for: a preset (relative to now) or a fixed range. */
export type WindowSpec =
  | { kind: "preset"; preset: PresetKey }
  | { kind: "custom"; since: string | null; until: string | null };

export interface Range {
  since: string;
  until: string;
}

function isPreset(s: string | null): s is PresetKey {
  return PRESETS.some((p) => p.key === s);
}

/** The window the URL names: `window=` a preset; `window=custom` (or `since`/`until`
 * without `window`) a custom range; nothing or anything else the default preset. */
export function parseWindow(params: URLSearchParams): WindowSpec {
  const w = params.get("window");
  const since = params.get("since");
  const until = params.get("until");
  if (isPreset(w)) return { kind: "preset", preset: w };
  if (w === "custom" || (!w && (since || until))) return { kind: "custom", since, until };
  return { kind: "preset", preset: DEFAULT_PRESET };
}

/** `spec` at `now` as RFC 3339 times, or an error saying what is wrong with it. A
 * custom range without an end ends now; one without a start starts a day before its end. */
export function resolveWindow(spec: WindowSpec, now: number): Range | { error: string } {
  if (spec.kind === "preset") {
    const p = PRESETS.find((x) => x.key === spec.preset)!;
    return { since: new Date(now - p.ms).toISOString(), until: new Date(now).toISOString() };
  }
  const until = spec.until ? Date.parse(spec.until) : now;
  if (Number.isNaN(until)) return { error: `"To" is not a time: ${spec.until}` };
  const since = spec.since ? Date.parse(spec.since) : until - 86_400_000;
  if (Number.isNaN(since)) return { error: `"From" is not a time: ${spec.since}` };
  if (since >= until) return { error: `"From" must be before "To".` };
  return { since: new Date(since).toISOString(), until: new Date(until).toISOString() };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An RFC 3339 time as `datetime-local` text (local time, to the second, in the
 * browser's normalized form: no seconds when they are zero), or "". */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return normalLocalInput(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
}

/** `datetime-local` text (local time) as RFC 3339, or null when empty or not a time. */
export function fromLocalInput(local: string): string | null {
  if (!local) return null;
  const t = new Date(local).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The executions list showing the executions of `range` (of `workflow`) with
 * `statuses`: its `since`/`until` are `datetime-local` text, so to the second
 * (`since` rounded down, `until` up, so that none of the window is left out). */
export function executionsLink(range: Range | null, workflow: string, statuses: string[] = []): string {
  const q = new URLSearchParams();
  if (statuses.length) q.set("status", statuses.join(","));
  if (workflow) q.set("workflow", workflow);
  if (range) {
    const since = Math.floor(Date.parse(range.since) / 1000) * 1000;
    const until = Math.ceil(Date.parse(range.until) / 1000) * 1000;
    q.set("since", toLocalInput(new Date(since).toISOString()));
    q.set("until", toLocalInput(new Date(until).toISOString()));
  }
  const s = q.toString();
  return s ? `/executions?${s}` : "/executions";
}

/** A window for people, in local time: `Dec 1 04:22 – 05:22`, `Nov 30 05:22 – Dec 1
 * 05:22`; to the second when it is shorter than an hour. */
export function formatRange(range: Range): string {
  const a = new Date(range.since);
  const b = new Date(range.until);
  const seconds = b.getTime() - a.getTime() < 3_600_000;
  const day = (d: Date) => `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  const time = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ""}`;
  const year = a.getFullYear() !== b.getFullYear() ? ` ${a.getFullYear()}` : "";
  if (a.toDateString() === b.toDateString()) return `${day(a)}${year} ${time(a)} – ${time(b)}`;
  return `${day(a)}${year} ${time(a)} – ${day(b)} ${time(b)}`;
}

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
