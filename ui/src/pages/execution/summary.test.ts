// Event lines: the same words as the server's (`harmonia history`) for events read over
// REST, which carry no summary.
import { describe, expect, it } from "vitest";
import { eventLine, summarize } from "./summary";
import { formatCounts, countItems } from "./counts";
import { DEMO_EVENTS, DEMO_SUMMARIES } from "./testdata";

describe("summarize", () => {
  it("says what the server says for a whole real log", () => {
    expect(DEMO_EVENTS.map((e) => summarize(e.kind, e.event))).toEqual(DEMO_SUMMARIES);
  });

  it("covers waits, signals, held tasks and cancels", () => {
    expect(summarize("attempt_waiting", { task: "go", attempt: 1, wait: { on: "signal", name: "approval", spec: {} } })).toBe(
      "go: attempt 1 waits for an approval",
    );
    expect(
      summarize("attempt_waiting", { task: "w", item: 2, attempt: 1, wait: { on: "signal", name: "event", key: "paid", until: "T" } }),
    ).toBe("w[2]: attempt 1 waits for an event `paid` until T");
    expect(summarize("attempt_waiting", { task: "c", attempt: 1, wait: { on: "child", execution: "X" } })).toBe(
      "c: attempt 1 waits for sub-workflow X",
    );
    expect(summarize("signal_received", { task: "go", attempt: 1, name: "approval", by: "ada" })).toBe(
      "go: attempt 1 received an approval from ada",
    );
    expect(summarize("task_held", { task: "t", error: { class: "http_5xx", message: "down" } })).toBe(
      "t: held for a decision (retry, skip or fail): down",
    );
    expect(summarize("task_decided", { task: "t", action: "skip", output: 1 })).toBe("t: skip (decided)");
    expect(summarize("cancel_requested", { reason: "wrong inputs" })).toBe("cancelling: wrong inputs");
    expect(summarize("timer_fired", { timer: "timeout" })).toBe("the workflow's timeout passed");
    expect(summarize("something_new", {})).toBe("something_new");
  });

  it("prefers the server's line when the event has one", () => {
    expect(eventLine({ seq: 1, at: "", kind: "paused", event: {}, summary: "from the server" })).toBe("from the server");
    expect(eventLine({ seq: 1, at: "", kind: "paused", event: {} })).toBe("paused");
  });
});

describe("fan-out counts", () => {
  it("counts items by status and says it shortly, the outcome first", () => {
    const items = [
      ...Array.from({ length: 9990 }, () => ({ status: "succeeded" as const })),
      ...Array.from({ length: 2 }, () => ({ status: "running" as const })),
      ...Array.from({ length: 8 }, () => ({ status: "failed" as const })),
    ];
    expect(formatCounts(countItems(items))).toBe("9,990 ✓ 8 ✗ 2 running");
    expect(formatCounts(countItems([]))).toBe("no items");
    expect(formatCounts({ pending: 3, cancelled: 1, queued: 2 })).toBe("2 queued 3 pending 1 cancelled");
  });
});
