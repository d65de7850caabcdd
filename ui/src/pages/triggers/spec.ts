// A trigger's definition in words: what fires it (a cron pattern and time zone, a hook's
// URL, an event type) and its other settings. Pure (tested).
import type { TriggerView } from "./types";

export interface TriggerSpec {
  /** The one line that says what fires it. */
  summary: string;
  /** Its other settings, as label and text. */
  details: [string, string][];
}

function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function describeTrigger(t: Pick<TriggerView, "kind" | "definition">): TriggerSpec {
  const d = t.definition ?? {};
  const details: [string, string][] = [];
  const rest = (skip: string[]) => {
    for (const [k, v] of Object.entries(d)) if (!skip.includes(k) && v !== undefined && v !== null) details.push([k, text(v)]);
  };
  switch (t.kind) {
    case "schedule": {
      const tz = typeof d.timezone === "string" ? d.timezone : "UTC";
      details.push(["overlap", typeof d.overlap === "string" ? d.overlap : "skip"]);
      details.push(["catchup", typeof d.catchup === "string" ? d.catchup : "last"]);
      rest(["cron", "timezone", "overlap", "catchup"]);
      return { summary: `${text(d.cron)} (${tz})`, details };
    }
    case "webhook": {
      const verify = d.verify && typeof d.verify === "object" ? (d.verify as Record<string, unknown>) : {};
      details.push(["verify", typeof verify.preset === "string" ? verify.preset : "—"]);
      rest(["name", "verify"]);
      return { summary: `POST /hooks/${text(d.name)}`, details };
    }
    case "event": {
      let summary = text(d.type);
      if (typeof d.source === "string") summary += ` from ${d.source}`;
      if (d.filter !== undefined) summary += ` if ${text(d.filter)}`;
      rest(["type", "source", "filter"]);
      return { summary, details };
    }
    default:
      rest([]);
      return { summary: t.kind, details };
  }
}
