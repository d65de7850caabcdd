// Parts of the task panel: an attempts table (queue wait, run time, waits, outcome,
// error, backoff per attempt), the decisions on a held task, and reading an approval's
// answer.
import { useState } from "react";
import { api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { formatDuration, formatTime } from "../../lib/time";
import { taskColor } from "./status";
import type { AttemptTrack } from "./timeline";

/** An approval's output: `{decision, by, at, inputs}`. */
export function isAnswer(v: unknown): v is { decision: string; by: string | null; at?: string } {
  return !!v && typeof v === "object" && typeof (v as { decision?: unknown }).decision === "string";
}

function ms(n: number | null): string {
  return n === null ? "—" : formatDuration(n);
}

export function Attempts({ attempts, now }: { attempts: AttemptTrack[]; now: number }) {
  if (!attempts.length) return null;
  return (
    <table className="list xp-attempts" aria-label="Attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Started</th>
          <th>Queued</th>
          <th>Ran</th>
          <th>Waited</th>
          <th>Outcome</th>
        </tr>
      </thead>
      {attempts.map((a) => {
        const waited = a.waits.reduce((s, w) => s + ((w.to ?? a.endedAt ?? now) - w.from), 0);
        const ran = a.endedAt !== null ? a.endedAt - a.startedAt - waited : null;
        return (
          <tbody key={a.attempt}>
            <tr>
              <td>{a.attempt}</td>
              <td>{formatTime(new Date(a.startedAt).toISOString())}</td>
              <td>{ms(a.readyAt !== null ? a.startedAt - a.readyAt : null)}</td>
              <td>{ms(ran)}</td>
              <td>{a.waits.length ? `${ms(waited)} (${a.waits.map((w) => w.on).join(", ")})` : "—"}</td>
              <td style={{ color: taskColor(a.outcome) }}>{a.outcome}</td>
            </tr>
            {(a.error || a.backoff) && (
              <tr className="xp-attempt-more">
                <td />
                <td colSpan={5}>
                  {a.error && (
                    <div className="xp-attempt-err">
                      {a.error.class}: {a.error.message}
                    </div>
                  )}
                  {a.backoff && <div className="muted">then a backoff of {ms((a.backoff.to ?? a.backoff.due ?? a.backoff.from) - a.backoff.from)}</div>}
                </td>
              </tr>
            )}
          </tbody>
        );
      })}
    </table>
  );
}

export function HeldActions({ executionId, task }: { executionId: string; task: string }) {
  const [output, setOutput] = useState("null");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const act = async (what: "retry" | "skip" | "fail") => {
    setBusy(true);
    setError(null);
    try {
      const body = what === "skip" ? { output: JSON.parse(output) as unknown } : {};
      await api.post(`/api/executions/${executionId}/tasks/${encodeURIComponent(task)}/${what}`, body);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="xp-held">
      <p>Every attempt failed under <code>on_error: pause</code>: the execution waits for a decision.</p>
      <div className="row">
        <button className="primary" disabled={busy} onClick={() => act("retry")}>
          Retry task
        </button>
        <button disabled={busy} onClick={() => act("skip")}>
          Skip with output
        </button>
        <input className="mono" value={output} onChange={(e) => setOutput(e.target.value)} aria-label="Output when skipped (JSON)" />
        <button className="danger" disabled={busy} onClick={() => act("fail")}>
          Fail it
        </button>
      </div>
      <ErrorBox error={error} />
    </div>
  );
}
