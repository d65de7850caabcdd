// Tests of the window the URL names and the links into the executions list.
import { describe, expect, it } from "vitest";
import { executionsLink, formatRange, fromLocalInput, parseWindow, resolveWindow, toLocalInput } from "./window";

const q = (s: string) => new URLSearchParams(s);
const NOW = Date.parse("2026-12-01T12:00:00.000Z");

describe("parseWindow", () => {
  it("reads a preset, defaulting to the last 24 hours", () => {
    expect(parseWindow(q(""))).toEqual({ kind: "preset", preset: "24h" });
    expect(parseWindow(q("window=7d"))).toEqual({ kind: "preset", preset: "7d" });
    expect(parseWindow(q("window=bogus"))).toEqual({ kind: "preset", preset: "24h" });
  });
  it("reads a custom range, with or without window=custom", () => {
    expect(parseWindow(q("window=custom&since=a&until=b"))).toEqual({ kind: "custom", since: "a", until: "b" });
    expect(parseWindow(q("since=a"))).toEqual({ kind: "custom", since: "a", until: null });
    // A preset wins over stale since/until.
    expect(parseWindow(q("window=1h&since=a"))).toEqual({ kind: "preset", preset: "1h" });
  });
});

describe("resolveWindow", () => {
  it("gives each preset's span ending now", () => {
    expect(resolveWindow({ kind: "preset", preset: "1h" }, NOW)).toEqual({
      since: "2026-12-01T11:00:00.000Z",
      until: "2026-12-01T12:00:00.000Z",
    });
    expect(resolveWindow({ kind: "preset", preset: "24h" }, NOW)).toEqual({
      since: "2026-11-30T12:00:00.000Z",
      until: "2026-12-01T12:00:00.000Z",
    });
    expect(resolveWindow({ kind: "preset", preset: "7d" }, NOW)).toMatchObject({ since: "2026-11-24T12:00:00.000Z" });
    expect(resolveWindow({ kind: "preset", preset: "30d" }, NOW)).toMatchObject({ since: "2026-11-01T12:00:00.000Z" });
  });
  it("takes a custom range as it is, filling a missing end with now and a missing start with a day before the end", () => {
    expect(resolveWindow({ kind: "custom", since: "2026-12-01T08:00:00Z", until: "2026-12-01T09:30:00Z" }, NOW)).toEqual({
      since: "2026-12-01T08:00:00.000Z",
      until: "2026-12-01T09:30:00.000Z",
    });
    expect(resolveWindow({ kind: "custom", since: "2026-12-01T08:00:00Z", until: null }, NOW)).toEqual({
      since: "2026-12-01T08:00:00.000Z",
      until: "2026-12-01T12:00:00.000Z",
    });
    expect(resolveWindow({ kind: "custom", since: null, until: "2026-12-01T09:00:00Z" }, NOW)).toEqual({
      since: "2026-11-30T09:00:00.000Z",
      until: "2026-12-01T09:00:00.000Z",
    });
  });
  it("says what is wrong with a range that is not one", () => {
    expect(resolveWindow({ kind: "custom", since: "yesterday", until: null }, NOW)).toEqual({ error: '"From" is not a time: yesterday' });
    expect(resolveWindow({ kind: "custom", since: null, until: "soon" }, NOW)).toEqual({ error: '"To" is not a time: soon' });
    expect(resolveWindow({ kind: "custom", since: "2026-12-01T10:00:00Z", until: "2026-12-01T10:00:00Z" }, NOW)).toEqual({
      error: '"From" must be before "To".',
    });
  });
});

describe("local inputs", () => {
  it("round-trips a time to the second through datetime-local text", () => {
    const iso = "2026-12-01T05:22:38.000Z";
    const local = toLocalInput(iso);
    expect(local).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(fromLocalInput(local)).toBe(iso);
  });
  it("leaves out seconds that are zero, as the browser does", () => {
    const iso = "2026-12-01T05:22:00.000Z";
    const local = toLocalInput(iso);
    expect(local).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    expect(fromLocalInput(local)).toBe(iso);
  });
  it("gives nothing for nothing", () => {
    expect(toLocalInput(null)).toBe("");
    expect(toLocalInput("nope")).toBe("");
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("nope")).toBeNull();
  });
});

describe("executionsLink", () => {
  it("filters by status and workflow", () => {
    expect(executionsLink(null, "etl", ["failed"])).toBe("/executions?status=failed&workflow=etl");
    expect(executionsLink(null, "")).toBe("/executions");
  });
  it("covers the whole window to the second", () => {
    const link = executionsLink({ since: "2026-12-01T05:22:38.750Z", until: "2026-12-01T06:22:38.250Z" }, "", ["failed"]);
    const p = new URLSearchParams(link.split("?")[1]);
    expect(p.get("status")).toBe("failed");
    expect(fromLocalInput(p.get("since")!)).toBe("2026-12-01T05:22:38.000Z");
    expect(fromLocalInput(p.get("until")!)).toBe("2026-12-01T06:22:39.000Z");
  });
});

describe("formatRange", () => {
  // Local times, whatever the machine's zone: built from local parts.
  const at = (d: number, h: number, m: number, s = 0) => new Date(2026, 11, d, h, m, s).toISOString();
  it("gives the date once within a day, and both dates across days", () => {
    expect(formatRange({ since: at(1, 4, 22), until: at(1, 5, 22) })).toBe("Dec 1 04:22 – 05:22");
    expect(formatRange({ since: at(0, 5, 22), until: at(1, 5, 22) })).toBe("Nov 30 05:22 – Dec 1 05:22");
  });
  it("gives seconds for a window under an hour", () => {
    expect(formatRange({ since: at(1, 5, 27, 25), until: at(1, 5, 27, 29) })).toBe("Dec 1 05:27:25 – 05:27:29");
  });
});
