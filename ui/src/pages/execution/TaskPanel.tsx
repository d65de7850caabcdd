// The selected task (or fan-out item): status, times, attempts with their queue and
// run times, what it waits for (an approval's form to answer), why it was skipped,
// its error with its class, its inputs (the item's `$item`; the `with` the attempt saw,
// evaluated again by the server, or as defined when it cannot say), its output, its
// items (a fan-out) and its own events. A held task offers its decisions.
import { useMemo } from "react";
import { Link } from "react-router";
import type { EventView, TaskView } from "../../api/types";
import { durationMs, formatDuration, formatTime, shortId } from "../../lib/time";
import { ApprovalForm } from "./ApprovalForm";
import { formatCount } from "./counts";
import { EventRows } from "./EventLog";
import { Inputs } from "./Inputs";
import { ItemsList } from "./ItemsList";
import { Json } from "./Json";
import type { PlanNode } from "./plan";
import { shownStatus, taskColor } from "./status";
import { skipWhy } from "./summary";
import { Attempts, HeldActions, isAnswer } from "./TaskParts";
import type { TaskTrack } from "./timeline";

interface Props {
  executionId: string;
  ended: boolean;
  task: string;
  item?: number;
  view: TaskView | undefined;
  node: PlanNode | undefined;
  track: TaskTrack | undefined;
  events: readonly EventView[];
  itemValues: unknown[] | undefined;
  child: string | undefined;
  version: number;
  now: number;
  onSelect: (task: string, item?: number) => void;
  onClose: () => void;
  onRetryFrom: (task: string) => void;
}

