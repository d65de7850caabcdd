// The task graph of a template version's workflow. The API draws graphs of stored
// workflows only (`/api/workflows/{name}/graph`) and instantiation has no preview, so
// the graph is made here from the template's `workflow.tasks` (their `needs`) and laid
// out by the workflows' own `layout` (React Flow, dagre), so it looks the same.
import { useMemo } from "react";
import { StaticGraph, layout } from "../workflows/WorkflowGraph";
import { graphOf } from "./logic";
import type { TemplateBody } from "./types";

export function TemplateGraph({ name, version, body }: { name: string; version: number; body: TemplateBody | undefined }) {
  const drawn = useMemo(() => layout(graphOf(name, body)), [name, body]);
  return (
    <div className="wf-graph" data-testid="template-graph">
      {drawn.nodes.length === 0 ? (
        <div className="muted tpl-empty">No tasks.</div>
      ) : (
        <StaticGraph drawn={drawn} viewKey={`${name}@${version}`} />
      )}
    </div>
  );
}
