// Where each node of a plan goes: a left-to-right layered layout by dagre (each task
// right of what it needs), computed once per plan (statuses do not move nodes). Pure:
// the nodes' sizes come in, top-left positions and the drawing's size go out.
import dagre from "@dagrejs/dagre";
import type { Plan, PlanNode } from "./plan";

export interface Size {
  width: number;
  height: number;
}

export interface Layout {
  positions: Record<string, { x: number; y: number }>;
  width: number;
  height: number;
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 76;
export const FANOUT_HEIGHT = 96;

/** The size a node is drawn at: fan-outs are taller (their counts line). */
export function nodeSize(n: PlanNode): Size {
  return { width: NODE_WIDTH, height: n.fanOut ? FANOUT_HEIGHT : NODE_HEIGHT };
}

export function layoutPlan(plan: Plan, size: (n: PlanNode) => Size = nodeSize): Layout {
  const g = new dagre.graphlib.Graph<Record<string, unknown>, { width: number; height: number; x?: number; y?: number }, Record<string, unknown>>();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 44, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of plan.nodes) g.setNode(n.id, { ...size(n) });
  for (const e of plan.edges) {
    // Fallbacks and compensations sit beside their task rather than a rank apart
    // from everything: a short edge, lightly weighted.
    g.setEdge(e.from, e.to, { minlen: 1, weight: e.kind === "needs" ? 2 : 1 });
  }
  dagre.layout(g);
  const positions: Layout["positions"] = {};
  let width = 0;
  let height = 0;
  for (const n of plan.nodes) {
    const l = g.node(n.id);
    const s = size(n);
    const x = Math.round((l.x ?? 0) - s.width / 2);
    const y = Math.round((l.y ?? 0) - s.height / 2);
    positions[n.id] = { x, y };
    width = Math.max(width, x + s.width);
    height = Math.max(height, y + s.height);
  }
  return { positions, width, height };
}
