// The task panel's inputs: asked of the server once the task or item has started, shown
// evaluated, and as defined (with the server's reason) when the server cannot say.
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Inputs, inputsAsk } from "./Inputs";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

describe("inputsAsk", () => {
  const base = { executionId: "x1", task: "call me", fanOut: false, started: true, hasWith: true };
  it("asks for a started task, and for a started item with its number", () => {
    expect(inputsAsk(base)).toEqual({ path: "/api/executions/x1/tasks/call%20me/inputs", query: {} });
    expect(inputsAsk({ ...base, fanOut: true, item: 3 })).toEqual({ path: "/api/executions/x1/tasks/call%20me/inputs", query: { item: 3 } });
  });
  it("does not ask before the start, for a fan-out as a whole, or without `with`", () => {
    expect(inputsAsk({ ...base, started: false })).toHaveProperty("skip");
    expect(inputsAsk({ ...base, fanOut: true })).toHaveProperty("skip");
    expect(inputsAsk({ ...base, hasWith: false })).toEqual({ skip: "no with" });
  });
});

describe("Inputs", () => {
  let root: Root;
  let el: HTMLDivElement;
  beforeEach(() => {
    el = document.createElement("div");
    document.body.appendChild(el);
    root = createRoot(el);
  });
  afterEach(() => {
    act(() => root.unmount());
    el.remove();
    vi.unstubAllGlobals();
  });

  const answer = (status: number, body: unknown) =>
    vi.fn(async (url: string) => {
      void url;
      return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    });

  async function show(fetch: ReturnType<typeof answer>, started = true) {
    vi.stubGlobal("fetch", fetch);
    await act(async () => {
      root.render(<Inputs executionId="x1" task="call" fanOut={false} started={started} attempts={1} asDefined={{ url: "${ $inputs.base }/x" }} defined />);
    });
    await act(async () => {});
  }

  it("shows `with` evaluated, and says when secrets were masked", async () => {
    const f = answer(200, { task: "call", item: null, with: { url: "http://h/x", auth: "***" }, secrets_redacted: true, evaluated_at: "2026-01-01T00:00:00Z" });
    await show(f);
    expect(f).toHaveBeenCalledTimes(1);
    expect(String(f.mock.calls[0][0])).toBe("/api/executions/x1/tasks/call/inputs");
    expect(el.textContent).toContain("with (evaluated)");
    expect(el.textContent).toContain('"url": "http://h/x"');
    expect(el.textContent).toContain("shown as ***");
  });

  it("falls back to `with` as defined with the server's reason", async () => {
    const f = answer(409, { error: { code: "not_started", message: "task `call` has not started", details: null } });
    await show(f);
    expect(el.textContent).toContain("with (as defined)");
    expect(el.textContent).toContain("not_started: task `call` has not started");
    expect(el.textContent).not.toContain("with (evaluated)");
  });

  it("does not ask before the task starts", async () => {
    const f = answer(200, {});
    await show(f, false);
    expect(f).not.toHaveBeenCalled();
    expect(el.textContent).toContain("with (as defined)");
    expect(el.textContent).toContain("has not started");
  });
});
