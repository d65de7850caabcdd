// Instantiate a template version: its parameters in a form generated from the
// parameters schema (SchemaForm), the name of the workflow to make (or the server's
// derived one), and optionally an execution at once with inputs from the workflow's
// `inputs` schema. The client checks first (messages after the first attempt, then
// following each edit); what the server refuses is shown at its field until that field
// is edited: `invalid_params` at the parameters, `invalid_inputs` at the inputs, a bad
// or taken name at the name. On success, links to the workflow and the execution.
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { ApiError, api } from "../../api/client";
import type { JsonSchema } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { shortId } from "../../lib/time";
import { SchemaForm } from "../workflows/SchemaForm";
import { defaults, errorsByField, mergeErrors, serverProblems, stillStanding, validate, type InputProblem } from "../workflows/schema";
import { workflowNameProblem } from "./logic";
import type { InstantiateRequest, Instantiated } from "./types";

const NO_PARAMS: JsonSchema = { type: "object", properties: {} };
const ANY_INPUTS: JsonSchema = { type: "object" };

interface Refused {
  problems: InputProblem[];
  sent: unknown;
}

/** The form state of one schema: value, parse errors, and what the server refused. */
function useSchemaState(schema: JsonSchema) {
  const [value, setValue] = useState<unknown>(() => defaults(schema));
  const [parseErrors, setParseErrors] = useState<string[]>([]);
  const [server, setServer] = useState<Refused | null>(null);
  const client = useMemo(() => validate(schema, value), [schema, value]);
  const standing = server ? stillStanding(server.problems, server.sent, value) : [];
  const reset = () => {
    setValue(defaults(schema));
    setServer(null);
  };
  return { value, setValue, parseErrors, setParseErrors, setServer, client, standing, reset };
}