export function TaskPanel(p: Props) {
  const { view: task, item, track } = p;
  const unitView = item !== undefined ? task?.items?.[item] : task;
  const status = shownStatus(unitView, p.ended);
  const unit = track?.units[item ?? 0];
  const fanOut = !!task?.items || !!p.node?.fanOut;
  const running = status === "running" || status === "retrying";
  const dur = unitView?.started_at ? durationMs(unitView.started_at, unitView.ended_at, running ? p.now : undefined) : null;
  const waiting = unitView?.waiting;
  const child = waiting?.execution ?? p.child;
  const err = unitView?.error;

  const ownEvents = useMemo(() => {
    const seqs = track?.seqs ?? [];
    const out: EventView[] = [];
    for (const s of seqs) {
      const ev = p.events[s - 1];
      if (!ev) continue;
      if (item !== undefined && ev.event.item !== item) continue;
      if (item === undefined && fanOut && typeof ev.event.item === "number") continue;
      out.push(ev);
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [track, item, fanOut, p.version, p.events]);

  const waitingApprovals = useMemo(
    () => (item === undefined && task?.items ? task.items.flatMap((it, i) => (it.waiting?.for === "approval" ? [i] : [])) : []),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [task, item, p.version],
  );

  return (
    <aside className="xp-panel panel" aria-label={`Task ${p.task}`}>
      <div className="xp-panel-head">
        <h2>
          {item !== undefined ? (
            <>
              <button className="link xp-crumb" onClick={() => p.onSelect(p.task)}>
                {p.task}
              </button>
              [{item}]
            </>
          ) : (
            p.task
          )}
        </h2>
        {/* The console's badge, in this page's colours (which know `held`). */}
        <span className="status" style={{ background: taskColor(status) }}>
          {status}
        </span>
        <span className="muted">{p.node?.type ?? "?"}</span>
        <span className="spacer" />
        <button className="link" aria-label="Close the task" onClick={p.onClose}>
          ✕
        </button>
      </div>

      {waiting?.for === "approval" && (
        <ApprovalForm key={`${p.task}:${item ?? ""}`} execution={p.executionId} task={p.task} item={item} waiting={waiting} />
      )}
      {waitingApprovals.length > 0 && (
        <p className="xp-wait-note">
          {waitingApprovals.length} items wait for an approval:{" "}
          {waitingApprovals.slice(0, 10).map((i) => (
            <button key={i} className="link xp-goto" onClick={() => p.onSelect(p.task, i)}>
              [{i}]
            </button>
          ))}
        </p>
      )}

      {p.node?.type === "approval" && isAnswer(unitView?.output) && (
        <p className="xp-answer">
          {unitView.output.decision} by {unitView.output.by ?? "its timeout"}
          {unitView.output.at ? ` at ${formatTime(unitView.output.at)}` : ""}
        </p>
      )}

      <dl className="xp-kv">
        <dt>Started</dt>
        <dd>{formatTime(unitView?.started_at)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(unitView?.ended_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(dur)}</dd>
        <dt>Attempts</dt>
        <dd>{unitView?.attempts ?? 0}</dd>
        {status === "skipped" && (
          <>
            <dt>Skipped</dt>
            <dd>{skipWhy(unitView?.skip_reason)}</dd>
          </>
        )}
        {task?.recovered_by && (
          <>
            <dt>Recovered</dt>
            <dd>by its fallback ({p.task}.fallback): its output stands in</dd>
          </>
        )}
        {track?.reused && (
          <>
            <dt>Reused</dt>
            <dd>its output comes from the retried execution</dd>
          </>
        )}
        {waiting && (
          <>
            <dt>Waits for</dt>
            <dd>
              {waiting.for}
              {waiting.until ? ` until ${formatTime(waiting.until)}` : ""}
              {typeof waiting.type === "string" ? ` (${waiting.type})` : ""}
            </dd>
          </>
        )}
        {child && (
          <>
            <dt>Sub-workflow</dt>
            <dd>
              <Link to={`/executions/${child}`} title={child}>
                execution {shortId(child)} ↗
              </Link>
            </dd>
          </>
        )}
        {p.node?.condition !== undefined && p.node.condition !== null && (
          <>
            <dt>if</dt>
            <dd className="mono">{String(p.node.condition)}</dd>
          </>
        )}
        {p.node && p.node.needs.length > 0 && (
          <>
            <dt>needs</dt>
            <dd>
              {p.node.needs.map((n, i) => (
                <span key={n}>
                  {i > 0 && ", "}
                  <button className="link xp-goto" onClick={() => p.onSelect(n)}>
                    {n}
                  </button>
                </span>
              ))}
            </dd>
          </>
        )}
      </dl>

      {err && (
        <div className="error-box xp-task-error" role="alert" aria-label="Task error">
          <strong>{err.class ?? "error"}</strong>
          {typeof err.status === "number" ? ` (HTTP ${err.status})` : ""}: {err.message ?? ""}
          {typeof err.item === "number" && (
            <>
              {" "}
              <button className="link xp-goto" onClick={() => p.onSelect(p.task, err.item as number)}>
                → item [{err.item}]
              </button>
            </>
          )}
          {err.details !== undefined && err.details !== null && <Json label="details" value={err.details} />}
        </div>
      )}
      {status === "held" && item === undefined && <HeldActions executionId={p.executionId} task={p.task} />}

      {fanOut && item === undefined && task?.items && (
        <>
          <h3>Items</h3>
          <ItemsList task={p.task} items={task.items} values={p.itemValues} version={p.version} now={p.now} selected={undefined} onSelect={(i) => p.onSelect(p.task, i)} />
        </>
      )}

      {unit && unit.attempts.length > 0 && (!fanOut || item !== undefined) && (
        <>
          <h3>Attempts</h3>
          <Attempts attempts={unit.attempts} now={p.now} />
        </>
      )}

      <h3>Inputs</h3>
      {item !== undefined && <Json label="$item" value={p.itemValues?.[item]} open />}
      <Inputs
        executionId={p.executionId}
        task={p.task}
        item={item}
        fanOut={fanOut}
        started={!!unitView?.started_at}
        attempts={unitView?.attempts ?? 0}
        asDefined={p.node?.with}
        defined={!!p.node}
      />
      {p.node?.forEach !== undefined && item === undefined && <Json label="for_each" value={p.node.forEach} />}

      <h3>Output</h3>
      {unitView && unitView.output !== null && unitView.output !== undefined ? (
        <Json label="output" value={unitView.output} open={item !== undefined || !fanOut} />
      ) : (
        <p className="muted">No output.</p>
      )}

      {p.ended && item === undefined && p.node?.role !== "fallback" && p.node?.role !== "compensate" && (
        <p>
          <button onClick={() => p.onRetryFrom(p.task)}>Retry from this step…</button>
        </p>
      )}

      <h3>Events ({formatCount(ownEvents.length)})</h3>
      <EventRows events={ownEvents} height={240} follow={!p.ended} label={`Events of ${p.task}`} />
    </aside>
  );
}
