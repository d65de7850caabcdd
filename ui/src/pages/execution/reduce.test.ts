// Folding events into the execution as the API shows it: the live page must reach the
// state the server reports without reading it again.
import { describe, expect, it } from "vitest";
import type { ExecutionDetail } from "../../api/types";
import { applyEvent } from "./reduce";
import { DEMO_EVENTS, DEMO_TASKS } from "./testdata";

function blank(): ExecutionDetail {
  return {
    id: "X",
    workflow: "demo",
    workflow_id: "W",
    version: 1,
    status: "pending",
    created_at: "2026-12-01T04:44:59.657Z",
    started_at: null,
    ended_at: null,
    parent: null,
    retry_of: null,
    error: null,
    links: { self: "/api/executions/X" },
    inputs: {},
    outputs: null,
    tasks: {},
  };
}

describe("applyEvent", () => {
  it("reaches the server's state from a real log", () => {
    const x = blank();
    for (const e of DEMO_EVENTS) applyEvent(x, e.kind, e.event, e.at);
    expect(x.status).toBe("failed");
    expect(x.error).toMatchObject({ class: "expression", task: "bad" });
    expect(x.ended_at).toBe("2026-12-01T04:44:59.914Z");
    for (const [name, want] of Object.entries(DEMO_TASKS)) {
      const t = x.tasks[name];
      expect(t, name).toBeDefined();
      expect(t.status, name).toBe(want.status);
      expect(t.attempts, name).toBe(want.attempts);
      expect(t.skip_reason, name).toBe(want.skip_reason);
      expect(t.items?.length, name).toBe(want.items);
    }
    expect(x.tasks.bad.error).toMatchObject({ class: "expression", message: "the jq program failed: boom" });
    expect(x.tasks.fan.output).toEqual([1, 2, 3]);
  });

  it("shows a retrying task between attempts, and a queued one once its timer fires", () => {
    const x = blank();
    const upTo = (seq: number) => DEMO_EVENTS.filter((e) => e.seq <= seq).forEach((e) => applyEvent(x, e.kind, e.event, e.at));
    upTo(23);
    expect(x.tasks.bad.status).toBe("retrying");
    expect(x.tasks.bad.error?.class).toBe("expression");
    const y = blank();
    DEMO_EVENTS.filter((e) => e.seq <= 24).forEach((e) => applyEvent(y, e.kind, e.event, e.at));
    expect(y.tasks.bad.status).toBe("queued");
  });

  it("tracks waits: an approval with its form and links, a child, a timer", () => {
    const x = blank();
    applyEvent(x, "task_started", { task: "go" }, "T1");
    applyEvent(x, "attempt_started", { task: "go", attempt: 1 }, "T1");
    applyEvent(
      x,
      "attempt_waiting",
      { task: "go", attempt: 1, wait: { on: "signal", name: "approval", spec: { prompt: "Ship?", form: { type: "object" } } } },
      "T2",
    );
    expect(x.tasks.go.waiting).toMatchObject({
      for: "approval",
      prompt: "Ship?",
      form: { type: "object" },
      until: null,
      links: { approve: "/api/executions/X/tasks/go/approve" },
    });
    applyEvent(x, "signal_received", { task: "go", attempt: 1, name: "approval", by: "ada" }, "T3");
    expect(x.tasks.go.waiting).toBeUndefined();

    applyEvent(x, "task_started", { task: "child" }, "T4");
    applyEvent(x, "attempt_started", { task: "child", attempt: 1 }, "T4");
    applyEvent(x, "attempt_waiting", { task: "child", attempt: 1, wait: { on: "child", execution: "C" } }, "T4");
    expect(x.tasks.child.waiting).toMatchObject({ for: "child", execution: "C" });

    applyEvent(x, "task_started", { task: "nap" }, "T5");
    applyEvent(x, "attempt_started", { task: "nap", attempt: 1 }, "T5");
    applyEvent(x, "attempt_waiting", { task: "nap", attempt: 1, wait: { on: "timer", due: "T9" } }, "T5");
    expect(x.tasks.nap.waiting).toEqual({ for: "timer", until: "T9" });
  });

  it("counts a fan-out's items as they go, and cancels those left when the task is cancelled", () => {
    const x = blank();
    applyEvent(x, "task_started", { task: "f", items: [10, 20, 30] }, "T1");
    expect(x.tasks.f.items?.map((i) => i.status)).toEqual(["pending", "pending", "pending"]);
    applyEvent(x, "attempt_started", { task: "f", item: 0, attempt: 1 }, "T2");
    applyEvent(x, "attempt_succeeded", { task: "f", item: 0, attempt: 1, output: "a" }, "T3");
    applyEvent(x, "attempt_started", { task: "f", item: 1, attempt: 1 }, "T3");
    applyEvent(x, "attempt_failed", { task: "f", item: 1, attempt: 1, error: { class: "timeout", message: "slow" } }, "T4");
    expect(x.tasks.f.items?.map((i) => i.status)).toEqual(["succeeded", "failed", "pending"]);
    expect(x.tasks.f.attempts).toBe(2);
    applyEvent(x, "task_cancelled", { task: "f" }, "T5");
    expect(x.tasks.f.items?.map((i) => i.status)).toEqual(["succeeded", "failed", "cancelled"]);
  });

  it("cancels the items a failing fan-out leaves, retries included", () => {
    const x = blank();
    applyEvent(x, "task_started", { task: "f", items: [1, 2, 3] }, "T1");
    applyEvent(x, "attempt_started", { task: "f", item: 0, attempt: 1 }, "T2");
    applyEvent(x, "attempt_failed", { task: "f", item: 0, attempt: 1, error: { class: "timeout", message: "slow" } }, "T3");
    applyEvent(x, "retry_scheduled", { task: "f", item: 0, attempt: 2, due: "T9" }, "T3");
    applyEvent(x, "attempt_started", { task: "f", item: 1, attempt: 1 }, "T3");
    applyEvent(x, "attempt_failed", { task: "f", item: 1, attempt: 1, error: { class: "validation", message: "no" } }, "T4");
    applyEvent(x, "task_failed", { task: "f", error: { class: "validation", message: "no", item: 1 } }, "T4");
    expect(x.tasks.f.items?.map((i) => i.status)).toEqual(["cancelled", "failed", "cancelled"]);
    expect(x.tasks.f.error).toMatchObject({ item: 1 });
  });

  it("pauses and resumes, holds a task and takes the decision", () => {
    const x = blank();
    applyEvent(x, "execution_started", { workflow: "demo", version: 1, reused: [{ task: "r", output: 7 }] }, "T0");
    expect(x.tasks.r).toMatchObject({ status: "succeeded", output: 7 });
    applyEvent(x, "paused", {}, "T1");
    expect(x.status).toBe("paused");
    applyEvent(x, "resumed", {}, "T2");
    expect(x.status).toBe("running");
    applyEvent(x, "task_started", { task: "h" }, "T3");
    applyEvent(x, "task_held", { task: "h", error: { class: "http_5xx", message: "down" } }, "T4");
    expect(x.status).toBe("paused");
    expect(x.tasks.h.status).toBe("held");
    applyEvent(x, "task_decided", { task: "h", action: "skip", output: { ok: true } }, "T5");
    expect(x.tasks.h).toMatchObject({ status: "succeeded", output: { ok: true } });
    expect(x.status).toBe("running");
    applyEvent(x, "execution_succeeded", { outputs: { a: 1 } }, "T6");
    expect(x).toMatchObject({ status: "succeeded", outputs: { a: 1 }, ended_at: "T6" });
  });
});
