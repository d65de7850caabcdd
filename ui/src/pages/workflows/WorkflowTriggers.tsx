// The triggers a workflow's latest version defines, each with what fires it and whether
// it is paused, linked to the triggers page (where they are paused, resumed, and their
// deliveries read).
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { formatAgo } from "../../lib/time";
import { describeTrigger } from "../triggers/spec";
import type { TriggerList, TriggerView } from "../triggers/types";

export function WorkflowTriggers({ name, refreshKey }: { name: string; refreshKey: number }) {
  const [triggers, setTriggers] = useState<TriggerView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api
      .get<TriggerList>("/api/triggers", undefined, ctl.signal)
      .then((l) => {
        setTriggers(l.triggers.filter((t) => t.workflow === name));
        setError(null);
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      });
    return () => ctl.abort();
  }, [name, refreshKey]);
  if (error) return <ErrorBox error={error} />;
  if (!triggers) return <div className="muted">Loading…</div>;
  if (triggers.length === 0) return <div className="muted">No triggers: it runs when someone executes it.</div>;
  return (
    <ul className="wf-triggers">
      {triggers.map((t) => {
        const next = t.schedule?.next_fires[0];
        return (
          <li key={t.id} data-id={t.id}>
            <span className={`kind kind-${t.kind}`}>{t.kind}</span>{" "}
            <Link to={`/triggers?workflow=${encodeURIComponent(name)}#${encodeURIComponent(t.id)}`} className="mono">
              {describeTrigger(t).summary}
            </Link>{" "}
            <span className={t.paused ? "state state-paused" : "state state-active"}>{t.paused ? "paused" : "active"}</span>
            {next && !t.paused && <span className="muted"> · next {formatAgo(next)}</span>}
          </li>
        );
      })}
    </ul>
  );
}
