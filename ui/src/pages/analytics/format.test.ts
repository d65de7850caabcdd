// Tests of the page's number formats and the CPU use of two resource samples.
import { describe, expect, it } from "vitest";
import { cpuUse, formatBytes, formatCount, formatCpu, formatPercent, formatPerMinute } from "./format";
import type { Resources } from "./types";

describe("formatBytes", () => {
  it("uses powers of 1024 with about three figures", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1024)).toBe("1.00 KiB");
    expect(formatBytes(249_856)).toBe("244 KiB");
    expect(formatBytes(66_646_016)).toBe("63.6 MiB");
    expect(formatBytes(1.5 * 1024 ** 3)).toBe("1.50 GiB");
    expect(formatBytes(3 * 1024 ** 5)).toBe("3.00 PiB");
  });
  it("shows a dash for what is not known", () => {
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(undefined)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
  });
});

describe("formatPercent", () => {
  it("shows a tenth when there is one", () => {
    expect(formatPercent(0.625)).toBe("62.5%");
    expect(formatPercent(0.6)).toBe("60%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(0.333)).toBe("33.3%");
  });
  it("never rounds a partial rate to 0% or 100%", () => {
    expect(formatPercent(0.0004)).toBe("<0.1%");
    expect(formatPercent(0.9996)).toBe(">99.9%");
    expect(formatPercent(null)).toBe("—");
  });
});

describe("formatPerMinute and formatCount", () => {
  it("keep the figures that mean something", () => {
    expect(formatPerMinute(0)).toBe("0");
    expect(formatPerMinute(0.006)).toBe("0.006");
    expect(formatPerMinute(0.25)).toBe("0.25");
    expect(formatPerMinute(4.2)).toBe("4.2");
    expect(formatPerMinute(12.04)).toBe("12");
    expect(formatPerMinute(123.4)).toBe("123");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(12)).toBe("12");
  });
});

function sample(at: string, user: number | null, system: number | null): Resources {
  return {
    measured_at: at,
    process: { cpu_user_ms: user, cpu_system_ms: system, rss_bytes: 1 },
    database_bytes: 1,
    open_executions: 0,
    queued_task_runs: 0,
    worker_task_runs: 0,
  };
}

describe("cpuUse", () => {
  it("is CPU time over the time between two samples", () => {
    const u = cpuUse(sample("2026-12-01T00:00:00Z", 1000, 200), sample("2026-12-01T00:00:10Z", 1500, 300))!;
    expect(u.user).toBeCloseTo(0.05);
    expect(u.system).toBeCloseTo(0.01);
    expect(u.total).toBeCloseTo(0.06);
    expect(u.overMs).toBe(10_000);
    expect(formatCpu(u.total)).toBe("6%");
    expect(formatCpu(1.4)).toBe("140%");
    expect(formatCpu(0)).toBe("0%");
  });
  it("is unknown without two ordered samples with CPU times", () => {
    expect(cpuUse(null, sample("2026-12-01T00:00:10Z", 1, 1))).toBeNull();
    expect(cpuUse(sample("2026-12-01T00:00:10Z", 1, 1), sample("2026-12-01T00:00:00Z", 2, 2))).toBeNull();
    expect(cpuUse(sample("2026-12-01T00:00:00Z", null, null), sample("2026-12-01T00:00:10Z", null, null))).toBeNull();
  });
});
