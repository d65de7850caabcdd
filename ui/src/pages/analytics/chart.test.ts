// Tests of the chart's geometry: stacked bars, count ticks and time ticks.
import { describe, expect, it } from "vitest";
import { barText, bucketLabel, bucketSize, countTicks, extent, layoutBars, timeTicks } from "./chart";
import type { Bucket, StatusCounts } from "./types";

function counts(c: Partial<StatusCounts>): StatusCounts {
  const z = { pending: 0, running: 0, paused: 0, succeeded: 0, failed: 0, cancelled: 0, ...c };
  return { ...z, total: z.pending + z.running + z.paused + z.succeeded + z.failed + z.cancelled };
}
const bucket = (start: string, c: Partial<StatusCounts>): Bucket => ({ start, executions: counts(c) });

describe("countTicks", () => {
  it("gives round whole steps up to at least the maximum", () => {
    expect(countTicks(0)).toEqual([0, 1]);
    expect(countTicks(1)).toEqual([0, 1]);
    expect(countTicks(3)).toEqual([0, 1, 2, 3]);
    expect(countTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(countTicks(10)).toEqual([0, 5, 10]);
    expect(countTicks(37)).toEqual([0, 10, 20, 30, 40]);
    expect(countTicks(1234)).toEqual([0, 500, 1000, 1500]);
  });
});

describe("layoutBars", () => {
  const box = { width: 130, height: 140, left: 40, right: 0, top: 10, bottom: 30 };
  const buckets = [
    bucket("2026-12-01T10:00:00.000Z", { succeeded: 2, failed: 1 }),
    bucket("2026-12-01T10:30:00.000Z", {}),
    bucket("2026-12-01T11:00:00.000Z", { running: 1, failed: 2, cancelled: 1 }),
  ];

  it("spans the buckets from the first start to the last end", () => {
    expect(extent(buckets, 1800)).toEqual([Date.parse("2026-12-01T10:00:00Z"), Date.parse("2026-12-01T11:30:00Z")]);
  });

  it("puts each bucket in its slot with a gap, and stacks its statuses failures first", () => {
    const bars = layoutBars(buckets, 1800, box, 4);
    expect(bars).toHaveLength(3);
    // 90 px for 3 slots of 30 px, a 2 px gap each.
    expect(bars.map((b) => b.x)).toEqual([41, 71, 101]);
    expect(bars.every((b) => b.width === 28)).toBe(true);
    // 100 px for 4 executions: 25 px each, from the baseline at y = 110 up.
    expect(bars[0].segments).toEqual([
      { status: "failed", count: 1, y: 85, height: 25 },
      { status: "succeeded", count: 2, y: 35, height: 50 },
    ]);
    expect(bars[1].segments).toEqual([]);
    expect(bars[2].segments.map((s) => s.status)).toEqual(["failed", "cancelled", "running"]);
    expect(bars[2].segments[2]).toEqual({ status: "running", count: 1, y: 10, height: 25 });
    expect(bars[2].end - bars[2].start).toBe(1_800_000);
  });

  it("keeps a few bars narrow, centred in their slots", () => {
    const bars = layoutBars(buckets, 1800, { ...box, width: 640 }, 4);
    // 600 px for 3 slots of 200 px: each bar 48 px wide, 76 px in.
    expect(bars.map((b) => [b.x, b.width])).toEqual([
      [116, 48],
      [316, 48],
      [516, 48],
    ]);
  });

  it("keeps a bar visible when buckets are many", () => {
    const many = Array.from({ length: 1000 }, (_, i) => bucket(new Date(Date.UTC(2026, 11, 1) + i * 60_000).toISOString(), { succeeded: 1 }));
    const bars = layoutBars(many, 60, box, 1);
    expect(bars[0].width).toBeGreaterThanOrEqual(1);
    expect(bars[999].x + bars[999].width).toBeLessThanOrEqual(box.width + 1);
  });

  it("says what a bar holds", () => {
    const [bar] = layoutBars(buckets, 1800, box, 4);
    expect(barText(bar)).toMatch(/: failed 1, succeeded 2 \(total 3\)$/);
    expect(barText(layoutBars(buckets, 1800, box, 4)[1])).toMatch(/: no executions$/);
  });
});

describe("timeTicks", () => {
  const t = (s: string) => Date.parse(s);
  it("ticks an hour every 10 minutes", () => {
    const ticks = timeTicks(t("2026-12-01T10:03:00Z"), t("2026-12-01T11:03:00Z"), 8, 0);
    expect(ticks.map((k) => k.label)).toEqual(["10:10", "10:20", "10:30", "10:40", "10:50", "11:00"]);
    expect(ticks.every((k) => !k.date)).toBe(true);
  });
  it("ticks a day every 3 hours, with the date where the day changes", () => {
    const ticks = timeTicks(t("2026-11-30T12:00:00Z"), t("2026-12-01T12:00:00Z"), 8, 0);
    expect(ticks.map((k) => k.label)).toEqual(["12:00", "15:00", "18:00", "21:00", "00:00", "03:00", "06:00", "09:00", "12:00"]);
    expect(ticks[0].date).toBe("Nov 30");
    expect(ticks[4].date).toBe("Dec 1");
    expect(ticks[1].date).toBeUndefined();
  });
  it("ticks at round local times", () => {
    // UTC+2 (getTimezoneOffset -120): local 12:00 is 10:00 UTC.
    const ticks = timeTicks(t("2026-12-01T09:30:00Z"), t("2026-12-01T10:30:00Z"), 4, -120);
    expect(ticks.map((k) => k.label)).toEqual(["11:30", "11:45", "12:00", "12:15", "12:30"]);
    expect(ticks.find((k) => k.label === "12:00")!.t).toBe(t("2026-12-01T10:00:00Z"));
  });
  it("labels weeks and months by date", () => {
    const ticks = timeTicks(t("2026-11-01T00:00:00Z"), t("2026-12-01T00:00:00Z"), 8, 0);
    expect(ticks.length).toBeLessThanOrEqual(8);
    expect(ticks.every((k) => /^[A-Z][a-z]{2} \d+$/.test(k.label))).toBe(true);
  });
  it("ticks seconds for a window of seconds", () => {
    const ticks = timeTicks(t("2026-12-01T10:00:00Z"), t("2026-12-01T10:00:05Z"), 8, 0);
    expect(ticks.map((k) => k.label)).toEqual(["10:00:00", "10:00:01", "10:00:02", "10:00:03", "10:00:04", "10:00:05"]);
  });
  it("gives none for an empty span", () => {
    expect(timeTicks(5, 5, 8, 0)).toEqual([]);
  });
});

describe("bucketSize", () => {
  it("names a bucket's size in its largest whole unit", () => {
    expect(bucketSize(10)).toBe("10 s");
    expect(bucketSize(60)).toBe("1 min");
    expect(bucketSize(90)).toBe("90 s");
    expect(bucketSize(1800)).toBe("30 min");
    expect(bucketSize(3600)).toBe("1 h");
    expect(bucketSize(43_200)).toBe("12 h");
    expect(bucketSize(86_400)).toBe("1 day");
    expect(bucketSize(604_800)).toBe("7 days");
  });
});

describe("bucketLabel", () => {
  const at = (d: number, h: number, m: number, sec = 0) => new Date(2026, 11, d, h, m, sec).getTime();
  it("names a bucket's span in local time", () => {
    expect(bucketLabel(at(1, 14, 30), at(1, 15, 0))).toBe("Dec 1 14:30 – 15:00");
    expect(bucketLabel(at(1, 23, 30), at(2, 0, 0))).toBe("Dec 1 23:30 – 00:00");
    expect(bucketLabel(at(1, 12, 0), at(2, 12, 0))).toBe("Dec 1 12:00 – Dec 2 12:00");
    expect(bucketLabel(at(1, 5, 29, 6), at(1, 5, 29, 7))).toBe("Dec 1 05:29:06 – 05:29:07");
  });
});
