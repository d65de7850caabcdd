// The designer's nodes: ids, where they are, the graph with handlers and sub-tasks,
// and the edits across blocks.
import { describe, expect, it } from "vitest";
import { addTask, connect, removeTask, renameTask, uniqueName, type Definition } from "./model";
import { nodeOfPath, refOf, removeNode, setFieldAt, taskAt, toGraph } from "./nodes";
import { variablesAt } from "./variables";

const def: Definition = {
  name: "w",
  tasks: {
    a: { type: "http", with: { url: "x" }, fallback: { type: "set", with: 1 }, compensate: { type: "http", with: { url: "y" } } },
    b: { type: "set", needs: "a", with: 2 },
  },
  on_failure: {
    alert: { type: "set", with: "${ $execution.error }" },
    page: { type: "set", needs: "alert", with: 3 },
  },
  finally: { cleanup: { type: "set", with: 4 } },
};

describe("nodes", () => {
  it("finds each node's task", () => {
    expect(refOf(def, "a")).toEqual({ block: "tasks", name: "a" });
    expect(refOf(def, "alert")).toEqual({ block: "on_failure", name: "alert" });
    expect(refOf(def, "a.fallback")).toEqual({ block: "tasks", name: "a", sub: "fallback" });
    expect(refOf(def, "b.fallback")).toBeNull();
    expect(refOf(def, "nope")).toBeNull();
    expect(taskAt(def, { block: "tasks", name: "a", sub: "compensate" })).toEqual({ type: "http", with: { url: "y" } });
  });

  it("draws handlers after the ends of the tasks, and sub-tasks beside their task", () => {
    const g = toGraph(def);
    expect(g.nodes.map((n) => [n.id, n.block, n.sub ?? null])).toEqual([
      ["a", "tasks", null],
      ["b", "tasks", null],
      ["a.fallback", "tasks", "fallback"],
      ["a.compensate", "tasks", "compensate"],
      ["alert", "on_failure", null],
      ["page", "on_failure", null],
      ["cleanup", "finally", null],
    ]);
    const e = g.edges.map((x) => `${x.kind}:${x.from}->${x.to}`);
    expect(e).toEqual(
      expect.arrayContaining(["needs:a->b", "fallback:a->a.fallback", "compensate:a->a.compensate", "handler:b->alert", "needs:alert->page", "handler:b->cleanup"]),
    );
    expect(e).not.toContain("handler:b->page");
  });

  it("names the node a diagnostic is about", () => {
    expect(nodeOfPath("tasks.fetch.with.url")).toBe("fetch");
    expect(nodeOfPath("tasks.fetch.fallback.with.url")).toBe("fetch.fallback");
    expect(nodeOfPath("tasks.fetch.fallbacks")).toBe("fetch");
    expect(nodeOfPath("on_failure.alert.if")).toBe("alert");
    expect(nodeOfPath("name")).toBeNull();
  });

  it("edits a handler block: added, connected within it, emptied and removed", () => {
    const one = addTask({ name: "w", tasks: { a: { type: "set" } } }, "set", {}, "on_success");
    expect(one.name).toBe("set");
    const two = addTask(one.def, "set", {}, "on_success");
    expect(two.name).toBe("set_2");
    const c = connect(two.def, "set", "set_2", "on_success");
    expect(c.ok && c.def.on_success).toEqual({ set: { type: "set", with: {} }, set_2: { needs: ["set"], type: "set", with: {} } });
    // A task of another block is not in this one.
    expect(connect(two.def, "a", "set", "on_success").ok).toBe(false);
    let d = removeTask(two.def, "set", "on_success");
    d = removeTask(d, "set_2", "on_success");
    expect("on_success" in d).toBe(false);
  });

  it("keeps one namespace over all blocks", () => {
    expect(uniqueName(def, "alert")).toBe("alert_2");
    expect(renameTask(def, "b", "alert")).toEqual({ ok: false, error: "there is already a task `alert` in `on_failure` (all blocks share one namespace)" });
    const r = renameTask(def, "alert", "notify", "on_failure");
    expect(r.ok && Object.keys(r.def.on_failure as object)).toEqual(["notify", "page"]);
    expect(r.ok && (r.def.on_failure as Record<string, { needs: unknown }>).page.needs).toBe("notify");
  });

  it("sets and removes a sub-task's fields, and the sub-task", () => {
    const ref = { block: "tasks" as const, name: "a", sub: "fallback" as const };
    const d = setFieldAt(def, ref, "timeout", "5s");
    expect(taskAt(d, ref)).toEqual({ type: "set", with: 1, timeout: "5s" });
    const gone = removeNode(d, ref);
    expect("fallback" in (gone.tasks as Record<string, object>).a).toBe(false);
    expect(removeNode(def, { block: "finally", name: "cleanup" }).finally).toBeUndefined();
  });

  it("offers handlers every task and the execution's outcome, a compensation its task", () => {
    const h = variablesAt(def, "page");
    expect(h).toEqual(expect.arrayContaining(["$tasks.a.output", "$tasks.b.output", "$tasks.alert.output", "$execution.status", "$execution.error"]));
    expect(variablesAt(def, "alert")).not.toContain("$tasks.page.output");
    expect(variablesAt(def, "a.compensate")).toContain("$tasks.a.output");
    expect(variablesAt(def, "a.fallback")).not.toContain("$tasks.a.output");
    expect(variablesAt(def, "b")).not.toContain("$execution.status");
  });
});
