// The variables an expression may read at one task: `$inputs.<property>` (from the
// workflow's inputs schema), `$tasks.<upstream>.output` (the tasks it needs,
// transitively; never a task downstream or unrelated), `$item`/`$index` in a fan-out,
// `$params.<name>`, `$secrets.` and `$execution.id`. Pure: used for completions.
import { needsOf, tasksOf, type Definition } from "./model";

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The tasks upstream of `task` (through needs, transitively), in definition order. */
export function upstreamOf(def: Definition, task: string): string[] {
  const tasks = tasksOf(def);
  const seen = new Set<string>();
  const stack = [...needsOf(tasks[task])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || id === task || !(id in tasks)) continue;
    seen.add(id);
    stack.push(...needsOf(tasks[id]));
  }
  return Object.keys(tasks).filter((t) => seen.has(t));
}

/** The variables valid in the expressions of `taskName` (null: workflow level, e.g. outputs). */
export function variablesAt(def: Definition, taskName: string | null): string[] {
  const out: string[] = [];
  const inputs = def.inputs;
  if (isObj(inputs) && isObj(inputs.properties)) for (const k of Object.keys(inputs.properties)) out.push(`$inputs.${k}`);
  else out.push("$inputs");
  const tasks = tasksOf(def);
  const upstream = taskName === null ? Object.keys(tasks) : upstreamOf(def, taskName);
  for (const t of upstream) out.push(`$tasks.${t}.output`);
  const task = taskName === null ? undefined : tasks[taskName];
  if (task && task.for_each !== undefined && task.for_each !== null && task.for_each !== "") out.push("$item", "$index");
  if (isObj(def.params)) for (const k of Object.keys(def.params)) out.push(`$params.${k}`);
  out.push("$secrets.", "$execution.id");
  return out;
}

/** The `$…` word being typed just before `caret` in `text` (its start and text), if any. */
export function wordAt(text: string, caret: number): { start: number; word: string } | null {
  const before = text.slice(0, caret);
  const m = /\$[A-Za-z0-9_.]*$/.exec(before);
  return m ? { start: m.index, word: m[0] } : null;
}

/** The variables starting with what is typed (all of them for a bare `$`). */
export function filterVariables(vars: string[], word: string): string[] {
  const w = word.toLowerCase();
  return vars.filter((v) => v.toLowerCase().startsWith(w) && v !== word);
}

/** `text` with the word at `start..caret` replaced by `value`: the new text and caret
 * (just after the variable, so `.field` can follow it). */
export function insertVariable(text: string, start: number, caret: number, value: string): { text: string; caret: number } {
  // Outside a `${ }` the variable is wrapped in one (a plain string is not an expression).
  const before = text.slice(0, start);
  const open = before.lastIndexOf("${");
  const inside = open >= 0 && before.indexOf("}", open) < 0;
  const ins = inside ? value : `\${ ${value} }`;
  return { text: before + ins + text.slice(caret), caret: start + (inside ? ins.length : 3 + value.length) };
}
