// The live store: the snapshot at once, events in batches, the REST log and the
// WebSocket's events merged into one contiguous log whatever order they arrive in.
import { describe, expect, it } from "vitest";
import type { EventView, ExecutionDetail, ExecutionMessage } from "../../api/types";
import { ExecutionStore } from "./store";
import { DEMO_EVENTS } from "./testdata";

function detail(status: ExecutionDetail["status"] = "running"): ExecutionDetail {
  return {
    id: "X",
    workflow: "demo",
    workflow_id: "W",
    version: 1,
    status,
    created_at: DEMO_EVENTS[0].at,
    started_at: DEMO_EVENTS[0].at,
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

const asMessage = (e: EventView): ExecutionMessage => ({ type: "event", seq: e.seq, at: e.at, kind: e.kind, event: e.event, summary: `S${e.seq}` });

describe("ExecutionStore", () => {
  it("paints the snapshot at once, then applies events only in batches", () => {
    const s = new ExecutionStore();
    let told = 0;
    s.subscribe(() => told++);
    s.receive({ type: "snapshot", execution: detail(), last_seq: 0 });
    expect(s.execution?.status).toBe("running");
    expect(told).toBe(1);
    DEMO_EVENTS.forEach((e) => s.receive(asMessage(e)));
    expect(s.events).toHaveLength(0);
    expect(told).toBe(1);
    s.flush();
    expect(told).toBe(2);
    expect(s.events).toHaveLength(DEMO_EVENTS.length);
    expect(s.execution?.status).toBe("failed");
    expect(s.execution?.tasks.bad.status).toBe("failed");
    expect(s.timeline.tasks.get("bad")?.units[0].attempts).toHaveLength(3);
    expect(s.stats.messages).toBe(DEMO_EVENTS.length + 1);
    expect(s.itemValues.get("fan")).toEqual([1, 2, 3]);
    s.dispose();
  });

  it("merges the REST log with events the WebSocket sent first, keeping the server's lines", () => {
    const s = new ExecutionStore();
    s.receive({ type: "snapshot", execution: detail(), last_seq: 20 });
    // The WebSocket sends what follows the snapshot; REST arrives later with 1..25.
    DEMO_EVENTS.slice(20).forEach((e) => s.receive(asMessage(e)));
    s.flush();
    expect(s.events).toHaveLength(0);
    s.setEvents(DEMO_EVENTS.slice(0, 25));
    expect(s.events.map((e) => e.seq)).toEqual(DEMO_EVENTS.map((e) => e.seq));
    expect(s.events[21].summary).toBe("S22");
    expect(s.events[0].summary).toBeUndefined();
    expect(s.needEvents).toBe(false);
    // Events before the snapshot are in the log but not folded twice.
    expect(s.execution?.status).toBe("failed");
    expect(s.timeline.seq).toBe(DEMO_EVENTS.length);
  });

  it("asks for the log again when the WebSocket leaves a hole", () => {
    const s = new ExecutionStore();
    s.setEvents(DEMO_EVENTS.slice(0, 5));
    s.receive({ type: "resync", execution: detail(), last_seq: 30 });
    s.receive(asMessage(DEMO_EVENTS[30]));
    s.flush();
    expect(s.events).toHaveLength(5);
    expect(s.needEvents).toBe(true);
    s.setEvents(DEMO_EVENTS.slice(0, 30));
    expect(s.events).toHaveLength(31);
    expect(s.needEvents).toBe(false);
  });

  it("takes the final state from `finished`", () => {
    const s = new ExecutionStore();
    s.receive({ type: "snapshot", execution: detail(), last_seq: 0 });
    s.receive({ type: "finished", execution: { ...detail("succeeded"), ended_at: DEMO_EVENTS[5].at } });
    s.flush();
    expect(s.finished).toBe(true);
    expect(s.execution?.status).toBe("succeeded");
  });
});
