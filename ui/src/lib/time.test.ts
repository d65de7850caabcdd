import { describe, expect, it } from "vitest";
import { durationMs, formatAgo, formatDuration, formatTime, normalLocalInput, shortId } from "./time";

describe("durations", () => {
  it("measures between two times, or up to now while open", () => {
    expect(durationMs("2026-11-30T10:00:00Z", "2026-11-30T10:00:01.5Z")).toBe(1500);
    expect(durationMs("2026-11-30T10:00:00Z", null, Date.parse("2026-11-30T10:01:00Z"))).toBe(60000);
    expect(durationMs(null, "2026-11-30T10:00:00Z")).toBeNull();
    expect(durationMs("not a time")).toBeNull();
    // A clock step backwards never shows a negative duration.
    expect(durationMs("2026-11-30T10:00:01Z", "2026-11-30T10:00:00Z")).toBe(0);
  });

  it("reads like a person would say it", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(1500)).toBe("1.50 s");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4 m 05 s");
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe("2 h 03 m");
    expect(formatDuration(76 * 3600_000)).toBe("3 d 4 h");
  });
});

describe("times", () => {
  it("shows today's times without the date", () => {
    const now = new Date("2026-11-30T12:00:00");
    expect(formatTime(new Date("2026-11-30T09:05:03").toISOString(), now)).toBe("09:05:03");
    expect(formatTime(new Date("2026-11-29T09:05:03").toISOString(), now)).toBe("2026-11-29 09:05");
    expect(formatTime(null)).toBe("—");
  });

  it("says how long ago, or how soon", () => {
    const now = Date.parse("2026-11-30T12:00:00Z");
    expect(formatAgo("2026-11-30T11:59:48Z", now)).toBe("12 s ago");
    expect(formatAgo("2026-11-30T12:05:00Z", now)).toBe("in 5 m 00 s");
  });
});

describe("ids", () => {
  it("keeps the time prefix and the random end of a UUIDv7", () => {
    expect(shortId("01a22fea-1234-7abc-8def-0123456789ab")).toBe("01a22fea…89ab");
    expect(shortId("abc")).toBe("abc");
  });
});

describe("datetime-local text", () => {
  it("is written as the browser reads it back", () => {
    expect(normalLocalInput("2026-01-01T10:23:00")).toBe("2026-01-01T10:23");
    expect(normalLocalInput("2026-01-01T10:23:00.000")).toBe("2026-01-01T10:23");
    expect(normalLocalInput("2026-01-01T10:23:05")).toBe("2026-01-01T10:23:05");
    expect(normalLocalInput("2026-01-01T10:23:00.500")).toBe("2026-01-01T10:23:00.5");
    expect(normalLocalInput("2026-01-01 10:23")).toBe("2026-01-01T10:23");
  });
  it("is empty for what is not such text", () => {
    for (const t of [null, undefined, "", "nope", "2026-01-01", "2026-13-01T10:00", "2026-01-01T10:23:00Z"]) expect(normalLocalInput(t)).toBe("");
  });
});
