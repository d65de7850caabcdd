// Undo and redo over snapshots of the definition (with its YAML text). Edits with the
// same tag within a short time (typing in one field) make one step.
import type { Definition } from "./model";

export interface Snapshot {
  def: Definition;
  text: string;
}

export interface History {
  past: Snapshot[];
  present: Snapshot;
  future: Snapshot[];
  tag: string | null;
  at: number;
}

const COALESCE_MS = 1000;
const LIMIT = 200;

export function start(present: Snapshot): History {
  return { past: [], present, future: [], tag: null, at: 0 };
}

export function push(h: History, next: Snapshot, tag: string | null = null, now = Date.now()): History {
  if (tag !== null && tag === h.tag && now - h.at < COALESCE_MS) return { ...h, present: next, future: [], at: now };
  return { past: [...h.past, h.present].slice(-LIMIT), present: next, future: [], tag, at: now };
}

export function undo(h: History): History {
  if (!h.past.length) return h;
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future], tag: null, at: 0 };
}

export function redo(h: History): History {
  if (!h.future.length) return h;
  return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1), tag: null, at: 0 };
}
