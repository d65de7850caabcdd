// The page's live state, outside React: the execution (from the WebSocket's snapshot,
// then folded event by event), the event log (read over REST once, then extended by
// the WebSocket) and the timeline built from it. Messages are buffered and applied in
// batches, at most one per animation frame and 100 to 250 ms apart, so a 10,000-item
// fan-out streaming 20,000 events re-renders a few times a second, not 20,000 times.
// Components subscribe with `useExecutionStore` and read the state at `version`.
import { useSyncExternalStore } from "react";
import type { EventView, ExecutionDetail, ExecutionMessage } from "../../api/types";
import { unitName } from "./fields";
import { applyEvent } from "./reduce";
import { applyToTimeline, emptyTimeline, type Timeline } from "./timeline";

/** Batches are ~100 ms apart, up to 250 ms when re-rendering one costs more than 25 ms
 * (the page keeps three quarters of the main thread for people). */
const BATCH_MIN_MS = 100;
const BATCH_MAX_MS = 250;

export class ExecutionStore {
  execution: ExecutionDetail | null = null;
  /** The seq the execution's state is current to. */
  execSeq = 0;
  /** The log, contiguous from seq 1 (`events[i].seq === i + 1`). */
  events: EventView[] = [];
  timeline: Timeline = emptyTimeline();
  /** The values of each fan-out's items (`$item`), from its `task_started`. */
  itemValues = new Map<string, unknown[]>();
  /** The child execution of each sub-workflow unit (`task` or `task[item]`), from its waits. */
  children = new Map<string, string>();
  finished = false;
  /** The REST log has been read at least once. */
  eventsLoaded = false;
  /** The log has a hole the WebSocket cannot fill (a resync): read it again. */
  needEvents = false;
  version = 0;
  /** Messages applied, and batches (for the performance figures). */
  stats = { messages: 0, resyncs: 0, batches: 0, lastBatchMs: 0, maxBatchMs: 0, renderMs: 0, maxRenderMs: 0, renders: 0 };

  private pending: ExecutionMessage[] = [];
  private ahead = new Map<number, EventView>();
  private listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private frame: number | null = null;
  private lastFlush = 0;
  private lastRenderMs = 0;

  subscribe = (f: () => void): (() => void) => {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  };

  getVersion = (): number => this.version;

  /** A WebSocket message: buffered, applied with the next batch (at once for the
   * first snapshot, so the page paints as soon as it can). */
  receive(msg: ExecutionMessage): void {
    this.pending.push(msg);
    if (!this.execution && (msg.type === "snapshot" || msg.type === "resync" || msg.type === "finished")) {
      this.flush();
      return;
    }
    this.schedule();
  }

  /** The log as read over REST (any length; what is already known is kept). */
  setEvents(list: readonly EventView[]): void {
    for (const ev of list) this.addEvent(ev);
    this.drain();
    this.eventsLoaded = true;
    this.needEvents = this.ahead.size > 0 || this.events.length < this.execSeq;
    this.changed();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.timer || this.frame !== null) return;
    const every = Math.min(BATCH_MAX_MS, Math.max(BATCH_MIN_MS, 4 * this.lastRenderMs));
    const wait = Math.max(0, every - (performance.now() - this.lastFlush));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (typeof document !== "undefined" && document.hidden) this.flush();
      else
        this.frame = requestAnimationFrame(() => {
          this.frame = null;
          this.flush();
        });
    }, wait);
  }

  /** Applies every buffered message, then tells the subscribers once. */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    const started = performance.now();
    this.pending = [];
    for (const msg of batch) this.apply(msg);
    this.drain();
    if (this.eventsLoaded && (this.ahead.size > 0 || this.events.length < this.execSeq)) this.needEvents = true;
    const took = performance.now() - started;
    this.stats.messages += batch.length;
    this.stats.batches += 1;
    this.stats.lastBatchMs = took;
    this.stats.maxBatchMs = Math.max(this.stats.maxBatchMs, took);
    this.lastFlush = performance.now();
    this.changed();
    // What the subscribers' re-render cost: React renders the update before the next
    // task, so the time to it is the batch's render and commit.
    const rendered = performance.now();
    setTimeout(() => {
      const r = performance.now() - rendered;
      this.lastRenderMs = r;
      this.stats.renders += 1;
      this.stats.renderMs += r;
      this.stats.maxRenderMs = Math.max(this.stats.maxRenderMs, r);
    }, 0);
  }

  private apply(msg: ExecutionMessage): void {
    switch (msg.type) {
      case "snapshot":
      case "resync":
        if (msg.type === "resync") this.stats.resyncs += 1;
        this.execution = msg.execution;
        this.execSeq = msg.last_seq;
        if (msg.execution.ended_at && ["succeeded", "failed", "cancelled"].includes(msg.execution.status)) this.finished = true;
        return;
      case "finished":
        this.execution = msg.execution;
        this.finished = true;
        return;
      case "event": {
        const ev: EventView = { seq: msg.seq, at: msg.at, kind: msg.kind, event: msg.event, summary: msg.summary };
        if (this.execution && ev.seq > this.execSeq) {
          applyEvent(this.execution, ev.kind, ev.event, ev.at);
          this.execSeq = ev.seq;
        }
        this.addEvent(ev);
        return;
      }
    }
  }

  private addEvent(ev: EventView): void {
    const next = this.events.length + 1;
    if (ev.seq < next) {
      // Known already; keep the server's line if this copy has it.
      const known = this.events[ev.seq - 1];
      if (known && !known.summary && ev.summary) known.summary = ev.summary;
      return;
    }
    if (ev.seq > next) {
      this.ahead.set(ev.seq, ev);
      return;
    }
    const early = this.ahead.get(ev.seq);
    if (early) {
      // The WebSocket's copy came first: it has the server's line.
      this.ahead.delete(ev.seq);
      ev.summary ??= early.summary;
    }
    this.events.push(ev);
    applyToTimeline(this.timeline, ev);
    const task = ev.event.task;
    if (typeof task !== "string") return;
    if (ev.kind === "task_started" && Array.isArray(ev.event.items)) this.itemValues.set(task, ev.event.items);
    if (ev.kind === "attempt_waiting") {
      const wait = ev.event.wait as { on?: unknown; execution?: unknown } | undefined;
      if (wait?.on === "child" && typeof wait.execution === "string") {
        this.children.set(unitName(task, typeof ev.event.item === "number" ? ev.event.item : null), wait.execution);
      }
    }
  }

  private drain(): void {
    for (;;) {
      const ev = this.ahead.get(this.events.length + 1);
      if (!ev) break;
      this.ahead.delete(ev.seq);
      this.addEvent(ev);
    }
    // Drop what the log already has.
    for (const seq of this.ahead.keys()) if (seq <= this.events.length) this.ahead.delete(seq);
  }

  private changed(): void {
    this.version += 1;
    this.listeners.forEach((f) => f());
  }
}

/** Re-renders on every batch; returns the version (for memos). */
export function useExecutionStore(store: ExecutionStore): number {
  return useSyncExternalStore(store.subscribe, store.getVersion);
}
