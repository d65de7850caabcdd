// A webhook trigger's deliveries, newest first: when each arrived, its verdict, the
// execution it started, why it was refused; a verified one can be replayed (mapped
// again under the hook's current definition, recorded as a new delivery). Read again
// every 10 s while shown, after a replay, and on demand.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { ApiError, api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { formatTime, shortId } from "../../lib/time";
import type { DeliveryPage, DeliveryView, HookReceipt } from "./types";

const PAGE = 20;

type Outcome = { ok: HookReceipt } | { error: string };

/** The `details` of an `invalid_inputs` answer, as text: ` (/ref: expected string)`. */
function problems(details: unknown): string {
  if (!Array.isArray(details)) return "";
  const parts = details
    .filter((d): d is { path: string; message: string } => typeof d === "object" && d !== null && typeof d.message === "string")
    .map((d) => `${d.path || "/"}: ${d.message}`);
  return parts.length ? ` — ${parts.join("; ")}` : "";
}

export function Deliveries({ trigger, refreshKey }: { trigger: string; refreshKey: number }) {
  const [rows, setRows] = useState<DeliveryView[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [outcomes, setOutcomes] = useState<Record<number, Outcome>>({});
  const [busy, setBusy] = useState<number | null>(null);
  const shown = useRef(PAGE);

  const load = useCallback(async () => {
    try {
      const page = await api.get<DeliveryPage>(`/api/triggers/${encodeURIComponent(trigger)}/deliveries`, { limit: shown.current });
      setRows(page.deliveries);
      setCursor(page.next_cursor);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [trigger]);

  useEffect(() => {
    load();
    const t = setInterval(load, 10_000);
    return () => clearInterval(t);
  }, [load, refreshKey]);

  const more = async () => {
    if (!cursor) return;
    try {
      const page = await api.get<DeliveryPage>(`/api/triggers/${encodeURIComponent(trigger)}/deliveries`, { limit: PAGE, cursor });
      setRows((r) => [...(r ?? []), ...page.deliveries]);
      setCursor(page.next_cursor);
      shown.current = Math.min(500, shown.current + PAGE);
    } catch (e) {
      setError(e);
    }
  };

  const replay = async (d: DeliveryView) => {
    setBusy(d.id);
    try {
      const receipt = await api.post<HookReceipt>(`/api/deliveries/${d.id}/replay`);
      setOutcomes((o) => ({ ...o, [d.id]: { ok: receipt } }));
    } catch (e) {
      const message = e instanceof ApiError ? `${e.code}: ${e.message}${problems(e.details)}` : String(e);
      setOutcomes((o) => ({ ...o, [d.id]: { error: message } }));
    } finally {
      setBusy(null);
      load();
    }
  };

  if (!rows) return error ? <ErrorBox error={error} /> : <div className="muted">Loading deliveries…</div>;
  return (
    <div className="tr-deliveries" data-trigger={trigger}>
      <div className="row">
        <strong>Deliveries</strong>
        <span className="muted">{rows.length === 0 ? "none yet" : `newest ${rows.length}${cursor ? "+" : ""}`}</span>
        <button className="link accent" onClick={load}>
          Refresh
        </button>
      </div>
      <ErrorBox error={error} />
      {rows.length > 0 && (
        <table className="list compact deliveries">
          <thead>
            <tr>
              <th>#</th>
              <th>Received</th>
              <th>Verdict</th>
              <th>Execution</th>
              <th>Reason</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => {
              const outcome = outcomes[d.id];
              return (
                <tr key={d.id} data-id={d.id} data-verdict={d.verdict}>
                  <td className="mono">
                    {d.id}
                    {d.replay_of !== null && <span className="muted" title={`a replay of delivery ${d.replay_of}`}> ↻{d.replay_of}</span>}
                  </td>
                  <td title={d.received_at}>{formatTime(d.received_at)}</td>
                  <td>
                    <span className={`verdict verdict-${d.verdict}`}>{d.verdict}</span>
                  </td>
                  <td>
                    {d.execution_id ? (
                      <Link to={`/executions/${d.execution_id}`} className="mono" title={d.execution_id}>
                        {shortId(d.execution_id)}
                      </Link>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="tr-reason" title={d.reason ?? undefined}>
                    {d.reason ?? ""}
                  </td>
                  <td className="tr-replay">
                    <button
                      onClick={() => replay(d)}
                      disabled={!d.verified || busy !== null}
                      title={d.verified ? "Map this request again and start a new run" : "It never proved its sender: it cannot be replayed"}
                    >
                      {busy === d.id ? "Replaying…" : "Replay"}
                    </button>
                    {outcome && "ok" in outcome && (
                      <div className="tr-outcome">
                        started{" "}
                        <Link to={`/executions/${outcome.ok.execution_id}`} className="mono">
                          {shortId(outcome.ok.execution_id)}
                        </Link>
                      </div>
                    )}
                    {outcome && "error" in outcome && <div className="field-error tr-outcome">{outcome.error}</div>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {cursor && (
        <button className="link accent" onClick={more}>
          Older deliveries
        </button>
      )}
    </div>
  );
}
