// The workflow's own editors, shown when no task is selected: its inputs (a table
// writing the `inputs:` schema, keywords it does not edit kept) and its outputs
// (key → expression rows writing `outputs:`, with variable completions) and its
// triggers (the main fields of each `triggers:` entry; the others kept).
import { useState } from "react";
import type { Diagnostic } from "./api";
import { Completions } from "./Completions";
import { under } from "./diagnostics";
import { INPUT_TYPES, newRow, rowsToSchema, schemaToRows, type InputRow } from "./inputsSchema";
import { setField, type Definition } from "./model";
import { TRIGGER_KINDS, VERIFY_PRESETS, addTrigger, getField, removeTrigger, setTriggerField, triggerRows } from "./triggers";
import { variablesAt } from "./variables";

export interface WorkflowPanelProps {
  def: Definition;
  diagnostics: Diagnostic[];
  onChange: (def: Definition, tag: string) => void;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name edited in place, committed on Enter or leaving the field (refused when taken or bad). */
function KeyField({ value, taken, onCommit, label }: { value: string; taken: string[]; onCommit: (v: string) => void; label: string }) {
  const [text, setText] = useState(value);
  const [seen, setSeen] = useState(value);
  const [error, setError] = useState<string | null>(null);
  if (seen !== value) {
    setSeen(value);
    setText(value);
    setError(null);
  }
  const commit = () => {
    const t = text.trim();
    if (t === value) return setError(null);
    if (!NAME.test(t)) return setError("letters, digits and _, not starting with a digit");
    if (taken.includes(t)) return setError(`\`${t}\` is taken`);
    setError(null);
    onCommit(t);
  };
  return (
    <>
      <input
        type="text"
        aria-label={label}
        className="dz-key"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
      {error && <div className="sf-errors dz-field-errors">{error}</div>}
    </>
  );
}

function Messages({ list }: { list: Diagnostic[] }) {
  if (!list.length) return null;
  return (
    <ul className="sf-errors dz-field-errors">
      {list.map((d, i) => (
        <li key={i}>{d.message}</li>
      ))}
    </ul>
  );
}

function InputsEditor({ def, diagnostics, onChange }: WorkflowPanelProps) {
  return <SchemaTable noun="Input" schema={def.inputs} diagnostics={under(diagnostics, "inputs")} onChange={(schema) => onChange(setField(def, "inputs", schema), "inputs")} />;
}

/** An object schema (a workflow's `inputs`, a template's `parameters`) as a table of
 *  its properties; `noun` names the rows ("Input", "Parameter") in labels. */
export function SchemaTable({ noun, schema, diagnostics, onChange }: { noun: string; schema: unknown; diagnostics: Diagnostic[]; onChange: (schema: Record<string, unknown> | undefined) => void }) {
  const table = schemaToRows(schema);
  const { rows } = table;
  const lower = noun.toLowerCase();
  const write = (next: InputRow[]) => {
    const written = rowsToSchema({ rows: next, rest: table.rest });
    onChange(written);
  };
  const edit = (i: number, patch: Partial<InputRow>) => write(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <section className="dz-wf-section" aria-label={`${noun}s`}>
      <h3>{noun}s</h3>
      <Messages list={diagnostics} />
      {rows.length === 0 ? (
        <p className="muted">No {lower}s.</p>
      ) : (
        <table className="dz-table">
          <thead>
            <tr>
              <th>name</th>
              <th>type</th>
              <th title="required">req.</th>
              <th>default</th>
              <th>description</th>
              <th>enum</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} data-input={r.name}>
                <td>
                  <KeyField label={`${noun} ${i + 1} name`} value={r.name} taken={rows.filter((_, j) => j !== i).map((x) => x.name)} onCommit={(name) => edit(i, { name })} />
                </td>
                <td>
                  <select aria-label={`${noun} ${r.name} type`} value={r.type} onChange={(e) => edit(i, { type: e.target.value, enum: e.target.value === "string" ? r.enum : "" })}>
                    <option value="">any</option>
                    {INPUT_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input type="checkbox" aria-label={`${noun} ${r.name} required`} checked={r.required} onChange={(e) => edit(i, { required: e.target.checked })} />
                </td>
                <td>
                  <input type="text" aria-label={`${noun} ${r.name} default`} value={r.default} placeholder={r.type === "string" || !r.type ? "" : "JSON"} onChange={(e) => edit(i, { default: e.target.value })} />
                </td>
                <td>
                  <input type="text" aria-label={`${noun} ${r.name} description`} value={r.description} onChange={(e) => edit(i, { description: e.target.value })} />
                </td>
                <td>
                  {r.type === "string" ? (
                    <input type="text" aria-label={`${noun} ${r.name} enum`} value={r.enum} placeholder="a, b" onChange={(e) => edit(i, { enum: e.target.value })} />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>
                  <button type="button" aria-label={`Remove ${lower} ${r.name}`} title="Remove" onClick={() => write(rows.filter((_, j) => j !== i))}>
                    ×
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" onClick={() => write([...rows, newRow(rows, lower)])}>
        Add {lower}
      </button>
    </section>
  );
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function OutputsEditor({ def, diagnostics, onChange }: WorkflowPanelProps) {
  const outputs = isObj(def.outputs) ? def.outputs : {};
  const keys = Object.keys(outputs);
  const write = (next: Record<string, unknown>) => onChange(setField(def, "outputs", Object.keys(next).length ? next : undefined), "outputs");
  const rename = (from: string, to: string) => write(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k === from ? to : k, v])));
  const fresh = () => {
    if (!keys.includes("result")) return "result";
    for (let i = 2; ; i++) if (!keys.includes(`result_${i}`)) return `result_${i}`;
  };
  return (
    <section className="dz-wf-section" aria-label="Outputs">
      <h3>Outputs</h3>
      <Messages list={under(diagnostics, "outputs")} />
      {keys.length === 0 ? (
        <p className="muted">No outputs.</p>
      ) : (
        <Completions vars={variablesAt(def, null)} accept={(el) => el.classList.contains("dz-expr")}>
          <table className="dz-table">
            <tbody>
              {keys.map((k, i) => (
                <tr key={i} data-output={k}>
                  <td>
                    <KeyField label={`Output ${i + 1} name`} value={k} taken={keys.filter((x) => x !== k)} onCommit={(to) => rename(k, to)} />
                  </td>
                  <td className="dz-wide">
                    <input
                      type="text"
                      className="dz-expr"
                      aria-label={`Output ${k} value`}
                      placeholder="${ $tasks.… }"
                      value={typeof outputs[k] === "string" ? (outputs[k] as string) : JSON.stringify(outputs[k] ?? null)}
                      onChange={(e) => write({ ...outputs, [k]: e.target.value })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove output ${k}`}
                      title="Remove"
                      onClick={() => write(Object.fromEntries(Object.entries(outputs).filter(([x]) => x !== k)))}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Completions>
      )}
      <button type="button" onClick={() => write({ ...outputs, [fresh()]: "" })}>
        Add output
      </button>
    </section>
  );
}

const TRIGGER_FIELDS: Record<string, { path: string; label: string; placeholder?: string; options?: string[] }[]> = {
  schedule: [
    { path: "cron", label: "cron", placeholder: "0 0 * * *" },
    { path: "timezone", label: "timezone", placeholder: "UTC" },
  ],
  webhook: [
    { path: "name", label: "name", placeholder: "github-push" },
    { path: "verify.preset", label: "verify", options: VERIFY_PRESETS },
    { path: "verify.secret", label: "secret", placeholder: "${ $secrets.NAME }" },
  ],
  event: [
    { path: "type", label: "type", placeholder: "order.paid" },
    { path: "source", label: "source" },
  ],
};

function TriggersEditor({ def, diagnostics, onChange }: WorkflowPanelProps) {
  const rows = triggerRows(def.triggers);
  const [kind, setKind] = useState<string>("schedule");
  const write = (next: unknown[] | undefined) => onChange(setField(def, "triggers", next), "triggers");
  return (
    <section className="dz-wf-section" aria-label="Triggers">
      <h3>Triggers</h3>
      <Messages list={under(diagnostics, "triggers")} />
      {rows.length === 0 && <p className="muted">No triggers: runs start by hand or through the API.</p>}
      {rows.map((r, i) => (
        <div key={i} className="dz-trigger" data-trigger={r.kind || "other"}>
          <strong>{r.kind || "?"}</strong>
          {(TRIGGER_FIELDS[r.kind] ?? []).map((f) => {
            const v = getField(r.body, f.path);
            const text = typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v);
            const set = (value: string) => write(setTriggerField(def.triggers, i, f.path, value));
            return (
              <label key={f.path}>
                <span className="dz-row-label">{f.label}</span>
                {f.options ? (
                  <select aria-label={`Trigger ${i + 1} ${f.label}`} value={text} onChange={(e) => set(e.target.value)}>
                    <option value="">—</option>
                    {f.options.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input type="text" aria-label={`Trigger ${i + 1} ${f.label}`} value={text} placeholder={f.placeholder} onChange={(e) => set(e.target.value)} />
                )}
              </label>
            );
          })}
          {!TRIGGER_FIELDS[r.kind] && <span className="muted">edit it in the YAML</span>}
          <button type="button" aria-label={`Remove trigger ${i + 1}`} title="Remove" onClick={() => write(removeTrigger(def.triggers, i))}>
            ×
          </button>
        </div>
      ))}
      <div className="dz-trigger-add">
        <select aria-label="New trigger kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          {TRIGGER_KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>{" "}
        <button type="button" onClick={() => write(addTrigger(def.triggers, kind))}>
          Add trigger
        </button>
      </div>
    </section>
  );
}

export function WorkflowPanel(p: WorkflowPanelProps) {
  return (
    <div className="dz-workflow-panel">
      <InputsEditor {...p} />
      <OutputsEditor {...p} />
      <TriggersEditor {...p} />
    </div>
  );
}
