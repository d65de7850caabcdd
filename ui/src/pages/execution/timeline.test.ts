// Events to timeline bars (timeline.ts, bars.ts): queue waits, runs, waits, backoffs, per attempt; rows with
// a fan-out aggregated unless expanded.
import { describe, expect, it } from "vitest";
import type { EventView } from "../../api/types";
import { buildRows, busySpans, runSpans, span, unitSegments } from "./bars";
import { applyToTimeline, buildTimeline, emptyTimeline } from "./timeline";
import { DEMO_EVENTS } from "./testdata";

const T0 = Date.parse("2026-12-01T04:44:59.657Z");
const rel = (segs: { kind: string; from: number; to: number; attempt: number; label?: string }[]) =>
  segs.map((s) => `${s.kind}${s.label ? `(${s.label})` : ""}#${s.attempt} ${s.from - T0}-${s.to - T0}`);

let seq = 0;
function ev(offset: number, kind: string, event: Record<string, unknown> = {}): EventView {
  seq += 1;
  return { seq, at: new Date(T0 + offset).toISOString(), kind, event: { kind, ...event } };
}

describe("the timeline of a real log", () => {
  const tl = buildTimeline(DEMO_EVENTS);
  const end = T0 + 257;

  it("starts and ends with the execution", () => {
    expect(tl.t0).toBe(T0);
    expect(tl.end).toBe(end);
    expect(span(tl, end + 10_000)).toEqual({ t0: T0, t1: end });
  });

  it("shows a retried task's attempts, its queue waits and the backoffs between them", () => {
    const bad = tl.tasks.get("bad")!;
    expect(bad.status).toBe("failed");
    expect(bad.units[0].attempts.map((a) => a.outcome)).toEqual(["failed", "failed", "failed"]);
    expect(rel(unitSegments(bad.units[0], end))).toEqual([
      "queue#1 102-103",
      "run#1 103-103",
      "backoff#1 103-155",
      "run#2 155-155",
      "backoff#2 155-256",
      "queue#3 256-257",
      "run#3 257-257",
    ]);
    // One attempt alone.
    expect(rel(unitSegments(bad.units[0], end, 3))).toEqual(["queue#3 256-257", "run#3 257-257"]);
    expect(bad.units[0].attempts[0].error).toMatchObject({ class: "expression" });
  });

  it("shows a sleep as a timer wait inside its run", () => {
    const b = tl.tasks.get("b")!;
    expect(rel(unitSegments(b.units[0], end))).toEqual(["queue#1 0-1", "wait(timer)#1 1-102"]);
  });

  it("keeps skipped tasks with their reason, and a fan-out's items", () => {
    expect(tl.tasks.get("never")).toMatchObject({ status: "skipped", skipReason: "upstream_failed" });
    expect(tl.tasks.get("cond")).toMatchObject({ status: "skipped", skipReason: "condition" });
    const fan = tl.tasks.get("fan")!;
    expect(fan.fanOut).toBe(true);
    expect(fan.units.map((u) => u.attempts.length)).toEqual([1, 1, 1]);
    expect(runSpans(fan, end)).toHaveLength(3);
    expect(fan.seqs).toEqual([7, 11, 12, 13, 14, 15, 16, 17]);
  });

  it("builds one row per task, attempts under a retried one, a fan-out folded", () => {
    const order = ["a", "b", "fan", "bad", "never", "cond", "alert"];
    const rows = buildRows(order, tl, new Set());
    expect(rows.map((r) => r.key)).toEqual(["t:a", "t:b", "t:fan", "t:bad", "a:bad:1", "a:bad:2", "a:bad:3", "t:never", "t:cond", "t:alert"]);
    const open = buildRows(order, tl, new Set(["fan"]));
    expect(open.filter((r) => r.kind === "item").map((r) => r.key)).toEqual(["i:fan:0", "i:fan:1", "i:fan:2"]);
    // Planned tasks that never appear in the log still have a row; unknown ones come last.
    expect(buildRows(["ghost", "a"], tl, new Set()).map((r) => r.key).slice(0, 2)).toEqual(["t:ghost", "t:a"]);
  });

  it("counts queues and runs as busy time, not waits or backoffs", () => {
    const busy = busySpans(tl, end);
    const drawn = [...tl.tasks.values()].flatMap((t) =>
      t.units.flatMap((u) => unitSegments(u, end).filter((s) => s.kind === "queue" || s.kind === "run").map((s) => ({ from: s.from, to: s.to }))),
    );
    expect(busy).toEqual(drawn);
    // b's sleep (1-102) and bad's backoffs are not busy.
    expect(busy.some((s) => s.from === T0 + 1 && s.to === T0 + 102)).toBe(false);
    expect(busy.some((s) => s.from === T0 + 103 && s.to === T0 + 155)).toBe(false);
  });
});

