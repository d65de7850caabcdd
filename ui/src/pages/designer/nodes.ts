// The designer's nodes: every task the canvas draws, and its id. A task of `tasks` or of
// a handler block is its name (all blocks share one namespace); a task's fallback or
// compensation is `NAME.fallback` / `NAME.compensate`, as the engine names them (task
// names hold no `.`, so the ids never collide). The graph is the execution page's plan
// of the definition (plan.ts: needs, fallbacks, compensations, handlers hanging off
// the ends), so both pages draw a workflow alike. Also which node a diagnostic's path
// is about. Pure functions.
import { planFromDefinition, type EdgeKind } from "../execution/plan";
import type { WorkflowDefinition } from "../../api/types";
import { BLOCKS, removeTask, setTaskField, tasksOf, type Block, type Definition, type TaskDef } from "./model";

/** What a task carries as tasks of its own (no `needs`; named `NAME.sub`). */
export type Sub = "fallback" | "compensate";
export const SUBS: Sub[] = ["fallback", "compensate"];

/** Where a node's task is in the definition. */
export interface NodeRef {
  block: Block;
  name: string;
  sub?: Sub;
}

export interface GraphNode {
  id: string;
  type: string;
  block: Block;
  sub?: Sub;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** `needs` (the only kind drawn or deleted by hand), a task to its fallback or
   *  compensation, or the end of the tasks to a handler. */
  kind: EdgeKind;
}

export interface DesignGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The id of a node. */
export function nodeId(r: NodeRef): string {
  return r.sub ? `${r.name}.${r.sub}` : r.name;
}

/** Where the node of this id is in the definition (null: it has none). */
export function refOf(def: Definition, id: string): NodeRef | null {
  const dot = id.lastIndexOf(".");
  const sub = dot > 0 ? (id.slice(dot + 1) as Sub) : undefined;
  if (sub && SUBS.includes(sub)) {
    const r: NodeRef = { block: "tasks", name: id.slice(0, dot), sub };
    return taskAt(def, r) ? r : null;
  }
  const block = BLOCKS.find((b) => Object.hasOwn(tasksOf(def, b), id));
  return block ? { block, name: id } : null;
}

/** The task a node stands for, if the definition has it. */
export function taskAt(def: Definition, r: NodeRef): TaskDef | undefined {
  const tasks = tasksOf(def, r.block);
  if (!Object.hasOwn(tasks, r.name)) return undefined;
  const t = tasks[r.name];
  if (!r.sub) return isObj(t) ? t : undefined;
  const s = isObj(t) ? t[r.sub] : undefined;
  return isObj(s) ? (s as TaskDef) : undefined;
}

/** The dotted path of a node's task, as diagnostics name it (`tasks.x.fallback`). */
export function pathOf(r: NodeRef): string {
  return `${r.block}.${r.name}${r.sub ? `.${r.sub}` : ""}`;
}

/** The node a diagnostic's path is about (`tasks.x.with.url` → x, `on_failure.alert.if`
 *  → alert, `tasks.x.fallback.with` → x.fallback). */
export function nodeOfPath(path: string): string | null {
  const m = /^(?:tasks|on_failure|on_success|finally)\.([A-Za-z0-9_]+)(?:\.(fallback|compensate)(?=\.|$))?/.exec(path);
  if (!m) return null;
  return m[2] ? `${m[1]}.${m[2]}` : m[1];
}

/** Sets one field of a node's task (`undefined` or "" removes it). */
export function setFieldAt(def: Definition, r: NodeRef, key: string, value: unknown): Definition {
  if (!r.sub) return setTaskField(def, r.name, key, value, r.block);
  const sub = taskAt(def, r);
  if (!sub) return def;
  const next: TaskDef = { ...sub };
  if (value === undefined || value === "") delete next[key];
  else next[key] = value;
  return setTaskField(def, r.name, r.sub, next, r.block);
}

/** The graph of the definition (a task without a type is drawn as `?`). */
export function toGraph(def: Definition): DesignGraph {
  const plan = planFromDefinition(def as WorkflowDefinition);
  return {
    nodes: plan.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      block: n.role === "handler" && n.block ? n.block : "tasks",
      ...(n.role === "fallback" || n.role === "compensate" ? { sub: n.role } : {}),
    })),
    edges: plan.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind })),
  };
}

/** The definition without a node's task (a fallback or compensation: the key removed;
 *  a task: it and the needs naming it). */
export function removeNode(def: Definition, r: NodeRef): Definition {
  if (r.sub) return setTaskField(def, r.name, r.sub, undefined, r.block);
  return removeTask(def, r.name, r.block);
}
