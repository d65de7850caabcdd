// The page's head and filters: the window shown and the refresh button beside the
// title; the window (a preset, or a custom from/to) and the workflow, kept in the URL
// by the page.
import { formatTime } from "../../lib/time";
import { formatRange, PRESETS, toLocalInput, type PresetKey, type Range, type WindowSpec } from "./window";

interface Props {
  spec: WindowSpec;
  range: Range | null;
  workflow: string;
  workflows: string[];
  onPreset: (p: PresetKey) => void;
  onCustom: () => void;
  onCustomChange: (key: "since" | "until", local: string) => void;
  onWorkflow: (name: string) => void;
}

export function Controls(p: Props) {
  const active = p.spec.kind === "preset" ? p.spec.preset : "custom";
  // The URL may name a workflow the list does not have (deleted, or not loaded yet).
  const names = p.workflow && !p.workflows.includes(p.workflow) ? [p.workflow, ...p.workflows] : p.workflows;
  return (
    <div className="filters an-controls" role="search">
      <div className="an-presets" role="group" aria-label="Window">
        {PRESETS.map((x) => (
          <button key={x.key} type="button" className={active === x.key ? "chip on" : "chip"} aria-pressed={active === x.key} onClick={() => p.onPreset(x.key)}>
            {x.label}
          </button>
        ))}
        <button type="button" className={active === "custom" ? "chip on" : "chip"} aria-pressed={active === "custom"} onClick={p.onCustom}>
          Custom
        </button>
      </div>
      {p.spec.kind === "custom" && (
        <>
          <label>
            From
            <input
              type="datetime-local"
              step={1}
              name="since"
              value={toLocalInput(p.spec.since ?? p.range?.since)}
              onChange={(e) => p.onCustomChange("since", e.target.value)}
            />
          </label>
          <label>
            To
            <input
              type="datetime-local"
              step={1}
              name="until"
              value={toLocalInput(p.spec.until ?? p.range?.until)}
              onChange={(e) => p.onCustomChange("until", e.target.value)}
            />
          </label>
        </>
      )}
      <label>
        Workflow
        <select name="workflow" value={p.workflow} onChange={(e) => p.onWorkflow(e.target.value)}>
          <option value="">all workflows</option>
          {names.map((w) => (
            <option key={w} value={w}>
              {w}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** The title, the window the numbers are about (local time), and the refresh button. */
export function Head({ range, workflow, readAt, busy, onRefresh }: { range: Range | null; workflow: string; readAt: number; busy: boolean; onRefresh: () => void }) {
  return (
    <div className="an-head">
      <h1>Analytics</h1>
      <span className="an-window" data-testid="window">
        {range ? formatRange(range) : ""}
        {workflow && (
          <>
            {" · "}
            <b>{workflow}</b>
          </>
        )}
      </span>
      <span className="spacer" />
      <span className="muted an-read">{busy ? "Loading…" : `read at ${formatTime(new Date(readAt).toISOString())}`}</span>
      <button type="button" onClick={onRefresh} disabled={busy}>
        Refresh
      </button>
    </div>
  );
}
