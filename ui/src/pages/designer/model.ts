// The designer's model: one workflow definition (plain JSON, the format's shape) and
// pure functions over it — adding, removing and renaming tasks, connecting and
// disconnecting them (a cycle refused), setting a task's or the workflow's fields.
// Each works on one block of tasks: `tasks` (the default) or a handler block
// (`on_failure`, `on_success`, `finally`), whose tasks need only tasks of their own
// block; all blocks share one namespace of names. An emptied handler block is removed.
// Nothing here mutates its argument. (The graph drawn from it is in nodes.ts.)

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface TaskDef {
  type?: string;
  needs?: string | string[];
  [k: string]: unknown;
}

export interface Definition {
  name?: string;
  description?: string;
  tasks?: Record<string, TaskDef>;
  [k: string]: unknown;
}

/** A map of tasks in a definition: its `tasks` or one of its handler blocks. */
export type Block = "tasks" | "on_failure" | "on_success" | "finally";
export const HANDLER_BLOCKS = ["on_failure", "on_success", "finally"] as const;
export const BLOCKS: Block[] = ["tasks", ...HANDLER_BLOCKS];

export type Result = { ok: true; def: Definition } | { ok: false; error: string };

export const TASK_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Whether the map has this task (its own key: not `constructor`, `toString`, … from
 *  Object.prototype; `__proto__` is a valid task name, an own key when parsed). */
function has(tasks: Record<string, TaskDef>, name: string): boolean {
  return Object.hasOwn(tasks, name);
}

/** Sets a task (an own key even when it is `__proto__`, which `=` would not make). */
function put(tasks: Record<string, TaskDef>, name: string, task: TaskDef): void {
  Object.defineProperty(tasks, name, { value: task, enumerable: true, writable: true, configurable: true });
}

/** The tasks of a block of a definition (an empty map when it has none or they are not a map). */
export function tasksOf(def: Definition, block: Block = "tasks"): Record<string, TaskDef> {
  const b = def[block];
  return isObj(b) ? (b as Record<string, TaskDef>) : {};
}

/** The block holding a task of this name, if any. */
export function blockOfName(def: Definition, name: string): Block | null {
  return BLOCKS.find((b) => has(tasksOf(def, b), name)) ?? null;
}

/** A task's `needs` as a list (the format allows one name or a list). */
export function needsOf(task: TaskDef | undefined): string[] {
  const n = task?.needs;
  if (typeof n === "string") return [n];
  if (Array.isArray(n)) return n.filter((x): x is string => typeof x === "string");
  return [];
}

function withTasks(def: Definition, tasks: Record<string, TaskDef>, block: Block = "tasks"): Definition {
  if (block !== "tasks" && Object.keys(tasks).length === 0) {
    const out = { ...def };
    delete out[block];
    return out;
  }
  return { ...def, [block]: tasks };
}

/** The task with these needs (none: the key left out; new: written first, as the docs do). */
function withNeeds(task: TaskDef, needs: string[]): TaskDef {
  const out = { ...task };
  if (needs.length === 0) delete out.needs;
  else if ("needs" in out) out.needs = needs;
  else return { needs, ...out };
  return out;
}

/** A task name not yet taken, from a type name: `http`, `http_2`, … */
export function uniqueName(def: Definition, base: string): string {
  const taken = (n: string) => blockOfName(def, n) !== null;
  let stem = base.replace(/[^A-Za-z0-9_]/g, "_");
  if (!/^[A-Za-z_]/.test(stem)) stem = `t_${stem}`;
  if (!taken(stem)) return stem;
  for (let i = 2; ; i++) if (!taken(`${stem}_${i}`)) return `${stem}_${i}`;
}

/** Adds a task of `type` (with `with` as given) to a block; returns the definition and its name. */
export function addTask(def: Definition, type: string, withValue: unknown = {}, block: Block = "tasks"): { def: Definition; name: string } {
  const name = uniqueName(def, type);
  const task: TaskDef = { type };
  if (withValue !== undefined) task.with = withValue;
  const tasks = { ...tasksOf(def, block) };
  put(tasks, name, task);
  return { def: withTasks(def, tasks, block), name };
}

