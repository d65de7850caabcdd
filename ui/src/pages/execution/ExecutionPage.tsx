// One execution, `/executions/:id`: what failed and why, at a glance, and what to do
// about it. The header (status, times, error, inputs and outputs) and the actions;
// the whole plan as a graph coloured by live status; the Gantt timeline; the selected
// task's panel (kept in the URL: `?task=NAME&item=N`); the event log. Live over
// `/ws/executions/{id}`: the snapshot, then events folded in batches (store.ts).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useParams } from "react-router";
import { useQuery } from "../../lib/query";
import { ApiError, api } from "../../api/client";
import type { EventList, ExecutionList, ExecutionMessage, ExecutionSummary, WorkflowDetail } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { useSocket } from "../../lib/socket";
import { useNow } from "../../lib/useNow";
import { Actions } from "./Actions";
import { Approvals } from "./Approvals";
import { EventLog } from "./EventLog";
import { GraphView } from "./GraphView";
import { Header } from "./Header";
import { layoutPlan } from "./layout";
import { markOnce } from "./perf";
import { planFromDefinition } from "./plan";
import { HELD } from "./reduce";
import { RetryDialog } from "./RetryDialog";
import { shownStatus } from "./status";
import { ExecutionStore, useExecutionStore } from "./store";
import { TaskPanel } from "./TaskPanel";
import { TimelineView } from "./TimelineView";

export default function ExecutionPage() {
  const { id = "" } = useParams();
  return <ExecutionView key={id} id={id} />;
}

type Definition = { state: "loading" } | { state: "ok"; detail: WorkflowDetail } | { state: "missing"; error: unknown };

