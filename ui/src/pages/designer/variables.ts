// The variables an expression may read at one node: `$inputs.<property>` (from the
// workflow's inputs schema), `$tasks.<upstream>.output` (the tasks it needs,
// transitively; never a task downstream or unrelated), `$item`/`$index` in a fan-out,
// `$params.<name>`, `$secrets.` and `$execution.id`. A fallback reads what its task
// may; a compensation also its task; a handler every task of `tasks`, the handlers it
// needs, and `$execution.status`/`.error`. Pure: used for completions.
import { needsOf, tasksOf, type Block, type Definition } from "./model";
import { refOf, taskAt } from "./nodes";

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The tasks of `block` upstream of `task` (through needs, transitively), in definition order. */
export function upstreamOf(def: Definition, task: string, block: Block = "tasks"): string[] {
  const tasks = tasksOf(def, block);
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

/** The variables valid in the expressions of node `node` (a node id; null: workflow
 *  level, e.g. outputs). */
export function variablesAt(def: Definition, node: string | null): string[] {
  const out: string[] = [];
  const inputs = def.inputs;
  if (isObj(inputs) && isObj(inputs.properties)) for (const k of Object.keys(inputs.properties)) out.push(`$inputs.${k}`);
  else out.push("$inputs");
  const tasks = tasksOf(def);
  const ref = node === null ? null : refOf(def, node);
  let readable: string[];
  if (ref === null) readable = Object.keys(tasks);
  else if (ref.block !== "tasks") readable = [...Object.keys(tasks), ...upstreamOf(def, ref.name, ref.block)];
  else readable = [...upstreamOf(def, ref.name), ...(ref.sub === "compensate" ? [ref.name] : [])];
  for (const t of readable) out.push(`$tasks.${t}.output`);
  const task = ref === null ? undefined : taskAt(def, ref);
  if (task && task.for_each !== undefined && task.for_each !== null && task.for_each !== "") out.push("$item", "$index");
  if (isObj(def.params)) for (const k of Object.keys(def.params)) out.push(`$params.${k}`);
  out.push("$secrets.", "$execution.id");
  if (ref && ref.block !== "tasks") out.push("$execution.status", "$execution.error");
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