/** Removes a task of a block, and removes it from the others' needs. */
export function removeTask(def: Definition, name: string, block: Block = "tasks"): Definition {
  const tasks: Record<string, TaskDef> = {};
  for (const [id, t] of Object.entries(tasksOf(def, block))) {
    if (id === name) continue;
    const needs = needsOf(t);
    put(tasks, id, needs.includes(name) ? withNeeds(t, needs.filter((n) => n !== name)) : t);
  }
  return withTasks(def, tasks, block);
}

/** Renames a task of a block (keeping its place), updating the needs naming it. The
 *  new name must be free in every block (they share one namespace). */
export function renameTask(def: Definition, from: string, to: string, block: Block = "tasks"): Result {
  const tasks = tasksOf(def, block);
  if (!has(tasks, from)) return { ok: false, error: `there is no task \`${from}\`` };
  if (from === to) return { ok: true, def };
  if (!TASK_NAME.test(to)) return { ok: false, error: `\`${to}\` is not a task name: letters, digits and _, starting with a letter or _` };
  const other = blockOfName(def, to);
  if (other === block) return { ok: false, error: `there is already a task \`${to}\`` };
  if (other) return { ok: false, error: `there is already a task \`${to}\` in \`${other}\` (all blocks share one namespace)` };
  const out: Record<string, TaskDef> = {};
  for (const [id, t] of Object.entries(tasks)) {
    const needs = needsOf(t);
    const next = needs.includes(from) ? renamedNeeds(t, from, to) : t;
    put(out, id === from ? to : id, next);
  }
  return { ok: true, def: withTasks(def, out, block) };
}

/** The needs with one name replaced, in the form they were written (name or list). */
function renamedNeeds(t: TaskDef, from: string, to: string): TaskDef {
  if (typeof t.needs === "string") return { ...t, needs: to };
  return { ...t, needs: needsOf(t).map((n) => (n === from ? to : n)) };
}

/** Whether `to` is upstream of `from` (following needs from `from`) in a block. */
function upstream(def: Definition, from: string, target: string, block: Block): boolean {
  const tasks = tasksOf(def, block);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    if (has(tasks, id)) stack.push(...needsOf(tasks[id]));
  }
  return false;
}

/** Makes `b` need `a` (both of `block`); refuses a cycle (or an unknown task). */
export function connect(def: Definition, a: string, b: string, block: Block = "tasks"): Result {
  const tasks = tasksOf(def, block);
  if (!has(tasks, a) || !has(tasks, b)) return { ok: false, error: `there is no task \`${has(tasks, a) ? b : a}\`` };
  if (a === b) return { ok: false, error: `a task cannot need itself` };
  const needs = needsOf(tasks[b]);
  if (needs.includes(a)) return { ok: true, def };
  if (upstream(def, a, b, block)) return { ok: false, error: `\`${b}\` already runs before \`${a}\`: making \`${b}\` need \`${a}\` would make a cycle` };
  const out = { ...tasks };
  put(out, b, withNeeds(tasks[b], [...needs, a]));
  return { ok: true, def: withTasks(def, out, block) };
}

/** Removes `a` from b's needs (in `block`). */
export function disconnect(def: Definition, a: string, b: string, block: Block = "tasks"): Definition {
  const tasks = tasksOf(def, block);
  if (!has(tasks, b)) return def;
  const needs = needsOf(tasks[b]);
  if (!needs.includes(a)) return def;
  const out = { ...tasks };
  put(out, b, withNeeds(tasks[b], needs.filter((n) => n !== a)));
  return withTasks(def, out, block);
}

/** Whether a value counts as "not set" (left out of the definition). */
function unset(v: unknown): boolean {
  return v === undefined || v === "";
}

/** Sets one field of a task of `block` (`undefined` or "" removes it). */
export function setTaskField(def: Definition, name: string, key: string, value: unknown, block: Block = "tasks"): Definition {
  const tasks = tasksOf(def, block);
  if (!has(tasks, name)) return def;
  const t = { ...tasks[name] };
  if (unset(value)) delete t[key];
  else t[key] = value;
  const out = { ...tasks };
  put(out, name, t);
  return withTasks(def, out, block);
}

/** Sets one top-level field of the workflow (`undefined` or "" removes it). */
export function setField(def: Definition, key: string, value: unknown): Definition {
  const out = { ...def };
  if (unset(value)) delete out[key];
  else out[key] = value;
  return out;
}

/** A starting definition for a new workflow. */
export function emptyDefinition(): Definition {
  return { name: "new-workflow", tasks: {} };
}
