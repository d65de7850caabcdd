// The designer's model: the graph of a definition and the edits over it.
import { describe, expect, it } from "vitest";
import { addTask, connect, disconnect, needsOf, removeTask, renameTask, setField, setTaskField, uniqueName, type Definition } from "./model";
import { toGraph } from "./nodes";

const def: Definition = {
  name: "w",
  tasks: {
    a: { type: "set", with: 1 },
    b: { type: "http", needs: "a", with: { url: "x" } },
    c: { type: "transform", needs: ["a", "b"], with: { expr: "." } },
  },
};

describe("the model", () => {
  it("draws the needs as edges", () => {
    expect(toGraph(def)).toEqual({
      nodes: [
        { id: "a", type: "set", block: "tasks" },
        { id: "b", type: "http", block: "tasks" },
        { id: "c", type: "transform", block: "tasks" },
      ],
      edges: [
        { from: "a", to: "b", kind: "needs" },
        { from: "a", to: "c", kind: "needs" },
        { from: "b", to: "c", kind: "needs" },
      ],
    });
    expect(toGraph({})).toEqual({ nodes: [], edges: [] });
  });

  it("adds tasks under unique names, without touching its argument", () => {
    const one = addTask(def, "http");
    expect(one.name).toBe("http");
    const two = addTask(one.def, "http");
    expect(two.name).toBe("http_2");
    expect(two.def.tasks?.http_2).toEqual({ type: "http", with: {} });
    expect(Object.keys(def.tasks!)).toEqual(["a", "b", "c"]);
    expect(uniqueName(def, "wait-event")).toBe("wait_event");
    expect(uniqueName(def, "a")).toBe("a_2");
  });

  it("removes a task and the needs naming it", () => {
    const out = removeTask(def, "a");
    expect(out.tasks).toEqual({ b: { type: "http", with: { url: "x" } }, c: { type: "transform", needs: ["b"], with: { expr: "." } } });
  });

  it("renames a task in place, following the needs", () => {
    const r = renameTask(def, "a", "start");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.def.tasks!)).toEqual(["start", "b", "c"]);
    expect(r.def.tasks!.b.needs).toBe("start");
    expect(r.def.tasks!.c.needs).toEqual(["start", "b"]);
    expect(renameTask(def, "a", "b")).toEqual({ ok: false, error: "there is already a task `b`" });
    expect(renameTask(def, "a", "bad-name").ok).toBe(false);
  });

  it("connects, refusing a cycle, and disconnects", () => {
    const r = connect(def, "b", "a");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("cycle");
    expect(connect(def, "c", "a").ok).toBe(false);
    expect(connect(def, "a", "a").ok).toBe(false);
    const added = addTask(def, "set");
    const ok = connect(added.def, "c", added.name);
    expect(ok.ok && needsOf(ok.def.tasks![added.name])).toEqual(["c"]);
    const cut = disconnect(def, "a", "b");
    expect(cut.tasks!.b.needs).toBeUndefined();
    expect(disconnect(def, "a", "c").tasks!.c.needs).toEqual(["b"]);
    expect(disconnect(def, "x", "c")).toBe(def);
  });

  it("sets and clears fields", () => {
    const t = setTaskField(def, "a", "if", "${ true }");
    expect(t.tasks!.a.if).toBe("${ true }");
    expect(setTaskField(t, "a", "if", "").tasks!.a).toEqual({ type: "set", with: 1 });
    expect(setField(def, "description", "d").description).toBe("d");
    expect("description" in setField({ description: "d" }, "description", undefined)).toBe(false);
  });
});
