//! Failure diagnosis: why an execution failed, with evidence from its log and a patch
//! that validates.
//!
//! The patch comes from rules over the failed tasks' error classes, not from the
//! model: a task that timed out gets twice its time limit; one that failed on a
//! connection, a 429 or a 5xx (or a component or worker error) gets a retry policy,
//! or more attempts than it had. The patched definition is validated with the
//! server's task types before it is shown; one that does not validate is dropped. The
//! model, when there is one, writes the summary and cause, cites events by sequence
//! number (citations of events it was not shown are dropped) and suggests more.
//!
//! [`Assist::apply`] stores the patch as a new version of the workflow and retries the
//! execution from its failure on it (or previews the retry).

use harmonia_engine::{RetryOptions, RetryPlan};
use harmonia_llm::{ChatRequest, Message};
use harmonia_model::{Dur, Format, Source};
use harmonia_storage::{ExecutionId, ExecutionStatus};
use serde::Serialize;
use serde_json::{Value, json};
use similar::{ChangeTag, TextDiff};

use super::context::{Facts, Failed, clip};
use super::{Assist, Tokens, model_error};
use crate::executions::{Retried, RetryMode};
use crate::{Error, Result};

/// A diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The execution.
    pub execution: ExecutionId,
    /// What happened, in a sentence or two.
    pub summary: String,
    /// Why.
    pub cause: String,
    /// Events that show it: `{seq, kind, why}`.
    pub evidence: Vec<Value>,
    /// What to do.
    pub suggestions: Vec<String>,
    /// A changed definition that validates, when the rules have one.
    pub patch: Option<Patch>,
    /// The model that explained, or null when none is configured (the rest is Harmonia's).
    pub model: Option<String>,
    /// Tokens used.
    pub tokens: Tokens,
}

/// A changed definition.
#[derive(Debug, Clone, Serialize)]
pub struct Patch {
    /// The whole definition, changed (YAML).
    pub yaml: String,
    /// A line diff against the version that ran (`-`/`+`/` ` prefixed lines).
    pub diff: String,
    /// Each change: where, from what, to what, and why.
    pub changes: Vec<PatchChange>,
}

/// One change of a patch.
#[derive(Debug, Clone, Serialize)]
pub struct PatchChange {
    /// The field, such as `tasks.fetch.retry`.
    pub path: String,
    /// The value before (null: not set).
    pub from: Value,
    /// The value after.
    pub to: Value,
    /// Why.
    pub why: String,
}

/// What applying a patch did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The version stored (none on a preview).
    pub version: Option<u32>,
    /// The retry (its new execution, none on a preview, and its plan).
    pub retry: Option<ExecutionId>,
    /// What the retry runs again and reuses.
    pub plan: RetryPlan,
}

const RETRY_CLASSES: [&str; 6] = [
    "connection",
    "http_429",
    "http_5xx",
    "component_error",
    "worker_error",
    "llm_invalid_output",
];

/// The rules' changes for `failed` on `def` (the definition as JSON).
fn rule_changes(def: &Value, failed: &[Failed]) -> Vec<PatchChange> {
    let mut out = Vec::new();
    let defaults = def.get("defaults");
    for f in failed {
        let Some(task) = def.get("tasks").and_then(|t| t.get(&f.task)) else {
            continue;
        };
        let path = format!("tasks.{}", f.task);
        if f.class == "timeout" {
            let now = task
                .get("timeout")
                .or_else(|| defaults.and_then(|d| d.get("timeout")))
                .and_then(Value::as_str)
                .and_then(|t| Dur::parse(t).ok());
            let to = match now {
                Some(d) => Dur(d.get() * 2).to_string(),
                None => "1m".to_string(),
            };
            out.push(PatchChange {
                path: format!("{path}.timeout"),
                from: task.get("timeout").cloned().unwrap_or(Value::Null),
                why: match now {
                    Some(d) => format!("`{}` timed out at its limit of {d}: twice the time lets a slow answer through", f.task),
                    None => format!("`{}` timed out without a limit of its own: give it one that fits", f.task),
                },
                to: json!(to),
            });
        } else if RETRY_CLASSES.contains(&f.class.as_str()) {
            let retry = task
                .get("retry")
                .or_else(|| defaults.and_then(|d| d.get("retry")));
            let had = retry
                .and_then(|r| r.get("max_attempts"))
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if had >= 5 {
                continue;
            }
            let mut to = task
                .get("retry")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            to.insert("max_attempts".into(), json!((had + 2).max(3)));
            to.entry("backoff").or_insert(json!("exponential"));
            to.entry("initial_delay").or_insert(json!("1s"));
            out.push(PatchChange {
                path: format!("{path}.retry"),
                from: task.get("retry").cloned().unwrap_or(Value::Null),
                to: Value::Object(to),
                why: format!(
                    "`{}` failed with `{}` after {} attempt(s): such failures often pass on another try",
                    f.task, f.class, f.attempts
                ),
            });
        }
    }
    out
}

