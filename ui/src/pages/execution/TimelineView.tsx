// The Gantt timeline: one row per task (and per attempt of a task tried again), a
// fan-out folded into one row unless unfolded, queue waits, runs, waits and backoffs
// as bars on a time axis whose idle gaps are compressed (break marks say how long
// they were). Zoom with the buttons or Ctrl + wheel (about the pointer); rows are
// virtualized, so an unfolded 10,000-item fan-out scrolls.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { formatDuration } from "../../lib/time";
import { buildScale, compressibleGaps, density, fitPxPerMs, mergeIntervals, ticks, timeAt, xOf } from "./scale";
import { buildRows, busySpans, runSpans, span } from "./bars";
import type { Timeline } from "./timeline";
import { type Density, LABEL_W, ROW_H, TimelineRow } from "./TimelineRow";

const GAP_PX = 46;
const AXIS_H = 24;
const MAX_ZOOM = 4096;
const BUCKET_PX = 3;

interface Props {
  timeline: Timeline;
  order: string[];
  statusOf: (task: string) => string;
  version: number;
  now: number;
  selected: { task: string; item?: number } | null;
  onSelect: (task: string, item?: number) => void;
}

export function TimelineView({ timeline, order, statusOf, version, now, selected, onSelect }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  const [zoom, setZoom] = useState(1);
  const [compress, setCompress] = useState(true);
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());
  const anchor = useRef<{ t: number; offset: number } | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setWidth(el.clientWidth);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const sp = span(timeline, now);
  const model = useMemo(() => {
    if (!sp) return null;
    const busy = mergeIntervals(busySpans(timeline, now));
    const gaps = compress ? compressibleGaps(sp.t0, sp.t1, busy) : [];
    const track = Math.max(200, width - LABEL_W - 16);
    const fit = fitPxPerMs(sp.t0, sp.t1, gaps, GAP_PX, track);
    const scale = buildScale(sp.t0, sp.t1, gaps, fit * zoom, GAP_PX);
    const densities = new Map<string, Density>();
    for (const t of timeline.tasks.values()) {
      if (t.fanOut && !expanded.has(t.task)) densities.set(t.task, { ...density(runSpans(t, now), scale, BUCKET_PX), bucketPx: BUCKET_PX });
    }
    return { scale, densities, ticks: ticks(scale) };
    // `version` stands for the timeline's contents (mutated in place).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, sp?.t0, sp?.t1, compress, zoom, width, expanded]);

  const rows = useMemo(() => buildRows(order, timeline, expanded), [order, timeline, expanded, version]); // eslint-disable-line react-hooks/exhaustive-deps

  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_H,
    overscan: 12,
  });

  // Zoom about a time: keep it under the pointer (or the middle).
  const zoomTo = useCallback(
    (next: number, clientX?: number) => {
      const el = scroller.current;
      const z = Math.min(MAX_ZOOM, Math.max(1, next));
      if (el && model) {
        const rect = el.getBoundingClientRect();
        const offset = clientX !== undefined ? clientX - rect.left - LABEL_W : (el.clientWidth - LABEL_W) / 2;
        anchor.current = { t: timeAt(model.scale, el.scrollLeft + offset), offset };
      }
      setZoom(z);
    },
    [model],
  );

  useLayoutEffect(() => {
    const el = scroller.current;
    const a = anchor.current;
    if (!el || !a || !model) return;
    anchor.current = null;
    el.scrollLeft = Math.max(0, xOf(model.scale, a.t) - a.offset);
  }, [model]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const wheel = (e: WheelEvent) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      zoomTo(zoom * (e.deltaY < 0 ? 1.25 : 0.8), e.clientX);
    };
    el.addEventListener("wheel", wheel, { passive: false });
    return () => el.removeEventListener("wheel", wheel);
  }, [zoom, zoomTo]);

  const toggle = useCallback((task: string) => {
    setExpanded((s) => {
      const next = new Set(s);
      if (next.has(task)) next.delete(task);
      else next.add(task);
      return next;
    });
  }, []);

  const total = virtual.getTotalSize();
  const contentW = LABEL_W + (model?.scale.width ?? 0) + 16;
  const height = Math.min(440, AXIS_H + Math.max(rows.length, 1) * ROW_H + 16);
  return (
    <section className="xp-timeline" aria-label="Timeline">
      <div className="xp-tl-tools">
        <h2>Timeline</h2>
        <button onClick={() => zoomTo(zoom / 2)} disabled={zoom <= 1} aria-label="Zoom the timeline out">
          −
        </button>
        <button onClick={() => zoomTo(zoom * 2)} disabled={zoom >= MAX_ZOOM} aria-label="Zoom the timeline in">
          +
        </button>
        <button onClick={() => setZoom(1)} disabled={zoom === 1} aria-label="Fit the timeline">
          Fit
        </button>
        <span className="muted xp-zoom">×{zoom < 10 ? zoom.toFixed(zoom % 1 ? 2 : 0) : Math.round(zoom)}</span>
        <label className="xp-check">
          <input type="checkbox" checked={compress} onChange={(e) => setCompress(e.target.checked)} />
          compress idle gaps
        </label>
        <span className="spacer" />
        <span className="xp-legend">
          <i className="xp-seg queue" /> queued <i className="xp-seg run" /> ran <i className="xp-seg wait" /> waited{" "}
          <i className="xp-seg backoff" /> backoff <i className="xp-gap-key" /> idle (compressed)
        </span>
      </div>
      <div className="xp-tl-scroll" ref={scroller} style={{ height }} data-testid="timeline">
        {!model ? (
          <p className="muted xp-empty">Nothing has run yet.</p>
        ) : (
          <div style={{ width: contentW, height: AXIS_H + total, position: "relative" }}>
            <div className="xp-tl-axis" style={{ width: contentW, height: AXIS_H }}>
              <div className="xp-tl-corner" style={{ width: LABEL_W }} />
              {model.ticks.map((t) => (
                <span key={t.t} className="xp-tick" style={{ left: LABEL_W + t.x }}>
                  {t.label}
                </span>
              ))}
              {model.scale.pieces
                .filter((p) => p.gap)
                .map((p) => (
                  <span
                    key={p.from}
                    className="xp-gap-label"
                    style={{ left: LABEL_W + p.x, width: p.width }}
                    title={`idle for ${formatDuration(p.to - p.from)} (compressed)`}
                  >
                    {formatDuration(p.to - p.from)}
                  </span>
                ))}
            </div>
            {model.scale.pieces
              .filter((p) => p.gap)
              .map((p) => (
                <div key={p.from} className="xp-gap" style={{ left: LABEL_W + p.x, width: p.width, top: AXIS_H, height: total }} />
              ))}
            {timeline.pauses.map((p) => {
              const x0 = xOf(model.scale, p.from);
              const x1 = xOf(model.scale, p.to ?? now);
              return (
                <div key={p.from} className="xp-pause" title="paused" style={{ left: LABEL_W + x0, width: Math.max(2, x1 - x0), top: AXIS_H, height: total }} />
              );
            })}
            {virtual.getVirtualItems().map((v) => {
              const row = rows[v.index];
              const sel =
                !!selected && selected.task === row.task && (row.kind === "item" ? selected.item === row.item : row.kind === "task" && selected.item === undefined);
              return (
                <div key={row.key} style={{ position: "absolute", top: AXIS_H + v.start, left: 0, width: contentW, height: ROW_H }}>
                  <TimelineRow
                    row={row}
                    track={timeline.tasks.get(row.task)}
                    status={statusOf(row.task)}
                    scale={model.scale}
                    now={now}
                    density={row.kind === "task" ? model.densities.get(row.task) : undefined}
                    selected={sel}
                    onSelect={onSelect}
                    onToggle={toggle}
                  />
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
