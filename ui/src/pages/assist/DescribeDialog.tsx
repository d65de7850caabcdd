// "Describe the workflow": a description sent to the assistant, which drafts a
// workflow, validates it and repairs it from the diagnostics; a valid draft can be put
// on the canvas (an undoable edit), an invalid one too, with what is wrong listed.
import { useState } from "react";
import { ErrorBox } from "../../components/ErrorBox";
import { Dialog } from "../execution/Dialog";
import { draftWorkflow, type Draft } from "./api";

export function DescribeDialog({ onUse, onClose }: { onUse: (yaml: string) => void; onClose: () => void }) {
  const [text, setText] = useState("");
  const [draft, setDraft] = useState<Draft | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const ask = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDraft(null);
    try {
      setDraft(await draftWorkflow(text));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Describe the workflow" onClose={onClose} wide>
      <form onSubmit={ask} className="xp-form">
        <label>
          What should it do?
          <textarea
            name="description"
            rows={4}
            value={text}
            placeholder="Fetch https://example.com/status every hour and keep the body's state"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || !text.trim()}>
          {busy ? "Drafting…" : "Draft it"}
        </button>
      </form>
      <ErrorBox error={error} />
      {draft && (
        <div className="as-draft" data-testid="draft">
          <p className={draft.valid ? "dz-good" : "dz-bad"}>
            {draft.valid ? "Valid" : "Not valid"} after {draft.rounds} draft{draft.rounds === 1 ? "" : "s"} by {draft.model} ({(draft.elapsed_ms / 1000).toFixed(1)} s)
          </p>
          <pre className="dz-diff">{draft.yaml}</pre>
          {draft.repairs.length > 0 && (
            <ul className="muted" aria-label="Changed by Harmonia">
              {draft.repairs.map((r, i) => (
                <li key={i}>{r}</li>
              ))}
            </ul>
          )}
          {draft.diagnostics.length > 0 && (
            <ul className="sf-errors">
              {draft.diagnostics.map((d, i) => (
                <li key={i}>
                  {d.path ? `${d.path}: ` : ""}
                  {d.message}
                </li>
              ))}
            </ul>
          )}
          <button
            type="button"
            className={draft.valid ? "primary" : undefined}
            disabled={!draft.yaml}
            onClick={() => {
              onUse(draft.yaml);
              onClose();
            }}
          >
            {draft.valid ? "Put it on the canvas" : "Put it on the canvas anyway (to fix)"}
          </button>
        </div>
      )}
    </Dialog>
  );
}
