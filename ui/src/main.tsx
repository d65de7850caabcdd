// The console's entry: the router, with each page loaded when first visited so the
// first paint needs only the shell (the graph libraries come with the pages that
// draw graphs).
import { StrictMode, Suspense, lazy } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { Shell } from "./Shell";
import "./styles.css";

const Executions = lazy(() => import("./pages/Executions"));
const Execution = lazy(() => import("./pages/execution/ExecutionPage"));
const Workflows = lazy(() => import("./pages/workflows/WorkflowsPage"));
const Workflow = lazy(() => import("./pages/workflows/WorkflowPage"));
const Triggers = lazy(() => import("./pages/triggers/TriggersPage"));
const Analytics = lazy(() => import("./pages/analytics/AnalyticsPage"));
const NotFound = lazy(() => import("./pages/NotFound"));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <Shell>
        <Suspense fallback={<div className="loading">Loading…</div>}>
          <Routes>
            <Route path="/" element={<Navigate to="/executions" replace />} />
            <Route path="/executions" element={<Executions />} />
            <Route path="/executions/:id" element={<Execution />} />
            <Route path="/workflows" element={<Workflows />} />
            <Route path="/workflows/:name" element={<Workflow />} />
            <Route path="/triggers" element={<Triggers />} />
            <Route path="/analytics" element={<Analytics />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </Shell>
    </BrowserRouter>
  </StrictMode>,
);
