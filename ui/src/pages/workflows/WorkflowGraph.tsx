// A workflow version's task graph, left to right: React Flow draws it, dagre places
// the nodes. Each node says its task's name and type, and marks a condition (`if`), a
// fan-out (`for_each`) and an `on_error` other than `fail`; an edge into a task that
// joins on `any` is dashed.
import { useEffect, useMemo, useState } from "react";
import { Background, Controls, MarkerType, Position, ReactFlow, type Edge, type Node } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import dagre from "@dagrejs/dagre";
import { api } from "../../api/client";
import type { Graph, GraphNode } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";

const WIDTH = 170;
const HEIGHT = 54;

function NodeLabel({ n }: { n: GraphNode }) {
  const marks: string[] = [];
  if (n.if) marks.push("if");
  if (n.for_each !== null && n.for_each !== undefined) marks.push(n.concurrency ? `for each ×${n.concurrency}` : "for each");
  if (n.on_error && n.on_error !== "fail") marks.push(`on error: ${n.on_error}`);
  return (
    <div className="wf-node-label" title={[n.description, n.if ? `if ${n.if}` : null].filter(Boolean).join("\n") || undefined}>
      <div className="wf-node-name">{n.id}</div>
      <div className="wf-node-type">
        {n.type}
        {marks.length > 0 && <span className="wf-node-marks"> · {marks.join(" · ")}</span>}
      </div>
    </div>
  );
}

/** Nodes placed left to right, and the edges between them. */
export function layout(graph: Graph): { nodes: Node[]; edges: Edge[] } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  graph.nodes.forEach((n) => g.setNode(n.id, { width: WIDTH, height: HEIGHT }));
  graph.edges.forEach((e) => g.setEdge(e.from, e.to));
  dagre.layout(g);
  const nodes: Node[] = graph.nodes.map((n) => {
    const p = g.node(n.id);
    return {
      id: n.id,
      position: { x: (p?.x ?? 0) - WIDTH / 2, y: (p?.y ?? 0) - HEIGHT / 2 },
      data: { label: <NodeLabel n={n} /> },
      sourcePosition: Position.Right,
      targetPosition: Position.Left,
      className: "wf-node",
      style: { width: WIDTH },
      draggable: false,
      connectable: false,
    };
  });
  const edges: Edge[] = graph.edges.map((e) => ({
    id: `${e.from}->${e.to}`,
    source: e.from,
    target: e.to,
    markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
    style: e.join === "any" ? { strokeDasharray: "5 4" } : undefined,
  }));
  return { nodes, edges };
}

export function WorkflowGraph({ name, version }: { name: string; version: number | null }) {
  // The graph with the version it is of: React Flow is keyed by it, so each graph
  // drawn is fitted to the view when it arrives.
  const [graph, setGraph] = useState<{ version: number; graph: Graph } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (version === null) return;
    const ctl = new AbortController();
    api
      .get<Graph>(`/api/workflows/${encodeURIComponent(name)}/graph`, { format: "json", version }, ctl.signal)
      .then((g) => {
        setGraph({ version, graph: g });
        setError(null);
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      });
    return () => ctl.abort();
  }, [name, version]);
  const drawn = useMemo(() => (graph ? layout(graph.graph) : null), [graph]);
  return (
    <div className="wf-graph" data-testid="workflow-graph">
      <ErrorBox error={error} />
      {drawn && <StaticGraph drawn={drawn} viewKey={`${name}@${graph?.version}`} />}
    </div>
  );
}

/** A laid-out graph to look at (no dragging, connecting or selecting), fitted to the
 * view each time `viewKey` changes. */
export function StaticGraph({ drawn, viewKey }: { drawn: ReturnType<typeof layout>; viewKey: string }) {
  return (
    <ReactFlow
      key={viewKey}
      nodes={drawn.nodes}
      edges={drawn.edges}
      fitView
      fitViewOptions={{ padding: 0.15, maxZoom: 1.2 }}
      nodesDraggable={false}
      nodesConnectable={false}
      elementsSelectable={false}
      minZoom={0.2}
    >
      <Background gap={16} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}