describe("the timeline while it runs", () => {
  it("draws open bars to now and a queued unit waiting", () => {
    seq = 0;
    const tl = emptyTimeline();
    [
      ev(0, "execution_started", { workflow: "w", version: 1 }),
      ev(0, "task_started", { task: "f", items: ["x", "y"] }),
      ev(10, "attempt_started", { task: "f", item: 0, attempt: 1 }),
      ev(20, "attempt_waiting", { task: "f", item: 0, attempt: 1, wait: { on: "signal", name: "approval" } }),
    ].forEach((e) => applyToTimeline(tl, e));
    const f = tl.tasks.get("f")!;
    expect(rel(unitSegments(f.units[0], T0 + 500))).toEqual(["queue#1 0-10", "run#1 10-20", "wait(approval)#1 20-500"]);
    expect(unitSegments(f.units[0], T0 + 500).at(-1)?.open).toBe(true);
    expect(rel(unitSegments(f.units[1], T0 + 500))).toEqual(["queue#1 0-500"]);
    expect(span(tl, T0 + 500)).toEqual({ t0: T0, t1: T0 + 500 });
  });

  it("ends what runs when the task is cancelled, and ignores events seen twice", () => {
    seq = 0;
    const tl = emptyTimeline();
    const events = [
      ev(0, "execution_started", {}),
      ev(0, "task_started", { task: "t" }),
      ev(5, "attempt_started", { task: "t", attempt: 1 }),
      ev(50, "paused"),
      ev(60, "resumed"),
      ev(80, "task_cancelled", { task: "t" }),
      ev(90, "execution_cancelled"),
    ];
    events.forEach((e) => applyToTimeline(tl, e));
    events.forEach((e) => applyToTimeline(tl, e));
    const t = tl.tasks.get("t")!;
    expect(t.units[0].attempts).toHaveLength(1);
    expect(t.units[0].attempts[0]).toMatchObject({ outcome: "cancelled", endedAt: T0 + 80 });
    expect(tl.pauses).toEqual([{ from: T0 + 50, to: T0 + 60 }]);
    expect(tl.end).toBe(T0 + 90);
  });

  it("drops the retries a failing fan-out will not make", () => {
    seq = 0;
    const tl = buildTimeline([
      ev(0, "execution_started", {}),
      ev(0, "task_started", { task: "f", items: [1, 2] }),
      ev(1, "attempt_started", { task: "f", item: 0, attempt: 1 }),
      ev(1, "attempt_started", { task: "f", item: 1, attempt: 1 }),
      ev(2, "attempt_failed", { task: "f", item: 1, attempt: 1, error: { class: "timeout", message: "x" } }),
      ev(2, "retry_scheduled", { task: "f", item: 1, attempt: 2, due: new Date(T0 + 300).toISOString() }),
      ev(3, "attempt_failed", { task: "f", item: 0, attempt: 1, error: { class: "validation", message: "y" } }),
      ev(3, "task_failed", { task: "f", error: { class: "validation", message: "y" } }),
      ev(300, "timer_fired", { timer: "retry", task: "f", item: 1, attempt: 2 }),
    ]);
    const u = tl.tasks.get("f")!.units[1];
    expect(rel(unitSegments(u, T0 + 5000))).toEqual(["queue#1 0-1", "run#1 1-2", "backoff#1 2-3"]);
    expect(busySpans(tl, T0 + 5000).every((s) => s.to <= T0 + 3)).toBe(true);
  });

  it("marks reused tasks of a retried execution, and queues a held task's retry from the decision", () => {
    seq = 0;
    const tl = buildTimeline([
      ev(0, "execution_started", { reused: [{ task: "r", output: 1 }] }),
      ev(0, "task_started", { task: "h" }),
      ev(1, "attempt_started", { task: "h", attempt: 1 }),
      ev(2, "attempt_failed", { task: "h", attempt: 1, error: { class: "http_5xx", message: "x" } }),
      ev(2, "task_held", { task: "h", error: { class: "http_5xx", message: "x" } }),
      ev(1000, "task_decided", { task: "h", action: "retry" }),
      ev(1003, "attempt_started", { task: "h", attempt: 2 }),
    ]);
    expect(tl.tasks.get("r")).toMatchObject({ reused: true, status: "succeeded" });
    const h = tl.tasks.get("h")!;
    expect(rel(unitSegments(h.units[0], T0 + 1010))).toEqual(["queue#1 0-1", "run#1 1-2", "queue#2 1000-1003", "run#2 1003-1010"]);
  });
});