function ExecutionView({ id }: { id: string }) {
  const [store] = useState(() => new ExecutionStore());
  const version = useExecutionStore(store);
  const [summary, setSummary] = useState<ExecutionSummary | null>(null);
  const [fatal, setFatal] = useState<unknown>(null);
  const [eventsError, setEventsError] = useState<unknown>(null);
  const [definition, setDefinition] = useState<Definition>({ state: "loading" });
  const [params, update] = useQuery();
  const [retryFrom, setRetryFrom] = useState<string | null>(null);
  const x = store.execution;
  const head: ExecutionSummary | null = x ?? summary;
  const ended = !!head?.ended_at;
  const now = useNow(ended ? 3_600_000 : 1000);

  useEffect(() => () => store.dispose(), [store]);
  useEffect(() => {
    // For the end-to-end test's figures (batches, render times): read-only there.
    (window as unknown as { __xpStore?: ExecutionStore }).__xpStore = store;
  }, [store]);

  // The summary first (small, fast): the header paints, the definition is asked for,
  // and an unknown id is said at once.
  useEffect(() => {
    let live = true;
    api
      .get<ExecutionList>("/api/executions", { id_prefix: id, limit: 1 })
      .then(async (l) => {
        const found = l.executions.find((e) => e.id === id);
        if (found) {
          if (live) setSummary(found);
        } else {
          await api.get(`/api/executions/${encodeURIComponent(id)}`);
        }
      })
      .catch((e) => live && setFatal(e));
    return () => {
      live = false;
    };
  }, [id]);

  // The log over REST: once, and again when the WebSocket leaves a hole (a resync).
  const fetching = useRef(false);
  const fetchEvents = useCallback(async () => {
    if (fetching.current) return;
    fetching.current = true;
    try {
      const list = await api.get<EventList>(`/api/executions/${id}/events`);
      store.setEvents(list.events);
      setEventsError(null);
    } catch (e) {
      setEventsError(e);
    } finally {
      fetching.current = false;
    }
  }, [id, store]);
  useEffect(() => {
    fetchEvents();
  }, [fetchEvents]);
  useEffect(() => {
    if (store.needEvents) fetchEvents();
  }, [version, store, fetchEvents]);

  useSocket(fatal ? null : `/ws/executions/${id}`, {
    onMessage: (m: ExecutionMessage) => store.receive(m),
  });

  // The definition of the version it runs: the whole plan, from the start.
  const workflow = head?.workflow;
  const wfVersion = head?.version;
  useEffect(() => {
    if (!workflow || !wfVersion) return;
    let live = true;
    api
      .get<WorkflowDetail>(`/api/workflows/${encodeURIComponent(workflow)}`, { version: wfVersion })
      .then((detail) => live && setDefinition({ state: "ok", detail }))
      .catch((error) => live && setDefinition({ state: "missing", error }));
    return () => {
      live = false;
    };
  }, [workflow, wfVersion]);

  const taskNames = x ? Object.keys(x.tasks).join("\n") : "";
  const plan = useMemo(() => {
    if (definition.state === "loading") return null;
    const def = definition.state === "ok" ? definition.detail.definition : null;
    if (!def && !x) return null;
    return planFromDefinition(def, x?.tasks);
    // The plan changes only with the definition, or with tasks it does not know.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [definition, taskNames, !!x]);
  const layout = useMemo(() => (plan ? layoutPlan(plan) : null), [plan]);

  // Selection, in the URL.
  const selTask = params.get("task");
  const selItemText = params.get("item");
  const selItem = selItemText !== null && selItemText !== "" && !Number.isNaN(Number(selItemText)) ? Number(selItemText) : undefined;
  const select = useCallback(
    (task: string | null, item?: number) =>
      update({ task, item: task && item !== undefined ? String(item) : null }),
    [update],
  );
  const onSelect = useCallback((task: string, item?: number) => select(task, item), [select]);

  // At night: open on what failed (or on what waits for a person: an approval, a held task).
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || !x) return;
    opened.current = true;
    if (selTask) return;
    const failed = typeof x.error?.task === "string" ? x.error.task : undefined;
    if (failed) {
      select(failed, typeof x.error?.item === "number" ? x.error.item : undefined);
      return;
    }
    for (const [name, t] of Object.entries(x.tasks)) {
      if (t.waiting?.for === "approval" || t.status === HELD) return select(name);
      const item = t.items?.findIndex((i) => i.waiting?.for === "approval") ?? -1;
      if (item >= 0) return select(name, item);
    }
  }, [x, selTask, select]);

  // Performance marks (read by the end-to-end test).
  useEffect(() => {
    if (head) markOnce("xp:header");
    if (plan && x) markOnce("xp:graph");
    if (plan && x && store.eventsLoaded) markOnce("xp:interactive", true);
  }, [head, plan, x, store.eventsLoaded, version]);

  const statusOf = useCallback((task: string) => shownStatus(store.execution?.tasks[task], ended), [store, ended, version]); // eslint-disable-line react-hooks/exhaustive-deps
  const retryTasks = useMemo(() => (plan ? plan.nodes.filter((n) => n.role === "task" || n.role === "handler").map((n) => n.id) : []), [plan]);

  if (fatal) {
    return (
      <div>
        <h1>Execution {id}</h1>
        <ErrorBox error={fatal} />
        {fatal instanceof ApiError && fatal.status === 404 && <p className="muted">No execution has this id.</p>}
      </div>
    );
  }
  if (!head) return <div className="loading">Loading execution…</div>;

  const selected = selTask ? { task: selTask, item: selItem } : null;
  const selView = selTask ? x?.tasks[selTask] : undefined;
  return (
    <div className="xp-page" data-status={head.status}>
      <Header
        summary={head}
        detail={x}
        now={now}
        live={!store.finished && !!x}
        onSelectTask={onSelect}
        actions={<Actions id={id} status={head.status} tasks={retryTasks} />}
      />
      {x && <Approvals execution={x} onSelect={onSelect} />}
      {definition.state === "missing" && (
        <p className="muted">The definition of {head.workflow} version {head.version} cannot be read: the graph shows what ran, without its dependencies.</p>
      )}
      <ErrorBox error={eventsError} />
      <div className={selected ? "xp-main with-panel" : "xp-main"}>
        <div className="xp-left">
          <section aria-label="Plan">
            <div className="xp-tl-tools">
              <h2>Plan</h2>
              <span className="muted">{plan ? `${plan.nodes.length} task${plan.nodes.length === 1 ? "" : "s"}` : ""}</span>
            </div>
            {plan && layout ? (
              <GraphView
                plan={plan}
                layout={layout}
                execution={x}
                timeline={store.timeline}
                children={store.children}
                version={version}
                now={now}
                selected={selTask}
                onSelect={onSelect}
              />
            ) : (
              <div className="xp-graph loading">Loading the plan…</div>
            )}
          </section>
          <TimelineView
            timeline={store.timeline}
            order={plan?.order ?? []}
            statusOf={statusOf}
            version={version}
            now={now}
            selected={selected}
            onSelect={onSelect}
          />
          <EventLog events={store.events} version={version} onSelectTask={onSelect} />
        </div>
        {selected && (
          <TaskPanel
            key={selected.task}
            executionId={id}
            ended={ended}
            task={selected.task}
            item={selected.item}
            view={selView}
            node={plan?.nodes.find((n) => n.id === selected.task)}
            track={store.timeline.tasks.get(selected.task)}
            events={store.events}
            itemValues={store.itemValues.get(selected.task)}
            child={store.children.get(selected.item !== undefined ? `${selected.task}[${selected.item}]` : selected.task)}
            version={version}
            now={now}
            onSelect={onSelect}
            onClose={() => select(null)}
            onRetryFrom={(t) => setRetryFrom(t)}
          />
        )}
      </div>
      {retryFrom !== null && <RetryDialog id={id} status={head.status} tasks={retryTasks} from={retryFrom} onClose={() => setRetryFrom(null)} />}
    </div>
  );
}
