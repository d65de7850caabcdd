// The analytics page: "what fails most, and what is slow" over a window of
// executions. The window (a preset relative to now, or a custom from/to) and the
// workflow are in the URL, so a view is a link; the four window queries are read
// together for the same since/until (again every minute while the window ends now),
// the server's resources every 10 s.
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { useQuery, type QueryChanges } from "../../lib/query";
import { api } from "../../api/client";
import type { WorkflowList } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { Cards } from "./Cards";
import { Controls, Head } from "./Controls";
import { ErrorsBody } from "./ErrorsPanel";
import { formatCount } from "./format";
import { Empty, Panel } from "./parts";
import { ResourcesPanel } from "./ResourcesPanel";
import { SlowTasks, SlowWorkflows } from "./Slowest";
import { TimeChart } from "./TimeChart";
import type { Durations, Errors, Summary, Timeseries } from "./types";
import { useApi } from "./useApi";
import { executionsLink, fromLocalInput, parseWindow, resolveWindow, type PresetKey, type Range } from "./window";

/** How often a window that ends now is read again. */
const LIVE_EVERY_MS = 60_000;

export default function AnalyticsPage() {
  const [params, setQuery] = useQuery();
  const spec = parseWindow(params);
  const workflow = params.get("workflow") ?? "";
  const [tick, setTick] = useState(0);
  const [workflows, setWorkflows] = useState<string[]>([]);

  // "Now" for the window: taken when the URL changes or on a refresh, so that the
  // four queries share one window.
  const paramsKey = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const anchor = useMemo(() => Date.now(), [paramsKey, tick]);
  const resolved = resolveWindow(spec, anchor);
  const range: Range | null = "error" in resolved ? null : resolved;
  const windowError = "error" in resolved ? resolved.error : null;
  const endsNow = spec.kind === "preset" || !spec.until || (range !== null && Date.parse(range.until) > Date.now());

  const query = range ? { since: range.since, until: range.until, workflow: workflow || undefined } : null;
  const summary = useApi<Summary>("/api/analytics/summary", query, paramsKey, tick);
  const series = useApi<Timeseries>("/api/analytics/timeseries", query, paramsKey, tick);
  const errors = useApi<Errors>("/api/analytics/errors", query && { ...query, limit: 50 }, paramsKey, tick);
  const byWorkflow = useApi<Durations>("/api/analytics/durations", query && { ...query, by: "workflow", limit: 50 }, paramsKey, tick);
  const byTask = useApi<Durations>("/api/analytics/durations", query && { ...query, by: "task", limit: 50 }, paramsKey, tick);
  const busy = summary.loading || series.loading || errors.loading || byWorkflow.loading || byTask.loading;

  useEffect(() => {
    api
      .get<WorkflowList>("/api/workflows", { limit: 500 })
      .then((l) => setWorkflows([...new Set(l.workflows.map((w) => w.name))].sort()))
      .catch(() => {});
  }, []);

  useEffect(() => {
    if (!endsNow) return;
    const t = setInterval(() => setTick((n) => n + 1), LIVE_EVERY_MS);
    return () => clearInterval(t);
  }, [endsNow, paramsKey]);

  const update = (changes: QueryChanges, replace = false) => setQuery(changes, !replace);
  const only = (w: string) => {
    const next = new URLSearchParams(params);
    next.set("workflow", w);
    return `/analytics?${next.toString()}`;
  };

  const s = summary.data;
  const nothing = s !== null && s.executions.total === 0;
  return (
    <div className="an-page">
      <Head range={range} workflow={workflow} readAt={anchor} busy={busy} onRefresh={() => setTick((n) => n + 1)} />
      <Controls
        spec={spec}
        range={range}
        workflow={workflow}
        workflows={workflows}
        onPreset={(p: PresetKey) => update({ window: p, since: null, until: null })}
        onCustom={() => update({ window: "custom", since: range?.since ?? null, until: range?.until ?? null })}
        onCustomChange={(k, local) => update({ window: "custom", [k]: fromLocalInput(local) }, true)}
        onWorkflow={(w) => update({ workflow: w || null })}
      />
      {windowError && <ErrorBox error={new Error(windowError)} />}

      {range && (
        <>
          <ErrorBox error={summary.error} />
          {s ? <Cards summary={s} range={range} workflow={workflow} /> : summary.loading && <div className="an-cards-loading muted">Loading…</div>}

          <Panel
            id="timeseries"
            title="Executions over time"
            extra={
              s &&
              s.executions.total > 0 && (
                <Link className="an-head-note" to={executionsLink(range, workflow)}>
                  open the {formatCount(s.executions.total)} as a list
                </Link>
              )
            }
            loading={series.loading}
            error={series.error}
            ready={!!series.data}
          >
            {series.data &&
              (nothing || series.data.buckets.every((b) => b.executions.total === 0) ? (
                <Empty>No executions in this window{workflow ? ` of ${workflow}` : ""}.</Empty>
              ) : (
                <TimeChart series={series.data} />
              ))}
          </Panel>

          <Panel
            id="errors"
            title="What fails most"
            extra={
              errors.data &&
              (errors.data.failed_executions > 0 || errors.data.failed_task_runs > 0) && (
                <span className="an-head-note">
                  <Link to={executionsLink(range, workflow, ["failed"])}>
                    {formatCount(errors.data.failed_executions)} failed execution{errors.data.failed_executions === 1 ? "" : "s"}
                  </Link>
                  , {formatCount(errors.data.failed_task_runs)} failed task run{errors.data.failed_task_runs === 1 ? "" : "s"}
                </span>
              )
            }
            loading={errors.loading}
            error={errors.error}
            ready={!!errors.data}
          >
            {errors.data && <ErrorsBody errors={errors.data} range={range} />}
          </Panel>

          <Panel
            id="slowest"
            title="What is slow"
            loading={byWorkflow.loading || byTask.loading}
            error={byWorkflow.error ?? byTask.error}
            ready={!!byWorkflow.data && !!byTask.data}
          >
            {byWorkflow.data?.groups.length === 0 && byTask.data?.groups.length === 0 ? (
              <Empty>Nothing ended in this window{workflow ? ` of ${workflow}` : ""}.</Empty>
            ) : (
              <div className="an-slow">
                <div className="an-block" data-block="slow-workflows">
                  <h3>Workflows, by p95 of their executions</h3>
                  {byWorkflow.data && <SlowWorkflows groups={byWorkflow.data.groups} only={only} />}
                </div>
                <div className="an-block" data-block="slow-tasks">
                  <h3>Tasks, by p95 of their runs</h3>
                  {byTask.data && <SlowTasks groups={byTask.data.groups} sampled={byTask.data.queue_wait_sampled_executions} />}
                </div>
              </div>
            )}
          </Panel>
        </>
      )}

      <ResourcesPanel />
    </div>
  );
}
