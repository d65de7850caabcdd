// The API shapes the workflow pages read beyond those in api/types.ts: a workflow's
// versions, the diff between two of them, and what an execute call answers.

export interface VersionInfo {
  version: number;
  created_at: string;
  description: string | null;
}

export interface VersionList {
  name: string;
  /** Oldest first. */
  versions: VersionInfo[];
}

/** One change between two versions: a JSON pointer into the definition. */
export interface Change {
  path: string;
  change: "added" | "removed" | "changed" | string;
  before?: unknown;
  after?: unknown;
}

export interface WorkflowDiff {
  name: string;
  from: number;
  to: number;
  changes: Change[];
}

export interface Started {
  execution_id: string;
  status: string;
  workflow: string;
  version: number;
}
