// The geometry of the executions-over-time chart: a stacked bar per bucket (a
// segment per status), the count axis's round ticks and the time axis's ticks at
// round local times. Pure (tested); TimeChart.tsx draws it in SVG.
import type { Bucket, StatusCounts } from "./types";
import { MONTHS } from "./window";

/** The statuses stacked in a bar, bottom first: failures on the baseline, so that
 * they compare across bars at a glance; the open ones on top. */
export const STACK = ["failed", "cancelled", "succeeded", "paused", "running", "pending"] as const;
export type StackStatus = (typeof STACK)[number];

export interface Segment {
  status: StackStatus;
  count: number;
  y: number;
  height: number;
}

export interface Bar {
  start: number;
  end: number;
  x: number;
  width: number;
  counts: StatusCounts;
  segments: Segment[];
}

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Round ticks for counts from 0 to at least `max` (whole numbers, steps of 1, 2 or 5
 * times a power of ten, about `target` of them); the last is the axis's top. */
export function countTicks(max: number, target = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v));
  return ticks;
}

/** The time the buckets cover: from the first's start to the last's end (ms). */
export function extent(buckets: Bucket[], bucketSeconds: number): [number, number] {
  if (buckets.length === 0) return [0, 1];
  const first = Date.parse(buckets[0].start);
  const last = Date.parse(buckets[buckets.length - 1].start);
  return [first, last + bucketSeconds * 1000];
}

/** The widest a bar is drawn (a few buckets in a wide chart), centred in its slot. */
export const MAX_BAR = 48;

/** A bar per bucket in `box`, counts scaled to `yMax` (the count axis's top). Bars
 * are at least 1 px wide and at most MAX_BAR, with a gap of up to 2 px between them
 * when there is room. */
export function layoutBars(buckets: Bucket[], bucketSeconds: number, box: Box, yMax: number): Bar[] {
  const [t0, t1] = extent(buckets, bucketSeconds);
  const innerW = Math.max(1, box.width - box.left - box.right);
  const innerH = Math.max(1, box.height - box.top - box.bottom);
  const span = t1 - t0;
  const slot = (bucketSeconds * 1000 * innerW) / span;
  const gap = Math.min(2, slot * 0.2);
  const base = box.top + innerH;
  const scale = yMax > 0 ? innerH / yMax : 0;
  return buckets.map((b) => {
    const start = Date.parse(b.start);
    const x = box.left + ((start - t0) * innerW) / span;
    let acc = 0;
    const segments: Segment[] = [];
    for (const status of STACK) {
      const count = b.executions[status];
      if (!count) continue;
      const height = count * scale;
      segments.push({ status, count, y: base - (acc + count) * scale, height });
      acc += count;
    }
    const width = Math.min(MAX_BAR, Math.max(1, slot - gap));
    return {
      start,
      end: start + bucketSeconds * 1000,
      x: x + (slot - width) / 2,
      width,
      counts: b.executions,
      segments,
    };
  });
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STEPS = [SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

export interface TimeTick {
  t: number;
  /** `14:30` (`14:30:05` for steps under a minute), or `Dec 1` for steps of a day or more. */
  label: string;
  /** The date under a time label, where the day changes (and on the first tick). */
  date?: string;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Ticks at round local times within [t0, t1] (both included): the smallest step of
 * STEPS that cuts the span in at most `maxTicks` intervals. `tzOffsetMin` is `Date.getTimezoneOffset()` (UTC minus local,
 * in minutes; a parameter so the tests do not depend on the machine's zone). */
export function timeTicks(t0: number, t1: number, maxTicks: number, tzOffsetMin = new Date(t0).getTimezoneOffset()): TimeTick[] {
  if (!(t1 > t0) || maxTicks < 1) return [];
  const step = STEPS.find((s) => (t1 - t0) / s <= maxTicks) ?? Math.ceil((t1 - t0) / maxTicks / DAY) * DAY;
  const shift = -tzOffsetMin * MIN; // local = UTC + shift
  const ticks: TimeTick[] = [];
  let lastDay = "";
  for (let local = Math.ceil((t0 + shift) / step) * step; local - shift <= t1; local += step) {
    const d = new Date(local);
    const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    if (step >= DAY) ticks.push({ t: local - shift, label: day });
    else {
      const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
      const label = step < MIN ? `${hm}:${pad(d.getUTCSeconds())}` : hm;
      ticks.push({ t: local - shift, label, date: day !== lastDay ? day : undefined });
      lastDay = day;
    }
  }
  // Within one day the date says nothing a time does not: keep it only when days change.
  if (ticks.length && ticks.every((k, i) => i === 0 || !k.date)) delete ticks[0].date;
  return ticks;
}

/** A bucket's span for people: `Dec 1 14:30 – 15:00` (the end's date when it is
 * another day's, but not for an end at midnight), to the second for buckets under a minute. */
export function bucketLabel(start: number, end: number): string {
  const a = new Date(start);
  const b = new Date(end);
  const seconds = end - start < MIN;
  const day = (d: Date) => `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  const time = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ""}`;
  const midnight = b.getHours() === 0 && b.getMinutes() === 0 && b.getSeconds() === 0 && end - start <= DAY;
  return a.toDateString() === b.toDateString() || midnight ? `${day(a)} ${time(a)} – ${time(b)}` : `${day(a)} ${time(a)} – ${day(b)} ${time(b)}`;
}

/** What a bar's tooltip says: its span, then each status with executions, the total last. */
export function barText(bar: Bar): string {
  const parts = STACK.filter((s) => bar.counts[s] > 0).map((s) => `${s} ${bar.counts[s]}`);
  const head = bucketLabel(bar.start, bar.end);
  return parts.length ? `${head}: ${parts.join(", ")} (total ${bar.counts.total})` : `${head}: no executions`;
}

/** A bucket's size for people: `10 s`, `1 min`, `30 min`, `1 h`, `12 h`, `1 day`, `7 days`. */
export function bucketSize(seconds: number): string {
  const units: [number, string, string][] = [
    [86_400, "day", "days"],
    [3_600, "h", "h"],
    [60, "min", "min"],
  ];
  for (const [size, one, many] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${n === 1 ? one : many}`;
    }
  }
  return `${seconds} s`;
}
