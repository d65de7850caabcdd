// The execution's full history: every event with its seq, time, kind and one line,
// virtualized (a 10,000-item fan-out logs 20,000 events), filtered by text, and
// following the end as events arrive (unless scrolled up).
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import type { EventView } from "../../api/types";
import { formatCount } from "./counts";
import { eventLine } from "./summary";

const ROW = 22;

/** `HH:MM:SS.mmm`, local time. */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

const BAD = new Set(["attempt_failed", "task_failed", "execution_failed", "task_held"]);

export function EventRows({
  events,
  height,
  follow,
  label,
  onPick,
}: {
  events: readonly EventView[];
  height: number;
  follow: boolean;
  label: string;
  onPick?: (ev: EventView) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const virtual = useVirtualizer({ count: events.length, getScrollElement: () => ref.current, estimateSize: () => ROW, overscan: 15 });
  useEffect(() => {
    // Straight to the end: the virtualizer knows the height, so nothing is measured
    // (reading the element's scrollHeight would lay the page out on every batch).
    const el = ref.current;
    if (el && follow && atEnd.current && events.length) el.scrollTop = virtual.getTotalSize();
  }, [events.length, follow, virtual]);
  return (
    <div
      className="xp-log"
      ref={ref}
      style={{ maxHeight: height, height: Math.min(height, events.length * ROW + 2) }}
      role="log"
      aria-label={label}
      onScroll={(e) => {
        const el = e.currentTarget;
        atEnd.current = el.scrollTop + el.clientHeight >= virtual.getTotalSize() - ROW * 2;
      }}
    >
      <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
        {virtual.getVirtualItems().map((v) => {
          const ev = events[v.index];
          return (
            <div
              key={ev.seq}
              className={`xp-log-row${BAD.has(ev.kind) ? " bad" : ""}${onPick ? " pick" : ""}`}
              style={{ transform: `translateY(${v.start}px)`, height: ROW }}
              data-seq={ev.seq}
              onClick={onPick ? () => onPick(ev) : undefined}
            >
              <span className="xp-log-seq">{ev.seq}</span>
              <span className="xp-log-at" title={ev.at}>
                {clock(ev.at)}
              </span>
              <span className="xp-log-kind">{ev.kind}</span>
              <span className="xp-log-line">{eventLine(ev)}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}

export function EventLog({
  events,
  version,
  onSelectTask,
}: {
  events: readonly EventView[];
  version: number;
  onSelectTask: (task: string, item?: number) => void;
}) {
  const [filter, setFilter] = useState("");
  const shown = useMemo(() => {
    const q = filter.trim().toLowerCase();
    if (!q) return events;
    return events.filter((e) => e.kind.includes(q) || eventLine(e).toLowerCase().includes(q));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [events, filter, version, events.length]);
  return (
    <section className="xp-events" aria-label="Event log">
      <div className="xp-tl-tools">
        <h2>Event log</h2>
        <span className="muted">
          {filter ? `${formatCount(shown.length)} of ` : ""}
          {formatCount(events.length)} events
        </span>
        <span className="spacer" />
        <input type="search" placeholder="filter: kind, task, text" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter events" />
      </div>
      <EventRows
        events={shown}
        height={320}
        follow={!filter}
        label="Events"
        onPick={(ev) => {
          const t = ev.event.task;
          if (typeof t === "string") onSelectTask(t, typeof ev.event.item === "number" ? ev.event.item : undefined);
        }}
      />
    </section>
  );
}
