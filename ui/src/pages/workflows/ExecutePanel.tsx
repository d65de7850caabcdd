// Execute a workflow version with inputs typed in a form generated from its `inputs`
// schema. The form checks the inputs before sending (its messages show after the first
// attempt, then follow each edit); what the server refuses (422 `invalid_inputs`) is
// shown at the field each problem names, until that field is edited. On success the
// new execution's page opens.
import { useMemo, useState } from "react";
import { useNavigate } from "react-router";
import { ApiError, api } from "../../api/client";
import type { JsonSchema } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { SchemaForm } from "./SchemaForm";
import {
  defaults,
  errorsByField,
  mergeErrors,
  serverProblems,
  stillStanding,
  validate,
  type InputProblem,
} from "./schema";
import type { Started } from "./types";

const ANY_INPUTS: JsonSchema = { type: "object" };

export function ExecutePanel({
  name,
  version,
  latest,
  schema,
  onClose,
}: {
  name: string;
  version: number;
  latest: number;
  /** The version's `inputs` schema (none: any object). */
  schema: JsonSchema | undefined;
  onClose: () => void;
}) {
  const s = schema ?? ANY_INPUTS;
  const [value, setValue] = useState<unknown>(() => defaults(s));
  const [tried, setTried] = useState(false);
  const [parseErrors, setParseErrors] = useState<string[]>([]);
  const [server, setServer] = useState<{ problems: InputProblem[]; sent: unknown } | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();

  const client = useMemo(() => validate(s, value), [s, value]);
  const standing = server ? stillStanding(server.problems, server.sent, value) : [];
  const errors = mergeErrors(tried ? errorsByField(s, client) : {}, errorsByField(s, standing));
  const blocking = Object.keys(client).length + parseErrors.length;

  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setTried(true);
    setFailure(null);
    if (blocking > 0) {
      // Bring the first field with a problem into view.
      const form = e.currentTarget;
      setTimeout(() => form.querySelector<HTMLElement>("[aria-invalid=true]")?.focus(), 0);
      return;
    }
    setBusy(true);
    const sent = value;
    try {
      const started = await api.post<Started>(`/api/workflows/${encodeURIComponent(name)}/execute`, {
        inputs: sent ?? {},
        version: version === latest ? undefined : version,
      });
      navigate(`/executions/${started.execution_id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === "invalid_inputs" && Array.isArray(err.details)) {
        setServer({ problems: serverProblems(err.details), sent });
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel wf-execute" onSubmit={submit} noValidate aria-label="Execute">
      <div className="wf-execute-head">
        <h2>
          Execute {name} <span className="muted">v{version}</span>
        </h2>
        {version !== latest && <span className="note">not the latest version (v{latest})</span>}
        <span className="spacer" />
        <button type="button" className="link muted" onClick={onClose} aria-label="Close the form">
          ✕
        </button>
      </div>
      {!schema && <p className="muted">This workflow declares no inputs schema: any JSON object is accepted.</p>}
      <SchemaForm schema={s} value={value} onChange={setValue} errors={errors} onParseErrors={setParseErrors} disabled={busy} label="Inputs" />
      {server && standing.length > 0 && (
        <div className="error-box" role="alert">
          The server refused the inputs ({standing.length} problem{standing.length === 1 ? "" : "s"}): see the fields marked.
        </div>
      )}
      <ErrorBox error={failure} />
      <div className="row wf-execute-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Starting…" : "Execute"}
        </button>
        <button type="button" onClick={() => {
          setValue(defaults(s));
          setTried(false);
          setServer(null);
        }}>
          Reset
        </button>
        {tried && blocking > 0 && (
          <span className="field-error" role="status">
            {blocking === 1 ? "Fix the problem marked first." : `Fix the ${blocking} problems marked first.`}
          </span>
        )}
      </div>
    </form>
  );
}
