//! The tool table: each tool's name, description, input schema (a hand-written JSON
//! Schema, which `args` also reads to refuse arguments it does not declare), and least
//! role.
//!
//! A tool's least role is its REST route's: `route` names that route, and its need is
//! `auth::Need::of` that route, so the two cannot drift apart (`validate_workflow` is
//! `POST /api/workflows/validate`, which stores nothing and needs `Read`). A tool
//! without a route would only read, like `GET`.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::auth::Need;

/// One tool.
pub(crate) struct ToolSpec {
    /// Its name (snake_case).
    pub(crate) name: &'static str,
    /// What it does, for the model that picks it.
    pub(crate) description: &'static str,
    /// The REST route it mirrors (method and path, ids as `x`), whose need is its
    /// need; none for a tool that only reads and has no route.
    pub(crate) route: Option<(&'static str, &'static str)>,
    /// Its input schema.
    pub(crate) schema: fn() -> Value,
}

impl ToolSpec {
    /// The least that its caller needs: its route's need (`Read` without a route).
    pub(crate) fn need(&self) -> Need {
        match self.route {
            Some((method, path)) => {
                let method = method.parse().unwrap_or(axum::http::Method::POST);
                Need::of(&method, path)
            }
            None => Need::Read,
        }
    }

    /// The names of its arguments (the schema's properties).
    pub(crate) fn arguments(&self) -> Vec<String> {
        (self.schema)()
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The tool as MCP lists it.
    pub(crate) fn tool(&self) -> Tool {
        let schema: JsonObject = match (self.schema)() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let read_only = self.need() == Need::Read;
        let mut annotations = ToolAnnotations::new().read_only(read_only);
        if !read_only {
            // Nothing here deletes; cancelling stops work, which is not undone.
            annotations = annotations
                .destructive(self.name == "cancel_execution")
                .open_world(false);
        }
        Tool::new(self.name, self.description, Arc::new(schema)).with_annotations(annotations)
    }
}

/// The tool named `name`.
pub(crate) fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Every tool, as MCP lists them.
pub(crate) fn all() -> Vec<Tool> {
    TOOLS.iter().map(ToolSpec::tool).collect()
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn integer(description: &str, minimum: u32, maximum: u32) -> Value {
    json!({"type": "integer", "description": description, "minimum": minimum, "maximum": maximum})
}

fn boolean(description: &str) -> Value {
    json!({"type": "boolean", "description": description})
}

fn map(description: &str) -> Value {
    json!({"type": "object", "description": description})
}

fn version() -> Value {
    integer("A version number (default: the latest).", 1, u32::MAX)
}

fn cursor() -> Value {
    string("The `next_cursor` of the previous page.")
}

fn execution_id() -> Value {
    json!({"type": "string", "format": "uuid", "description": "The execution's id."})
}

/// The longest `execute_workflow` waits for the end, in seconds.
pub(crate) const MAX_WAIT_SECONDS: u32 = 60;

/// Every tool.
pub(crate) static TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "list_workflows",
        description: "List the stored workflows (their latest versions) by name, a page at a time. Answers {workflows: [{id, name, version, description, created_at, links}], next_cursor}.",
        route: Some(("GET", "/api/workflows")),
        schema: || {
            object(
                json!({
                    "q": string("Only workflows whose name contains this."),
                    "limit": integer("At most this many (default 100).", 1, 1000),
                    "cursor": cursor(),
                }),
                &[],
            )
        },
    },
    ToolSpec {
        name: "get_workflow",
        description: "Read a workflow (a version of it) with its definition: `source` is the text as written (YAML or JSON, `format`), `definition` the same as JSON.",
        route: Some(("GET", "/api/workflows/x")),
        schema: || {
            object(
                json!({"name": string("The workflow's name (or id)."), "version": version()}),
                &["name"],
            )
        },
    },
    ToolSpec {
        name: "validate_workflow",
        description: "Check a workflow definition (YAML or JSON text) without storing it. Answers {valid, diagnostics: [{severity, path, task?, message, line, column}]}: every problem when it is invalid, the warnings when it is valid.",
        route: Some(("POST", "/api/workflows/validate")),
        schema: || {
            object(
                json!({"definition": string("The definition, as YAML or JSON text.")}),
                &["definition"],
            )
        },
    },
    ToolSpec {
        name: "create_workflow",
        description: "Store a workflow definition (YAML or JSON text): a new workflow, or a new version of the workflow of that name (kept as it is when the text is the latest version's). Answers the version now current with `outcome` (created, updated or unchanged) and `warnings`; an invalid definition is an `invalid_definition` error listing every problem with its line and column.",
        route: Some(("POST", "/api/workflows")),
        schema: || {
            object(
                json!({"definition": string("The definition, as YAML or JSON text.")}),
                &["definition"],
            )
        },
    },
    ToolSpec {
        name: "execute_workflow",
        description: "Start a workflow on inputs (checked against its `inputs` schema). Answers {execution_id, status, workflow, version, links}; with `wait_seconds`, waits up to that long for the execution to end and answers the execution with its outputs and every task instead (its `status` says whether it ended).",
        route: Some(("POST", "/api/workflows/x/execute")),
        schema: || {
            object(
                json!({
                    "name": string("The workflow's name (or id)."),
                    "inputs": map("The inputs (default: none)."),
                    "version": version(),
                    "wait_seconds": integer(
                        "Wait up to this many seconds for the execution to end (default 0: answer once it started).",
                        0,
                        MAX_WAIT_SECONDS,
                    ),
                }),
                &["name"],
            )
        },
    },
    ToolSpec {
        name: "list_executions",
        description: "List executions, newest first, a page at a time. Answers {executions: [{id, workflow, version, status, created_at, started_at, ended_at, origin: {kind, by} (what started it), error, ...}], next_cursor}.",
        route: Some(("GET", "/api/executions")),
        schema: || {
            object(
                json!({
                    "workflow": string("Only executions of this workflow (by name)."),
                    "status": {
                        "type": "string",
                        "enum": ["pending", "running", "paused", "succeeded", "failed", "cancelled"],
                        "description": "Only executions with this status.",
                    },
                    "origin": {
                        "type": "string",
                        "enum": harmonia_storage::OriginKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                        "description": "Only executions started by this kind of origin.",
                    },
                    "trigger": string("Only executions this trigger started, by its id (`WORKFLOW.POSITION`, as the triggers listing shows it)."),
                    "input": string("Only executions whose inputs, as compact JSON, contain this text (case-sensitive, literal: `\"name\":\"alice\"`; at most 200 characters)."),
                    "limit": integer("At most this many (default 50).", 1, 500),
                    "cursor": cursor(),
                }),
                &[],
            )
        },
    },
    ToolSpec {
        name: "get_execution",
        description: "Read an execution: status, timings, inputs, outputs, error, and every task (status, attempts, output, error, what it waits for).",
        route: Some(("GET", "/api/executions/x")),
        schema: || object(json!({"id": execution_id()}), &["id"]),
    },
    ToolSpec {
        name: "cancel_execution",
        description: "Cancel an execution: running work is stopped (processes killed, requests dropped, child executions cancelled). Answers {execution_id, status}.",
        route: Some(("POST", "/api/executions/x/cancel")),
        schema: || {
            object(
                json!({"id": execution_id(), "reason": string("Why, for the history.")}),
                &["id"],
            )
        },
    },
    ToolSpec {
        name: "pause_execution",
        description: "Pause a running execution: no new task starts; running ones finish. Answers {execution_id, status}.",
        route: Some(("POST", "/api/executions/x/pause")),
        schema: || object(json!({"id": execution_id()}), &["id"]),
    },
    ToolSpec {
        name: "resume_execution",
        description: "Resume a paused execution. Answers {execution_id, status}.",
        route: Some(("POST", "/api/executions/x/resume")),
        schema: || object(json!({"id": execution_id()}), &["id"]),
    },
    ToolSpec {
        name: "retry_execution",
        description: "Retry an ended execution from its failure, as a new execution that reuses what succeeded; or, with `preview`, only say what would run again. Answers {execution_id, original, workflow, version, rerun, reused}.",
        route: Some(("POST", "/api/executions/x/retry")),
        schema: || {
            object(
                json!({
                    "id": execution_id(),
                    "from": string("Also run this task and everything downstream of it again."),
                    "latest_version": boolean("Run on the workflow's latest version."),
                    "preview": boolean("Only say what would run again; start nothing."),
                }),
                &["id"],
            )
        },
    },
    ToolSpec {
        name: "list_templates",
        description: "List workflow templates (their latest versions) by name, a page at a time. Answers {templates: [{id, name, version, description, tags, category, created_at, links}], next_cursor}. `get_template` gives a template's parameters.",
        route: Some(("GET", "/api/templates")),
        schema: || {
            object(
                json!({
                    "q": string("Only templates whose name contains this (case-insensitive)."),
                    "tag": string("Only templates with this tag."),
                    "category": string("Only templates in this category."),
                    "limit": integer("At most this many (default 100).", 1, 500),
                    "cursor": cursor(),
                }),
                &[],
            )
        },
    },
    ToolSpec {
        name: "get_template",
        description: "Read a template (a version of it): its summary, `parameters` (the JSON Schema of what `instantiate_template` takes), the workflow it makes, and its text.",
        route: Some(("GET", "/api/templates/x")),
        schema: || {
            object(
                json!({"name": string("The template's name (or id)."), "version": version()}),
                &["name"],
            )
        },
    },
    ToolSpec {
        name: "instantiate_template",
        description: "Make a workflow from a template: check the parameters against its schema, apply defaults, store the workflow, and, with `execute`, start it. Answers {outcome (created, updated or unchanged), workflow, template, params, execution (the one started, or null)}.",
        route: Some(("POST", "/api/templates/x/instantiate")),
        schema: || {
            object(
                json!({
                    "name": string("The template's name (or id)."),
                    "params": map("The parameter values; defaults fill in the rest."),
                    "workflow_name": string("The workflow's name (default: derived from the template's name and the values, so the same values make the same workflow)."),
                    "version": version(),
                    "execute": boolean("Start an execution of the workflow at once."),
                    "inputs": map("The execution's inputs, with `execute`."),
                }),
                &["name"],
            )
        },
    },
    ToolSpec {
        name: "list_components",
        description: "List the Tekton components that `component` tasks may call (declared in the server's config, or registered with Hermes). Answers {components: [{name, endpoint, mcp_prefix, capabilities, source, healthy, authenticated}], hermes_error}.",
        route: Some(("GET", "/api/components")),
        schema: || object(json!({}), &[]),
    },
];

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;

    #[test]
    fn each_tool_needs_what_its_route_needs() {
        for tool in TOOLS {
            if let Some((method, _)) = tool.route {
                assert!(method.parse::<Method>().is_ok(), "{}", tool.name);
            }
            let least = match tool.name {
                "create_workflow" | "instantiate_template" => Need::Admin,
                "execute_workflow" | "cancel_execution" | "pause_execution"
                | "resume_execution" | "retry_execution" => Need::Operate,
                _ => Need::Read,
            };
            assert_eq!(tool.need(), least, "{}", tool.name);
        }
    }

    #[test]
    fn names_are_unique_and_schemas_are_objects() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
        for tool in TOOLS {
            let schema = (tool.schema)();
            assert_eq!(schema["type"], "object", "{}", tool.name);
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().expect("a name");
                assert!(
                    tool.arguments().iter().any(|a| a == name),
                    "{}: {name}",
                    tool.name
                );
            }
        }
    }
}
