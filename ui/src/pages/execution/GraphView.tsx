// The plan as a graph (React Flow), laid out once left to right (layout.ts), its
// nodes' data refreshed with each batch of events. One node per task whatever its
// fan-out; clicking a node selects its task.
import { Background, Controls, MarkerType, ReactFlow, useReactFlow, useStore, type Edge } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useMemo } from "react";
import type { ExecutionDetail } from "../../api/types";
import { durationMs } from "../../lib/time";
import { countItems } from "./counts";
import { type Layout, nodeSize } from "./layout";
import type { Plan } from "./plan";
import { shownStatus, taskColor } from "./status";
import { TaskNode, type TaskFlowNode } from "./TaskNode";
import type { Timeline } from "./timeline";

const nodeTypes = { task: TaskNode };
const FIT = { padding: 0.1, maxZoom: 1, minZoom: 0.6 };

/** Fits the graph again when its box changes size (the task panel opens or closes). */
function FitOnResize() {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (width && height) fitView(FIT);
  }, [width, height, fitView]);
  return null;
}

interface Props {
  plan: Plan;
  layout: Layout;
  execution: ExecutionDetail | null;
  timeline: Timeline;
  children: Map<string, string>;
  version: number;
  now: number;
  selected: string | null;
  onSelect: (task: string) => void;
}

export function GraphView({ plan, layout, execution, timeline, children, version, now, selected, onSelect }: Props) {
  const ended = !!execution?.ended_at;
  const nodes = useMemo<TaskFlowNode[]>(
    () =>
      plan.nodes.map((n) => {
        const view = execution?.tasks[n.id];
        const status = shownStatus(view, ended);
        const running = status === "running" || status === "retrying" || status === "queued";
        const items = view?.items;
        const size = nodeSize(n);
        return {
          id: n.id,
          type: "task",
          position: layout.positions[n.id] ?? { x: 0, y: 0 },
          width: size.width,
          height: size.height,
          draggable: false,
          connectable: false,
          data: {
            node: n,
            status,
            attempts: view?.attempts ?? 0,
            durationMs: view?.started_at ? durationMs(view.started_at, view.ended_at, running ? now : undefined) : null,
            counts: n.fanOut || items ? countItems(items) : undefined,
            itemCount: items?.length,
            skipReason: view?.skip_reason,
            waiting: view?.waiting,
            waitingItems: items ? items.reduce((c, i) => c + (i.waiting ? 1 : 0), 0) : undefined,
            child: view?.waiting?.execution ?? children.get(n.id),
            error: view?.error,
            reused: timeline.tasks.get(n.id)?.reused,
            recovered: view?.recovered_by === "fallback",
            selected: selected === n.id,
          },
        };
      }),
    // `version` stands for the execution's and the timeline's contents (mutated in place).
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [plan, layout, version, now, selected, ended],
  );
  const edges = useMemo<Edge[]>(
    () =>
      plan.edges.map((e) => {
        const target = shownStatus(execution?.tasks[e.to], ended);
        const source = shownStatus(execution?.tasks[e.from], ended);
        const color = source === "succeeded" ? taskColor("succeeded") : "#aab2c0";
        return {
          id: e.id,
          source: e.from,
          target: e.to,
          animated: target === "running",
          label: e.kind === "needs" ? undefined : e.kind === "handler" ? "then" : e.kind,
          style: { stroke: color, strokeWidth: 1.5, strokeDasharray: e.kind === "needs" ? undefined : "5 4" },
          markerEnd: { type: MarkerType.ArrowClosed, color, width: 16, height: 16 },
          labelStyle: { fontSize: 10, fill: "#6b7385" },
          labelBgStyle: { fill: "#f6f7f9" },
        };
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [plan, version, ended],
  );
  const height = Math.min(520, Math.max(200, layout.height + 60));
  return (
    <div className="xp-graph" style={{ height }} data-testid="graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodeClick={(_, n) => onSelect(n.id)}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        fitView
        fitViewOptions={FIT}
        minZoom={0.15}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={16} size={1} color="#e4e7ec" />
        <Controls showInteractive={false} />
        <FitOnResize />
      </ReactFlow>
    </div>
  );
}
