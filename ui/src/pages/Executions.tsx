// The executions list: newest first, filtered by status, workflow, time range and id
// prefix (all kept in the URL, so a filtered view is a link), paged by cursor, and
// live: a start or an end announced on `/ws/workflows` refreshes the first page.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import type { ExecutionList, ExecutionSummary, WorkflowList } from "../api/types";
import { ErrorBox } from "../components/ErrorBox";
import { Status } from "../components/Status";
import { useSocket } from "../lib/socket";
import { durationMs, formatDuration, formatTime, shortId } from "../lib/time";
import { useNow } from "../lib/useNow";

const STATUSES = ["pending", "running", "paused", "succeeded", "failed", "cancelled"];

/** `datetime-local` text (local time) to RFC 3339, or undefined. */
function toRfc3339(local: string | null): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export function origin(x: ExecutionSummary): { text: string; to?: string } {
  if (x.parent) return { text: `sub-workflow of ${shortId(x.parent.execution)}`, to: `/executions/${x.parent.execution}` };
  if (x.retry_of) return { text: `retry of ${shortId(x.retry_of)}`, to: `/executions/${x.retry_of}` };
  return { text: "—" };
}

export default function Executions() {
  const [params, setParams] = useSearchParams();
  const statuses = (params.get("status") ?? "").split(",").filter(Boolean);
  const workflow = params.get("workflow") ?? "";
  const idPrefix = params.get("id") ?? "";
  const since = params.get("since");
  const until = params.get("until");
  const [pages, setPages] = useState<ExecutionSummary[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [workflows, setWorkflows] = useState<string[]>([]);
  const now = useNow(1000);

  const query = useCallback(
    (after?: string) => ({
      status: statuses.join(",") || undefined,
      workflow: workflow || undefined,
      id_prefix: idPrefix || undefined,
      since: toRfc3339(since),
      until: toRfc3339(until),
      limit: 50,
      cursor: after,
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [params.toString()],
  );

  const generation = useRef(0);
  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const page = await api.get<ExecutionList>("/api/executions", query());
      if (mine !== generation.current) return;
      setPages([page.executions]);
      setCursor(page.next_cursor ?? null);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [query]);

  useEffect(() => {
    refresh();
  }, [refresh]);

  useEffect(() => {
    api
      .get<WorkflowList>("/api/workflows", { limit: 500 })
      .then((l) => setWorkflows(l.workflows.map((w) => w.name)))
      .catch(() => {});
  }, []);

  // Live: coalesce bursts of starts and ends into one refresh per 500 ms.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const nudge = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      refresh();
    }, 500);
  }, [refresh]);
  useSocket("/ws/workflows", {
    onMessage: (m) => {
      if (m.type === "execution_started" || m.type === "execution_finished" || m.type === "resync") nudge();
    },
    onOpen: nudge,
  });

  const more = async () => {
    if (!cursor) return;
    setLoading(true);
    try {
      const page = await api.get<ExecutionList>("/api/executions", query(cursor));
      setPages((p) => [...p, page.executions]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  const set = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const toggle = (s: string) => {
    const next = statuses.includes(s) ? statuses.filter((x) => x !== s) : [...statuses, s];
    set("status", next.join(","));
  };

  const rows = pages.flat();
  return (
    <div>
      <h1>Executions</h1>
      <div className="filters" role="search">
        <div className="status-filter" aria-label="Status">
          {STATUSES.map((s) => (
            <label key={s} className={statuses.includes(s) ? "chip on" : "chip"}>
              <input type="checkbox" checked={statuses.includes(s)} onChange={() => toggle(s)} />
              {s}
            </label>
          ))}
        </div>
        <label>
          Workflow
          <select value={workflow} onChange={(e) => set("workflow", e.target.value)} name="workflow">
            <option value="">all</option>
            {workflows.map((w) => (
              <option key={w}>{w}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={since ?? ""} onChange={(e) => set("since", e.target.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={until ?? ""} onChange={(e) => set("until", e.target.value)} />
        </label>
        <label>
          Id
          <input
            name="id"
            placeholder="id prefix"
            value={idPrefix}
            onChange={(e) => set("id", e.target.value.trim().toLowerCase())}
          />
        </label>
      </div>
      <ErrorBox error={error} />
      <table className="list executions">
        <thead>
          <tr>
            <th>Status</th>
            <th>Id</th>
            <th>Workflow</th>
            <th>Version</th>
            <th>Started by</th>
            <th>Created</th>
            <th>Duration</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((x) => {
            const o = origin(x);
            const open = !x.ended_at && x.started_at;
            return (
              <tr key={x.id} data-id={x.id} data-status={x.status}>
                <td>
                  <Status status={x.status} />
                </td>
                <td>
                  <Link to={`/executions/${x.id}`} className="mono" title={x.id}>
                    {shortId(x.id)}
                  </Link>
                </td>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(x.workflow)}`}>{x.workflow}</Link>
                </td>
                <td>v{x.version}</td>
                <td>{o.to ? <Link to={o.to}>{o.text}</Link> : o.text}</td>
                <td title={x.created_at}>{formatTime(x.created_at)}</td>
                <td>{formatDuration(durationMs(x.started_at, x.ended_at, open ? now : undefined))}</td>
                <td className="error-cell" title={x.error?.message}>
                  {x.error ? `${x.error.class ?? "error"}: ${x.error.message ?? ""}` : ""}
                </td>
              </tr>
            );
          })}
          {rows.length === 0 && !loading && (
            <tr>
              <td colSpan={8} className="empty">
                No executions match.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="pager">
        {cursor && (
          <button onClick={more} disabled={loading}>
            Load more
          </button>
        )}
        {loading && <span className="muted">Loading…</span>}
      </div>
    </div>
  );
}