export function InstantiatePanel({
  name,
  version,
  latest,
  parameters,
  inputs,
  onClose,
}: {
  name: string;
  version: number;
  latest: number;
  parameters: JsonSchema | null | undefined;
  /** The workflow body's `inputs` schema, for an execution at once. */
  inputs: JsonSchema | undefined;
  onClose: () => void;
}) {
  const ps = parameters ?? NO_PARAMS;
  const is = inputs ?? ANY_INPUTS;
  const p = useSchemaState(ps);
  const i = useSchemaState(is);
  const [workflowName, setWorkflowName] = useState("");
  const [nameRefused, setNameRefused] = useState<{ message: string; sent: string } | null>(null);
  const [execute, setExecute] = useState(false);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [done, setDone] = useState<Instantiated | null>(null);

  const nameProblem = workflowNameProblem(workflowName);
  const nameErrors = [
    ...(tried && nameProblem ? [nameProblem] : []),
    ...(nameRefused && nameRefused.sent === workflowName ? [nameRefused.message] : []),
  ];
  const paramErrors = mergeErrors(tried ? errorsByField(ps, p.client) : {}, errorsByField(ps, p.standing));
  const inputErrors = execute ? mergeErrors(tried ? errorsByField(is, i.client) : {}, errorsByField(is, i.standing)) : {};
  const blocking =
    Object.keys(p.client).length + p.parseErrors.length + (nameProblem ? 1 : 0) + (execute ? Object.keys(i.client).length + i.parseErrors.length : 0);
  const refused = p.standing.length + (execute ? i.standing.length : 0) + (nameRefused && nameRefused.sent === workflowName ? 1 : 0);

  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setTried(true);
    setFailure(null);
    setDone(null);
    if (blocking > 0) {
      const form = e.currentTarget;
      setTimeout(() => form.querySelector<HTMLElement>("[aria-invalid=true]")?.focus(), 0);
      return;
    }
    setBusy(true);
    const sentParams = p.value;
    const sentInputs = i.value;
    const sentName = workflowName;
    const body: InstantiateRequest = {
      params: (sentParams ?? {}) as Record<string, unknown>,
      version: version === latest ? undefined : version,
      name: sentName || undefined,
      execute: execute || undefined,
      inputs: execute ? ((sentInputs ?? {}) as Record<string, unknown>) : undefined,
    };
    try {
      const result = await api.post<Instantiated>(`/api/templates/${encodeURIComponent(name)}/instantiate`, body);
      setDone(result);
      p.setServer(null);
      i.setServer(null);
      setNameRefused(null);
    } catch (err) {
      if (err instanceof ApiError && err.code === "invalid_params") p.setServer({ problems: serverProblems(err.details), sent: sentParams });
      else if (err instanceof ApiError && err.code === "invalid_inputs") i.setServer({ problems: serverProblems(err.details), sent: sentInputs });
      else if (err instanceof ApiError && (err.status === 409 || (err.status === 400 && err.message.startsWith("`name`")))) {
        setNameRefused({ message: err.message.replace(/^`name`:\s*/, ""), sent: sentName });
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel wf-execute tpl-instantiate" onSubmit={submit} noValidate aria-label="Instantiate">
      <div className="wf-execute-head">
        <h2>
          Instantiate {name} <span className="muted">v{version}</span>
        </h2>
        {version !== latest && <span className="note">not the latest version (v{latest})</span>}
        <span className="spacer" />
        <button type="button" className="link muted" onClick={onClose} aria-label="Close the form">
          ✕
        </button>
      </div>

      <h3>Parameters</h3>
      {!parameters || Object.keys(parameters.properties ?? {}).length === 0 ? (
        <p className="muted">This template takes no parameters.</p>
      ) : (
        <SchemaForm schema={ps} value={p.value} onChange={p.setValue} errors={paramErrors} onParseErrors={p.setParseErrors} disabled={busy} label="Parameters" />
      )}

      <h3>Workflow</h3>
      <div className="sf-fields">
        <div className="sf-field tpl-name-field" data-testid="workflow-name">
          <div className="sf-head">
            <label htmlFor="tpl-workflow-name">Workflow name</label>
            <span className="sf-type">optional</span>
          </div>
          <input
            id="tpl-workflow-name"
            name="workflow-name"
            value={workflowName}
            placeholder={`derived: ${name}-…`}
            aria-invalid={nameErrors.length > 0 || undefined}
            aria-describedby={nameErrors.length > 0 ? "tpl-workflow-name-errors" : undefined}
            disabled={busy}
            onChange={(e) => setWorkflowName(e.target.value.trim())}
          />
          <div className="sf-desc">Empty: derived from the template's name and the values, so the same values make the same workflow.</div>
          {nameErrors.length > 0 && (
            <ul className="sf-errors" id="tpl-workflow-name-errors">
              {nameErrors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </div>
        <div className="sf-field">
          <label className="tpl-check">
            <input type="checkbox" name="execute" checked={execute} disabled={busy} onChange={(e) => setExecute(e.target.checked)} />
            Execute it at once
          </label>
        </div>
      </div>

      {execute && (
        <>
          <h3>Inputs of the execution</h3>
          {!inputs && <p className="muted">The workflow declares no inputs schema: any JSON object is accepted.</p>}
          <div data-testid="execution-inputs">
            <SchemaForm schema={is} value={i.value} onChange={i.setValue} errors={inputErrors} onParseErrors={i.setParseErrors} disabled={busy} label="Inputs" />
          </div>
        </>
      )}

      {refused > 0 && (
        <div className="error-box" role="alert">
          The server refused the request ({refused} problem{refused === 1 ? "" : "s"}): see the fields marked.
        </div>
      )}
      <ErrorBox error={failure} />
      {done && <Result done={done} />}
      <div className="row wf-execute-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Instantiating…" : execute ? "Instantiate and execute" : "Instantiate"}
        </button>
        <button
          type="button"
          onClick={() => {
            p.reset();
            i.reset();
            setWorkflowName("");
            setNameRefused(null);
            setTried(false);
            setDone(null);
          }}
        >
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

function Result({ done }: { done: Instantiated }) {
  const w = done.workflow;
  const t = `template ${done.template.name} v${done.template.version}`;
  const link = (
    <Link to={`/workflows/${encodeURIComponent(w.name)}`}>
      <strong>{w.name}</strong>
    </Link>
  );
  return (
    <div className="tpl-done" role="status" data-testid="instantiated" data-outcome={done.outcome}>
      {done.outcome === "created" && (
        <>
          Created workflow {link} v{w.version} from {t}.
        </>
      )}
      {done.outcome === "updated" && (
        <>
          Updated workflow {link} to v{w.version} from {t}.
        </>
      )}
      {done.outcome !== "created" && done.outcome !== "updated" && (
        <>
          Workflow {link} v{w.version} is unchanged: it is {t} with these values already.
        </>
      )}
      {done.execution && (
        <>
          {" "}
          Started execution{" "}
          <Link to={`/executions/${done.execution.execution_id}`} className="mono">
            {shortId(done.execution.execution_id)}
          </Link>{" "}
          ({done.execution.status}).
        </>
      )}
    </div>
  );
}
