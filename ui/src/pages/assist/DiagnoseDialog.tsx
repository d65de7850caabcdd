// A failed execution's diagnosis: what happened and why, the events that show it
// (by sequence number, as the event log numbers them), suggestions, and the validated patch as a diff
// with "Apply and retry" (stores the patch as a new version, retries from the
// failure on it, and opens the new execution) after a preview of what reruns.
import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { ErrorBox } from "../../components/ErrorBox";
import { Dialog } from "../execution/Dialog";
import { applyPatch, diagnose, type Applied, type Diagnosis } from "./api";

function DiffLines({ diff }: { diff: string }) {
  return (
    <pre className="dz-diff" aria-label="Patch">
      {diff.split("\n").map((l, i) => (
        <div key={i} className={l.startsWith("+") ? "dz-diff-add" : l.startsWith("-") ? "dz-diff-del" : undefined}>
          {l || " "}
        </div>
      ))}
    </pre>
  );
}

export function DiagnoseDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const navigate = useNavigate();
  const [d, setD] = useState<Diagnosis | null>(null);
  const [preview, setPreview] = useState<Applied | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    diagnose(id)
      .then((x) => live && setD(x))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [id]);

  useEffect(() => {
    if (!d?.patch) return;
    let live = true;
    applyPatch(id, d.patch.yaml, true)
      .then((p) => live && setPreview(p))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [id, d]);

  const apply = async () => {
    if (!d?.patch) return;
    setBusy(true);
    setError(null);
    try {
      const a = await applyPatch(id, d.patch.yaml, false);
      onClose();
      if (a.execution_id) navigate(`/executions/${a.execution_id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <Dialog title="Diagnosis" onClose={onClose} wide>
      {!d && !error && <div className="loading">Reading the execution’s history…</div>}
      {d && (
        <div className="as-diagnosis" data-testid="diagnosis">
          <p className="as-summary">{d.summary}</p>
          <p>
            <strong>Cause:</strong> {d.cause}
          </p>
          {d.evidence.length > 0 && (
            <>
              <h3>Evidence</h3>
              <ul>
                {d.evidence.map((e) => (
                  <li key={`${e.by}:${e.seq}`}>
                    <strong>event #{e.seq}</strong>
                    {e.kind ? ` (${e.kind})` : ""}: {e.why} <span className="muted">— {e.by === "model" ? "the model" : "Harmonia"}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
          {d.suggestions.length > 0 && (
            <>
              <h3>Suggestions</h3>
              <ul>
                {d.suggestions.map((s, i) => (
                  <li key={i}>{s}</li>
                ))}
              </ul>
            </>
          )}
          {d.patch ? (
            <>
              <h3>Patch (validated)</h3>
              <DiffLines diff={d.patch.diff} />
              {preview && (
                <p className="muted" data-testid="patch-preview">
                  Applying stores it as a new version and retries from the failure: reruns {preview.rerun.join(", ") || "nothing"}
                  {preview.reused.length ? `; reuses ${preview.reused.join(", ")}` : ""}.
                </p>
              )}
              <button type="button" className="primary" disabled={busy} onClick={apply}>
                Apply and retry
              </button>
            </>
          ) : (
            <p className="muted">No patch: the rules have no change for this failure.</p>
          )}
          <p className="muted as-by">
            {d.model ? `Explained by ${d.model} (${d.tokens.prompt + d.tokens.completion} tokens); the patch and evidence are checked by Harmonia.` : "No language model is configured: this is Harmonia’s own diagnosis."}
          </p>
        </div>
      )}
      <ErrorBox error={error} />
    </Dialog>
  );
}
