// The time axis: gap compression, time to x, zoom, ticks, and a fan-out's density.
import { describe, expect, it } from "vitest";
import { buildScale, compressibleGaps, density, fitPxPerMs, formatOffset, idleGaps, mergeIntervals, minGapFor, niceStep, ticks, timeAt, xOf } from "./scale";

describe("mergeIntervals and idle gaps", () => {
  it("merges overlapping and touching intervals, in order", () => {
    expect(mergeIntervals([{ from: 5, to: 8 }, { from: 0, to: 2 }, { from: 2, to: 3 }, { from: 6, to: 10 }, { from: 20, to: 19 }])).toEqual([
      { from: 0, to: 3 },
      { from: 5, to: 10 },
    ]);
  });

  it("finds the idle stretches long enough to compress", () => {
    const busy = [
      { from: 0, to: 100 },
      { from: 150, to: 200 },
      { from: 10_200, to: 10_300 },
    ];
    expect(idleGaps(0, 30_000, busy, 1000)).toEqual([
      { from: 200, to: 10_200 },
      { from: 10_300, to: 30_000 },
    ]);
    expect(idleGaps(-5000, 300, busy, 1000)).toEqual([{ from: -5000, to: 0 }]);
  });

  it("compresses nothing when little would be left to show", () => {
    // 1 ms of work, then a 15 s approval still waiting: one long wait, uncompressed.
    expect(compressibleGaps(0, 15_000, [{ from: 0, to: 1 }])).toEqual([]);
    // 200 ms of work around an 8 h approval: the 8 h are compressed.
    const H8 = 8 * 3_600_000;
    expect(compressibleGaps(0, H8 + 200, [{ from: 0, to: 100 }, { from: H8 + 100, to: H8 + 200 }])).toEqual([{ from: 100, to: H8 + 100 }]);
    // Instant tasks with 300 ms of backoffs, a 6 s sleep, then held for 5 m: both compressed.
    const busy = [{ from: 0, to: 2 }, { from: 301, to: 302 }, { from: 6002, to: 6003 }];
    expect(compressibleGaps(0, 306_000, busy)).toEqual([{ from: 302, to: 6002 }, { from: 6003, to: 306_000 }]);
  });

  it("calls a gap long next to the busy time, 5 seconds at least", () => {
    expect(minGapFor([{ from: 0, to: 100 }])).toBe(5000);
    expect(minGapFor([{ from: 0, to: 3_600_000 }])).toBe(900_000);
  });
});

