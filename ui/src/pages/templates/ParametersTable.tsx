// A template's parameters as a table (from its parameters schema): name, type,
// required, default, description and constraints; nested parameters indented.
import type { JsonSchema } from "../../api/types";
import { parameterRows, valueText } from "./logic";

export function ParametersTable({ schema }: { schema: JsonSchema | null | undefined }) {
  const rows = parameterRows(schema);
  if (rows.length === 0) return <div className="muted">This template takes no parameters.</div>;
  return (
    <table className="list compact tpl-params" data-testid="parameters">
      <thead>
        <tr>
          <th>Name</th>
          <th>Type</th>
          <th>Required</th>
          <th>Default</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} data-param={r.name}>
            <td className="mono tpl-param-name" style={{ paddingLeft: 8 + r.depth * 16 }}>
              {r.name}
            </td>
            <td className="tpl-param-type">{r.type}</td>
            <td className="tpl-param-required">{r.required ? <span className="tpl-req">required</span> : <span className="muted">no</span>}</td>
            <td className="tpl-param-default">{r.hasDefault ? <code>{valueText(r.default)}</code> : <span className="muted">—</span>}</td>
            <td>
              {r.description ?? ""}
              {r.constraints.length > 0 && <div className="muted tpl-constraints">{r.constraints.join(" · ")}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
