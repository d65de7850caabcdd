// What is slow (`/api/analytics/durations`): per workflow, and per task with its
// attempts and queue wait, slowest first (by p95, then max), each with a bar of its
// p95 against the slowest's.
import { Link } from "react-router";
import { formatDuration } from "../../lib/time";
import { formatCount } from "./format";
import { Empty, useCut, WorkflowLink } from "./parts";
import type { DurationGroup } from "./types";

const SHOW = 10;

/** Slowest first: by p95, then max (the API's order, kept whatever it sends). */
export function slowestFirst(groups: DurationGroup[]): DurationGroup[] {
  return [...groups].sort((a, b) => b.p95_ms - a.p95_ms || b.max_ms - a.max_ms);
}

function Pcts({ g }: { g: DurationGroup }) {
  return (
    <>
      <td className="num" data-col="p50">{formatDuration(g.p50_ms)}</td>
      <td className="num an-p95" data-col="p95">{formatDuration(g.p95_ms)}</td>
      <td className="num" data-col="p99">{formatDuration(g.p99_ms)}</td>
      <td className="num" data-col="max">{formatDuration(g.max_ms)}</td>
    </>
  );
}

function Meter({ value, max }: { value: number; max: number }) {
  const pct = max > 0 ? Math.max(1, (value / max) * 100) : 0;
  return (
    <td className="an-meter-cell" aria-hidden>
      <span className="an-meter">
        <span style={{ width: `${pct}%` }} />
      </span>
    </td>
  );
}

export function SlowWorkflows({ groups, only }: { groups: DurationGroup[]; only: (w: string) => string }) {
  const sorted = slowestFirst(groups);
  const [rows, more] = useCut(sorted, SHOW);
  if (sorted.length === 0) return <Empty>No execution ended in this window.</Empty>;
  const top = sorted[0].p95_ms;
  return (
    <>
      <table className="list compact an-table" aria-label="Slowest workflows">
        <thead>
          <tr>
            <th>Workflow</th>
            <th className="num">Ended</th>
            <th className="num">p50</th>
            <th className="num">p95 ▾</th>
            <th className="num">p99</th>
            <th className="num">max</th>
            <th className="an-meter-cell" />
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.workflow} data-workflow={g.workflow}>
              <td>
                <WorkflowLink name={g.workflow} />
                <Link className="an-only" to={only(g.workflow)} title={`Show only ${g.workflow} on this page`}>
                  only
                </Link>
              </td>
              <td className="num">{formatCount(g.count)}</td>
              <Pcts g={g} />
              <Meter value={g.p95_ms} max={top} />
            </tr>
          ))}
        </tbody>
      </table>
      {more}
    </>
  );
}

export function SlowTasks({ groups, sampled }: { groups: DurationGroup[]; sampled: number | null }) {
  const sorted = slowestFirst(groups);
  const [rows, more] = useCut(sorted, SHOW);
  if (sorted.length === 0) return <Empty>No task ended in this window.</Empty>;
  const top = sorted[0].p95_ms;
  return (
    <>
      <table className="list compact an-table" aria-label="Slowest tasks">
        <thead>
          <tr>
            <th>Task</th>
            <th className="num">Runs</th>
            <th className="num" title="Attempts of these runs: more than the runs means retries">
              Attempts
            </th>
            <th className="num">p50</th>
            <th className="num">p95 ▾</th>
            <th className="num">p99</th>
            <th className="num">max</th>
            <th
              className="num"
              title={`From ready to the first attempt (waiting for a free slot), p50 / p95${sampled !== null ? `, measured on the newest ${sampled} executions` : ""}`}
            >
              Queue wait p50 / p95
            </th>
            <th className="an-meter-cell" />
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => {
            const retries = (g.attempts ?? g.count) - g.count;
            return (
              <tr key={`${g.workflow}\u0000${g.task}`} data-workflow={g.workflow} data-task={g.task ?? ""}>
                <td>
                  <span className="an-task">{g.task}</span> <span className="muted">in</span> <WorkflowLink name={g.workflow} />
                </td>
                <td className="num">{formatCount(g.count)}</td>
                <td className="num" data-col="attempts">
                  {formatCount(g.attempts)}
                  {retries > 0 && <span className="an-retries"> (+{formatCount(retries)} retried)</span>}
                </td>
                <Pcts g={g} />
                <td className="num muted" data-col="queue">
                  {g.queue_wait ? `${formatDuration(g.queue_wait.p50_ms)} / ${formatDuration(g.queue_wait.p95_ms)}` : "—"}
                </td>
                <Meter value={g.p95_ms} max={top} />
              </tr>
            );
          })}
        </tbody>
      </table>
      {more}
    </>
  );
}
