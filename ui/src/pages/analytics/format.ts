// Numbers as the analytics page shows them: bytes, rates, throughput, counts, and
// CPU use from two resource samples. Pure (tested).
import type { Resources } from "./types";

/** Bytes for people, in powers of 1024: `512 B`, `240 KiB`, `63.6 MiB`, `1.50 GiB`. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return "—";
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : String(Math.round(v));
  return `${text} ${units[i]}`;
}

/** A ratio as a percentage to a tenth: `62.5%`, `100%`, `0%`; `—` for null. A ratio
 * not 0 or 1 never shows as `0%` or `100%` (`<0.1%`, `>99.9%`). */
export function formatPercent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "—";
  const pct = rate * 100;
  if (pct > 0 && pct < 0.1) return "<0.1%";
  if (pct < 100 && pct > 99.9) return ">99.9%";
  const r = Math.round(pct * 10) / 10;
  return `${Number.isInteger(r) ? r : r.toFixed(1)}%`;
}

/** Ended per minute: `120`, `4.2`, `0.25`, `0.006` (the API rounds to thousandths). */
export function formatPerMinute(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x >= 100) return String(Math.round(x));
  if (x >= 10) return x.toFixed(1).replace(/\.0$/, "");
  return String(Number(x.toFixed(3)));
}

/** A count with thousands separated: `12,345`. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export interface CpuUse {
  /** Shares of one core over the time between the samples (0.5 = half a core). */
  user: number;
  system: number;
  total: number;
  /** The time between the samples, in ms. */
  overMs: number;
}

/** CPU use between two samples: CPU time over time passed; null when a time is
 * missing, or the samples are not in order. */
export function cpuUse(prev: Resources | null, next: Resources | null): CpuUse | null {
  if (!prev || !next) return null;
  const dt = Date.parse(next.measured_at) - Date.parse(prev.measured_at);
  const a = prev.process;
  const b = next.process;
  if (!(dt > 0) || a.cpu_user_ms === null || b.cpu_user_ms === null || a.cpu_system_ms === null || b.cpu_system_ms === null) return null;
  const user = Math.max(0, b.cpu_user_ms - a.cpu_user_ms) / dt;
  const system = Math.max(0, b.cpu_system_ms - a.cpu_system_ms) / dt;
  return { user, system, total: user + system, overMs: dt };
}

/** A share of a core as a percentage: `3.2%`, `0%`, `140%` (more than a core). */
export function formatCpu(share: number): string {
  const pct = share * 100;
  return pct >= 10 ? `${Math.round(pct)}%` : `${Number(pct.toFixed(1))}%`;
}
