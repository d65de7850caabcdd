// Small pieces the analytics panels share: a titled panel with its loading and error
// states, links to a workflow and to an example execution, and a list cut to its
// first rows with a button to show the rest.
import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import { ErrorBox } from "../../components/ErrorBox";
import { shortId } from "../../lib/time";

interface PanelProps {
  id: string;
  title: ReactNode;
  /** Beside the title: counts, links. */
  extra?: ReactNode;
  loading: boolean;
  error: unknown;
  /** Whether there is an answer to show (else "Loading…" while loading). */
  ready: boolean;
  children: ReactNode;
  className?: string;
}

export function Panel({ id, title, extra, loading, error, ready, children, className }: PanelProps) {
  return (
    <section className={`panel an-panel ${className ?? ""}`} aria-labelledby={`an-${id}`} data-panel={id} aria-busy={loading}>
      <div className="an-panel-head">
        <h2 id={`an-${id}`}>{title}</h2>
        {extra}
      </div>
      <ErrorBox error={error} />
      {ready ? children : loading ? <div className="an-empty muted">Loading…</div> : null}
    </section>
  );
}

/** What an empty list or chart says. */
export function Empty({ children }: { children: ReactNode }) {
  return <div className="an-empty muted">{children}</div>;
}

export function WorkflowLink({ name }: { name: string }) {
  return <Link to={`/workflows/${encodeURIComponent(name)}`}>{name}</Link>;
}

export function ExampleLink({ id }: { id: string }) {
  return (
    <Link to={`/executions/${id}`} className="mono an-example" title={`An example: execution ${id}`}>
      {shortId(id)}
    </Link>
  );
}

/** The first `n` of `rows`, and a button that shows them all (or `null` when all show). */
export function useCut<T>(rows: T[], n: number): [T[], ReactNode] {
  const [all, setAll] = useState(false);
  if (rows.length <= n) return [rows, null];
  const button = (
    <button className="link more" onClick={() => setAll(!all)}>
      {all ? `Show the first ${n}` : `Show all ${rows.length}`}
    </button>
  );
  return [all ? rows : rows.slice(0, n), button];
}
