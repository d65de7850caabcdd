// Executions over time (`/api/analytics/timeseries`): a bar per bucket, stacked by
// status in the console's status colours, drawn in plain SVG at the width it is
// shown at, with a count axis, a time axis, a legend, and each bar's counts in a
// tooltip (and in its SVG title).
import { useState } from "react";
import { statusColor } from "../../components/Status";
import { barText, bucketLabel, bucketSize, countTicks, extent, layoutBars, STACK, timeTicks, type Box } from "./chart";
import { formatCount } from "./format";
import type { Timeseries } from "./types";
import { useWidth } from "./useWidth";

const HEIGHT = 220;
const MARGIN = { left: 44, right: 12, top: 12, bottom: 36 };

export function TimeChart({ series }: { series: Timeseries }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const [hover, setHover] = useState<number | null>(null);
  const box: Box = { width, height: HEIGHT, ...MARGIN };
  const max = Math.max(0, ...series.buckets.map((b) => b.executions.total));
  const yTicks = countTicks(max);
  const yMax = yTicks[yTicks.length - 1];
  const bars = layoutBars(series.buckets, series.bucket_seconds, box, yMax);
  const [t0, t1] = extent(series.buckets, series.bucket_seconds);
  const innerW = Math.max(1, width - MARGIN.left - MARGIN.right);
  const xOf = (t: number) => MARGIN.left + ((t - t0) * innerW) / (t1 - t0);
  const yOf = (v: number) => MARGIN.top + (HEIGHT - MARGIN.top - MARGIN.bottom) * (1 - v / yMax);
  const xTicks = timeTicks(t0, t1, Math.max(2, Math.floor(innerW / 90)));
  const base = HEIGHT - MARGIN.bottom;
  const totals = Object.fromEntries(STACK.map((s) => [s, series.buckets.reduce((n, b) => n + b.executions[s], 0)]));
  const shown = hover !== null ? bars[hover] : null;

  return (
    <div className="an-chart">
      <div className="an-legend" aria-label="Legend">
        {STACK.filter((s) => totals[s] > 0 || s === "succeeded" || s === "failed").map((s) => (
          <span key={s} data-status={s}>
            <i className="an-swatch" style={{ background: statusColor(s) }} />
            {s} <b>{formatCount(totals[s])}</b>
          </span>
        ))}
        <span className="muted an-bucket-size">a bar per {bucketSize(series.bucket_seconds)}</span>
      </div>
      <div className="an-plot" ref={ref}>
      <svg width={width} height={HEIGHT} role="img" aria-label="Executions over time, by status" onMouseLeave={() => setHover(null)}>
        {yTicks.map((v) => (
          <g key={v} className="an-ytick">
            <line x1={MARGIN.left} x2={width - MARGIN.right} y1={yOf(v)} y2={yOf(v)} />
            <text x={MARGIN.left - 6} y={yOf(v)} dy="0.32em" textAnchor="end">
              {formatCount(v)}
            </text>
          </g>
        ))}
        {xTicks.map((k) => {
          const x = xOf(k.t);
          // A label that would pass the chart's right edge ends at its tick instead.
          const anchor = x + k.label.length * 3.5 > width ? "end" : "middle";
          return (
            <g key={k.t} className="an-xtick">
              <line x1={x} x2={x} y1={base} y2={base + 4} />
              <text x={x} y={base + 16} textAnchor={anchor}>
                {k.label}
              </text>
              {k.date && (
                <text x={x} y={base + 30} textAnchor={anchor} className="an-xdate">
                  {k.date}
                </text>
              )}
            </g>
          );
        })}
        <line className="an-baseline" x1={MARGIN.left} x2={width - MARGIN.right} y1={base} y2={base} />
        {bars.map((b, i) => (
          <g
            key={b.start}
            className={hover === i ? "an-bar hover" : "an-bar"}
            data-start={new Date(b.start).toISOString()}
            data-total={b.counts.total}
            onMouseEnter={() => setHover(i)}
          >
            <title>{barText(b)}</title>
            <rect className="an-hit" x={b.x} y={MARGIN.top} width={b.width} height={base - MARGIN.top} />
            {b.segments.map((s) => (
              <rect key={s.status} x={b.x} y={s.y} width={b.width} height={Math.max(s.height, 0.5)} fill={statusColor(s.status)} data-status={s.status} />
            ))}
          </g>
        ))}
      </svg>
      {shown && (
        <div
          className={shown.x > width / 2 ? "an-tooltip left" : "an-tooltip"}
          role="tooltip"
          // Beside its bar (left of it in the chart's right half), never over it.
          style={shown.x > width / 2 ? { right: width - shown.x + 8, top: MARGIN.top } : { left: shown.x + shown.width + 8, top: MARGIN.top }}
        >
          <div className="an-tooltip-head">{bucketLabel(shown.start, shown.end)}</div>
          {shown.counts.total === 0 ? (
            <div className="muted">no executions</div>
          ) : (
            <>
              {[...STACK]
                .reverse()
                .filter((s) => shown.counts[s] > 0)
                .map((s) => (
                  <div key={s}>
                    <i className="an-swatch" style={{ background: statusColor(s) }} />
                    {s} <b>{formatCount(shown.counts[s])}</b>
                  </div>
                ))}
              <div className="an-tooltip-total">
                total <b>{formatCount(shown.counts.total)}</b>
              </div>
            </>
          )}
        </div>
      )}
      </div>
    </div>
  );
}
