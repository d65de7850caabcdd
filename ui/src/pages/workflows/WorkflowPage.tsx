// A workflow: its description, its versions (one chosen: its graph, its definition as
// written, and the form to execute it), the changes between two versions, its recent
// executions and its triggers. What is chosen is kept in the URL (`?version=`,
// `?from=&to=`, `?execute=1`), so a view is a link. Live over `/ws/workflows`: a new
// version shows up, and the executions are read again when one starts or ends.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "../../lib/query";
import { ApiError, api } from "../../api/client";
import type { WorkflowDetail } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { useSocket } from "../../lib/socket";
import { formatTime } from "../../lib/time";
import { DiffView } from "./DiffView";
import { ExecutePanel } from "./ExecutePanel";
import { RecentRuns } from "./RecentRuns";
import { WorkflowGraph } from "./WorkflowGraph";
import { WorkflowTriggers } from "./WorkflowTriggers";
import type { VersionList } from "./types";

/** A positive whole number from the URL, or null. */
function num(s: string | null): number | null {
  const n = Number(s);
  return s && Number.isInteger(n) && n > 0 ? n : null;
}

export default function WorkflowPage() {
  const name = useParams().name ?? "";
  const [params, set] = useQuery();
  const [versions, setVersions] = useState<VersionList | null>(null);
  const [detail, setDetail] = useState<WorkflowDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [deleted, setDeleted] = useState(false);
  const [runsKey, setRunsKey] = useState(0);
  const [versionsKey, setVersionsKey] = useState(0);

  const latest = versions?.versions.at(-1)?.version ?? null;
  const asked = num(params.get("version"));
  const version = asked && versions?.versions.some((v) => v.version === asked) ? asked : latest;
  const executing = params.get("execute") === "1";


  useEffect(() => {
    setVersions(null);
    setDetail(null);
    setError(null);
    setDeleted(false);
  }, [name]);

  useEffect(() => {
    const ctl = new AbortController();
    api
      .get<VersionList>(`/api/workflows/${encodeURIComponent(name)}/versions`, undefined, ctl.signal)
      .then((v) => {
        setVersions(v);
        setError(null);
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      });
    return () => ctl.abort();
  }, [name, versionsKey]);

  useEffect(() => {
    if (version === null) return;
    const ctl = new AbortController();
    api
      .get<WorkflowDetail>(`/api/workflows/${encodeURIComponent(name)}`, { version }, ctl.signal)
      .then((d) => setDetail(d))
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e);
      });
    return () => ctl.abort();
  }, [name, version]);

  // Live: executions of this workflow (ids remembered to match their ends), versions.
  const ids = useRef(new Set<string>());
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const nudgeRuns = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      setRunsKey((k) => k + 1);
    }, 400);
  }, []);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
  const opened = useRef(false);
  useSocket("/ws/workflows", {
    onMessage: (m: { type: string; name?: string; workflow?: string; execution_id?: string }) => {
      if ((m.type === "workflow_created" || m.type === "workflow_updated") && m.name === name) {
        setDeleted(false);
        setVersionsKey((k) => k + 1);
      } else if (m.type === "workflow_deleted" && m.name === name) setDeleted(true);
      else if (m.type === "execution_started" && m.workflow === name) {
        if (m.execution_id) ids.current.add(m.execution_id);
        nudgeRuns();
      } else if (m.type === "execution_finished" && m.execution_id && ids.current.has(m.execution_id)) nudgeRuns();
      else if (m.type === "resync") {
        nudgeRuns();
        setVersionsKey((k) => k + 1);
      }
    },
    onOpen: () => {
      if (opened.current) {
        nudgeRuns();
        setVersionsKey((k) => k + 1);
      }
      opened.current = true;
    },
  });

  if (error instanceof ApiError && error.status === 404 && !versions) {
    return (
      <div>
        <h1>{name}</h1>
        <p>
          There is no workflow named <code>{name}</code>. See the <Link to="/workflows">workflows</Link>.
        </p>
      </div>
    );
  }

  const list = versions?.versions ?? [];
  const current = detail && detail.version === version ? detail : null;
  const chosen = list.find((v) => v.version === version);
  const index = list.findIndex((v) => v.version === version);
  // By default the chosen version against the one before it (the first: the one after).
  const pair = index > 0 ? [list[index - 1].version, list[index].version] : list.length > 1 ? [list[0].version, list[1].version] : [version ?? 1, version ?? 1];
  const from = num(params.get("from")) ?? pair[0];
  const to = num(params.get("to")) ?? pair[1];

  return (
    <div className="wf-page">
      <div className="wf-header">
        <h1>{name}</h1>
        {versions && version !== null && (
          <label className="wf-version-pick">
            Version
            <select name="version" value={version} onChange={(e) => set({ version: Number(e.target.value) === latest ? null : e.target.value })}>
              {[...list].reverse().map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                  {v.version === latest ? " (latest)" : ""} · {formatTime(v.created_at)}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="spacer" />
        <Link to={`/executions?workflow=${encodeURIComponent(name)}`}>Executions</Link>
        <Link to={`/triggers?workflow=${encodeURIComponent(name)}`}>Triggers</Link>
        <Link to={`/workflows/${encodeURIComponent(name)}/edit`}>Edit in designer</Link>
        <button className="primary" onClick={() => set({ execute: executing ? null : "1" })} disabled={!current || deleted}>
          Execute…
        </button>
      </div>
      {deleted && (
        <div className="error-box" role="alert">
          This workflow was deleted.
        </div>
      )}
      <ErrorBox error={error} />
      <p className="wf-description">
        {current?.description ?? chosen?.description ?? (current ? <span className="muted">No description.</span> : "")}
      </p>

      {executing && current && latest !== null && (
        <ExecutePanel
          key={`${name}@${current.version}`}
          name={name}
          version={current.version}
          latest={latest}
          schema={current.definition?.inputs}
          onClose={() => set({ execute: null })}
        />
      )}

      <div className="wf-grid">
        <section className="panel">
          <h2>
            Graph <span className="muted">v{version}</span>
          </h2>
          <WorkflowGraph name={name} version={version} />
        </section>
        <section className="panel">
          <h2>Recent executions</h2>
          <RecentRuns name={name} refreshKey={runsKey} onLoaded={(xs) => xs.forEach((x) => ids.current.add(x))} />
        </section>
      </div>

      <div className="wf-grid">
        <section className="panel" data-testid="definition">
          <h2>
            Definition <span className="muted">v{version}</span>
            {current && <span className="muted wf-format"> · {current.format} · stored {formatTime(current.created_at)}</span>}
          </h2>
          {current ? <pre className="wf-source">{current.source}</pre> : <div className="muted">Loading…</div>}
        </section>
        <section className="panel">
          <h2>Changes between versions</h2>
          {list.length < 2 ? (
            <div className="muted">Only one version so far: store another to compare.</div>
          ) : (
            <DiffView name={name} versions={list} from={from} to={to} onPick={(f, t) => set({ from: String(f), to: String(t) })} />
          )}
        </section>
      </div>

      <section className="panel">
        <h2>Triggers</h2>
        <WorkflowTriggers name={name} refreshKey={versionsKey} />
      </section>
    </div>
  );
}
