// The whole plan of an execution as a graph, from the workflow definition of its
// version: every task (those that ran and those that never will), the handler blocks
// (`on_failure`, `on_success`, `finally`), fallbacks (`NAME.fallback`) and
// compensations (`NAME.compensate`), with their dependencies. Tasks the execution
// has but the definition lacks (a definition that cannot be read) are added without
// edges. Pure: the layout is in layout.ts.
import type { TaskDefinition, TaskView, WorkflowDefinition } from "../../api/types";

export type NodeRole = "task" | "handler" | "fallback" | "compensate";
export type HandlerBlock = "on_failure" | "on_success" | "finally";
export type EdgeKind = "needs" | "handler" | "fallback" | "compensate";

export interface PlanNode {
  id: string;
  type: string;
  role: NodeRole;
  block?: HandlerBlock;
  needs: string[];
  fanOut: boolean;
  forEach?: unknown;
  condition?: unknown;
  join?: string;
  onError?: string;
  description?: string;
  with?: unknown;
  concurrency?: number;
}

export interface PlanEdge {
  id: string;
  from: string;
  to: string;
  kind: EdgeKind;
}

export interface Plan {
  nodes: PlanNode[];
  edges: PlanEdge[];
  /** Node ids in a stable reading order: tasks, then fallbacks and compensations
   * beside their task, then handlers. */
  order: string[];
}

const BLOCKS: HandlerBlock[] = ["on_failure", "on_success", "finally"];

/** `needs` as written: a name or a list of names. */
export function needsOf(t: TaskDefinition): string[] {
  const n: unknown = t.needs;
  if (typeof n === "string") return [n];
  if (Array.isArray(n)) return n.filter((x): x is string => typeof x === "string");
  return [];
}

/** A task definition (one without a type, as the designer may hold, is drawn as `?`). */
function isTask(v: unknown): v is TaskDefinition {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function nodeOf(id: string, t: TaskDefinition, role: NodeRole, needs: string[], block?: HandlerBlock): PlanNode {
  return {
    id,
    type: typeof t.type === "string" ? t.type : "?",
    role,
    block,
    needs,
    fanOut: t.for_each !== undefined && t.for_each !== null,
    forEach: t.for_each,
    condition: t.if,
    join: typeof t.join === "string" ? t.join : undefined,
    onError: typeof t.on_error === "string" ? t.on_error : undefined,
    description: typeof t.description === "string" ? t.description : undefined,
    with: t.with,
    concurrency: typeof t.concurrency === "number" ? t.concurrency : undefined,
  };
}

/** The plan of `def`, completed with the tasks `tasks` has that `def` lacks. */
export function planFromDefinition(def: WorkflowDefinition | null, tasks?: Record<string, TaskView>): Plan {
  const nodes: PlanNode[] = [];
  const edges: PlanEdge[] = [];
  const seen = new Set<string>();
  const add = (n: PlanNode) => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    nodes.push(n);
  };
  const edge = (from: string, to: string, kind: EdgeKind) => edges.push({ id: `${kind}:${from}->${to}`, from, to, kind });

  const main = def?.tasks && typeof def.tasks === "object" ? def.tasks : {};
  const extras: PlanNode[] = [];
  for (const [name, t] of Object.entries(main)) {
    if (!isTask(t)) continue;
    const needs = needsOf(t);
    add(nodeOf(name, t, "task", needs));
    for (const n of needs) edge(n, name, "needs");
    for (const role of ["fallback", "compensate"] as const) {
      const sub: unknown = t[role];
      if (isTask(sub)) {
        const id = `${name}.${role}`;
        extras.push(nodeOf(id, sub, role, []));
        edge(name, id, role);
      }
    }
  }
  extras.forEach(add);

  // Handlers run once every task has ended: their roots hang off the main tasks
  // nothing else needs (the plan's ends).
  const mainIds = nodes.filter((n) => n.role === "task").map((n) => n.id);
  const needed = new Set(nodes.filter((n) => n.role === "task").flatMap((n) => n.needs));
  const sinks = mainIds.filter((id) => !needed.has(id));
  for (const block of BLOCKS) {
    const handlers: unknown = def?.[block];
    if (!handlers || typeof handlers !== "object") continue;
    for (const [name, t] of Object.entries(handlers as Record<string, unknown>)) {
      if (!isTask(t)) continue;
      const needs = needsOf(t);
      add(nodeOf(name, t, "handler", needs, block));
      if (needs.length) for (const n of needs) edge(n, name, "needs");
      else for (const s of sinks) edge(s, name, "handler");
    }
  }

  // What ran but the definition does not say (it could not be read).
  for (const [name, view] of Object.entries(tasks ?? {})) {
    if (seen.has(name)) continue;
    const dot = name.lastIndexOf(".");
    const role: NodeRole = name.endsWith(".fallback") ? "fallback" : name.endsWith(".compensate") ? "compensate" : "task";
    add({ id: name, type: "?", role, needs: [], fanOut: !!view.items });
    if (role !== "task" && seen.has(name.slice(0, dot))) edge(name.slice(0, dot), name, role);
  }

  // Edges only between known nodes (a `needs` naming nothing draws nothing).
  const known = edges.filter((e) => seen.has(e.from) && seen.has(e.to));
  return { nodes, edges: known, order: nodes.map((n) => n.id) };
}
