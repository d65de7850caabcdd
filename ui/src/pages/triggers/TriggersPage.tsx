// Every trigger of every workflow (`GET /api/triggers`): its workflow, its kind, what
// fires it, whether it is paused (with buttons to pause and resume), a schedule's next
// fire times, and a webhook's deliveries (opened per trigger, with replay). Filters by
// workflow and kind are kept in the URL; `#<id>` opens and shows one trigger. Read
// again when a workflow changes (`/ws/workflows`: its triggers are its latest
// version's) and every 30 s (fire times move on).
import { Fragment, useCallback, useEffect, useRef, useState } from "react";
import { Link, useLocation } from "react-router";
import { toggled, useQuery } from "../../lib/query";
import { api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { useSocket } from "../../lib/socket";
import { formatAgo, formatTime } from "../../lib/time";
import { useNow } from "../../lib/useNow";
import { Deliveries } from "./Deliveries";
import { describeTrigger } from "./spec";
import type { TriggerList, TriggerView } from "./types";

const KINDS = ["schedule", "webhook", "event"];
const NEXT_SHOWN = 3;

export default function TriggersPage() {
  const [params, update] = useQuery();
  const location = useLocation();
  const workflow = params.get("workflow") ?? "";
  const kinds = (params.get("kind") ?? "").split(",").filter(Boolean);
  const [triggers, setTriggers] = useState<TriggerView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<Set<string>>(() => new Set(location.hash ? [decodeURIComponent(location.hash.slice(1))] : []));
  const [busy, setBusy] = useState<string | null>(null);
  const [deliveriesKey, setDeliveriesKey] = useState(0);
  const now = useNow(5000);

  const generation = useRef(0);
  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const list = await api.get<TriggerList>("/api/triggers");
      if (mine !== generation.current) return;
      setTriggers(list.triggers);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(e);
    }
  }, []);
  useEffect(() => {
    refresh();
    const t = setInterval(refresh, 30_000);
    return () => clearInterval(t);
  }, [refresh]);

  // Scroll to the trigger the URL names once it is drawn.
  const scrolled = useRef(false);
  useEffect(() => {
    if (scrolled.current || !triggers || !location.hash) return;
    scrolled.current = true;
    document.getElementById(`trigger-${decodeURIComponent(location.hash.slice(1))}`)?.scrollIntoView({ block: "center" });
  }, [triggers, location.hash]);

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
    onMessage: (m: { type: string }) => {
      if (m.type.startsWith("workflow_") || m.type === "resync") nudge();
      // A webhook starts executions: what a shown hook received may have changed.
      if (m.type === "execution_started") setDeliveriesKey((k) => k + 1);
    },
    onOpen: () => {
      if (opened.current) nudge();
      opened.current = true;
    },
  });

  const set = (key: string, value: string) => update({ [key]: value });
  const toggleKind = (k: string) => set("kind", toggled(kinds, k).join(","));
  const toggleOpen = (id: string) =>
    setOpen((o) => {
      const next = new Set(o);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const pauseOrResume = async (t: TriggerView) => {
    setBusy(t.id);
    try {
      const updated = await api.post<TriggerView>(t.paused ? t.links.resume : t.links.pause);
      setTriggers((list) => list?.map((x) => (x.id === updated.id ? updated : x)) ?? null);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const all = triggers ?? [];
  const workflows = [...new Set(all.map((t) => t.workflow))].sort();
  const rows = all.filter((t) => (!workflow || t.workflow === workflow) && (kinds.length === 0 || kinds.includes(t.kind)));
  return (
    <div className="tr-page">
      <h1>Triggers</h1>
      <div className="filters" role="search">
        <div className="status-filter" aria-label="Kind">
          {KINDS.map((k) => (
            <label key={k} className={kinds.includes(k) ? "chip on" : "chip"}>
              <input type="checkbox" checked={kinds.includes(k)} onChange={() => toggleKind(k)} />
              {k}
            </label>
          ))}
        </div>
        <label>
          Workflow
          <select name="workflow" value={workflow} onChange={(e) => set("workflow", e.target.value)}>
            <option value="">all</option>
            {workflow && !workflows.includes(workflow) && <option>{workflow}</option>}
            {workflows.map((w) => (
              <option key={w}>{w}</option>
            ))}
          </select>
        </label>
        {triggers && (
          <span className="muted">
            {rows.length} of {all.length} triggers · {all.filter((t) => t.paused).length} paused
          </span>
        )}
      </div>
      <ErrorBox error={error} />
      <table className="list triggers">
        <thead>
          <tr>
            <th>Trigger</th>
            <th>Workflow</th>
            <th>Kind</th>
            <th>On</th>
            <th>State</th>
            <th>Next fires</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => {
            const spec = describeTrigger(t);
            const isOpen = open.has(t.id);
            return (
              <Fragment key={t.id}>
                <tr id={`trigger-${t.id}`} data-id={t.id} data-kind={t.kind} data-paused={t.paused} className={isOpen ? "open" : undefined}>
                <td className="mono">{t.id}</td>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(t.workflow)}`}>{t.workflow}</Link> <span className="muted">v{t.version}</span>
                </td>
                <td>
                  <span className={`kind kind-${t.kind}`}>{t.kind}</span>
                </td>
                <td className="tr-spec">
                  <div className="mono tr-summary">{spec.summary}</div>
                  {spec.details.length > 0 && (
                    <div className="tr-details">
                      {spec.details.map(([k, v]) => (
                        <span key={k} title={v}>
                          {k}: <span className="mono">{v}</span>
                        </span>
                      ))}
                    </div>
                  )}
                </td>
                <td className="tr-state">
                  <span className={t.paused ? "state state-paused" : "state state-active"}>{t.paused ? "paused" : "active"}</span>
                  {t.paused && t.paused_since && (
                    <div className="muted" title={t.paused_since}>
                      since {formatAgo(t.paused_since, now).replace(/ ago$/, "")}
                    </div>
                  )}
                </td>
                <td className="tr-next">
                  <NextFires t={t} now={now} />
                </td>
                <td className="tr-actions">
                  <button onClick={() => pauseOrResume(t)} disabled={busy === t.id}>
                    {t.paused ? "Resume" : "Pause"}
                  </button>
                  {t.kind === "webhook" && (
                    <button onClick={() => toggleOpen(t.id)} aria-expanded={isOpen}>
                      {isOpen ? "Hide deliveries" : "Deliveries"}
                    </button>
                  )}
                </td>
                </tr>
                {isOpen && t.kind === "webhook" && (
                  <tr className="tr-deliveries-row" data-for={t.id}>
                    <td colSpan={7}>
                      <Deliveries trigger={t.id} refreshKey={deliveriesKey} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
          {triggers && rows.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                {all.length === 0 ? "No workflow defines triggers: add `triggers:` to a workflow (schedule, webhook or event)." : "No trigger matches."}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {!triggers && !error && <div className="loading">Loading…</div>}
    </div>
  );
}

function NextFires({ t, now }: { t: TriggerView; now: number }) {
  if (t.kind !== "schedule") return <span className="muted">—</span>;
  const next = (t.schedule?.next_fires ?? []).filter((f) => Date.parse(f) > now - 1000);
  if (t.paused) return <span className="muted" title={next.join("\n")}>none while paused</span>;
  if (next.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="tr-fires" title={next.map((f) => `${f} (UTC)`).join("\n")}>
      {next.slice(0, NEXT_SHOWN).map((f) => (
        <li key={f}>
          {formatTime(f)} <span className="muted">{formatAgo(f, now)}</span>
        </li>
      ))}
    </ul>
  );
}
