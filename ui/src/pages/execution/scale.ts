// The timeline's time axis: time to pixels, with idle gaps compressed. A gap where
// nothing runs or queues (an approval waiting for hours, a long backoff, a sleep) and
// that is long next to the busy time is drawn `gapPx` wide with a break mark; the rest
// is linear at `pxPerMs` (the zoom). Also its inverse (to zoom about the pointer), the axis ticks and the density of a fan-out's
// runs (its aggregated row). Pure.

export interface Interval {
  from: number;
  to: number;
}

export interface Piece {
  from: number;
  to: number;
  x: number;
  width: number;
  gap: boolean;
}

export interface TimeScale {
  t0: number;
  t1: number;
  pxPerMs: number;
  pieces: Piece[];
  width: number;
}

/** `list` sorted and merged (touching or overlapping intervals become one). */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = list.filter((i) => i.to >= i.from).sort((a, b) => a.from - b.from);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.from <= last.to) last.to = Math.max(last.to, i.to);
    else out.push({ from: i.from, to: i.to });
  }
  return out;
}

/** How long an idle stretch must be to be compressed: 5 seconds at least, and a
 * quarter of the busy time (a 2 m pause in a 2 h run is not a gap worth a break). */
export function minGapFor(busy: readonly Interval[]): number {
  const total = busy.reduce((s, i) => s + (i.to - i.from), 0);
  return Math.max(5000, total * 0.25);
}

/** The idle stretches of [t0, t1] not covered by `busy` (merged) of at least `minGapMs`. */
export function idleGaps(t0: number, t1: number, busy: readonly Interval[], minGapMs: number): Interval[] {
  const gaps: Interval[] = [];
  let cursor = t0;
  const push = (from: number, to: number) => {
    if (to - from >= minGapMs) gaps.push({ from, to });
  };
  for (const b of busy) {
    if (b.to <= cursor) continue;
    if (b.from >= t1) break;
    if (b.from > cursor) push(cursor, b.from);
    cursor = Math.max(cursor, b.to);
  }
  if (cursor < t1) push(cursor, t1);
  return gaps;
}

/** The gaps worth compressing in [t0, t1] given the busy time (merged): the idle
 * stretches longer than `minGapFor`, unless what they leave is under `minRestMs` (a
 * task that waits from the start is best seen as one long wait). */
export function compressibleGaps(t0: number, t1: number, busy: readonly Interval[], minRestMs = 100): Interval[] {
  const gaps = idleGaps(t0, t1, busy, minGapFor(busy));
  const rest = t1 - t0 - gaps.reduce((s, g) => s + (g.to - g.from), 0);
  return rest < minRestMs ? [] : gaps;
}

/** The linear pixels per millisecond that make [t0, t1] with `gaps` fill `width`; with
 * gaps, never more than `width` per `minLinearMs` (a few milliseconds of work around a
 * compressed wait are not blown up to the whole width; zoom in to see them). */
export function fitPxPerMs(t0: number, t1: number, gaps: readonly Interval[], gapPx: number, width: number, minLinearMs = 100): number {
  const gapMs = gaps.reduce((s, g) => s + (g.to - g.from), 0);
  const linear = Math.max(1, gaps.length ? minLinearMs : 0, t1 - t0 - gapMs);
  const room = Math.max(width * 0.2, width - gaps.length * gapPx);
  return room / linear;
}

export function buildScale(t0: number, t1: number, gaps: readonly Interval[], pxPerMs: number, gapPx: number): TimeScale {
  const pieces: Piece[] = [];
  let x = 0;
  let cursor = t0;
  const linear = (to: number) => {
    if (to <= cursor) return;
    const width = (to - cursor) * pxPerMs;
    pieces.push({ from: cursor, to, x, width, gap: false });
    x += width;
    cursor = to;
  };
  for (const g of gaps) {
    const from = Math.max(g.from, t0);
    const to = Math.min(g.to, t1);
    if (to <= from || from < cursor) continue;
    linear(from);
    // Compressed only when that makes it shorter.
    const width = Math.min(gapPx, (to - from) * pxPerMs);
    pieces.push({ from, to, x, width, gap: width < (to - from) * pxPerMs });
    x += width;
    cursor = to;
  }
  linear(t1);
  if (pieces.length === 0) pieces.push({ from: t0, to: t1, x: 0, width: 0, gap: false });
  return { t0, t1, pxPerMs, pieces, width: x };
}

