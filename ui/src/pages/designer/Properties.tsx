// The property editor: the workflow's name and description, and for the selected node
// (a task, a handler, a fallback or a compensation) its name (rename), `with` (a form
// generated from the type's parameter schema; strings may be `${ }` expressions),
// `needs` (among the tasks of its own block), `if`, `for_each` + `concurrency`,
// `retry`, `timeout`, `on_error`, `join`, and for a task of `tasks` its fallback and
// compensation (added from a type, opened, removed). The server's diagnostics for a
// field are shown under it.
import { useState, type ReactNode } from "react";
import type { JsonSchema } from "../../api/types";
import { SchemaForm } from "../workflows/SchemaForm";
import { initialWith, type Diagnostic, type TaskType } from "./api";
import { under, withErrors } from "./diagnostics";
import { Completions } from "./Completions";
import { needsOf, setField, setTaskField, tasksOf, type Definition, type TaskDef } from "./model";
import { SUBS, pathOf, refOf, setFieldAt, taskAt, type NodeRef, type Sub } from "./nodes";
import { variablesAt } from "./variables";
import { WorkflowPanel } from "./WorkflowPanel";

export interface PropertiesProps {
  def: Definition;
  task: string | null;
  types: Record<string, TaskType>;
  diagnostics: Diagnostic[];
  onChange: (def: Definition, tag: string) => void;
  onRename: (from: string, to: string) => string | null;
  onToggleNeed: (need: string, on: boolean) => void;
  /** Selects a node (a fallback or compensation, from its task's fields). */
  onSelect: (node: string) => void;
  /** Template mode: the template's own fields, shown (instead of the workflow's name
   *  and description) when no task is selected. */
  template?: ReactNode;
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

function Row({ label, children, errors = [] }: { label: string; children: ReactNode; errors?: Diagnostic[] }) {
  return (
    <div className="dz-row">
      <label>
        <span className="dz-row-label">{label}</span>
        {children}
      </label>
      <Messages list={errors} />
    </div>
  );
}

/** A text field that keeps what is typed (the value it stands for may differ). */
function Text({ value, onChange, placeholder, name }: { value: string; onChange: (s: string) => void; placeholder?: string; name: string }) {
  return <input type="text" name={name} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />;
}

function Select({ value, options, onChange, name }: { value: string; options: string[]; onChange: (s: string) => void; name: string }) {
  return (
    <select name={name} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">—</option>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
}

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A number from a field, or the text when it is not one (the server says why). */
function num(s: string): unknown {
  if (s.trim() === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** `for_each`: a JSON list as written, else the text (an expression). */
function listOrText(s: string): unknown {
  if (s.trim().startsWith("[")) {
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  }
  return s === "" ? undefined : s;
}

function NameField({ name, onRename }: { name: string; onRename: (from: string, to: string) => string | null }) {
  const [text, setText] = useState(name);
  const [seen, setSeen] = useState(name);
  const [error, setError] = useState<string | null>(null);
  if (seen !== name) {
    setSeen(name);
    setText(name);
    setError(null);
  }
  const commit = () => {
    if (text === name) return;
    setError(onRename(name, text.trim()));
  };
  return (
    <div className="dz-row">
      <label>
        <span className="dz-row-label">Task name</span>
        <input
          type="text"
          name="task-name"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === "Enter") commit();
          }}
        />
      </label>
      {error && <div className="sf-errors dz-field-errors">{error}</div>}
    </div>
  );
}

const SUB_LABEL: Record<Sub, string> = { fallback: "Fallback", compensate: "Compensation" };
const SUB_HELP: Record<Sub, string> = {
  fallback: "runs when every attempt failed; its output stands in",
  compensate: "undoes this task's effect when the execution fails",
};

/** A task's fallback or compensation: open or remove it, or add one of a type. */
function SubTask({ p, name, task, sub }: { p: PropertiesProps; name: string; task: TaskDef; sub: Sub }) {
  const [type, setType] = useState("");
  const has = task[sub] !== undefined;
  return (
    <div className="dz-row dz-sub" data-sub={sub}>
      <span className="dz-row-label">
        {SUB_LABEL[sub]} <span className="muted">({SUB_HELP[sub]})</span>
      </span>
      {has ? (
        <div>
          <button type="button" onClick={() => p.onSelect(`${name}.${sub}`)}>
            Open {name}.{sub}
          </button>{" "}
          <button type="button" onClick={() => p.onChange(setTaskField(p.def, name, sub, undefined), `${name}.${sub}`)}>
            Remove
          </button>
        </div>
      ) : (
        <div>
          <select name={`${sub}-type`} aria-label={`${SUB_LABEL[sub]} type`} value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">type…</option>
            {Object.keys(p.types).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>{" "}
          <button
            type="button"
            disabled={!type}
            onClick={() => {
              const w = initialWith(p.types[type]);
              p.onChange(setTaskField(p.def, name, sub, w === undefined ? { type } : { type, with: w }), `${name}.${sub}`);
              p.onSelect(`${name}.${sub}`);
            }}
          >
            Add {sub}
          </button>
        </div>
      )}
    </div>
  );
}

/** The heading of a node's fields: what it is. */
function Heading({ r, type }: { r: NodeRef; type: string }) {
  const t = <span className="muted">({type || "no type"})</span>;
  if (r.sub)
    return (
      <h3>
        {SUB_LABEL[r.sub]} of <code>{r.name}</code> {t}
      </h3>
    );
  if (r.block !== "tasks")
    return (
      <h3>
        Handler <code>{r.name}</code> <span className="muted">in {r.block}</span> {t}
      </h3>
    );
  return (
    <h3>
      Task <code>{r.name}</code> {t}
    </h3>
  );
}

function TaskFields({ p, id, r, task }: { p: PropertiesProps; id: string; r: NodeRef; task: TaskDef }) {
  const name = r.name;
  const type = typeof task.type === "string" ? task.type : "";
  const tt = p.types[type];
  const path = pathOf(r);
  const errs = (key: string) => under(p.diagnostics, `${path}.${key}`);
  const set = (key: string, value: unknown) => p.onChange(setFieldAt(p.def, r, key, value), `${id}.${key}`);
  const retry = (task.retry && typeof task.retry === "object" ? task.retry : {}) as Record<string, unknown>;
  const setRetry = (key: string, value: unknown) => {
    const next = { ...retry };
    if (value === undefined || value === "") delete next[key];
    else next[key] = value;
    set("retry", Object.keys(next).length ? next : undefined);
  };
  const others = Object.keys(tasksOf(p.def, r.block)).filter((t) => t !== name);
  const needs = needsOf(task);
  const ownErrors = p.diagnostics.filter((d) => d.path === path || d.path === `${path}.type`);
  const vars = variablesAt(p.def, id);
  const expressive = (el: HTMLInputElement | HTMLTextAreaElement) => !!el.closest(".dz-with") || el.name === "if" || el.name === "for_each";
  return (
    <Completions vars={vars} accept={expressive}>
    <section className="dz-task-props" aria-label={`Task ${id}`}>
      <Heading r={r} type={type} />
      <Messages list={ownErrors} />
      {!r.sub && <NameField key={name} name={name} onRename={p.onRename} />}
      <Row label="Description" errors={errs("description")}>
        <Text name="description" value={str(task.description)} onChange={(v) => set("description", v)} />
      </Row>
      <fieldset className="dz-with" aria-label="with">
        <legend>with</legend>
        {tt ? (
          <SchemaForm
            schema={tt.params as JsonSchema}
            label="with"
            value={task.with}
            errors={withErrors(p.diagnostics, `${path}.with`)}
            onChange={(v) => set("with", v === undefined ? {} : v)}
          />
        ) : (
          <div className="muted">Unknown type: edit `with` in the YAML.</div>
        )}
      </fieldset>
      {!r.sub && (
        <div className="dz-row">
          <span className="dz-row-label">needs</span>
          {others.length === 0 && <div className="muted">{r.block === "tasks" ? "no other tasks" : `no other handlers in ${r.block}`}</div>}
          <div className="dz-needs">
            {others.map((o) => (
              <label key={o}>
                <input type="checkbox" checked={needs.includes(o)} onChange={(e) => p.onToggleNeed(o, e.target.checked)} /> {o}
              </label>
            ))}
          </div>
          <Messages list={errs("needs")} />
        </div>
      )}
      <Row label="if" errors={errs("if")}>
        <Text name="if" value={str(task.if)} placeholder="${ … }" onChange={(v) => set("if", v === "true" ? true : v === "false" ? false : v)} />
      </Row>
      <Row label="for_each" errors={errs("for_each")}>
        <Text name="for_each" value={str(task.for_each)} placeholder="${ $inputs.items } or [1, 2]" onChange={(v) => set("for_each", listOrText(v))} />
      </Row>
      <Row label="concurrency" errors={errs("concurrency")}>
        <Text name="concurrency" value={str(task.concurrency)} onChange={(v) => set("concurrency", num(v))} />
      </Row>
      <Row label="retry: max_attempts" errors={errs("retry")}>
        <Text name="retry.max_attempts" value={str(retry.max_attempts)} onChange={(v) => setRetry("max_attempts", num(v))} />
      </Row>
      <Row label="retry: backoff">
        <Select name="retry.backoff" value={str(retry.backoff)} options={["fixed", "linear", "exponential"]} onChange={(v) => setRetry("backoff", v || undefined)} />
      </Row>
      <Row label="timeout" errors={errs("timeout")}>
        <Text name="timeout" value={str(task.timeout)} placeholder="30s" onChange={(v) => set("timeout", v)} />
      </Row>
      <Row label="on_error" errors={errs("on_error")}>
        <Select name="on_error" value={str(task.on_error)} options={["fail", "continue", "pause"]} onChange={(v) => set("on_error", v || undefined)} />
      </Row>
      <Row label="join" errors={errs("join")}>
        <Select name="join" value={str(task.join)} options={["all", "any", "all_done"]} onChange={(v) => set("join", v || undefined)} />
      </Row>
      {r.block === "tasks" && !r.sub && (
        <fieldset className="dz-recovery" aria-label="Recovery">
          <legend>Recovery</legend>
          {SUBS.map((s) => (
            <SubTask key={s} p={p} name={name} task={task} sub={s} />
          ))}
        </fieldset>
      )}
      {r.sub && (
        <button type="button" className="link" onClick={() => p.onSelect(name)}>
          ← back to {name}
        </button>
      )}
    </section>
    </Completions>
  );
}

export function Properties(p: PropertiesProps) {
  const r = p.task ? refOf(p.def, p.task) : null;
  const task = r ? taskAt(p.def, r) : undefined;
  const errs = (key: string) => under(p.diagnostics, key);
  return (
    <aside className="dz-props" aria-label="Properties">
      {p.template !== undefined ? (
        !(r && task) && p.template
      ) : (
      <section aria-label="Workflow">
        <Row label="Workflow name" errors={errs("name")}>
          <Text name="workflow-name" value={str(p.def.name)} onChange={(v) => p.onChange(setField(p.def, "name", v), "name")} />
        </Row>
        <Row label="Workflow description" errors={errs("description")}>
          <Text name="workflow-description" value={str(p.def.description)} onChange={(v) => p.onChange(setField(p.def, "description", v), "description")} />
        </Row>
      </section>
      )}
      {p.task && r && task ? <TaskFields p={p} id={p.task} r={r} task={task} /> : <WorkflowPanel def={p.def} diagnostics={p.diagnostics} onChange={p.onChange} />}
    </aside>
  );
}
