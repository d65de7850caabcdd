// The console's entry: the router over the pages of ./pages/routes.ts. The page the
// URL names starts loading at once, while the shell checks the token. A data router,
// so a page can hold a navigation back (the designer's unsaved edits).
import { StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { Navigate, Outlet, Route, RouterProvider, createBrowserRouter, createRoutesFromElements } from "react-router";
import { Shell } from "./Shell";
import { pageFor, pages } from "./pages/routes";
import "./styles.css";

pageFor(window.location.pathname).load();

const P = pages;

function Layout() {
  return (
    <Shell>
      <Suspense fallback={<div className="loading">Loading…</div>}>
        <Outlet />
      </Suspense>
    </Shell>
  );
}

const router = createBrowserRouter(
  createRoutesFromElements(
    <Route element={<Layout />}>
      <Route path="/" element={<Navigate to="/executions" replace />} />
      <Route path="/executions" element={<P.executions.Component />} />
      <Route path="/executions/:id" element={<P.execution.Component />} />
      <Route path="/workflows" element={<P.workflows.Component />} />
      <Route path="/workflows/new" element={<P.designer.Component />} />
      <Route path="/workflows/:name/edit" element={<P.designer.Component />} />
      <Route path="/workflows/:name" element={<P.workflow.Component />} />
      <Route path="/triggers" element={<P.triggers.Component />} />
      <Route path="/analytics" element={<P.analytics.Component />} />
      <Route path="/templates" element={<P.templates.Component />} />
      <Route path="/templates/_new/design" element={<P.designer.Component />} />
      <Route path="/templates/:name/design" element={<P.designer.Component />} />
      <Route path="/templates/import" element={<P.templateImport.Component />} />
      <Route path="/templates/_new" element={<P.templateEditor.Component />} />
      <Route path="/templates/:name/edit" element={<P.templateEditor.Component />} />
      <Route path="/templates/:name" element={<P.template.Component />} />
      <Route path="*" element={<P.notFound.Component />} />
    </Route>,
  ),
);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
