// A fan-out's items: each with its index, status, attempts, duration and error (or
// its `$item`), filtered by status, virtualized (10,000 rows scroll as smoothly as
// ten). Clicking an item selects it.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef, useState } from "react";
import type { TaskView } from "../../api/types";
import { durationMs, formatDuration } from "../../lib/time";
import { countEntries, countItems, formatCount } from "./counts";
import { taskColor } from "./status";

const ROW = 26;

function preview(v: unknown): string {
  if (v === undefined) return "";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

interface Props {
  task: string;
  items: TaskView[];
  values: unknown[] | undefined;
  version: number;
  now: number;
  selected: number | undefined;
  onSelect: (item: number) => void;
}

export function ItemsList({ task, items, values, version, now, selected, onSelect }: Props) {
  const [status, setStatus] = useState<string>("");
  const ref = useRef<HTMLDivElement>(null);
  const counts = useMemo(() => countItems(items), [items, version]); // eslint-disable-line react-hooks/exhaustive-deps
  const indices = useMemo(() => {
    const out: number[] = [];
    for (let i = 0; i < items.length; i++) if (!status || items[i].status === status) out.push(i);
    return out;
  }, [items, status, version]); // eslint-disable-line react-hooks/exhaustive-deps
  const virtual = useVirtualizer({ count: indices.length, getScrollElement: () => ref.current, estimateSize: () => ROW, overscan: 20 });
  return (
    <div className="xp-items">
      <div className="xp-items-filter" role="group" aria-label="Filter items by status">
        <button className={status === "" ? "chip on" : "chip"} onClick={() => setStatus("")}>
          all {formatCount(items.length)}
        </button>
        {countEntries(counts).map(([s, n]) => (
          <button key={s} className={status === s ? "chip on" : "chip"} onClick={() => setStatus(s)}>
            {s} {formatCount(n)}
          </button>
        ))}
      </div>
      <div className="xp-items-list" ref={ref} data-testid="items-list" role="list" aria-label={`Items of ${task}`}>
        <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
          {virtual.getVirtualItems().map((v) => {
            const i = indices[v.index];
            const it = items[i];
            const running = it.status === "running" || it.status === "retrying";
            const d = it.started_at ? durationMs(it.started_at, it.ended_at, running ? now : undefined) : null;
            return (
              <div
                key={i}
                role="listitem"
                className={selected === i ? "xp-item selected" : "xp-item"}
                style={{ transform: `translateY(${v.start}px)`, height: ROW }}
                onClick={() => onSelect(i)}
                data-item={i}
              >
                <span className="xp-item-idx">[{i}]</span>
                <span className="xp-item-status" style={{ color: taskColor(it.status) }}>
                  {it.status}
                </span>
                <span className="xp-item-att">{it.attempts > 1 ? `${it.attempts} attempts` : ""}</span>
                <span className="xp-item-dur">{formatDuration(d)}</span>
                <span className={it.error ? "xp-item-err" : "xp-item-val muted"} title={it.error?.message}>
                  {it.error ? `${it.error.class ?? "error"}: ${it.error.message ?? ""}` : it.waiting ? `waits for ${it.waiting.for}` : preview(values?.[i])}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
