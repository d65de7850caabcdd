// The executions list: newest first, filtered by status, workflow, time range and id
// prefix (all kept in the URL, so a filtered view is a link), paged by cursor, and
// live: a start or an end announced on `/ws/workflows` refreshes the first page.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { toggled, useQuery } from "../lib/query";
import { api } from "../api/client";
import type { ExecutionList, ExecutionSummary, WorkflowList } from "../api/types";
import { ErrorBox } from "../components/ErrorBox";
import { Status } from "../components/Status";
import { useSocket } from "../lib/socket";
import { durationMs, formatDuration, formatTime, normalLocalInput, shortId } from "../lib/time";
import { useNow } from "../lib/useNow";

const STATUSES = ["pending", "running", "paused", "succeeded", "failed", "cancelled"];
const ORIGINS = ["api", "schedule", "webhook", "event", "retry", "workflow", "template", "mcp", "cli"];

/** `datetime-local` text (local time) to RFC 3339, or undefined. */
function toRfc3339(local: string | null): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** Who or what started an execution, as the list shows it (and where that leads). */
export function origin(x: ExecutionSummary): { text: string; to?: string } {
  const o = x.origin;
  if (x.parent || o?.kind === "workflow") {
    const parent = x.parent?.execution ?? o?.by ?? "";
    return { text: `sub-workflow of ${shortId(parent)}`, to: `/executions/${parent}` };
  }
  if (x.retry_of || o?.kind === "retry") {
    const original = x.retry_of ?? o?.by ?? "";
    return { text: `retry of ${shortId(original)}`, to: `/executions/${original}` };
  }
  if (!o) return { text: "—" };
  switch (o.kind) {
    case "schedule":
    case "webhook":
    case "event":
      return { text: `${o.kind} ${o.by ?? ""}`.trim(), to: "/triggers" };
    case "api":
    case "mcp":
      return { text: o.by ? `${o.kind} · ${o.by}` : o.kind };
    case "template":
      return { text: o.by ? `template ${o.by}` : "template" };
    default:
      return { text: o.by ? `${o.kind} · ${o.by}` : o.kind };
  }
}

export default function Executions() {
  const [params, update] = useQuery();
  const statuses = (params.get("status") ?? "").split(",").filter(Boolean);
  const workflow = params.get("workflow") ?? "";
  const idPrefix = params.get("id") ?? "";
  const origins = (params.get("origin") ?? "").split(",").filter(Boolean);
  const trigger = params.get("trigger") ?? "";
  const input = params.get("input") ?? "";
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
      origin: origins.join(",") || undefined,
      trigger: trigger || undefined,
      input: input || undefined,
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

  // Live: coalesce bursts of starts and ends into one refresh per 500 ms, with the
  // filters as they are when it runs (not as they were when the burst began).
  const latest = useRef(refresh);
  latest.current = refresh;
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const nudge = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      latest.current();
    }, 500);
  }, []);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
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

  const set = (key: string, value: string | null) => update({ [key]: value });
  const toggle = (key: string, list: string[], s: string) => set(key, toggled(list, s).join(","));

  const rows = pages.flat();
  return (
    <div>
      <h1>Executions</h1>
      <div className="filters" role="search">
        <div className="status-filter" aria-label="Status">
          {STATUSES.map((s) => (
            <label key={s} className={statuses.includes(s) ? "chip on" : "chip"}>
              <input type="checkbox" checked={statuses.includes(s)} onChange={() => toggle("status", statuses, s)} />
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
          <input type="datetime-local" value={normalLocalInput(since)} onChange={(e) => set("since", e.target.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={normalLocalInput(until)} onChange={(e) => set("until", e.target.value)} />
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
        <label>
          Inputs contain
          <input
            name="input"
            placeholder={'text, e.g. "who":"ada"'}
            maxLength={200}
            value={input}
            onChange={(e) => set("input", e.target.value)}
          />
        </label>
        <label>
          Trigger
          <input name="trigger" placeholder="trigger id" value={trigger} onChange={(e) => set("trigger", e.target.value.trim())} />
        </label>
      </div>
      <div className="filters origin-filter" aria-label="Started by">
        <span className="muted">Started by</span>
        {ORIGINS.map((o) => (
          <label key={o} className={origins.includes(o) ? "chip on" : "chip"}>
            <input type="checkbox" checked={origins.includes(o)} onChange={() => toggle("origin", origins, o)} />
            {o}
          </label>
        ))}
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
