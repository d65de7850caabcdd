// One row of the Gantt: its label (sticky on the left) and its bars. A task row draws
// all its attempts (queue, run, waits, backoffs); an attempt row one attempt; a
// fan-out's aggregated row the span of the task with the density of its items' runs
// (how many ran at once) and its failures marked; an item row that item's attempts.
import { memo } from "react";
import { formatDuration } from "../../lib/time";
import { formatCount } from "./counts";
import { type TimeScale, xOf } from "./scale";
import { taskColor } from "./status";
import { skipWhy } from "./summary";
import { type Row, unitSegments } from "./bars";
import type { Segment, TaskTrack, UnitTrack } from "./timeline";

export const ROW_H = 22;
export const LABEL_W = 220;

const WORDS: Record<Segment["kind"], string> = { queue: "queued", run: "ran", wait: "waited", backoff: "backoff" };

function outcomeColor(u: UnitTrack, attempt: number): string {
  const a = u.attempts.find((x) => x.attempt === attempt);
  return taskColor(a?.outcome ?? "running");
}

function Bars({ unit, scale, now, attempt }: { unit: UnitTrack; scale: TimeScale; now: number; attempt?: number }) {
  const segs = unitSegments(unit, now, attempt);
  return (
    <>
      {segs.map((s, i) => {
        const x0 = xOf(scale, s.from);
        const w = Math.max(2, xOf(scale, s.to) - x0);
        const color = s.kind === "run" ? outcomeColor(unit, s.attempt) : undefined;
        const what = s.kind === "wait" ? `waited for ${s.label}` : WORDS[s.kind];
        const a = s.kind === "run" ? unit.attempts.find((x) => x.attempt === s.attempt) : undefined;
        const err = a?.error ? ` — ${a.error.class ?? "error"}: ${a.error.message ?? ""}` : "";
        return (
          <div
            key={i}
            className={`xp-seg ${s.kind}${s.open ? " open" : ""}`}
            style={{ left: x0, width: w, background: color }}
            title={`attempt ${s.attempt}: ${what} ${formatDuration(s.to - s.from)}${err}`}
            data-kind={s.kind}
          />
        );
      })}
    </>
  );
}

export interface Density {
  counts: Uint32Array;
  max: number;
  bucketPx: number;
}

function DensityPath({ d, x0, x1 }: { d: Density; x0: number; x1: number }) {
  const h = ROW_H - 6;
  const b0 = Math.floor(x0 / d.bucketPx);
  const b1 = Math.min(d.counts.length - 1, Math.ceil(x1 / d.bucketPx));
  let path = `M${b0 * d.bucketPx},${h}`;
  for (let b = b0; b <= b1; b++) {
    const y = h - (d.counts[b] / Math.max(1, d.max)) * h;
    path += `L${b * d.bucketPx},${y.toFixed(1)}L${(b + 1) * d.bucketPx},${y.toFixed(1)}`;
  }
  path += `L${(b1 + 1) * d.bucketPx},${h}Z`;
  return <path d={path} />;
}

interface Props {
  row: Row;
  track: TaskTrack | undefined;
  status: string;
  scale: TimeScale;
  now: number;
  density?: Density;
  selected: boolean;
  onSelect: (task: string, item?: number) => void;
  onToggle: (task: string) => void;
}

export const TimelineRow = memo(function TimelineRow({ row, track, status, scale, now, density, selected, onSelect, onToggle }: Props) {
  const click = () => onSelect(row.task, row.kind === "item" ? row.item : undefined);
  let label: React.ReactNode;
  let body: React.ReactNode = null;
  if (row.kind === "task") {
    const n = track?.units.length ?? 0;
    label = (
      <>
        {row.fanOut ? (
          <button
            className="link xp-tl-toggle"
            aria-label={row.expanded ? `Fold ${row.task}` : `Unfold ${row.task}`}
            aria-expanded={row.expanded}
            onClick={(e) => {
              e.stopPropagation();
              onToggle(row.task);
            }}
          >
            {row.expanded ? "▾" : "▸"}
          </button>
        ) : (
          <span className="xp-tl-toggle" />
        )}
        <span className="xp-dot" style={{ background: taskColor(status) }} />
        <span className="xp-tl-name">{row.task}</span>
        {row.fanOut && <span className="muted"> ×{formatCount(n)}</span>}
        {!row.fanOut && row.attempts > 1 && <span className="muted"> ({row.attempts} attempts)</span>}
      </>
    );
    if (track?.reused) {
      body = <span className="xp-tl-note" style={{ left: xOf(scale, track.startedAt ?? scale.t0) }}>reused from the retried execution</span>;
    } else if (track?.fanOut && track.startedAt !== null) {
      const x0 = xOf(scale, track.startedAt);
      const x1 = xOf(scale, track.endedAt ?? now);
      const failures: number[] = [];
      for (const u of track.units) {
        for (const a of u.attempts) if (a.outcome === "failed" && a.endedAt !== null && failures.length < 400) failures.push(xOf(scale, a.endedAt));
      }
      body = (
        <>
          <div className="xp-agg" style={{ left: x0, width: Math.max(2, x1 - x0), borderColor: taskColor(status) }} />
          {density && (
            <svg className="xp-density" width={scale.width} height={ROW_H - 6} style={{ color: taskColor("running") }}>
              <DensityPath d={density} x0={x0} x1={x1} />
            </svg>
          )}
          {failures.map((x, i) => (
            <div key={i} className="xp-fail-mark" style={{ left: x }} />
          ))}
        </>
      );
    } else if (track && track.units[0]) {
      body = <Bars unit={track.units[0]} scale={scale} now={now} />;
    } else if (status === "skipped") {
      const x = xOf(scale, track?.endedAt ?? scale.t0);
      // Near the end, the note reads leftwards from its moment.
      const place = x > scale.width - 220 ? { right: Math.max(0, scale.width - x) } : { left: x };
      body = (
        <span className="xp-tl-note" style={place}>
          skipped: {skipWhy(track?.skipReason)}
        </span>
      );
    } else {
      body = <span className="xp-tl-note muted" style={{ left: 4 }}>{status}</span>;
    }
  } else if (row.kind === "attempt") {
    const u = track?.units[0];
    const a = u?.attempts.find((x) => x.attempt === row.attempt);
    label = (
      <>
        <span className="xp-tl-toggle" />
        <span className="xp-tl-sub">attempt {row.attempt}</span>
        {a && <span className="muted"> {a.outcome}</span>}
      </>
    );
    body = u ? <Bars unit={u} scale={scale} now={now} attempt={row.attempt} /> : null;
  } else {
    const u = track?.units[row.item];
    const a = u?.attempts[u.attempts.length - 1];
    label = (
      <>
        <span className="xp-tl-toggle" />
        <span className="xp-dot" style={{ background: taskColor(a?.outcome ?? (u?.droppedAt ? "cancelled" : "pending")) }} />
        <span className="xp-tl-sub">
          {row.task}[{row.item}]
        </span>
        {u && u.attempts.length > 1 && <span className="muted"> ({u.attempts.length} attempts)</span>}
      </>
    );
    body = u ? <Bars unit={u} scale={scale} now={now} /> : null;
  }
  return (
    <div className={selected ? "xp-tl-row selected" : "xp-tl-row"} onClick={click} data-row={row.key}>
      <div className="xp-tl-label" style={{ width: LABEL_W }}>
        {label}
      </div>
      <div className="xp-tl-track" style={{ width: scale.width }}>
        {body}
      </div>
    </div>
  );
});
