// The page's state kept in its URL's query (filters, selections, open panels), so a
// view is a link and survives a reload. `update` sets several keys at once; an empty
// value removes its key.
import { useCallback } from "react";
import { useSearchParams } from "react-router";

export type QueryChanges = Record<string, string | null | undefined>;

/** `params` with `changes` applied (empty values removed). */
export function applied(params: URLSearchParams, changes: QueryChanges): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v) next.set(k, v);
    else next.delete(k);
  }
  return next;
}

/** The query, and a function that changes it (replacing the history entry unless
 * `push` is asked). */
export function useQuery(): [URLSearchParams, (changes: QueryChanges, push?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const update = useCallback(
    (changes: QueryChanges, push = false) => setParams(applied(params, changes), { replace: !push }),
    [params, setParams],
  );
  return [params, update];
}

/** `list` with `item` added, or taken out when it is there. */
export function toggled<T>(list: T[], item: T): T[] {
  return list.includes(item) ? list.filter((x) => x !== item) : [...list, item];
}
