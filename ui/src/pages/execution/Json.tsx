// A JSON value, folded: one line saying what it is (`object, 3 keys`), the text only
// once opened (a 10,000-item output is not stringified until someone asks).
import { useState } from "react";
import { formatCount } from "./counts";

const LIMIT = 200_000;

/** What a value is, in a few words. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return `array, ${formatCount(v.length)} items`;
  if (typeof v === "object") {
    const n = Object.keys(v).length;
    return `object, ${n} key${n === 1 ? "" : "s"}`;
  }
  if (typeof v === "string") return v.length > 60 ? `string, ${v.length} chars` : JSON.stringify(v);
  return String(v);
}

export function Json({ label, value, open = false }: { label: string; value: unknown; open?: boolean }) {
  const [shown, setShown] = useState(open);
  const text = shown ? JSON.stringify(value ?? null, null, 2) : "";
  return (
    <details className="xp-json" open={open} onToggle={(e) => setShown((e.target as HTMLDetailsElement).open)}>
      <summary>
        <span className="xp-json-label">{label}</span> <span className="muted">{describeValue(value)}</span>
      </summary>
      {shown && (
        <pre>
          {text.length > LIMIT ? `${text.slice(0, LIMIT)}\n… (${formatCount(text.length - LIMIT)} more characters)` : text}
        </pre>
      )}
    </details>
  );
}
