// The template library (`/templates`): every template's latest version, built-ins
// marked, searched in names, descriptions and tags, filtered by tags and category (all
// kept in the URL: `?q=&tag=a,b&category=`), each linking to its page.
import { Link } from "react-router";
import { toggled, useQuery } from "../../lib/query";
import { ErrorBox } from "../../components/ErrorBox";
import { formatTime } from "../../lib/time";
import { BuiltinBadge, Tags } from "./Badges";
import { counted, filterTemplates, isBuiltin } from "./logic";
import { useTemplates } from "./useTemplates";

export default function LibraryPage() {
  const [params, update] = useQuery();
  const q = params.get("q") ?? "";
  const tags = (params.get("tag") ?? "").split(",").filter(Boolean);
  const category = params.get("category") ?? "";
  const { templates, error } = useTemplates();

  const set = (key: string, value: string) => update({ [key]: value });
  const toggleTag = (tag: string) => set("tag", toggled(tags, tag).join(","));

  const all = templates ?? [];
  const rows = filterTemplates(all, { q, tags, category });
  const tagCounts = counted(all.flatMap((t) => t.tags));
  const categories = counted(all.map((t) => t.category));
  const filtered = q || tags.length > 0 || category;

  return (
    <div className="tpl-page">
      <div className="tpl-header">
        <h1>Templates</h1>
        <span className="spacer" />
        <Link to="/templates/import">Import / export</Link>
        <Link className="button primary" to="/templates/_new">
          New template
        </Link>
      </div>
      <div className="filters" role="search">
        <label>
          Search
          <input name="q" type="search" placeholder="name, description or tag" value={q} onChange={(e) => set("q", e.target.value)} />
        </label>
        <label>
          Category
          <select name="category" value={category} onChange={(e) => set("category", e.target.value)}>
            <option value="">any</option>
            {categories.map((c) => (
              <option key={c.value} value={c.value}>
                {c.value} ({c.count})
              </option>
            ))}
            {category && !categories.some((c) => c.value === category) && <option value={category}>{category}</option>}
          </select>
        </label>
        {templates && (
          <span className="muted tpl-count">
            {rows.length === all.length ? `${all.length} templates` : `${rows.length} of ${all.length} templates`}
          </span>
        )}
        {filtered && (
          <button type="button" className="link tpl-clear" onClick={() => update(Object.fromEntries([...params.keys()].map((k) => [k, null])))}>
            Clear filters
          </button>
        )}
      </div>
      {tagCounts.length > 0 && (
        <div className="status-filter tpl-tag-filter" role="group" aria-label="Tags">
          <span className="muted">Tags</span>
          {tagCounts.map((t) => (
            <label key={t.value} className={`chip ${tags.includes(t.value) ? "on" : ""}`}>
              <input type="checkbox" checked={tags.includes(t.value)} onChange={() => toggleTag(t.value)} />
              {t.value} <span className="tpl-chip-count">{t.count}</span>
            </label>
          ))}
        </div>
      )}
      <ErrorBox error={error} />
      <table className="list tpl-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Category</th>
            <th>Tags</th>
            <th>Latest</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.name} data-name={t.name}>
              <td className="tpl-name">
                <Link to={`/templates/${encodeURIComponent(t.name)}`}>{t.name}</Link>
                {isBuiltin(t.name) && <BuiltinBadge />}
              </td>
              <td className="tpl-category">{t.category ?? <span className="muted">—</span>}</td>
              <td>
                <Tags tags={t.tags} onPick={(tag) => !tags.includes(tag) && toggleTag(tag)} />
              </td>
              <td className="tpl-latest" title={`version ${t.version} stored at ${t.created_at}${t.note ? `: ${t.note}` : ""}`}>
                v{t.version} <span className="muted">· {formatTime(t.created_at)}</span>
              </td>
              <td className="tpl-desc">{t.description ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
          {templates && rows.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                {all.length === 0 ? "No templates yet: create one, or import an export document." : "No template matches."}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {!templates && !error && <div className="loading">Loading…</div>}
    </div>
  );
}
