// The execution's header: which workflow and version, its status, its times and
// duration (growing while it runs), where it came from (a parent execution, the
// execution it retries), why it failed (with a way to the failing task), and its
// inputs and outputs.
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { ExecutionDetail, ExecutionSummary } from "../../api/types";
import { Status } from "../../components/Status";
import { durationMs, formatDuration, formatTime, shortId } from "../../lib/time";
import { Json } from "./Json";

interface Props {
  summary: ExecutionSummary;
  detail: ExecutionDetail | null;
  now: number;
  live: boolean;
  actions: ReactNode;
  onSelectTask: (task: string, item?: number) => void;
}

export function Header({ summary: x, detail, now, live, actions, onSelectTask }: Props) {
  const running = !x.ended_at && !!x.started_at;
  const err = x.error;
  const errTask = typeof err?.task === "string" ? err.task : undefined;
  const errItem = typeof err?.item === "number" ? err.item : undefined;
  return (
    <header className="xp-header">
      <div className="xp-title">
        <h1>
          <Link to={`/workflows/${encodeURIComponent(x.workflow)}`}>{x.workflow}</Link>{" "}
          <span className="muted">v{x.version}</span>
        </h1>
        <Status status={x.status} />
        <span className="mono muted" title={x.id}>
          {x.id}
        </span>
        {live && !x.ended_at && (
          <span className="xp-live" title="Updating live">
            ● live
          </span>
        )}
        <span className="spacer" />
        {actions}
      </div>
      <dl className="xp-facts">
        <div>
          <dt>Created</dt>
          <dd title={x.created_at}>{formatTime(x.created_at)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd title={x.started_at ?? ""}>{formatTime(x.started_at)}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd title={x.ended_at ?? ""}>{formatTime(x.ended_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-testid="duration">{formatDuration(durationMs(x.started_at, x.ended_at, running ? now : undefined))}</dd>
        </div>
        {x.parent && (
          <div>
            <dt>Sub-workflow of</dt>
            <dd>
              <Link to={`/executions/${x.parent.execution}?task=${encodeURIComponent(x.parent.task)}`} title={x.parent.execution}>
                {shortId(x.parent.execution)}
              </Link>{" "}
              <span className="muted">
                task {x.parent.task}
                {typeof x.parent.item === "number" ? `[${x.parent.item}]` : ""}
              </span>
            </dd>
          </div>
        )}
        {x.retry_of && (
          <div>
            <dt>Retry of</dt>
            <dd>
              <Link to={`/executions/${x.retry_of}`} title={x.retry_of}>
                {shortId(x.retry_of)}
              </Link>
            </dd>
          </div>
        )}
      </dl>
      {err && (
        <div className="error-box xp-exec-error" role="alert" aria-label="Execution error">
          <strong>{err.class ?? "error"}</strong>: {err.message ?? ""}
          {errTask && (
            <>
              {" "}
              <button className="link xp-goto" onClick={() => onSelectTask(errTask, errItem)}>
                → task {errTask}
                {errItem !== undefined ? `[${errItem}]` : ""}
              </button>
            </>
          )}
        </div>
      )}
      {detail && (
        <div className="xp-io">
          <Json label="Inputs" value={detail.inputs} />
          {(detail.outputs !== null || detail.status === "succeeded") && <Json label="Outputs" value={detail.outputs} />}
        </div>
      )}
    </header>
  );
}
