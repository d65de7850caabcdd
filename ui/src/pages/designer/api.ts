// The designer's calls to the server: task types, validation of YAML text, and
// storing a workflow from YAML text (the API client sends JSON only, so YAML bodies
// go through fetch here, with the same token and the same error shape).
import { ApiError, api, getToken } from "../../api/client";
import type { JsonSchema } from "../../api/types";
import { sendText } from "../templates/http";
import { diagnosticsOf } from "../templates/logic";
import type { TemplatePreview } from "../templates/types";

export interface TaskType {
  name: string;
  description: string;
  params: JsonSchema;
  output?: unknown;
  deferred?: boolean;
  unavailable: string | null;
}

export interface Diagnostic {
  severity: "error" | "warning" | string;
  path: string;
  task?: string;
  message: string;
  line?: number;
  column?: number;
}

export interface Validation {
  valid: boolean;
  diagnostics: Diagnostic[];
}

export const getTaskTypes = (signal?: AbortSignal) => api.get<{ types: TaskType[] }>("/api/task-types", undefined, signal);

/** Sends YAML text; the JSON answer, or an ApiError. */
export async function sendYaml<T>(method: string, path: string, text: string, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "Content-Type": "application/yaml" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: text, signal });
  const body = await res.text();
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; details?: unknown } })?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? (body || res.statusText), err?.details);
  }
  return json as T;
}

export const validateYaml = (text: string, signal?: AbortSignal) => sendYaml<Validation>("POST", "/api/workflows/validate", text, signal);

/** A template's text checked by the server without storing it (`POST /api/templates?dry_run=true`):
 *  its warnings, or the errors that refuse it, as a Validation. */
export async function validateTemplateYaml(text: string): Promise<Validation> {
  try {
    const preview = await sendText<TemplatePreview>("POST", "/api/templates", text, { dry_run: true });
    return { valid: true, diagnostics: diagnosticsOf(preview.warnings).map((d) => ({ ...d, task: d.task ?? undefined })) };
  } catch (e) {
    if (e instanceof ApiError && e.code === "invalid_definition" && Array.isArray(e.details)) return { valid: false, diagnostics: diagnosticsOf(e.details).map((d) => ({ ...d, task: d.task ?? undefined })) };
    throw e;
  }
}

/** The `with` a new task of this type starts with: `{}` when the type has parameters
 *  (the form fills it), null when it has none. */
export function initialWith(t: TaskType | undefined): unknown {
  return t && t.params && Object.keys(t.params).length ? {} : null;
}
