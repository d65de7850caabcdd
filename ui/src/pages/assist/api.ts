// The assistant's API (`/api/assist/...`): whether a model is configured, a workflow
// drafted from a description, a failed execution's diagnosis and applying its patch.
import { api } from "../../api/client";

export interface AssistStatus {
  configured: boolean;
  provider: string | null;
  model: string | null;
  how: string | null;
}

export interface DraftDiagnostic {
  severity: string;
  path: string;
  message: string;
  line: number;
  column: number;
}

export interface Draft {
  valid: boolean;
  yaml: string;
  rounds: number;
  history: number[];
  repairs: string[];
  diagnostics: DraftDiagnostic[];
  tokens: { prompt: number; completion: number };
  model: string;
  elapsed_ms: number;
}

export interface PatchChange {
  path: string;
  from: unknown;
  to: unknown;
  why: string;
}

export interface Diagnosis {
  execution: string;
  summary: string;
  cause: string;
  evidence: { seq: number; kind: string | null; why: string; by: "harmonia" | "model" }[];
  suggestions: string[];
  patch: { yaml: string; diff: string; changes: PatchChange[] } | null;
  model: string | null;
  tokens: { prompt: number; completion: number };
}

export interface Applied {
  version: number | null;
  execution_id: string | null;
  rerun: string[];
  reused: string[];
}

export const assistStatus = (signal?: AbortSignal) => api.get<AssistStatus>("/api/assist", undefined, signal);
export const draftWorkflow = (description: string) => api.post<Draft>("/api/assist/workflows", { description });
export const diagnose = (id: string) => api.post<Diagnosis>(`/api/assist/executions/${encodeURIComponent(id)}/diagnose`, {});
export const applyPatch = (id: string, yaml: string, preview: boolean) =>
  api.post<Applied>(`/api/assist/executions/${encodeURIComponent(id)}/diagnose/apply`, { yaml, preview });