describe("buildScale", () => {
  // Busy 0-100 ms and 8 h later for 100 ms: the 8 h are drawn 30 px wide.
  const H8 = 8 * 3_600_000;
  const gaps = [{ from: 100, to: H8 }];
  const px = fitPxPerMs(0, H8 + 100, gaps, 30, 630, 0);

  it("fits the busy time into the width left by the gaps", () => {
    expect(px).toBeCloseTo(3, 6); // 600 px for 200 ms
    const s = buildScale(0, H8 + 100, gaps, px, 30);
    expect(s.width).toBeCloseTo(630, 6);
    expect(s.pieces.map((p) => [p.gap, Math.round(p.width)])).toEqual([
      [false, 300],
      [true, 30],
      [false, 300],
    ]);
  });

  it("maps time to x monotonically, linearly inside a gap, clamped at the ends", () => {
    const s = buildScale(0, H8 + 100, gaps, px, 30);
    expect(xOf(s, 0)).toBe(0);
    expect(xOf(s, 50)).toBeCloseTo(150);
    expect(xOf(s, 100)).toBeCloseTo(300);
    expect(xOf(s, 100 + (H8 - 100) / 2)).toBeCloseTo(315);
    expect(xOf(s, H8)).toBeCloseTo(330);
    expect(xOf(s, H8 + 100)).toBeCloseTo(630);
    expect(xOf(s, -10)).toBe(0);
    expect(xOf(s, H8 * 2)).toBeCloseTo(630);
    let prev = -1;
    for (let t = 0; t <= H8 + 100; t += 997_331) {
      const x = xOf(s, t);
      expect(x).toBeGreaterThanOrEqual(prev);
      prev = x;
    }
  });

  it("inverts: the time at an x", () => {
    const s = buildScale(0, H8 + 100, gaps, px, 30);
    for (const t of [0, 10, 99, 5_000_000, H8 + 50, H8 + 100]) expect(timeAt(s, xOf(s, t))).toBeCloseTo(t, 3);
    expect(timeAt(s, -5)).toBe(0);
    expect(timeAt(s, 10_000)).toBe(H8 + 100);
  });

  it("zooms the linear pieces, not the gaps", () => {
    const s = buildScale(0, H8 + 100, gaps, px * 4, 30);
    expect(s.width).toBeCloseTo(2430, 6);
    expect(s.pieces[1].width).toBe(30);
  });

  it("does not blow a few milliseconds between waits up to the whole width", () => {
    // 2 ms of work around a 1.5 s approval: at most the width per 100 ms.
    const g = [{ from: 1, to: 1500 }];
    const fit = fitPxPerMs(0, 1501, g, 30, 630);
    expect(fit).toBeCloseTo(6);
    expect(buildScale(0, 1501, g, fit, 30).width).toBeCloseTo(42);
    // Without gaps, a short execution fills the width.
    expect(fitPxPerMs(0, 10, [], 30, 600)).toBe(60);
  });

  it("does not compress a gap that is already short at this zoom", () => {
    const s = buildScale(0, 2000, [{ from: 500, to: 1500 }], 0.01, 30);
    expect(s.pieces[1]).toMatchObject({ gap: false, width: 10 });
  });

  it("is linear without gaps", () => {
    const s = buildScale(1000, 2000, [], 0.5, 30);
    expect(s.width).toBe(500);
    expect(xOf(s, 1500)).toBe(250);
  });
});

describe("ticks", () => {
  it("picks round steps at least the spacing apart, skipping gaps", () => {
    expect(niceStep(0.7)).toBe(1);
    expect(niceStep(130)).toBe(200);
    expect(niceStep(40_000)).toBe(60_000);
    const s = buildScale(0, 10_000, [], 0.1, 30); // 1000 px for 10 s
    const t = ticks(s, 90);
    expect(t.map((x) => x.label)).toEqual(["+0", "+1 s", "+2 s", "+3 s", "+4 s", "+5 s", "+6 s", "+7 s", "+8 s", "+9 s", "+10 s"]);
    const g = buildScale(0, 3_600_000, [{ from: 1000, to: 3_599_000 }], 0.5, 30);
    const labels = ticks(g, 90).map((x) => x.label);
    expect(labels[0]).toBe("+0");
    expect(labels.some((l) => l.startsWith("+59 m"))).toBe(true);
    expect(labels.some((l) => l === "+30 m")).toBe(false);
    // Nothing right after a gap, where its label is.
    const after = ticks(g, 90).filter((x) => x.t >= 3_599_000);
    for (const x of after) expect(x.x - (g.pieces[1].x + g.pieces[1].width)).toBeGreaterThanOrEqual(45);
  });

  it("formats offsets", () => {
    expect(formatOffset(0)).toBe("+0");
    expect(formatOffset(250)).toBe("+250 ms");
    expect(formatOffset(1500)).toBe("+1.5 s");
    expect(formatOffset(120_000)).toBe("+2 m");
    expect(formatOffset(5_400_000)).toBe("+1 h 30 m");
  });
});

describe("density", () => {
  it("counts how many runs overlap each column", () => {
    const s = buildScale(0, 100, [], 1, 30); // 100 px
    const spans = [
      { from: 0, to: 10 },
      { from: 5, to: 25 },
      { from: 90, to: 100 },
    ];
    const { counts, max } = density(spans, s, 10);
    expect([...counts]).toEqual([2, 1, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(max).toBe(2);
  });

  it("handles 10,000 items quickly", () => {
    const s = buildScale(0, 700, [], 1, 30);
    const spans = Array.from({ length: 10_000 }, (_, i) => ({ from: i * 0.07, to: i * 0.07 + 0.05 }));
    const t = performance.now();
    const { counts } = density(spans, s, 3);
    expect(performance.now() - t).toBeLessThan(50);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
  });
});
