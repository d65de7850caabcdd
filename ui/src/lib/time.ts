// Times and durations as the console shows them. Pure functions (tested).

/** Milliseconds between two RFC 3339 times (`end` defaults to `now`); null when `start` is missing. */
export function durationMs(start: string | null | undefined, end?: string | null, now: number = Date.now()): number | null {
  if (!start) return null;
  const s = Date.parse(start);
  if (Number.isNaN(s)) return null;
  const e = end ? Date.parse(end) : now;
  if (Number.isNaN(e)) return null;
  return Math.max(0, e - s);
}

/** A duration for people: `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`, `3 d 4 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, "0")} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A time for people: today's as `14:03:07`, others as `2026-11-30 14:03`. */
export function formatTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time.slice(0, 5)}`;
}

/** `iso` as relative text: `12 s ago`, `3 m ago`, `in 5 m`. */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = now - t;
  const text = formatDuration(Math.abs(diff)).replace(/\.\d+ s$/, " s");
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** The short form of an id: ids are UUIDv7, whose first characters are a time
 * (ids made in the same minute share them), so the short form keeps the start (what
 * `id_prefix` searches) and the random end: `01a22fea…9c3f`. */
export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** `datetime-local` text as the browser gives it back (its normalized form: `T`
 * between date and time, no seconds when they are zero, no trailing zeros in a
 * fraction), or "" when it is not such text. A controlled time field must be given
 * this form: the browser reads any other back changed, and React takes that for an
 * edit of the user's (it would undo the user's real edit made just before). */
export function normalLocalInput(text: string | null | undefined): string {
  const m = /^(\d{4,}-\d\d-\d\d)[T ](\d\d:\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?$/.exec(text ?? "");
  if (!m || Number.isNaN(new Date(`${m[1]}T${m[2]}`).getTime())) return "";
  const [, date, hm, sec = "00", frac = ""] = m;
  const fraction = frac.replace(/0+$/, "");
  if (fraction) return `${date}T${hm}:${sec}.${fraction}`;
  return sec === "00" ? `${date}T${hm}` : `${date}T${hm}:${sec}`;
}
