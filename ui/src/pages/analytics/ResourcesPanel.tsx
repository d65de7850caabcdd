// What the server uses now (`/api/analytics/resources`), read every 10 s (the second
// time after 2 s, for a first CPU figure soon): CPU use (user and system, from the
// last two readings), resident memory, the database's
// size, and what is in flight; CPU and memory with a line of the readings since the
// page opened.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { api } from "../../api/client";
import { formatDuration, formatTime } from "../../lib/time";
import { cpuUse, formatBytes, formatCount, formatCpu } from "./format";
import { Panel } from "./parts";
import type { Resources } from "./types";

export const RESOURCES_EVERY_MS = 10_000;
const FIRST_AGAIN_MS = 2_000;
const KEEP = 60; // readings: 10 minutes

function Spark({ values, label }: { values: number[]; label: string }) {
  if (values.length < 2) return null;
  const w = 120;
  const h = 26;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - min) / span) * (h - 4)).toFixed(1)}`).join(" ");
  return (
    <svg className="an-spark" width={w} height={h} role="img" aria-label={label}>
      <polyline points={pts} />
    </svg>
  );
}

function Tile({ id, label, value, sub, children }: { id: string; label: string; value: string; sub?: string; children?: ReactNode }) {
  return (
    <div className="an-tile" data-resource={id}>
      <div className="an-card-label">{label}</div>
      <div className="an-tile-value">{value}</div>
      {sub && <div className="an-card-sub">{sub}</div>}
      {children}
    </div>
  );
}

export function ResourcesPanel() {
  const [samples, setSamples] = useState<Resources[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const live = useRef(true);

  useEffect(() => {
    live.current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reads = 0;
    const read = async () => {
      reads++;
      try {
        const r = await api.get<Resources>("/api/analytics/resources");
        if (!live.current) return;
        setSamples((s) => [...s, r].slice(-KEEP));
        setError(null);
      } catch (e) {
        if (live.current) setError(e);
      } finally {
        if (live.current) {
          setLoading(false);
          timer = setTimeout(read, reads === 1 ? FIRST_AGAIN_MS : RESOURCES_EVERY_MS);
        }
      }
    };
    read();
    return () => {
      live.current = false;
      if (timer) clearTimeout(timer);
    };
  }, []);

  const last = samples.at(-1) ?? null;
  const cpu = cpuUse(samples.at(-2) ?? null, last);
  const cpuLine = samples.slice(1).map((s, i) => cpuUse(samples[i], s)?.total ?? 0);
  const rssLine = samples.map((s) => s.process.rss_bytes ?? 0);
  const p = last?.process;
  return (
    <Panel
      id="resources"
      title="Server resources"
      extra={last && <span className="muted an-head-note">read at {formatTime(last.measured_at)}, every 10 s</span>}
      loading={loading}
      error={error}
      ready={!!last}
    >
      {last && p && (
        <div className="an-tiles">
          <Tile
            id="cpu"
            label="CPU"
            value={cpu ? formatCpu(cpu.total) : "…"}
            sub={
              cpu
                ? `user ${formatCpu(cpu.user)}, system ${formatCpu(cpu.system)} of a core`
                : p.cpu_user_ms === null
                  ? "not measured here"
                  : `user ${formatDuration(p.cpu_user_ms)}, system ${formatDuration(p.cpu_system_ms ?? 0)} since start`
            }
          >
            <Spark values={cpuLine} label="CPU use over the last readings" />
          </Tile>
          <Tile id="rss" label="Memory (RSS)" value={formatBytes(p.rss_bytes)} sub={p.rss_bytes === null ? "not measured here" : "resident"}>
            {p.rss_bytes !== null && <Spark values={rssLine} label="Memory over the last readings" />}
          </Tile>
          <Tile
            id="database"
            label="Database"
            value={formatBytes(last.database_bytes)}
            sub={last.database_bytes === null ? "in memory" : "the WAL not counted"}
          />
          <Tile id="open" label="Open executions" value={formatCount(last.open_executions)} sub="pending, running or paused" />
          <Tile id="queued" label="Queued task runs" value={formatCount(last.queued_task_runs)} sub="waiting for a free slot" />
          <Tile id="worker" label="Worker task runs" value={formatCount(last.worker_task_runs)} sub="offered to or leased by workers" />
        </div>
      )}
    </Panel>
  );
}
