// Retrying an execution: choose where from (its failure, or a step: that step and
// everything downstream run again) and on which version, read the server's preview
// (what runs again, what is reused), then start it and go to the new execution.
import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { api } from "../../api/client";
import type { ExecutionStatus, RetryResponse } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { Dialog } from "./Dialog";

interface Props {
  id: string;
  status: ExecutionStatus;
  tasks: string[];
  from?: string;
  onClose: () => void;
}

export function RetryDialog({ id, status, tasks, from: initial, onClose }: Props) {
  const navigate = useNavigate();
  // A succeeded execution has no failure to retry from: a step must be chosen.
  const [from, setFrom] = useState(initial ?? (status === "succeeded" ? (tasks[0] ?? "") : ""));
  const [latest, setLatest] = useState(false);
  const [preview, setPreview] = useState<{ key: string; value: RetryResponse } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const key = `${from}|${latest}`;

  useEffect(() => {
    let live = true;
    setError(null);
    api
      .post<RetryResponse>(`/api/executions/${id}/retry`, { preview: true, from: from || undefined, latest_version: latest })
      .then((value) => live && setPreview({ key, value }))
      .catch((e) => {
        if (!live) return;
        setPreview(null);
        setError(e);
      });
    return () => {
      live = false;
    };
  }, [id, from, latest, key]);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<RetryResponse>(`/api/executions/${id}/retry`, { from: from || undefined, latest_version: latest });
      onClose();
      if (r.execution_id) navigate(`/executions/${r.execution_id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  const p = preview?.key === key ? preview.value : null;
  return (
    <Dialog title="Retry this execution" onClose={onClose} wide>
      <div className="xp-form">
        <div className="row">
          <label>
            From
            <select name="from" value={from} onChange={(e) => setFrom(e.target.value)}>
              {status !== "succeeded" && <option value="">its failure</option>}
              {tasks.map((t) => (
                <option key={t} value={t}>
                  step {t}
                </option>
              ))}
            </select>
          </label>
          <label className="xp-check">
            <input type="checkbox" name="latest_version" checked={latest} onChange={(e) => setLatest(e.target.checked)} />
            on the workflow's latest version
          </label>
        </div>
        <ErrorBox error={error} />
        {p ? (
          <div className="xp-preview" aria-label="Retry preview">
            <p>
              A new execution of <strong>{p.workflow}</strong> on <strong>version {p.version}</strong>, with the same inputs.
            </p>
            <div className="xp-preview-cols">
              <div>
                <h3>Run again ({p.rerun.length})</h3>
                <ul data-testid="rerun">
                  {p.rerun.map((t) => (
                    <li key={t}>{t}</li>
                  ))}
                </ul>
              </div>
              <div>
                <h3>Outputs reused ({p.reused.length})</h3>
                <ul data-testid="reused">
                  {p.reused.length === 0 && <li className="muted">none</li>}
                  {p.reused.map((t) => (
                    <li key={t}>{t}</li>
                  ))}
                </ul>
              </div>
            </div>
          </div>
        ) : (
          !error && <p className="muted">Asking the server what would run…</p>
        )}
        <div className="row">
          <button className="primary" onClick={start} disabled={!p || busy}>
            Start retry
          </button>
          <button onClick={onClose}>Close</button>
        </div>
      </div>
    </Dialog>
  );
}
