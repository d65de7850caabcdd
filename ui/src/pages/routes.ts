// The console's pages, each in its own chunk (the graph libraries come only with the
// pages that draw graphs). A page's chunk starts loading at start-up when the URL
// names it, in parallel with the token check; once loaded, the page renders without
// suspending, so no "Loading…" flash and no Suspense reveal delay (React holds a
// fallback at least 300 ms once shown).
import { createElement, lazy, type ComponentType } from "react";

type Loader = () => Promise<{ default: ComponentType }>;

export interface Page {
  Component: ComponentType;
  load: () => Promise<unknown>;
}

function page(loader: Loader): Page {
  let loaded: ComponentType | null = null;
  let pending: Promise<unknown> | null = null;
  const load = () =>
    (pending ??= loader().then((m) => {
      loaded = m.default;
    }));
  const Lazy = lazy(() => load().then(() => ({ default: loaded as ComponentType })));
  const Component = () => (loaded ? createElement(loaded) : createElement(Lazy));
  return { Component, load };
}

export const pages = {
  executions: page(() => import("./Executions")),
  execution: page(() => import("./execution/ExecutionPage")),
  workflows: page(() => import("./workflows/WorkflowsPage")),
  workflow: page(() => import("./workflows/WorkflowPage")),
  designer: page(() => import("./designer/DesignerPage")),
  triggers: page(() => import("./triggers/TriggersPage")),
  analytics: page(() => import("./analytics/AnalyticsPage")),
  templates: page(() => import("./templates/LibraryPage")),
  template: page(() => import("./templates/TemplatePage")),
  templateEditor: page(() => import("./templates/EditorPage")),
  templateImport: page(() => import("./templates/ImportExportPage")),
  notFound: page(() => import("./NotFound")),
};

/** The page a path shows (what the router in main.tsx maps it to). */
export function pageFor(path: string): Page {
  const p = path.replace(/\/+$/, "") || "/";
  if (p === "/" || p === "/executions") return pages.executions;
  if (/^\/executions\/[^/]+$/.test(p)) return pages.execution;
  if (p === "/workflows") return pages.workflows;
  if (p === "/workflows/new" || /^\/workflows\/[^/]+\/edit$/.test(p)) return pages.designer;
  if (/^\/workflows\/[^/]+$/.test(p)) return pages.workflow;
  if (p === "/triggers") return pages.triggers;
  if (p === "/analytics") return pages.analytics;
  if (p === "/templates") return pages.templates;
  if (p === "/templates/_new/design" || /^\/templates\/[^/]+\/design$/.test(p)) return pages.designer;
  if (p === "/templates/import") return pages.templateImport;
  if (p === "/templates/_new" || /^\/templates\/[^/]+\/edit$/.test(p)) return pages.templateEditor;
  if (/^\/templates\/[^/]+$/.test(p)) return pages.template;
  return pages.notFound;
}
