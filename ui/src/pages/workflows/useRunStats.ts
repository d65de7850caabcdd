// The recent-execution stats of the workflows in a list, loaded only for the rows on
// screen (an IntersectionObserver) and a few requests at a time, so a list of hundreds
// costs what fits in the window. A workflow's stats are reloaded when one of its
// executions starts or ends (`invalidate`, by name or by execution id).
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../api/client";
import type { ExecutionList } from "../../api/types";
import { runStats, type RunStats } from "./stats";

/** How many executions of each workflow the stats read. */
export const STATS_WINDOW = 50;
const PARALLEL = 4;

export interface StatsEntry {
  stats?: RunStats;
  error?: string;
  loading: boolean;
}

export interface RunStatsHandle {
  entries: Record<string, StatsEntry>;
  /** A ref callback for a row: pass the workflow's name. */
  observe: (name: string) => (el: Element | null) => (() => void) | void;
  /** Reload a workflow's stats (now if its row is on screen, else when it shows). */
  invalidate: (name: string) => void;
  /** The workflow of an execution seen in the stats or announced by `noteExecution`. */
  workflowOf: (execution: string) => string | undefined;
  noteExecution: (execution: string, workflow: string) => void;
  invalidateAll: () => void;
}

export function useRunStats(): RunStatsHandle {
  const [entries, setEntries] = useState<Record<string, StatsEntry>>({});
  const visible = useRef(new Set<string>());
  const fresh = useRef(new Set<string>()); // loaded (or loading) and not invalidated since
  const queue = useRef<string[]>([]);
  const active = useRef(0);
  const owners = useRef(new Map<string, string>());
  const live = useRef(true);

  const pump = useCallback(() => {
    while (active.current < PARALLEL && queue.current.length > 0) {
      const name = queue.current.shift()!;
      active.current++;
      setEntries((e) => ({ ...e, [name]: { ...e[name], loading: true } }));
      api
        .get<ExecutionList>("/api/executions", { workflow: name, limit: STATS_WINDOW })
        .then((page) => {
          page.executions.forEach((x) => owners.current.set(x.id, name));
          if (live.current) setEntries((e) => ({ ...e, [name]: { stats: runStats(page.executions), loading: false } }));
        })
        .catch((err: Error) => {
          fresh.current.delete(name);
          if (live.current) setEntries((e) => ({ ...e, [name]: { ...e[name], error: err.message, loading: false } }));
        })
        .finally(() => {
          active.current--;
          pump();
        });
    }
  }, []);

  const want = useCallback(
    (name: string) => {
      if (fresh.current.has(name) || queue.current.includes(name)) return;
      fresh.current.add(name);
      queue.current.push(name);
      pump();
    },
    [pump],
  );

  const observer = useRef<IntersectionObserver | null>(null);
  const getObserver = useCallback(() => {
    if (!observer.current) {
      observer.current = new IntersectionObserver(
        (seen) => {
          for (const s of seen) {
            const name = (s.target as HTMLElement).dataset.workflow;
            if (!name) continue;
            if (s.isIntersecting) {
              visible.current.add(name);
              want(name);
            } else visible.current.delete(name);
          }
        },
        { rootMargin: "200px 0px" },
      );
    }
    return observer.current;
  }, [want]);

  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
      observer.current?.disconnect();
      observer.current = null;
    };
  }, []);

  // One ref callback per name, so re-renders do not unobserve and observe again.
  const refs = useRef(new Map<string, (el: Element | null) => (() => void) | void>());
  const observe = useCallback(
    (name: string) => {
      let f = refs.current.get(name);
      if (!f) {
        f = (el: Element | null) => {
          if (!el) return;
          (el as HTMLElement).dataset.workflow = name;
          const o = getObserver();
          o.observe(el);
          return () => {
            o.unobserve(el);
            visible.current.delete(name);
          };
        };
        refs.current.set(name, f);
      }
      return f;
    },
    [getObserver],
  );

  const invalidate = useCallback(
    (name: string) => {
      fresh.current.delete(name);
      if (visible.current.has(name)) want(name);
    },
    [want],
  );

  const invalidateAll = useCallback(() => {
    fresh.current.clear();
    visible.current.forEach((n) => want(n));
  }, [want]);

  const workflowOf = useCallback((id: string) => owners.current.get(id), []);
  const noteExecution = useCallback((id: string, workflow: string) => {
    owners.current.set(id, workflow);
  }, []);

  return { entries, observe, invalidate, workflowOf, noteExecution, invalidateAll };
}
