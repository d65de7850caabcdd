// The designer's model: one workflow definition (plain JSON, the format's shape) and
// pure functions over it — its graph (tasks and their `needs`), adding, removing and
// renaming tasks, connecting and disconnecting them (a cycle refused), setting a
// task's or the workflow's fields. Nothing here mutates its argument.

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

export interface GraphEdge {
  from: string;
  to: string;
}

export interface DesignGraph {
  nodes: { id: string; type: string }[];
  edges: GraphEdge[];
}

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

/** The tasks of a definition (an empty map when it has none or they are not a map). */
export function tasksOf(def: Definition): Record<string, TaskDef> {
  return isObj(def.tasks) ? (def.tasks as Record<string, TaskDef>) : {};
}

/** A task's `needs` as a list (the format allows one name or a list). */
export function needsOf(task: TaskDef | undefined): string[] {
  const n = task?.needs;
  if (typeof n === "string") return [n];
  if (Array.isArray(n)) return n.filter((x): x is string => typeof x === "string");
  return [];
}

/** The graph: a node per task, an edge a→b per `a` in b's needs (to a task that exists). */
export function toGraph(def: Definition): DesignGraph {
  const tasks = tasksOf(def);
  const nodes = Object.entries(tasks).map(([id, t]) => ({ id, type: typeof t?.type === "string" ? t.type : "?" }));
  const edges: GraphEdge[] = [];
  for (const [id, t] of Object.entries(tasks)) {
    for (const n of needsOf(t)) if (has(tasks, n)) edges.push({ from: n, to: id });
  }
  return { nodes, edges };
}

function withTasks(def: Definition, tasks: Record<string, TaskDef>): Definition {
  return { ...def, tasks };
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
  const tasks = tasksOf(def);
  let stem = base.replace(/[^A-Za-z0-9_]/g, "_");
  if (!/^[A-Za-z_]/.test(stem)) stem = `t_${stem}`;
  if (!has(tasks, stem)) return stem;
  for (let i = 2; ; i++) if (!has(tasks, `${stem}_${i}`)) return `${stem}_${i}`;
}

/** Adds a task of `type` (with `with` as given); returns the definition and its name. */
export function addTask(def: Definition, type: string, withValue: unknown = {}): { def: Definition; name: string } {
  const name = uniqueName(def, type);
  const task: TaskDef = { type };
  if (withValue !== undefined) task.with = withValue;
  return { def: withTasks(def, { ...tasksOf(def), [name]: task }), name };
}

/** Removes a task, and removes it from the others' needs. */
export function removeTask(def: Definition, name: string): Definition {
  const tasks: Record<string, TaskDef> = {};
  for (const [id, t] of Object.entries(tasksOf(def))) {
    if (id === name) continue;
    const needs = needsOf(t);
    put(tasks, id, needs.includes(name) ? withNeeds(t, needs.filter((n) => n !== name)) : t);
  }
  return withTasks(def, tasks);
}

/** Renames a task (keeping its place), updating the needs naming it. */
export function renameTask(def: Definition, from: string, to: string): Result {
  const tasks = tasksOf(def);
  if (!has(tasks, from)) return { ok: false, error: `there is no task \`${from}\`` };
  if (from === to) return { ok: true, def };
  if (!TASK_NAME.test(to)) return { ok: false, error: `\`${to}\` is not a task name: letters, digits and _, starting with a letter or _` };
  if (has(tasks, to)) return { ok: false, error: `there is already a task \`${to}\`` };
  const out: Record<string, TaskDef> = {};
  for (const [id, t] of Object.entries(tasks)) {
    const needs = needsOf(t);
    const next = needs.includes(from) ? renamedNeeds(t, from, to) : t;
    put(out, id === from ? to : id, next);
  }
  return { ok: true, def: withTasks(def, out) };
}

/** The needs with one name replaced, in the form they were written (name or list). */
function renamedNeeds(t: TaskDef, from: string, to: string): TaskDef {
  if (typeof t.needs === "string") return { ...t, needs: to };
  return { ...t, needs: needsOf(t).map((n) => (n === from ? to : n)) };
}

/** Whether `to` is upstream of `from` (following needs from `from`). */
function upstream(def: Definition, from: string, target: string): boolean {
  const tasks = tasksOf(def);
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

/** Makes `b` need `a`; refuses a cycle (or an unknown task). */
export function connect(def: Definition, a: string, b: string): Result {
  const tasks = tasksOf(def);
  if (!has(tasks, a) || !has(tasks, b)) return { ok: false, error: `there is no task \`${has(tasks, a) ? b : a}\`` };
  if (a === b) return { ok: false, error: `a task cannot need itself` };
  const needs = needsOf(tasks[b]);
  if (needs.includes(a)) return { ok: true, def };
  if (upstream(def, a, b)) return { ok: false, error: `\`${b}\` already runs before \`${a}\`: making \`${b}\` need \`${a}\` would make a cycle` };
  return { ok: true, def: withTasks(def, { ...tasks, [b]: withNeeds(tasks[b], [...needs, a]) }) };
}

/** Removes `a` from b's needs. */
export function disconnect(def: Definition, a: string, b: string): Definition {
  const tasks = tasksOf(def);
  if (!has(tasks, b)) return def;
  const needs = needsOf(tasks[b]);
  if (!needs.includes(a)) return def;
  return withTasks(def, { ...tasks, [b]: withNeeds(tasks[b], needs.filter((n) => n !== a)) });
}

/** Whether a value counts as "not set" (left out of the definition). */
function unset(v: unknown): boolean {
  return v === undefined || v === "";
}

/** Sets one field of a task (`undefined` or "" removes it). */
export function setTaskField(def: Definition, name: string, key: string, value: unknown): Definition {
  const tasks = tasksOf(def);
  if (!has(tasks, name)) return def;
  const t = { ...tasks[name] };
  if (unset(value)) delete t[key];
  else t[key] = value;
  return withTasks(def, { ...tasks, [name]: t });
}

/** Sets one top-level field of the workflow (`undefined` or "" removes it). */
export function setField(def: Definition, key: string, value: unknown): Definition {
  const out = { ...def };
  if (unset(value)) delete out[key];
  else out[key] = value;
  return out;
}

/** The tasks named by a diagnostic's path (`tasks.fetch.with.url` → fetch). */
export function taskOfPath(path: string): string | null {
  const m = /^tasks\.([A-Za-z0-9_]+)/.exec(path);
  return m ? m[1] : null;
}

/** A starting definition for a new workflow. */
export function emptyDefinition(): Definition {
  return { name: "new-workflow", tasks: {} };
}
