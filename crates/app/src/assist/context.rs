//! The facts about an execution the assistant may show a model: its status and error,
//! its failed tasks (type, attempts, error class and message), the definition it ran,
//! and the last events of its log with their sequence numbers (what evidence cites).
//!
//! Invariants: everything goes through the engine's secret redaction before it is
//! written into the text (the log holds no secret values already; this is the second
//! lock); the text is at most `limit` characters, cut at a line, with the cut said.

use std::collections::BTreeSet;

use harmonia_storage::{ExecutionId, TaskStatus};
use serde_json::Value;

use super::Assist;
use crate::Result;
use crate::executions::Execution;

/// A task that failed, as the assistant reasons about it.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    /// The task's name.
    pub task: String,
    /// Its type.
    pub kind: String,
    /// Attempts made.
    pub attempts: u32,
    /// The error's class (`timeout`, `http_5xx`, ...).
    pub class: String,
    /// The error's message (redacted).
    pub message: String,
}

/// What is known about an execution, and the text a prompt gets.
pub(crate) struct Facts {
    pub execution: Execution,
    /// The definition's text, as stored (redacted).
    pub source: String,
    pub failed: Vec<Failed>,
    /// Sequence numbers of the events shown (evidence may cite only these).
    pub seqs: BTreeSet<u64>,
    pub text: String,
}

fn field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `text` cut to at most `max` characters, at a character boundary.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Assist {
    /// The facts of execution `id` (see the module doc).
    pub(crate) async fn facts(&self, id: ExecutionId, limit: usize) -> Result<Facts> {
        let executions = crate::Executions(self.ctx.clone());
        let execution = executions.get(id).await?;
        let record = &execution.record;
        let mut source = crate::Workflows(self.ctx.clone())
            .record(&record.workflow, Some(record.version))
            .await
            .map(|w| Value::String(w.source))
            .unwrap_or(Value::Null);
        self.ctx.handle.redact_secrets(&mut source);
        let source = source.as_str().unwrap_or_default().to_string();

        let mut failed = Vec::new();
        for run in &execution.runs {
            if run.status != TaskStatus::Failed || run.item.is_some() {
                continue;
            }
            let mut error = run.error.clone().unwrap_or(Value::Null);
            self.ctx.handle.redact_secrets(&mut error);
            let kind = execution
                .plan
                .tasks
                .iter()
                .find(|t| t.name == run.task)
                .map(|t| t.kind.clone())
                .unwrap_or_default();
            failed.push(Failed {
                task: run.task.clone(),
                kind,
                attempts: run.attempts,
                class: field(&error, "class"),
                message: clip(&field(&error, "message"), 400),
            });
        }

        let mut head = String::new();
        head.push_str(&format!(
            "Execution {} of workflow {} version {}: {}\n",
            record.id,
            record.workflow,
            record.version,
            serde_json::to_string(&record.status)
                .unwrap_or_default()
                .trim_matches('"')
        ));
        if let Some(e) = &record.error {
            let mut e = e.clone();
            self.ctx.handle.redact_secrets(&mut e);
            head.push_str(&format!("Error: {}\n", clip(&e.to_string(), 600)));
        }
        for f in &failed {
            head.push_str(&format!(
                "Failed task {} (type {}) after {} attempt(s): {}: {}\n",
                f.task, f.kind, f.attempts, f.class, f.message
            ));
        }
        head.push_str("Definition:\n");
        head.push_str(&clip(&source, limit / 3));
        if !head.ends_with('\n') {
            head.push('\n');
        }

        // The last events, newest kept first when the space runs out.
        let mut events = executions.history(id).await?;
        let budget = limit.saturating_sub(head.len() + 40);
        let mut lines = Vec::new();
        let mut used = 0;
        let mut seqs = BTreeSet::new();
        while let Some(e) = events.pop() {
            let mut data: Value = serde_json::from_str(e.data.get()).unwrap_or(Value::Null);
            self.ctx.handle.redact_secrets(&mut data);
            let line = format!("#{} {} {}", e.seq, e.kind, clip(&data.to_string(), 300));
            if used + line.len() + 1 > budget {
                break;
            }
            used += line.len() + 1;
            seqs.insert(e.seq);
            lines.push(line);
        }
        lines.reverse();
        let mut text = head;
        text.push_str("Events (#seq kind data):\n");
        text.push_str(&lines.join("\n"));
        Ok(Facts {
            execution,
            source,
            failed,
            seqs,
            text: clip(&text, limit),
        })
    }
}
