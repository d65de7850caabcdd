// The designer's canvas: React Flow over the definition's graph. Nodes (name, type,
// an error count; handlers, fallbacks and compensations marked as such) can be moved,
// connected right handle → left handle (adds `needs`), deleted with Delete; task types
// dropped from the library add tasks where dropped. Only `needs` edges can be drawn or
// deleted; the dashed ones (to a fallback, a compensation, a handler) follow from the
// definition. Positions live in the page's state (dagre places what has none;
// "Layout" re-places all).
import { useCallback, useEffect, useState, type DragEvent } from "react";
import {
  Background,
  Controls,
  MarkerType,
  Position,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type OnDelete,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import dagre from "@dagrejs/dagre";
import type { DesignGraph, GraphNode } from "./nodes";

export const NODE_W = 170;
export const NODE_H = 54;
export const DRAG_TYPE = "application/x-harmonia-task-type";

export type Positions = Record<string, { x: number; y: number }>;

/** Left-to-right positions for every node of the graph. */
export function autoLayout(graph: DesignGraph): Positions {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 70, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  graph.nodes.forEach((n) => g.setNode(n.id, { width: NODE_W, height: NODE_H }));
  graph.edges.forEach((e) => g.setEdge(e.from, e.to));
  dagre.layout(g);
  const out: Positions = {};
  for (const n of graph.nodes) {
    const p = g.node(n.id);
    out[n.id] = { x: (p?.x ?? 0) - NODE_W / 2, y: (p?.y ?? 0) - NODE_H / 2 };
  }
  return out;
}

/** `at`, or the first place below it where a node overlaps none of `taken`. */
export function freeSpot(at: { x: number; y: number }, taken: { x: number; y: number }[]): { x: number; y: number } {
  const p = { ...at };
  const hits = (q: { x: number; y: number }) => Math.abs(q.x - p.x) < NODE_W + 10 && Math.abs(q.y - p.y) < NODE_H + 10;
  for (let i = 0; i < 200 && taken.some(hits); i++) p.y += NODE_H + 20;
  return p;
}

export interface CanvasProps {
  graph: DesignGraph;
  positions: Positions;
  errors: Record<string, number>;
  selected: string | null;
  fitKey: number;
  onSelect: (task: string | null) => void;
  onMove: (task: string, pos: { x: number; y: number }) => void;
  onConnect: (from: string, to: string) => void;
  onDelete: (tasks: string[], edges: { from: string; to: string }[]) => void;
  onDropType: (type: string, pos: { x: number; y: number }) => void;
}

/** What a node is, when it is not a plain task. */
function roleOf(n: GraphNode): string | null {
  if (n.sub) return n.sub;
  return n.block === "tasks" ? null : n.block.replace("_", " ");
}

function Label({ node, errors }: { node: GraphNode; errors: number }) {
  const role = roleOf(node);
  return (
    <div className="wf-node-label">
      <div className="wf-node-name">{node.id}</div>
      <div className="wf-node-type">
        {node.type}
        {role && !node.sub && <span className="dz-node-role"> · {role}</span>}
      </div>
      {errors > 0 && (
        <span className="dz-node-errors" title={`${errors} error${errors === 1 ? "" : "s"}`}>
          {errors}
        </span>
      )}
    </div>
  );
}

function Inner(p: CanvasProps) {
  const flow = useReactFlow();
  const [nodes, setNodes] = useState<Node[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);

  // The graph into React Flow's nodes, keeping what React Flow measured.
  useEffect(() => {
    setNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return p.graph.nodes.map((n) => {
        const errors = p.errors[n.id] ?? 0;
        const was = old.get(n.id);
        return {
          ...(was ?? {}),
          id: n.id,
          position: p.positions[n.id] ?? was?.position ?? { x: 0, y: 0 },
          data: { label: <Label node={n} errors={errors} /> },
          sourcePosition: Position.Right,
          targetPosition: Position.Left,
          className: `wf-node dz-node dz-node-${n.sub ?? n.block}${errors ? " dz-node-invalid" : ""}`,
          style: { width: NODE_W },
          selected: p.selected === n.id,
        };
      });
    });
  }, [p.graph, p.positions, p.errors, p.selected]);

  useEffect(() => {
    setEdges((prev) => {
      const sel = new Set(prev.filter((e) => e.selected).map((e) => e.id));
      return p.graph.edges.map((e) => {
        const id = `${e.kind}:${e.from}->${e.to}`;
        const marker = { type: MarkerType.ArrowClosed, width: 16, height: 16 };
        if (e.kind === "needs") return { id, source: e.from, target: e.to, selected: sel.has(id), markerEnd: marker };
        return {
          id,
          source: e.from,
          target: e.to,
          deletable: false,
          selectable: false,
          className: `dz-edge-${e.kind}`,
          label: e.kind === "handler" ? "then" : e.kind,
          style: { strokeDasharray: "5 4" },
          markerEnd: marker,
        };
      });
    });
  }, [p.graph]);

  useEffect(() => {
    if (p.fitKey > 0) requestAnimationFrame(() => flow.fitView({ padding: 0.2, maxZoom: 1.2 }));
  }, [p.fitKey, flow]);

  const { onMove, onSelect } = p;
  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
      for (const c of changes) {
        if (c.type === "position" && c.position && !c.dragging) onMove(c.id, c.position);
        if (c.type === "select" && c.selected) onSelect(c.id);
      }
    },
    [onMove, onSelect],
  );
  const onEdgesChange = useCallback((changes: EdgeChange[]) => setEdges((es) => applyEdgeChanges(changes.filter((c) => c.type !== "remove"), es)), []);

  const onDelete: OnDelete = ({ nodes: ns, edges: es }) =>
    p.onDelete(
      ns.map((n) => n.id),
      es.filter((e) => e.id.startsWith("needs:")).map((e) => ({ from: e.source, to: e.target })),
    );

  const onDragOver = (e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  };
  const onDrop = (e: DragEvent) => {
    const type = e.dataTransfer.getData(DRAG_TYPE);
    if (!type) return;
    e.preventDefault();
    const pos = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    p.onDropType(type, { x: pos.x - NODE_W / 2, y: pos.y - NODE_H / 2 });
  };

  return (
    <div className="dz-canvas" data-testid="designer-canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={(c: Connection) => c.source && c.target && p.onConnect(c.source, c.target)}
        onDelete={onDelete}
        onPaneClick={() => p.onSelect(null)}
        deleteKeyCode={["Delete", "Backspace"]}
        minZoom={0.2}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

export function Canvas(p: CanvasProps) {
  return (
    <ReactFlowProvider>
      <Inner {...p} />
    </ReactFlowProvider>
  );
}
