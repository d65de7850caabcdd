// The task panel's inputs: `with` as the attempt saw it, evaluated again by the server
// from what the execution recorded (`GET /api/executions/{id}/tasks/{task}/inputs`;
// every value computed from `$secrets` comes back as `***`), asked once the task (or
// the fan-out item) has started. Before that, for a fan-out as a whole, and when the
// server cannot evaluate it (the reason is shown), `with` as the definition writes it.
import { useEffect, useState } from "react";
import { ApiError, api } from "../../api/client";
import type { TaskInputs } from "../../api/types";
import { Json } from "./Json";

export type InputsAsk = { path: string; query: { item?: number } } | { skip: string };

/** What to ask the server for the inputs of `task` (item `item`), or why not to ask. */
export function inputsAsk(a: { executionId: string; task: string; item?: number; fanOut: boolean; started: boolean; hasWith: boolean }): InputsAsk {
  if (!a.hasWith) return { skip: "no with" };
  if (a.fanOut && a.item === undefined) return { skip: "Each item has its own inputs: pick an item to see its `with` evaluated." };
  if (!a.started) return { skip: "It has not started: `with` is shown as the definition writes it." };
  const path = `/api/executions/${encodeURIComponent(a.executionId)}/tasks/${encodeURIComponent(a.task)}/inputs`;
  return { path, query: a.item !== undefined ? { item: a.item } : {} };
}

/** Why the evaluated inputs are not shown, in the server's words. */
export function inputsFailure(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

type Answer = { key: string; value: TaskInputs } | { key: string; error: unknown };

interface Props {
  executionId: string;
  task: string;
  item?: number;
  fanOut: boolean;
  started: boolean;
  /** Attempts so far: a new attempt (a held task retried) asks again. */
  attempts: number;
  /** `with` as the definition writes it (`undefined`: none, or the definition is unknown). */
  asDefined: unknown;
  /** Whether the definition is known (without it, the server is asked all the same). */
  defined: boolean;
}

export function Inputs(p: Props) {
  const ask = inputsAsk({
    executionId: p.executionId,
    task: p.task,
    item: p.item,
    fanOut: p.fanOut,
    started: p.started,
    hasWith: !p.defined || p.asDefined !== undefined,
  });
  const key = "path" in ask ? `${ask.path}?${p.item ?? ""}#${p.attempts}` : null;
  const [answer, setAnswer] = useState<Answer | null>(null);

  useEffect(() => {
    if (key === null || !("path" in ask)) return;
    const ctl = new AbortController();
    api.get<TaskInputs>(ask.path, ask.query, ctl.signal).then(
      (value) => setAnswer({ key, value }),
      (error: unknown) => {
        if ((error as Error)?.name !== "AbortError") setAnswer({ key, error });
      },
    );
    return () => ctl.abort();
    // `key` says everything the request depends on.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const asDefined = (open: boolean) =>
    p.asDefined !== undefined ? <Json label="with (as defined)" value={p.asDefined} open={open} /> : <p className="muted">No `with`.</p>;

  if ("skip" in ask) {
    if (ask.skip === "no with") return <p className="muted">No `with`.</p>;
    return (
      <>
        {asDefined(p.item === undefined)}
        <p className="muted xp-small">{ask.skip}</p>
      </>
    );
  }
  const current = answer?.key === key ? answer : null;
  if (!current) {
    return (
      <p className="muted xp-small" role="status" aria-label="Evaluating inputs">
        Evaluating `with`…
      </p>
    );
  }
  if ("error" in current) {
    return (
      <>
        {asDefined(true)}
        <p className="muted xp-small" role="note" aria-label="Inputs not evaluated">
          The events do not record the evaluated inputs: `with` is shown as the definition writes it. The server could not
          evaluate it ({inputsFailure(current.error)}).
        </p>
      </>
    );
  }
  const v = current.value;
  return (
    <>
      <Json key={`evaluated:${key}`} label="with (evaluated)" value={v.with} open />
      <p className="muted xp-small">
        As the attempt saw it, evaluated again from what the execution recorded
        {v.secrets_redacted ? "; values computed from secrets are shown as ***" : ""}.
      </p>
      {p.asDefined !== undefined && <Json label="with (as defined)" value={p.asDefined} />}
    </>
  );
}
