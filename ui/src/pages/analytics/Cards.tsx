// The window in numbers (`/api/analytics/summary`): executions, success rate,
// failures, throughput, duration percentiles and what is open now, each card a link
// to the executions it counts where there is a list to open.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { statusColor } from "../../components/Status";
import { formatDuration } from "../../lib/time";
import { rateClass } from "../workflows/stats";
import { formatCount, formatPercent, formatPerMinute } from "./format";
import type { Summary } from "./types";
import { executionsLink, type Range } from "./window";

const BREAKDOWN = ["succeeded", "failed", "cancelled", "running", "paused", "pending"] as const;

function Card({ id, label, value, sub, to, className }: { id: string; label: string; value: ReactNode; sub?: ReactNode; to?: string; className?: string }) {
  return (
    <div className={`an-card ${className ?? ""}`} data-card={id}>
      <div className="an-card-label">{label}</div>
      <div className="an-card-value">{to ? <Link to={to}>{value}</Link> : value}</div>
      {sub && <div className="an-card-sub">{sub}</div>}
    </div>
  );
}

export function Cards({ summary: s, range, workflow }: { summary: Summary; range: Range; workflow: string }) {
  const x = s.executions;
  const ended = x.succeeded + x.failed + x.cancelled;
  const d = s.durations;
  return (
    <div className="an-cards" aria-label="Summary">
      <Card
        id="total"
        label="Executions"
        value={formatCount(x.total)}
        to={executionsLink(range, workflow)}
        sub={
          x.total === 0 ? (
            "none in this window"
          ) : (
            <span className="an-breakdown">
              {BREAKDOWN.filter((k) => x[k] > 0).map((k) => (
                <span key={k} data-status={k}>
                  <i className="an-dot" style={{ background: statusColor(k) }} />
                  {formatCount(x[k])} {k}
                </span>
              ))}
            </span>
          )
        }
      />
      <Card
        id="success"
        label="Success rate"
        value={<span className={`rate ${rateClass(s.success_rate)}`}>{formatPercent(s.success_rate)}</span>}
        sub={ended ? `${formatCount(x.succeeded)} of ${formatCount(ended)} ended` : "none ended"}
      />
      <Card
        id="failed"
        label="Failed"
        className={x.failed > 0 ? "bad" : ""}
        value={formatCount(x.failed)}
        to={x.failed > 0 ? executionsLink(range, workflow, ["failed"]) : undefined}
        sub={x.cancelled > 0 ? `and ${formatCount(x.cancelled)} cancelled` : ended ? `of ${formatCount(ended)} ended` : undefined}
      />
      <Card
        id="throughput"
        label="Throughput"
        value={
          <>
            {formatPerMinute(s.throughput.ended_per_minute)}
            <small> / min</small>
          </>
        }
        sub="ended per minute"
      />
      <Card
        id="durations"
        label="Duration"
        className="wide"
        value={
          d ? (
            <span className="an-pcts">
              {(["p50", "p95", "p99", "max"] as const).map((k) => (
                <span key={k} data-pct={k}>
                  <small>{k}</small>
                  {formatDuration(d[`${k}_ms`])}
                </span>
              ))}
            </span>
          ) : (
            "—"
          )
        }
        sub={d ? `of ${formatCount(d.count)} ended` : "none ended"}
      />
      <Card
        id="open"
        label="Open now"
        value={formatCount(s.open_now)}
        to={s.open_now > 0 ? executionsLink(null, workflow, ["pending", "running", "paused"]) : undefined}
        sub="not ended, of any age"
      />
    </div>
  );
}