/// `def` with `changes` made (each path is `tasks.NAME.FIELD`).
fn patched(def: &Value, changes: &[PatchChange]) -> Value {
    let mut def = def.clone();
    for c in changes {
        let mut parts = c.path.splitn(3, '.');
        let (Some("tasks"), Some(task), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if let Some(Value::Object(t)) = def.get_mut("tasks").and_then(|t| t.get_mut(task)) {
            t.insert(key.to_string(), c.to.clone());
        }
    }
    def
}

/// A line diff of two texts.
pub(crate) fn line_diff(old: &str, new: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Delete => '-',
            ChangeTag::Insert => '+',
            ChangeTag::Equal => ' ',
        };
        out.push(sign);
        out.push_str(change.value());
        if !change.value().ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 300},
            "cause": {"type": "string", "maxLength": 300},
            "evidence": {"type": "array", "maxItems": 4, "items": {
                "type": "object",
                "properties": {"seq": {"type": "integer"}, "why": {"type": "string", "maxLength": 120}},
                "required": ["seq", "why"], "additionalProperties": false
            }},
            "suggestions": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 160}}
        },
        "required": ["summary", "cause", "evidence", "suggestions"],
        "additionalProperties": false
    })
}

impl Assist {
    /// Diagnoses execution `id` (see the module doc). An execution that did not fail
    /// is refused.
    pub async fn diagnose(&self, id: ExecutionId) -> Result<Diagnosis> {
        let facts = self.facts(id, self.settings.context_chars).await?;
        let status = facts.execution.record.status;
        if status != ExecutionStatus::Failed {
            return Err(Error::Conflict(format!(
                "execution {id} is {}, not failed: there is nothing to diagnose",
                serde_json::to_string(&status)
                    .unwrap_or_default()
                    .trim_matches('"')
            )));
        }
        let patch = self.patch(&facts).await;
        let (summary, cause) = deterministic_story(&facts);
        let evidence = self.evidence(&facts).await?;
        let mut diagnosis = Diagnosis {
            execution: id,
            summary,
            cause,
            evidence,
            suggestions: patch
                .as_ref()
                .map(|p| p.changes.iter().map(|c| c.why.clone()).collect())
                .unwrap_or_default(),
            patch,
            model: None,
            tokens: Tokens::default(),
        };
        if let Some(llm) = &self.llm {
            let prompt = format!(
                "An execution of a workflow failed. Facts:\n{}\n\nExplain briefly why it failed. Cite events by their #seq number.",
                facts.text
            );
            let req = ChatRequest {
                max_tokens: Some(self.settings.max_tokens),
                temperature: Some(0.0),
                ..ChatRequest::new(vec![
                    Message::system(
                        "You diagnose failed workflow executions. Answer with JSON only.",
                    ),
                    Message::user(prompt),
                ])
            }
            .with_schema("diagnosis", answer_schema());
            match llm.chat(&req).await {
                Ok(answer) => {
                    diagnosis.tokens.add(&answer.usage);
                    diagnosis.model = Some(answer.model.clone());
                    if let Some(j) = answer.json {
                        self.merge_answer(&mut diagnosis, &facts, &j);
                    }
                }
                // A model that answers badly leaves Harmonia's own diagnosis.
                Err(harmonia_llm::Error::InvalidOutput { .. }) => {
                    diagnosis.model = Some(llm.model().to_string());
                }
                Err(e) => return Err(model_error(e)),
            }
        }
        Ok(diagnosis)
    }

