//! A workflow from plain language: the model drafts, Harmonia validates, the model
//! repairs from the diagnostics, a bounded number of rounds.
//!
//! The model answers under a compact JSON Schema (`draft_schema`): a name, a
//! description and at most four tasks, each of one of four types with its fields
//! flattened and every string and list bounded (a small model stays valid only
//! then). `to_definition` turns a draft into a definition (names normalized to the
//! format's rules, `needs` following), which is validated like any workflow; its
//! diagnostics, translated back to the draft's terms, are the next round's prompt.
//!
//! Invariant: [`Draft::valid`] is true only when the returned YAML validated; the
//! last draft of a request that ran out of rounds comes back with its diagnostics.

use std::collections::HashSet;
use std::time::Instant;

use harmonia_llm::{ChatRequest, Message};
use harmonia_model::{Diagnostic, Format, Severity, Source};
use serde_json::{Map, Value, json};

use super::{Assist, Tokens, model_error};
use crate::{Error, Result};

/// What to draft.
#[derive(Debug, Clone, Default)]
pub struct DraftRequest {
    /// The workflow, in plain language.
    pub description: String,
    /// Example inputs: the workflow gets an `inputs` schema with these as defaults.
    pub inputs_example: Option<Value>,
    /// Rounds to allow (default: the settings'; 1 to 10).
    pub max_rounds: Option<u32>,
}

/// A drafted workflow.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Draft {
    /// Whether `yaml` validates (with the server's task types).
    pub valid: bool,
    /// The definition.
    pub yaml: String,
    /// Drafts asked for (the first and its repairs).
    pub rounds: u32,
    /// What is still wrong (empty when valid; warnings may remain).
    pub diagnostics: Vec<Diagnostic>,
    /// The error count of each round's draft, in order (how the repair went).
    pub history: Vec<usize>,
    /// What Harmonia changed in the last draft itself (a need naming no task left
    /// out), for the reader to check.
    pub repairs: Vec<String>,
    /// Tokens used over all rounds.
    pub tokens: Tokens,
    /// The model that drafted.
    pub model: String,
    /// Time taken, in milliseconds.
    pub elapsed_ms: u64,
}

const MAX_DESCRIPTION: usize = 4_000;

const PRIMER: &str = r#"You write workflows for a workflow engine, as JSON. A workflow has a name (lowercase words joined by -), a one-line description and a list of tasks. Each task has a name (letters, digits and _), a type, and needs: the names of earlier tasks that must finish before it (empty for the first task). Types: http calls a URL (method, url); transform runs a jq program (expr) over an input; set outputs a value; sleep waits (duration such as 5s or 2m). A task reads the workflow's inputs as ${ $inputs.NAME } and an earlier task's result as ${ $tasks.NAME.output } (an http task's result is {status, headers, body}). Answer with JSON only.
Example, for "Fetch https://example.com/status, keep the body's state, then wait 10 seconds":
{"name": "status-check", "description": "Fetch the status and keep its state", "tasks": [{"name": "fetch", "type": "http", "needs": [], "method": "GET", "url": "https://example.com/status"}, {"name": "state", "type": "transform", "needs": ["fetch"], "input": "${ $tasks.fetch.output.body }", "expr": ".state"}, {"name": "pause", "type": "sleep", "needs": ["state"], "duration": "10s"}]}"#;

/// The JSON Schema the model drafts under.
pub(crate) fn draft_schema() -> Value {
    let name = json!({"type": "string", "minLength": 1, "maxLength": 24});
    let needs = json!({"type": "array", "maxItems": 2, "items": name});
    let text = |n: u32| json!({"type": "string", "maxLength": n});
    let task = |ty: &str, fields: Value| {
        let mut props = Map::new();
        props.insert("name".into(), name.clone());
        props.insert("type".into(), json!({"const": ty}));
        props.insert("needs".into(), needs.clone());
        let mut required = vec![json!("name"), json!("type"), json!("needs")];
        if let Value::Object(f) = fields {
            for (k, v) in f {
                required.push(json!(k));
                props.insert(k, v);
            }
        }
        json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
    };
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 40},
            "description": text(120),
            "tasks": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"oneOf": [
                task("http", json!({"method": {"enum": ["GET", "POST", "PUT", "DELETE"]}, "url": text(160)})),
                task("transform", json!({"input": text(100), "expr": text(100)})),
                task("set", json!({"value": text(100)})),
                task("sleep", json!({"duration": text(8)})),
            ]}}
        },
        "required": ["name", "description", "tasks"],
        "additionalProperties": false
    })
}

/// `text` as a workflow name: lowercase, runs of other characters as `-`.
fn workflow_name(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "drafted-workflow".into()
    } else {
        out
    }
}

/// `text` as a task name: letters, digits and `_`, not starting with a digit.
fn task_name(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        out = "task".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out.truncate(64);
    out
}

