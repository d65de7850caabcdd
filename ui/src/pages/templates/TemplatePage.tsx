// A template (`/templates/:name`): its description, tags and category, its parameters
// (from the parameters schema), the graph of its workflow and its source for the
// version chosen, its versions and the diff between two, and the form to instantiate
// it. What is chosen is kept in the URL (`?version=`, `?from=&to=`, `?instantiate=1`).
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "../../lib/query";
import { ApiError, api } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { formatTime } from "../../lib/time";
import { BuiltinBadge, Tags } from "./Badges";
import { ExportButtons } from "./ExportButtons";
import { InstantiatePanel } from "./InstantiatePanel";
import { ParametersTable } from "./ParametersTable";
import { DiffView } from "../workflows/DiffView";
import { TemplateGraph } from "./TemplateGraph";
import { isBuiltin, parametersSummary } from "./logic";
import type { TemplateDetail, TemplateVersionList } from "./types";

/** A positive whole number from the URL, or null. */
function num(s: string | null): number | null {
  const n = Number(s);
  return s && Number.isInteger(n) && n > 0 ? n : null;
}

export default function TemplatePage() {
  const name = useParams().name ?? "";
  const [params, set] = useQuery();
  const [versions, setVersions] = useState<TemplateVersionList | null>(null);
  const [detail, setDetail] = useState<TemplateDetail | null>(null);
  const [error, setError] = useState<unknown>(null);

  const list = versions?.versions ?? [];
  const latest = list.at(-1)?.version ?? null;
  const asked = num(params.get("version"));
  const version = asked && list.some((v) => v.version === asked) ? asked : latest;
  const instantiating = params.get("instantiate") === "1";


  useEffect(() => {
    setVersions(null);
    setDetail(null);
    setError(null);
    const ctl = new AbortController();
    api
      .get<TemplateVersionList>(`/api/templates/${encodeURIComponent(name)}/versions`, undefined, ctl.signal)
      .then(setVersions)
      .catch((e) => (e as Error).name !== "AbortError" && setError(e));
    return () => ctl.abort();
  }, [name]);

  useEffect(() => {
    if (version === null) return;
    const ctl = new AbortController();
    api
      .get<TemplateDetail>(`/api/templates/${encodeURIComponent(name)}`, { version }, ctl.signal)
      .then((d) => {
        setDetail(d);
        setError(null);
      })
      .catch((e) => (e as Error).name !== "AbortError" && setError(e));
    return () => ctl.abort();
  }, [name, version]);

  if (error instanceof ApiError && error.status === 404 && !versions) {
    return (
      <div>
        <h1>{name}</h1>
        <p>
          There is no template named <code>{name}</code>. See the <Link to="/templates">templates</Link>.
        </p>
      </div>
    );
  }

  const current = detail && detail.version === version ? detail : null;
  const builtin = isBuiltin(name, list[0]?.note ?? undefined);
  const index = list.findIndex((v) => v.version === version);
  const pair = index > 0 ? [list[index - 1].version, list[index].version] : list.length > 1 ? [list[0].version, list[1].version] : [version ?? 1, version ?? 1];
  const from = num(params.get("from")) ?? pair[0];
  const to = num(params.get("to")) ?? pair[1];
  const t = current?.template;

  return (
    <div className="tpl-page wf-page">
      <div className="wf-header">
        <h1>{name}</h1>
        {builtin && <BuiltinBadge />}
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
        <Link to="/templates">All templates</Link>
        <Link to={`/templates/${encodeURIComponent(name)}/edit`}>Edit (new version)</Link>
        <Link to={`/templates/${encodeURIComponent(name)}/design`}>Design</Link>
        <button className="primary" onClick={() => set({ instantiate: instantiating ? null : "1" })} disabled={!current}>
          Instantiate…
        </button>
      </div>
      <ErrorBox error={error} />
      <p className="wf-description tpl-description">{current ? (t?.description ?? <span className="muted">No description.</span>) : ""}</p>
      {current && (
        <div className="tpl-meta">
          {current.category && (
            <span>
              <span className="muted">Category</span> <Link to={`/templates?category=${encodeURIComponent(current.category)}`}>{current.category}</Link>
            </span>
          )}
          {current.tags.length > 0 && (
            <span>
              <span className="muted">Tags</span> <Tags tags={current.tags} />
            </span>
          )}
          <span>
            <span className="muted">v{current.version} stored</span> {formatTime(current.created_at)}
            {current.note && <span className="muted"> · “{current.note}”</span>}
          </span>
          <span className="muted">{parametersSummary(current.parameters)}</span>
        </div>
      )}

      {instantiating && current && latest !== null && (
        <InstantiatePanel
          key={`${name}@${current.version}`}
          name={name}
          version={current.version}
          latest={latest}
          parameters={current.parameters}
          inputs={t?.workflow?.inputs}
          onClose={() => set({ instantiate: null })}
        />
      )}

      <div className="wf-grid">
        <section className="panel">
          <h2>Parameters</h2>
          {current ? <ParametersTable schema={current.parameters} /> : <div className="muted">Loading…</div>}
        </section>
        <section className="panel">
          <h2>
            Workflow graph <span className="muted">v{version}</span>
          </h2>
          {current && <TemplateGraph name={name} version={current.version} body={t?.workflow} />}
        </section>
      </div>

      <div className="wf-grid">
        <section className="panel" data-testid="template-source">
          <h2>
            Source <span className="muted">v{version}</span>
            {current && <span className="muted wf-format"> · {current.format}</span>}
          </h2>
          {current ? <pre className="wf-source">{current.source}</pre> : <div className="muted">Loading…</div>}
          <div className="row tpl-source-actions">
            <ExportButtons names={[name]} />
          </div>
        </section>
        <section className="panel">
          <h2>Versions</h2>
          <table className="list compact tpl-versions">
            <thead>
              <tr>
                <th>Version</th>
                <th>Stored</th>
                <th>Note</th>
              </tr>
            </thead>
            <tbody>
              {[...list].reverse().map((v) => (
                <tr key={v.version} className={v.version === version ? "tpl-chosen" : undefined}>
                  <td>
                    <button type="button" className="link tpl-version-link" onClick={() => set({ version: v.version === latest ? null : String(v.version) })}>
                      v{v.version}
                    </button>
                  </td>
                  <td>{formatTime(v.created_at)}</td>
                  <td>{v.note ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Changes between versions</h3>
          {list.length < 2 ? (
            <div className="muted">Only one version so far: store another to compare.</div>
          ) : (
            <DiffView resource="templates" name={name} versions={list} from={from} to={to} onPick={(f, tt) => set({ from: String(f), to: String(tt) })} />
          )}
        </section>
      </div>
    </div>
  );
}
