// One GET of the API as state: its answer, its error, whether it is loading. The
// answer stays on screen while the same view is read again (a refresh, or a window
// that ends now moving on), and is dropped at once for another view (another
// window or workflow), so a panel never shows another view's numbers.
import { useEffect, useState } from "react";
import { api, type RequestOptions } from "../../api/client";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
}

interface State<T> extends Loaded<T> {
  view: string;
}

/** `GET path?query`, again whenever `query` or `refresh` changes; nothing while
 * `query` is null. `view` names what the answer is of (the page's URL). */
export function useApi<T>(path: string, query: RequestOptions["query"] | null, view: string, refresh: number): Loaded<T> {
  const key = query ? `${path}?${JSON.stringify(query)}` : "";
  const mine = `${path}|${view}`;
  const [state, setState] = useState<State<T>>({ view: "", data: null, error: null, loading: false });

  useEffect(() => {
    if (!key || !query) return;
    const ctl = new AbortController();
    setState((s) => (s.view === mine ? { ...s, loading: true } : { view: mine, data: null, error: null, loading: true }));
    api
      .get<T>(path, query, ctl.signal)
      .then((data) => {
        if (!ctl.signal.aborted) setState({ view: mine, data, error: null, loading: false });
      })
      .catch((error) => {
        if (!ctl.signal.aborted) setState((s) => ({ view: mine, data: s.view === mine ? s.data : null, error, loading: false }));
      });
    return () => ctl.abort();
    // `key` stands for `path` and `query`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, mine, refresh]);

  if (!key) return { data: null, error: null, loading: false };
  if (state.view !== mine) return { data: null, error: null, loading: true };
  return { data: state.data, error: state.error, loading: state.loading };
}
