// A task waiting for a person: its prompt, who may answer, until when, the fields of
// its form, and Approve / Reject. The server checks the answer against the form and
// reports every violation (shown here; nothing changes until it is right).
import { useMemo, useState } from "react";
import { api } from "../../api/client";
import type { Waiting } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { formatTime } from "../../lib/time";
import { collect, fieldsOf, initialValues } from "./formFields";

interface Props {
  execution: string;
  task: string;
  item?: number;
  waiting: Waiting;
}

export function ApprovalForm({ execution, task, item, waiting }: Props) {
  const fields = useMemo(() => fieldsOf(waiting.form), [waiting.form]);
  const [values, setValues] = useState(() => initialValues(fields));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const approvers = waiting.approvers as { role?: string } | null | undefined;

  const answer = async (decision: "approve" | "reject") => {
    setBusy(true);
    setError(null);
    try {
      const inputs = collect(fields, values);
      const r = await api.post<{ task_status: string }>(`/api/executions/${execution}/tasks/${encodeURIComponent(task)}/${decision}`, {
        inputs,
        ...(item !== undefined ? { item } : {}),
      });
      setDone(`${decision === "approve" ? "Approved" : "Rejected"}: the task ${r.task_status}.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="xp-approval" aria-label={`Approval of ${task}${item !== undefined ? `[${item}]` : ""}`} onSubmit={(e) => e.preventDefault()}>
      <p className="xp-prompt">{waiting.prompt ?? "Approve?"}</p>
      <p className="muted">
        {approvers?.role ? `Needs the ${approvers.role} role. ` : ""}
        {waiting.until ? `Until ${formatTime(waiting.until)}${waiting.on_timeout ? `, then ${String(waiting.on_timeout)}` : ""}.` : "No time limit."}
      </p>
      {fields.map((f) => (
        <label key={f.name} className={f.kind === "boolean" ? "xp-check" : undefined}>
          {f.kind === "boolean" ? (
            <>
              <input
                type="checkbox"
                name={f.name}
                checked={values[f.name] === true}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.checked })}
              />
              {f.title}
            </>
          ) : (
            <>
              <span>
                {f.title}
                {f.required ? " *" : ""}
                {f.description ? <span className="muted"> — {f.description}</span> : null}
              </span>
              {f.kind === "enum" ? (
                <select name={f.name} value={String(values[f.name])} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}>
                  <option value="">—</option>
                  {(f.options ?? []).map((o) => (
                    <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
                      {typeof o === "string" ? o : JSON.stringify(o)}
                    </option>
                  ))}
                </select>
              ) : f.kind === "json" ? (
                <textarea name={f.name} rows={3} value={String(values[f.name])} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} placeholder="JSON" />
              ) : (
                <input
                  name={f.name}
                  type={f.kind === "string" ? "text" : "number"}
                  step={f.kind === "integer" ? 1 : "any"}
                  required={f.required}
                  value={String(values[f.name])}
                  onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  placeholder={typeof f.schema.pattern === "string" ? f.schema.pattern : undefined}
                />
              )}
            </>
          )}
        </label>
      ))}
      <ErrorBox error={error} />
      {done ? (
        <p className="xp-done">{done}</p>
      ) : (
        <div className="row">
          <button type="button" className="primary" disabled={busy} onClick={() => answer("approve")}>
            Approve
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => answer("reject")}>
            Reject
          </button>
        </div>
      )}
    </form>
  );
}