fn str_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The JSON type name of a value, for an inputs schema.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A draft as a definition (names normalized, `needs` following the renames, a need
/// that names no task of the draft, or the task itself, left out), with a note for
/// each need left out.
pub(crate) fn to_definition(draft: &Value, inputs_example: Option<&Value>) -> (Value, Vec<String>) {
    let mut def = Map::new();
    def.insert(
        "name".into(),
        json!(workflow_name(&str_of(draft.get("name")))),
    );
    let description = str_of(draft.get("description"));
    if !description.trim().is_empty() {
        def.insert("description".into(), json!(description.trim()));
    }
    if let Some(Value::Object(example)) = inputs_example {
        let props: Map<String, Value> = example
            .iter()
            .map(|(k, v)| (k.clone(), json!({"type": json_type(v), "default": v})))
            .collect();
        def.insert(
            "inputs".into(),
            json!({"type": "object", "properties": props}),
        );
    }
    let list = draft
        .get("tasks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Names first, so that needs can follow them (a name given twice gets a suffix).
    let mut taken = HashSet::new();
    let mut renamed = std::collections::HashMap::new();
    let names: Vec<String> = list
        .iter()
        .map(|t| {
            let given = str_of(t.get("name"));
            let base = task_name(&given);
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}_{n}");
                n += 1;
            }
            renamed.entry(given).or_insert_with(|| name.clone());
            name
        })
        .collect();
    let mut tasks = Map::new();
    let mut notes = Vec::new();
    for (t, name) in list.iter().zip(&names) {
        let mut task = Map::new();
        let mut needs: Vec<Value> = Vec::new();
        for given in t
            .get("needs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let n = renamed
                .get(given)
                .cloned()
                .unwrap_or_else(|| task_name(given));
            if &n == name || !taken.contains(&n) {
                notes.push(format!("left `{given}` out of the needs of `{name}`: it names no other task of the draft"));
            } else if !needs.contains(&json!(n)) {
                needs.push(json!(n));
            }
        }
        if !needs.is_empty() {
            task.insert("needs".into(), Value::Array(needs));
        }
        let ty = str_of(t.get("type"));
        task.insert("type".into(), json!(ty));
        let with = match ty.as_str() {
            "http" => json!({"method": str_of(t.get("method")), "url": str_of(t.get("url"))}),
            "transform" => json!({"input": str_of(t.get("input")), "expr": str_of(t.get("expr"))}),
            "set" => json!(str_of(t.get("value"))),
            "sleep" => json!({"duration": str_of(t.get("duration"))}),
            _ => Value::Null,
        };
        task.insert("with".into(), with);
        tasks.insert(name.clone(), Value::Object(task));
    }
    def.insert("tasks".into(), Value::Object(tasks));
    (Value::Object(def), notes)
}

/// A diagnostic in the draft's terms: `task fetch, field url: ...`.
fn problem_line(d: &Diagnostic) -> String {
    let mut parts = d.path.splitn(4, '.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("tasks"), Some(task), Some("with"), Some(field)) => {
            format!("- task {task}, field {field}: {}", d.message)
        }
        (Some("tasks"), Some(task), Some(field), _) => {
            format!("- task {task}, {field}: {}", d.message)
        }
        (Some("tasks"), Some(task), None, _) => format!("- task {task}: {}", d.message),
        _ if d.path.is_empty() => format!("- {}", d.message),
        _ => format!("- {}: {}", d.path, d.message),
    }
}

