// One task on the graph: its name and type, coloured by its live status, with its
// attempts and duration; a fan-out as one node with its items counted by status; a
// skipped task dimmed with the reason; what a running task waits for; a sub-workflow's
// child execution as a link; a failed task's error.
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { Link } from "react-router";
import type { ErrorValue, Waiting } from "../../api/types";
import { formatDuration, shortId } from "../../lib/time";
import { type Counts, countEntries, formatCounts } from "./counts";
import type { PlanNode } from "./plan";
import { isDim, taskColor } from "./status";
import { skipWhy } from "./summary";

export interface TaskNodeData extends Record<string, unknown> {
  node: PlanNode;
  status: string;
  attempts: number;
  durationMs: number | null;
  counts?: Counts;
  itemCount?: number;
  skipReason?: string;
  waiting?: Waiting;
  waitingItems?: number;
  child?: string;
  error?: ErrorValue | null;
  reused?: boolean;
  recovered?: boolean;
  selected: boolean;
}

export type TaskFlowNode = Node<TaskNodeData, "task">;

function waitWords(w: Waiting): string {
  if (w.for === "approval") return "waits for an approval";
  if (w.for === "child") return "waits for its sub-workflow";
  if (w.for === "timer") return "sleeps";
  return `waits for ${w.for === "event" ? "an event" : `a ${w.for}`}`;
}

export function TaskNode({ data: d }: NodeProps<TaskFlowNode>) {
  const color = taskColor(d.status);
  const n = d.node;
  const classes = ["xp-node", `role-${n.role}`, isDim(d.status) ? "dim" : "", d.selected ? "selected" : "", n.fanOut ? "fanout" : ""];
  const total = d.itemCount ?? 0;
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      style={{ borderColor: color, ["--xp-c" as string]: color }}
      data-task={n.id}
      data-status={d.status}
      title={n.description ?? undefined}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="xp-node-head">
        <span className="xp-node-name">{n.id}</span>
        <span className="xp-node-type">{n.fanOut ? `${n.type} ×` : n.type}</span>
      </div>
      <div className="xp-node-meta">
        <span className="xp-node-status" style={{ color }}>
          {d.status}
        </span>
        {d.reused && <span> · reused</span>}
        {d.recovered && <span> · by fallback</span>}
        {!n.fanOut && d.attempts > 1 && <span> · {d.attempts} attempts</span>}
        {d.durationMs !== null && <span> · {formatDuration(d.durationMs)}</span>}
      </div>
      {n.fanOut && d.counts && (
        <>
          <div className="xp-node-counts" data-testid="fanout-counts">
            {total ? formatCounts(d.counts) : "items not known yet"}
          </div>
          <div className="xp-node-bar" aria-hidden>
            {countEntries(d.counts).map(([s, c]) => (
              <span key={s} style={{ width: `${(c / Math.max(1, total)) * 100}%`, background: taskColor(s) }} />
            ))}
          </div>
        </>
      )}
      {d.status === "skipped" && <div className="xp-node-note">{skipWhy(d.skipReason)}</div>}
      {d.waiting && <div className="xp-node-note wait">{waitWords(d.waiting)}</div>}
      {!d.waiting && !!d.waitingItems && <div className="xp-node-note wait">{d.waitingItems} items wait</div>}
      {d.child && (
        <Link className="xp-node-child nodrag nopan" to={`/executions/${d.child}`} onClick={(e) => e.stopPropagation()}>
          sub-workflow {shortId(d.child)} ↗
        </Link>
      )}
      {d.error && !d.waiting && d.status !== "succeeded" && (
        <div className="xp-node-error" title={d.error.message}>
          {d.error.class}: {d.error.message}
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}
