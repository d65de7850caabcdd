// The API shapes the template pages read (`/api/templates...`; see /openapi.json):
// summaries and details, what saving and checking answer, diagnostics, versions,
// diffs, instantiation and import.
import type { JsonSchema, Links, WorkflowSummary } from "../../api/types";
import type { Change } from "../workflows/types";

export interface TemplateSummary {
  id: string;
  name: string;
  version: number;
  description: string | null;
  tags: string[];
  category: string | null;
  /** This version's change note (the built-ins' is `built in`). */
  note: string | null;
  created_at: string;
  links: Links;
}

export interface TemplateList {
  templates: TemplateSummary[];
  next_cursor?: string | null;
}

/** The workflow body of a template: a workflow definition without its name. */
export interface TemplateBody {
  description?: string;
  inputs?: JsonSchema;
  tasks?: Record<string, Record<string, unknown>>;
  [k: string]: unknown;
}

export interface TemplateValue {
  name: string;
  description?: string;
  tags?: string[];
  category?: string;
  parameters?: JsonSchema;
  workflow?: TemplateBody;
  [k: string]: unknown;
}

export interface TemplateDetail extends TemplateSummary {
  parameters: JsonSchema | null;
  template: TemplateValue;
  source: string;
  format: "yaml" | "json" | string;
}

/** A problem in a definition (an error of a 422 `invalid_definition`, or a warning of
 * an accepted one), with its place in the text sent. */
export interface Diagnostic {
  severity: "error" | "warning" | string;
  path: string;
  task?: string | null;
  message: string;
  line: number;
  column: number;
}

/** What a Tekton conversion could not carry over exactly (its place: in the Tekton file). */
export interface ConversionIssue {
  kind: "adjusted" | "dropped" | string;
  path: string;
  message: string;
  line: number;
  column: number;
}

/** `POST /api/templates` and `PUT /api/templates/{id}` when they store. */
export interface TemplateSaved {
  template: TemplateSummary;
  outcome: "created" | "unchanged" | string;
  conversion: ConversionIssue[] | null;
  warnings: Diagnostic[];
}

/** The same with `?dry_run=true`: the template as it would be stored. */
export interface TemplatePreview {
  template: TemplateValue;
  source: string;
  conversion: ConversionIssue[] | null;
  warnings: Diagnostic[];
}

export interface TemplateVersionInfo {
  version: number;
  note: string | null;
  created_at: string;
}

export interface TemplateVersionList {
  name: string;
  /** Oldest first. */
  versions: TemplateVersionInfo[];
}

export interface TemplateDiff {
  name: string;
  from: number;
  to: number;
  changes: Change[];
}

export interface TemplateRef {
  name: string;
  version: number;
}

export interface InstantiateRequest {
  params: Record<string, unknown>;
  version?: number;
  name?: string;
  execute?: boolean;
  inputs?: Record<string, unknown>;
}

export interface Instantiated {
  outcome: "created" | "updated" | "unchanged" | string;
  workflow: WorkflowSummary;
  template: TemplateRef;
  params: Record<string, unknown>;
  execution: { execution_id: string; status: string; workflow: string; version: number } | null;
}

export interface ImportResult {
  created: TemplateRef[];
  unchanged: TemplateRef[];
}
