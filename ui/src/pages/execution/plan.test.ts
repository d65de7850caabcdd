// The plan graph from a definition, and its left-to-right layout.
import { describe, expect, it } from "vitest";
import type { WorkflowDefinition } from "../../api/types";
import { planFromDefinition } from "./plan";
import { layoutPlan, nodeSize } from "./layout";

// As the server sends it, with what the format allows and the shared type does not
// say (`needs` as one name, a scalar `with`).
const DEF = {
  name: "demo",
  tasks: {
    a: { type: "set", with: { x: 1 } },
    b: { type: "sleep", needs: ["a"], with: { duration: "100ms" } },
    fan: { type: "set", needs: "a", for_each: [1, 2, 3], with: "${ $item }" },
    bad: { type: "transform", needs: ["b", "fan"], fallback: { type: "set", with: 0 } },
    never: { type: "set", needs: ["bad"], with: 1, compensate: { type: "set", with: "undo" } },
    cond: { type: "set", needs: ["a"], if: "${ false }", with: 1 },
  },
  on_failure: { alert: { type: "set", with: "failed" }, page: { type: "http", needs: ["alert"] } },
} as unknown as WorkflowDefinition;

describe("planFromDefinition", () => {
  const plan = planFromDefinition(DEF);

  it("has every task, handler, fallback and compensation, in reading order", () => {
    expect(plan.order).toEqual(["a", "b", "fan", "bad", "never", "cond", "bad.fallback", "never.compensate", "alert", "page"]);
    const fan = plan.nodes.find((n) => n.id === "fan")!;
    expect(fan.fanOut).toBe(true);
    expect(fan.needs).toEqual(["a"]);
    expect(plan.nodes.find((n) => n.id === "cond")!.condition).toBe("${ false }");
    expect(plan.nodes.find((n) => n.id === "alert")).toMatchObject({ role: "handler", block: "on_failure" });
    expect(plan.nodes.find((n) => n.id === "bad.fallback")).toMatchObject({ role: "fallback", type: "set" });
  });

  it("draws needs, fallbacks, compensations, and handlers hanging off the plan's ends", () => {
    const e = plan.edges.map((x) => `${x.kind}:${x.from}->${x.to}`);
    expect(e).toContain("needs:a->b");
    expect(e).toContain("needs:a->fan");
    expect(e).toContain("needs:fan->bad");
    expect(e).toContain("fallback:bad->bad.fallback");
    expect(e).toContain("compensate:never->never.compensate");
    // never and cond are the ends (nothing needs them): the handler root hangs off both.
    expect(e).toContain("handler:never->alert");
    expect(e).toContain("handler:cond->alert");
    expect(e).not.toContain("handler:a->alert");
    // A handler with needs hangs off what it needs only.
    expect(e).toContain("needs:alert->page");
    expect(e.filter((x) => x.endsWith("->page"))).toEqual(["needs:alert->page"]);
  });

  it("adds tasks the execution has but the definition lacks, and ignores needs naming nothing", () => {
    const p = planFromDefinition(
      { name: "x", tasks: { a: { type: "set", needs: ["ghost"] } } },
      {
        a: { status: "succeeded", attempts: 1, output: null, error: null, started_at: null, ended_at: null },
        extra: { status: "failed", attempts: 1, output: null, error: null, started_at: null, ended_at: null, items: [] },
      },
    );
    expect(p.order).toEqual(["a", "extra"]);
    expect(p.nodes[1]).toMatchObject({ type: "?", fanOut: true });
    expect(p.edges).toEqual([]);
  });

  it("without a definition, draws what ran", () => {
    const p = planFromDefinition(null, {
      a: { status: "succeeded", attempts: 1, output: null, error: null, started_at: null, ended_at: null },
      "a.fallback": { status: "skipped", attempts: 0, output: null, error: null, started_at: null, ended_at: null },
    });
    expect(p.nodes.map((n) => n.role)).toEqual(["task", "fallback"]);
    expect(p.edges.map((x) => x.id)).toEqual(["fallback:a->a.fallback"]);
  });
});

describe("layoutPlan", () => {
  const plan = planFromDefinition(DEF);
  const l = layoutPlan(plan);
  const p = l.positions;

  it("lays tasks out left to right by dependency", () => {
    expect(p.b.x).toBeGreaterThan(p.a.x);
    expect(p.fan.x).toBeGreaterThan(p.a.x);
    expect(p.bad.x).toBeGreaterThan(Math.max(p.b.x, p.fan.x));
    expect(p.never.x).toBeGreaterThan(p.bad.x);
    expect(p.alert.x).toBeGreaterThan(p.never.x);
    expect(p.page.x).toBeGreaterThan(p.alert.x);
    // Siblings share a column.
    expect(p.b.x).toBe(p.fan.x);
  });

  it("never overlaps two nodes, and the size holds them all", () => {
    const boxes = plan.nodes.map((n) => ({ ...p[n.id], ...nodeSize(n), id: n.id }));
    for (const a of boxes) {
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.y).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(l.width);
      expect(a.y + a.height).toBeLessThanOrEqual(l.height);
      for (const b of boxes) {
        if (a.id === b.id) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.id} and ${b.id} overlap`).toBe(true);
      }
    }
  });

  it("is deterministic", () => {
    expect(layoutPlan(plan)).toEqual(l);
  });

  it("handles an empty plan and a lone task", () => {
    expect(layoutPlan({ nodes: [], edges: [], order: [] })).toEqual({ positions: {}, width: 0, height: 0 });
    const one = layoutPlan(planFromDefinition({ name: "x", tasks: { only: { type: "set" } } }));
    expect(Object.keys(one.positions)).toEqual(["only"]);
  });
});