    fn merge_answer(&self, d: &mut Diagnosis, facts: &Facts, j: &Value) {
        let text = |k: &str| {
            j.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if let Some(s) = text("summary") {
            d.summary = clip(s, 300);
        }
        if let Some(c) = text("cause") {
            d.cause = clip(c, 300);
        }
        for e in j
            .get("evidence")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(seq) = e.get("seq").and_then(Value::as_u64) else {
                continue;
            };
            // Only events the model was shown, once each.
            if !facts.seqs.contains(&seq) || d.evidence.iter().any(|x| x["seq"] == seq) {
                continue;
            }
            let why = e.get("why").and_then(Value::as_str).unwrap_or_default();
            d.evidence.push(
                json!({"seq": seq, "kind": Value::Null, "why": clip(why, 120), "by": "model"}),
            );
        }
        for s in j
            .get("suggestions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(s) = s.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                d.suggestions.push(clip(s, 160));
            }
        }
    }

    /// The events that show the failure: each failed task's last failed attempt.
    async fn evidence(&self, facts: &Facts) -> Result<Vec<Value>> {
        let history = crate::Executions(self.ctx.clone())
            .history(facts.execution.record.id)
            .await?;
        let mut out = Vec::new();
        for f in &facts.failed {
            let last = history.iter().rev().find(|e| {
                e.kind == "attempt_failed"
                    && serde_json::from_str::<Value>(e.data.get())
                        .ok()
                        .and_then(|d| d.get("task").and_then(Value::as_str).map(|t| t == f.task))
                        .unwrap_or(false)
            });
            if let Some(e) = last {
                out.push(json!({"seq": e.seq, "kind": e.kind, "why": format!("`{}` failed: {}", f.task, f.class), "by": "harmonia"}));
            }
        }
        Ok(out)
    }

    async fn patch(&self, facts: &Facts) -> Option<Patch> {
        let def = harmonia_model::yaml::value(&facts.source).ok()?;
        let changes = rule_changes(&def, &facts.failed);
        if changes.is_empty() {
            return None;
        }
        let yaml = harmonia_model::yaml::text(&patched(&def, &changes));
        let source = Source::new("patch.yaml", yaml.clone(), Format::Yaml);
        // Shown only when it validates.
        crate::Workflows(self.ctx.clone())
            .check(&source)
            .await
            .ok()?;
        Some(Patch {
            diff: line_diff(&facts.source, &yaml),
            yaml,
            changes,
        })
    }

    /// Stores `yaml` (a diagnosis's patch, perhaps edited) as a new version of the
    /// workflow execution `id` ran, and retries `id` from its failure on it; with
    /// `preview`, stores nothing and says what the retry would run.
    pub async fn apply(&self, id: ExecutionId, yaml: &str, preview: bool) -> Result<Applied> {
        let executions = crate::Executions(self.ctx.clone());
        let workflows = crate::Workflows(self.ctx.clone());
        let record = executions.record(id).await?;
        let source = Source::new("patch.yaml", yaml, Format::Yaml);
        let checked = workflows.check(&source).await?;
        if checked.plan.workflow.name != record.workflow {
            return Err(Error::InvalidName(format!(
                "the patch is named `{}`, but execution {id} ran workflow `{}`",
                checked.plan.workflow.name, record.workflow
            )));
        }
        // Whether it can be retried at all, before anything is stored.
        let Retried { plan, .. } = executions
            .retry(id, &RetryOptions::default(), RetryMode::Preview)
            .await?;
        if preview {
            return Ok(Applied {
                version: None,
                retry: None,
                plan,
            });
        }
        let saved = workflows.update(&record.workflow, &source).await?;
        let options = RetryOptions {
            from: None,
            latest_version: true,
        };
        let Retried { execution, plan } = executions.retry(id, &options, RetryMode::Start).await?;
        Ok(Applied {
            version: Some(saved.record.version),
            retry: execution,
            plan,
        })
    }
}

/// Harmonia's own account of a failure, from the facts alone.
fn deterministic_story(facts: &Facts) -> (String, String) {
    let r = &facts.execution.record;
    if facts.failed.is_empty() {
        let why = r
            .error
            .as_ref()
            .and_then(|e| e.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| "no task failed; the execution itself did".into());
        return (format!("Execution of `{}` failed.", r.workflow), why);
    }
    let names: Vec<String> = facts
        .failed
        .iter()
        .map(|f| format!("`{}`", f.task))
        .collect();
    let first = &facts.failed[0];
    (
        format!(
            "Execution of `{}` failed: {} failed.",
            r.workflow,
            names.join(", ")
        ),
        format!(
            "`{}` ({}) failed after {} attempt(s) with `{}`: {}",
            first.task, first.kind, first.attempts, first.class, first.message
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(task: &str, class: &str, attempts: u32) -> Failed {
        Failed {
            task: task.into(),
            kind: "http".into(),
            attempts,
            class: class.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn a_timeout_doubles_the_limit_and_a_5xx_gets_retries() {
        let def = json!({"name": "w", "defaults": {"timeout": "10s"}, "tasks": {
            "slow": {"type": "http", "with": {"url": "u"}},
            "flaky": {"type": "http", "with": {"url": "u"}, "retry": {"max_attempts": 2, "retry_on": ["http_5xx"]}},
            "bad": {"type": "http", "with": {"url": "u"}}
        }});
        let changes = rule_changes(
            &def,
            &[
                failed("slow", "timeout", 1),
                failed("flaky", "http_5xx", 2),
                failed("bad", "http_4xx", 1),
            ],
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0].path, "tasks.slow.timeout");
        assert_eq!(changes[0].to, json!("20s"));
        assert_eq!(changes[1].path, "tasks.flaky.retry");
        assert_eq!(
            changes[1].to,
            json!({"max_attempts": 4, "retry_on": ["http_5xx"], "backoff": "exponential", "initial_delay": "1s"})
        );
        let p = patched(&def, &changes);
        assert_eq!(p["tasks"]["slow"]["timeout"], "20s");
        assert_eq!(p["tasks"]["bad"], def["tasks"]["bad"]);
    }

    #[test]
    fn enough_attempts_get_no_more() {
        let def = json!({"tasks": {"a": {"type": "http", "retry": {"max_attempts": 5}}}});
        assert!(rule_changes(&def, &[failed("a", "connection", 5)]).is_empty());
    }

    #[test]
    fn the_diff_marks_lines() {
        assert_eq!(line_diff("a\nb\n", "a\nc\n"), " a\n-b\n+c\n");
    }
}
