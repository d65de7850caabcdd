// Tests of the recent-execution stats shown in the workflow pages.
import { describe, expect, it } from "vitest";
import type { ExecutionSummary } from "../../api/types";
import { agoText, formatRate, rateClass, runStats } from "./stats";

function x(id: string, status: ExecutionSummary["status"], created_at: string): ExecutionSummary {
  return {
    id,
    workflow: "w",
    workflow_id: "w1",
    version: 1,
    status,
    created_at,
    started_at: created_at,
    ended_at: null,
    parent: null,
    retry_of: null,
    error: null,
    links: { self: "" },
  };
}

describe("runStats", () => {
  it("counts ended runs and the success rate among them", () => {
    const s = runStats([
      x("c", "running", "2026-12-01T10:00:03Z"),
      x("b", "failed", "2026-12-01T10:00:02Z"),
      x("a", "succeeded", "2026-12-01T10:00:01Z"),
      x("0", "succeeded", "2026-12-01T10:00:00Z"),
      x("z", "cancelled", "2026-12-01T09:00:00Z"),
    ]);
    expect(s).toMatchObject({ total: 5, ended: 4, succeeded: 2, failed: 1, cancelled: 1, open: 1, rate: 0.5 });
    expect(s.last?.id).toBe("c");
  });
  it("has no rate without an ended run", () => {
    expect(runStats([]).rate).toBeNull();
    expect(runStats([]).last).toBeNull();
    expect(runStats([x("a", "pending", "2026-12-01T10:00:00Z")]).rate).toBeNull();
  });
  it("finds the newest whatever the order", () => {
    expect(runStats([x("a", "failed", "2026-12-01T09:00:00Z"), x("b", "failed", "2026-12-01T10:00:00Z")]).last?.id).toBe("b");
  });
});

describe("formatRate", () => {
  it("rounds, without saying 100% or 0% when it is not", () => {
    expect(formatRate(null)).toBe("—");
    expect(formatRate(1)).toBe("100%");
    expect(formatRate(0)).toBe("0%");
    expect(formatRate(0.833)).toBe("83%");
    expect(formatRate(0.998)).toBe(">99%");
    expect(formatRate(0.004)).toBe("<1%");
    expect(rateClass(0.96)).toBe("rate-good");
    expect(rateClass(0.5)).toBe("rate-poor");
  });
});

describe("agoText", () => {
  const format = (iso: string, now: number) => `${now - Date.parse(iso)}`;
  it("says just now within a second, and for small clock differences", () => {
    const now = Date.parse("2026-12-01T10:00:10Z");
    expect(agoText("2026-12-01T10:00:09.500Z", now, format)).toBe("just now");
    expect(agoText("2026-12-01T10:00:13Z", now, format)).toBe("just now");
    expect(agoText("2026-12-01T10:00:00Z", now, format)).toBe("10000");
    expect(agoText("2026-12-01T10:01:00Z", now, format)).toBe("-50000");
  });
});