/** The x of time `t` (clamped to the scale). */
export function xOf(s: TimeScale, t: number): number {
  if (t <= s.t0) return 0;
  if (t >= s.t1) return s.width;
  let lo = 0;
  let hi = s.pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.pieces[mid].to < t) lo = mid + 1;
    else hi = mid;
  }
  const p = s.pieces[lo];
  const len = p.to - p.from;
  return p.x + (len > 0 ? ((t - p.from) / len) * p.width : 0);
}

/** The time at `x` (the inverse of `xOf`, clamped). */
export function timeAt(s: TimeScale, x: number): number {
  if (x <= 0) return s.t0;
  if (x >= s.width) return s.t1;
  for (const p of s.pieces) {
    if (x <= p.x + p.width) return p.width > 0 ? p.from + ((x - p.x) / p.width) * (p.to - p.from) : p.from;
  }
  return s.t1;
}

const STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The smallest round step of at least `ms`. */
export function niceStep(ms: number): number {
  for (const s of STEPS) if (s >= ms) return s;
  return Math.ceil(ms / 86_400_000) * 86_400_000;
}

/** An offset from the start, as the axis says it: `+0`, `+250 ms`, `+1.5 s`, `+2 m`, `+1 h 30 m`. */
export function formatOffset(ms: number): string {
  if (ms <= 0) return "+0";
  if (ms < 1000) return `+${Math.round(ms)} ms`;
  if (ms < 60_000) return `+${Number((ms / 1000).toFixed(ms % 1000 === 0 ? 0 : ms % 100 === 0 ? 1 : 3))} s`;
  if (ms < 3_600_000) {
    const m = Math.floor(ms / 60_000);
    const s = Math.round((ms % 60_000) / 1000);
    return s ? `+${m} m ${s} s` : `+${m} m`;
  }
  const h = Math.floor(ms / 3_600_000);
  const m = Math.round((ms % 3_600_000) / 60_000);
  return m ? `+${h} h ${m} m` : `+${h} h`;
}

export interface Tick {
  t: number;
  x: number;
  label: string;
}

/** Axis ticks on the linear pieces, at least `minPx` apart. */
export function ticks(s: TimeScale, minPx = 90): Tick[] {
  const step = niceStep(minPx / Math.max(s.pxPerMs, 1e-9));
  const out: Tick[] = [];
  let gapEnd = -Infinity;
  for (const p of s.pieces) {
    if (p.gap) {
      gapEnd = p.x + p.width;
      continue;
    }
    const first = Math.ceil((p.from - s.t0) / step) * step + s.t0;
    for (let t = first; t <= p.to; t += step) {
      const x = xOf(s, t);
      const prev = out[out.length - 1];
      // Apart from each other, and from the label of a gap just before.
      if ((prev && x - prev.x < minPx * 0.6) || x - gapEnd < minPx * 0.5) continue;
      out.push({ t, x, label: formatOffset(t - s.t0) });
    }
  }
  return out;
}

/** How many of `spans` overlap each `bucketPx`-wide column of the scale: the shape of
 * a fan-out's activity over time, for its one aggregated row. */
export function density(spans: readonly Interval[], s: TimeScale, bucketPx: number): { counts: Uint32Array; max: number } {
  const n = Math.max(1, Math.ceil(s.width / bucketPx));
  const counts = new Uint32Array(n);
  let max = 0;
  for (const sp of spans) {
    const b0 = Math.min(n - 1, Math.floor(xOf(s, sp.from) / bucketPx));
    const b1 = Math.min(n - 1, Math.max(b0, Math.floor((xOf(s, sp.to) - 1e-6) / bucketPx)));
    for (let b = b0; b <= b1; b++) {
      counts[b] += 1;
      if (counts[b] > max) max = counts[b];
    }
  }
  return { counts, max };
}
