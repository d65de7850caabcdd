// A workflow's recent executions (the newest STATS_WINDOW), with their success rate,
// each linked to its page. Read again when `refreshKey` changes (the page bumps it when
// `/ws/workflows` says one of this workflow's executions started or ended).
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api } from "../../api/client";
import type { ExecutionList, ExecutionSummary } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { Status } from "../../components/Status";
import { durationMs, formatDuration, formatTime, shortId } from "../../lib/time";
import { useNow } from "../../lib/useNow";
import { formatRate, rateClass, runStats } from "./stats";
import { STATS_WINDOW } from "./useRunStats";

const SHOWN = 12;

export function RecentRuns({ name, refreshKey, onLoaded }: { name: string; refreshKey: number; onLoaded?: (ids: string[]) => void }) {
  const [runs, setRuns] = useState<ExecutionSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [all, setAll] = useState(false);
  const now = useNow(1000);
  useEffect(() => {
    const ctl = new AbortController();
    api
      .get<ExecutionList>("/api/executions", { workflow: name, limit: STATS_WINDOW }, ctl.signal)
      .then((page) => {
        setRuns(page.executions);
        setError(null);
        onLoaded?.(page.executions.map((x) => x.id));
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name, refreshKey]);

  if (error) return <ErrorBox error={error} />;
  if (!runs) return <div className="muted">Loading…</div>;
  const s = runStats(runs);
  const shown = all ? runs : runs.slice(0, SHOWN);
  return (
    <div className="wf-runs">
      <div className="wf-runs-summary" data-testid="run-stats">
        {runs.length === 0 ? (
          <span className="muted">No executions yet.</span>
        ) : (
          <>
            <span className={`rate ${rateClass(s.rate)}`}>{formatRate(s.rate)}</span> succeeded of the {s.ended} ended
            {s.open > 0 && <> · {s.open} not ended</>}
            <span className="muted"> (last {s.total})</span> ·{" "}
            <Link to={`/executions?workflow=${encodeURIComponent(name)}`}>all executions</Link>
          </>
        )}
      </div>
      {runs.length > 0 && (
        <table className="list executions compact">
          <thead>
            <tr>
              <th>Status</th>
              <th>Id</th>
              <th>Version</th>
              <th>Created</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((x) => (
              <tr key={x.id} data-id={x.id} data-status={x.status}>
                <td>
                  <Status status={x.status} />
                </td>
                <td>
                  <Link to={`/executions/${x.id}`} className="mono" title={x.id}>
                    {shortId(x.id)}
                  </Link>
                </td>
                <td>v{x.version}</td>
                <td title={x.created_at}>{formatTime(x.created_at)}</td>
                <td>{formatDuration(durationMs(x.started_at, x.ended_at, !x.ended_at && x.started_at ? now : undefined))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.length > SHOWN && (
        <button className="link more" onClick={() => setAll(!all)}>
          {all ? "Show fewer" : `Show all ${runs.length}`}
        </button>
      )}
    </div>
  );
}