impl Assist {
    /// Drafts a workflow from `request` (see the module doc).
    pub async fn draft(&self, request: &DraftRequest) -> Result<Draft> {
        let description = request.description.trim();
        if description.is_empty() {
            return Err(Error::InvalidRequest(
                "`description` is empty: say what the workflow should do".into(),
            ));
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(Error::InvalidRequest(format!(
                "`description` is longer than {MAX_DESCRIPTION} characters"
            )));
        }
        if let Some(v) = &request.inputs_example
            && !v.is_object()
        {
            return Err(Error::InvalidRequest(
                "`inputs_example` must be an object of input names to example values".into(),
            ));
        }
        let rounds_allowed = request.max_rounds.unwrap_or(self.settings.max_rounds);
        if !(1..=10).contains(&rounds_allowed) {
            return Err(Error::InvalidRequest(format!(
                "`max_rounds` must be 1 to 10, not {rounds_allowed}"
            )));
        }
        let llm = self.llm()?.clone();
        let started = Instant::now();
        let mut ask = format!("Write a workflow that does this: {description}");
        if let Some(example) = &request.inputs_example {
            ask.push_str(&format!("\nIts inputs look like: {example}"));
        }
        let schema = draft_schema();
        let mut tokens = Tokens::default();
        let mut history = Vec::new();
        let mut last: Option<(String, Vec<Diagnostic>, Vec<String>)> = None;
        let mut previous: Option<(Value, String)> = None;
        for round in 1..=rounds_allowed {
            let mut messages = vec![Message::system(PRIMER), Message::user(ask.clone())];
            if let Some((draft, problems)) = &previous {
                messages.push(Message::assistant(draft.to_string()));
                messages.push(Message::user(format!(
                    "The validator found these problems:\n{problems}\nAnswer with the whole corrected workflow as JSON."
                )));
            }
            let req = ChatRequest {
                max_tokens: Some(self.settings.draft_max_tokens),
                temperature: Some(0.0),
                ..ChatRequest::new(messages)
            }
            .with_schema("workflow_draft", schema.clone());
            let answer = match llm.chat(&req).await {
                Ok(a) => a,
                // An answer that breaks the schema (cut short): the round is spent.
                Err(harmonia_llm::Error::InvalidOutput { reason, .. }) => {
                    history.push(1);
                    tracing::debug!(round, %reason, "draft answer unusable");
                    continue;
                }
                Err(e) => return Err(model_error(e)),
            };
            tokens.add(&answer.usage);
            let Some(draft) = answer.json else {
                history.push(1);
                continue;
            };
            let (def, notes) = to_definition(&draft, request.inputs_example.as_ref());
            let yaml = harmonia_model::yaml::text(&def);
            let source = Source::new("draft.yaml", yaml.clone(), Format::Yaml);
            match self.ctx_workflows().check(&source).await {
                Ok(checked) => {
                    history.push(0);
                    return Ok(Draft {
                        valid: true,
                        yaml,
                        rounds: round,
                        diagnostics: checked.warnings,
                        history,
                        repairs: notes,
                        tokens,
                        model: answer.model,
                        elapsed_ms: started.elapsed().as_millis() as u64,
                    });
                }
                Err(Error::InvalidDefinition { diagnostics, .. }) => {
                    let errors: Vec<&Diagnostic> = diagnostics
                        .iter()
                        .filter(|d| d.severity == Severity::Error)
                        .collect();
                    history.push(errors.len());
                    let problems = errors
                        .iter()
                        .take(12)
                        .map(|d| problem_line(d))
                        .collect::<Vec<_>>()
                        .join("\n");
                    previous = Some((draft, problems));
                    last = Some((yaml, diagnostics, notes));
                }
                Err(e) => return Err(e),
            }
        }
        let model = llm.model().to_string();
        let (yaml, diagnostics, repairs) = last.unwrap_or_else(|| {
            (
                String::new(),
                vec![Diagnostic {
                    severity: Severity::Error,
                    path: String::new(),
                    task: None,
                    message: "the model gave no usable draft".into(),
                    position: harmonia_model::Position { line: 1, column: 1 },
                }],
                Vec::new(),
            )
        });
        Ok(Draft {
            valid: false,
            yaml,
            rounds: rounds_allowed,
            diagnostics,
            history,
            repairs,
            tokens,
            model,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    fn ctx_workflows(&self) -> crate::Workflows {
        crate::Workflows(self.ctx.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_formats_rules_and_needs_follow_the_names() {
        let draft = json!({
            "name": "Fetch Weather!", "description": "d",
            "tasks": [
                {"name": "get data", "type": "http", "needs": [], "method": "GET", "url": "http://x"},
                {"name": "get data", "type": "set", "needs": ["get data"], "value": "v"},
                {"name": "1st", "type": "sleep", "needs": ["nope"], "duration": "1s"}
            ]
        });
        let (def, notes) = to_definition(&draft, Some(&json!({"city": "Oslo", "days": 3})));
        assert_eq!(def["name"], "fetch-weather");
        let tasks = def["tasks"].as_object().expect("tasks");
        assert_eq!(
            tasks.keys().collect::<Vec<_>>(),
            ["get_data", "get_data_2", "_1st"]
        );
        assert_eq!(def["tasks"]["get_data_2"]["needs"], json!(["get_data"]));
        assert_eq!(def["tasks"]["get_data_2"]["with"], "v");
        // A need naming no task is left out, and said.
        assert_eq!(def["tasks"]["_1st"].get("needs"), None);
        assert_eq!(
            notes,
            ["left `nope` out of the needs of `_1st`: it names no other task of the draft"]
        );
        assert_eq!(
            def["inputs"]["properties"]["days"],
            json!({"type": "integer", "default": 3})
        );
    }

    #[test]
    fn problems_are_said_in_the_drafts_terms() {
        let d = Diagnostic {
            severity: Severity::Error,
            path: "tasks.fetch.with.url".into(),
            task: Some("fetch".into()),
            message: "must not be empty".into(),
            position: harmonia_model::Position { line: 1, column: 1 },
        };
        assert_eq!(
            problem_line(&d),
            "- task fetch, field url: must not be empty"
        );
    }

    #[test]
    fn the_schema_bounds_every_string_and_list() {
        fn check(v: &Value) {
            if let Some(o) = v.as_object() {
                if o.get("type") == Some(&json!("string")) {
                    assert!(o.contains_key("maxLength"), "unbounded string: {v}");
                }
                if o.get("type") == Some(&json!("array")) {
                    assert!(o.contains_key("maxItems"), "unbounded list: {v}");
                }
                o.values().for_each(check);
            } else if let Some(a) = v.as_array() {
                a.iter().for_each(check);
            }
        }
        check(&draft_schema());
    }
}
