// What can be done to the execution, each enabled only when its status allows it:
// pause (running), resume (paused), cancel with a reason (not ended), retry (ended:
// from the failure, or from a chosen step, after reading the preview), and for a
// failed one, the assistant's diagnosis (with its patch to apply and retry).
import { useState } from "react";
import { api } from "../../api/client";
import type { ExecutionStatus } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { DiagnoseDialog } from "../assist/DiagnoseDialog";
import { Dialog } from "./Dialog";
import { RetryDialog } from "./RetryDialog";

interface Props {
  id: string;
  status: ExecutionStatus;
  tasks: string[];
}

export function Actions({ id, status, tasks }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<"cancel" | "retry" | "diagnose" | null>(null);
  const ended = status === "succeeded" || status === "failed" || status === "cancelled";

  const post = async (what: "pause" | "resume") => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/executions/${id}/${what}`, {});
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="xp-actions">
      <button onClick={() => post("pause")} disabled={busy || status !== "running"}>
        Pause
      </button>
      <button onClick={() => post("resume")} disabled={busy || status !== "paused"}>
        Resume
      </button>
      <button className="danger" onClick={() => setDialog("cancel")} disabled={busy || ended}>
        Cancel…
      </button>
      <button className="primary" onClick={() => setDialog("retry")} disabled={busy || !ended}>
        Retry…
      </button>
      {status === "failed" && (
        <button onClick={() => setDialog("diagnose")} disabled={busy}>
          Diagnose…
        </button>
      )}
      {error !== null && (
        <div className="xp-actions-error">
          <ErrorBox error={error} />
        </div>
      )}
      {dialog === "cancel" && <CancelDialog id={id} onClose={() => setDialog(null)} />}
      {dialog === "diagnose" && <DiagnoseDialog id={id} onClose={() => setDialog(null)} />}
      {dialog === "retry" && <RetryDialog id={id} status={status} tasks={tasks} onClose={() => setDialog(null)} />}
    </div>
  );
}

function CancelDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api.post(`/api/executions/${id}/cancel`, reason.trim() ? { reason: reason.trim() } : {});
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Cancel this execution" onClose={onClose}>
      <form onSubmit={submit} className="xp-form">
        <p>Running work is stopped: processes killed, requests dropped, sub-workflows cancelled.</p>
        <label>
          Reason (kept in the history)
          <input autoFocus name="reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="why" />
        </label>
        <ErrorBox error={error} />
        <div className="row">
          <button type="submit" className="danger" disabled={busy}>
            Cancel execution
          </button>
          <button type="button" onClick={onClose}>
            Keep it running
          </button>
        </div>
      </form>
    </Dialog>
  );
}
