// What fails most (`/api/analytics/errors`): the top messages (grouped by pattern),
// and the failures by error class, by task and by workflow with its failure rate;
// each with its count, an example execution, and where it makes sense the
// executions list filtered to those failures.
import { Link } from "react-router";
import { formatCount, formatPercent } from "./format";
import { Empty, ExampleLink, useCut, WorkflowLink } from "./parts";
import type { Errors } from "./types";
import { executionsLink, type Range } from "./window";

const SHOW = 10;

function Class({ name }: { name: string | null }) {
  return name ? <code className="an-class">{name}</code> : <span className="muted">no class</span>;
}

/** A count, after a small bar of it against the list's largest. */
function Count({ n, max }: { n: number; max: number }) {
  return (
    <td className="num an-count">
      <span className="an-count-bar" style={{ width: `${max > 0 ? Math.max(2, Math.round((n / max) * 40)) : 0}px` }} aria-hidden />
      {formatCount(n)}
    </td>
  );
}

function Messages({ e }: { e: Errors }) {
  const [rows, more] = useCut(e.messages, SHOW);
  const max = Math.max(0, ...e.messages.map((m) => m.count));
  return (
    <>
      <table className="list compact an-table" aria-label="Top error messages">
        <thead>
          <tr>
            <th className="num">Count</th>
            <th>Class</th>
            <th>Message (what varies as &lt;n&gt;, &lt;uuid&gt;, …)</th>
            <th>Example</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((m, i) => (
            <tr key={`${m.class}\u0000${m.pattern}`} data-rank={i + 1}>
              <Count n={m.count} max={max} />
              <td>
                <Class name={m.class} />
              </td>
              <td className="an-message" title={`For example: ${m.example_message}`}>
                {m.pattern}
              </td>
              <td>
                <ExampleLink id={m.example_execution} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more}
    </>
  );
}

function ByClass({ e }: { e: Errors }) {
  return (
    <table className="list compact an-table" aria-label="Failures by class">
      <thead>
        <tr>
          <th>Class</th>
          <th className="num" title="Failed executions whose error has this class">
            Executions
          </th>
          <th className="num" title="Failed task runs whose error has this class">
            Task runs
          </th>
          <th>Example</th>
        </tr>
      </thead>
      <tbody>
        {e.by_class.map((c, i) => (
          <tr key={c.class ?? ""} data-rank={i + 1} data-class={c.class ?? ""}>
            <td>
              <Class name={c.class} />
            </td>
            <td className="num">{formatCount(c.executions)}</td>
            <td className="num">{formatCount(c.task_runs)}</td>
            <td>
              <ExampleLink id={c.example_execution} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ByTask({ e }: { e: Errors }) {
  const [rows, more] = useCut(e.by_task, SHOW);
  const max = Math.max(0, ...e.by_task.map((t) => t.count));
  return (
    <>
      <table className="list compact an-table" aria-label="Failures by task">
        <thead>
          <tr>
            <th>Task</th>
            <th className="num">Failed runs</th>
            <th>Classes</th>
            <th>Example</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t, i) => (
            <tr key={`${t.workflow}\u0000${t.task}`} data-rank={i + 1} data-task={t.task}>
              <td>
                <span className="an-task">{t.task}</span> <span className="muted">in</span> <WorkflowLink name={t.workflow} />
              </td>
              <Count n={t.count} max={max} />
              <td>
                <div className="an-classes">
                  {t.classes.map((c) => (
                    <span key={c.class ?? ""}>
                      <Class name={c.class} /> {formatCount(c.count)}
                    </span>
                  ))}
                </div>
              </td>
              <td>
                <ExampleLink id={t.example_execution} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more}
    </>
  );
}

function ByWorkflow({ e, range }: { e: Errors; range: Range }) {
  const [rows, more] = useCut(e.by_workflow, SHOW);
  return (
    <>
      <table className="list compact an-table" aria-label="Failures by workflow">
        <thead>
          <tr>
            <th>Workflow</th>
            <th className="num" title="Failed executions of those that ended">
              Failed / ended
            </th>
            <th className="num">Failure rate</th>
            <th className="num" title="A task under on_error: continue fails without failing its execution">
              Failed task runs
            </th>
            <th>Example</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((w, i) => (
            <tr key={w.workflow} data-rank={i + 1} data-workflow={w.workflow}>
              <td>
                <WorkflowLink name={w.workflow} />
              </td>
              <td className="num">
                {w.failed_executions > 0 ? (
                  <Link to={executionsLink(range, w.workflow, ["failed"])} title={`The failed executions of ${w.workflow} in this window`}>
                    {formatCount(w.failed_executions)}
                  </Link>
                ) : (
                  "0"
                )}{" "}
                / {formatCount(w.ended_executions)}
              </td>
              <td className={`num rate ${rateTone(w.failure_rate)}`}>{formatPercent(w.failure_rate)}</td>
              <td className="num">{formatCount(w.failed_task_runs)}</td>
              <td>
                <ExampleLink id={w.example_execution} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more}
    </>
  );
}

/** A failure rate's colour: the success rate's, turned around. */
function rateTone(r: number | null): string {
  if (r === null) return "";
  return r <= 0.05 ? "rate-good" : r <= 0.3 ? "rate-fair" : "rate-poor";
}

export function ErrorsBody({ errors: e, range }: { errors: Errors; range: Range }) {
  if (e.failed_executions === 0 && e.failed_task_runs === 0) return <Empty>No failures in this window.</Empty>;
  return (
    <div className="an-errors">
      <div className="an-block an-wide" data-block="messages">
        <h3>Top error messages</h3>
        {e.messages.length ? <Messages e={e} /> : <Empty>No messages.</Empty>}
      </div>
      <div className="an-block" data-block="class">
        <h3>By class</h3>
        <ByClass e={e} />
      </div>
      <div className="an-block" data-block="task">
        <h3>By task</h3>
        {e.by_task.length ? <ByTask e={e} /> : <Empty>No task failed.</Empty>}
      </div>
      <div className="an-block an-wide" data-block="workflow">
        <h3>By workflow</h3>
        <ByWorkflow e={e} range={range} />
      </div>
    </div>
  );
}
