// The workflows list: each workflow's latest version, its description, when that version
// was stored, and what its recent executions say (success rate, last run), loaded for
// the rows on screen. Live: `/ws/workflows` announces workflows created, updated and
// deleted (the list is read again) and executions started and ended (that workflow's
// stats are read again).
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { useQuery } from "../../lib/query";
import { api } from "../../api/client";
import type { WorkflowList, WorkflowSummary } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { Status } from "../../components/Status";
import { useSocket } from "../../lib/socket";
import { formatAgo, formatTime } from "../../lib/time";
import { useNow } from "../../lib/useNow";
import { agoText, formatRate, rateClass } from "./stats";
import { STATS_WINDOW, useRunStats, type StatsEntry } from "./useRunStats";

/** Every workflow, following the cursor (pages of 1000). */
async function loadAll(): Promise<WorkflowSummary[]> {
  const out: WorkflowSummary[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await api.get<WorkflowList>("/api/workflows", { limit: 1000, cursor });
    out.push(...page.workflows);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

export default function WorkflowsPage() {
  const [params, update] = useQuery();
  const filter = params.get("q") ?? "";
  const [workflows, setWorkflows] = useState<WorkflowSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const stats = useRunStats();
  const now = useNow(5000);

  const generation = useRef(0);
  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const all = await loadAll();
      if (mine !== generation.current) return;
      setWorkflows(all);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(e);
    }
  }, []);
  useEffect(() => {
    refresh();
  }, [refresh]);

  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const nudge = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      refresh();
    }, 300);
  }, [refresh]);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);

  const opened = useRef(false);
  useSocket("/ws/workflows", {
    onMessage: (m: { type: string; name?: string; workflow?: string; execution_id?: string }) => {
      switch (m.type) {
        case "workflow_created":
        case "workflow_updated":
        case "workflow_deleted":
          nudge();
          break;
        case "execution_started":
          if (m.workflow && m.execution_id) {
            stats.noteExecution(m.execution_id, m.workflow);
            stats.invalidate(m.workflow);
          }
          break;
        case "execution_finished": {
          const owner = m.execution_id ? stats.workflowOf(m.execution_id) : undefined;
          if (owner) stats.invalidate(owner);
          break;
        }
        case "resync":
          nudge();
          stats.invalidateAll();
          break;
      }
    },
    onOpen: () => {
      // A reconnection: what the gap missed is read again (the first open needs nothing).
      if (opened.current) {
        nudge();
        stats.invalidateAll();
      }
      opened.current = true;
    },
  });

  const rows = (workflows ?? []).filter((w) => !filter || w.name.includes(filter.toLowerCase()) || (w.description ?? "").toLowerCase().includes(filter.toLowerCase()));
  return (
    <div className="wf-page">
      <div className="dz-list-head">
        <h1>Workflows</h1>
        <Link to="/workflows/new" className="dz-button primary" role="button">
          New workflow
        </Link>
      </div>
      <div className="filters" role="search">
        <label>
          Search
          <input
            name="q"
            placeholder="name or description"
            value={filter}
            onChange={(e) => update({ q: e.target.value })}
          />
        </label>
        {workflows && (
          <span className="muted">
            {rows.length === workflows.length ? `${workflows.length} workflows` : `${rows.length} of ${workflows.length} workflows`}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
      <table className="list workflows">
        <thead>
          <tr>
            <th>Name</th>
            <th>Version</th>
            <th>Description</th>
            <th>Created</th>
            <th title={`Of the last ${STATS_WINDOW} executions that ended`}>Success rate</th>
            <th>Last run</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((w) => (
            <tr key={w.name} data-name={w.name} ref={stats.observe(w.name)}>
              <td>
                <Link to={`/workflows/${encodeURIComponent(w.name)}`}>{w.name}</Link>
              </td>
              <td>v{w.version}</td>
              <td className="wf-desc" title={w.description ?? undefined}>
                {w.description ?? <span className="muted">—</span>}
              </td>
              <td title={`version ${w.version} stored at ${w.created_at}`}>{formatTime(w.created_at)}</td>
              <StatsCells entry={stats.entries[w.name]} now={now} />
            </tr>
          ))}
          {workflows && rows.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                {workflows.length === 0 ? "No workflows yet. Store one with POST /api/workflows or harmonia workflow create." : "No workflow matches."}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {!workflows && !error && <div className="loading">Loading…</div>}
    </div>
  );
}

function StatsCells({ entry, now }: { entry: StatsEntry | undefined; now: number }) {
  if (!entry || (!entry.stats && !entry.error)) {
    return (
      <>
        <td className="muted">…</td>
        <td className="muted">…</td>
      </>
    );
  }
  if (!entry.stats) {
    return (
      <td colSpan={2} className="error-cell" title={entry.error}>
        {entry.error}
      </td>
    );
  }
  const s = entry.stats;
  return (
    <>
      <td className="wf-rate" title={`${s.succeeded} succeeded, ${s.failed} failed, ${s.cancelled} cancelled, ${s.open} not ended (of the last ${s.total})`}>
        {s.total === 0 ? (
          <span className="muted">no runs</span>
        ) : (
          <>
            <span className={`rate ${rateClass(s.rate)}`}>{formatRate(s.rate)}</span>
            <span className="muted"> of {s.ended}</span>
          </>
        )}
      </td>
      <td className="wf-last">
        {s.last ? (
          <Link to={`/executions/${s.last.id}`} title={s.last.created_at}>
            <Status status={s.last.status} /> <span className="muted">{agoText(s.last.created_at, Math.max(now, Date.now()), formatAgo)}</span>
          </Link>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </>
  );
}
