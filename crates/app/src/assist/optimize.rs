//! Optimization: the deterministic findings of `harmonia_model::analysis` over a
//! workflow, weighed by its past executions' timings, then explained and ranked by the
//! model when there is one. Without a model the findings come back alone.
//!
//! Timings are the durations (first start to end) of each task in up to
//! [`SAMPLED`] of the workflow's latest succeeded executions.

use harmonia_llm::{ChatRequest, Message};
use harmonia_model::analysis::{Analysis, Timing, analyze};
use harmonia_model::{Plan, Source};
use harmonia_storage::{ExecutionStatus, TaskStatus};
use serde::Serialize;
use serde_json::{Value, json};

use super::context::clip;
use super::{Assist, Tokens, model_error};
use crate::Result;
use crate::executions::ExecutionFilter;

/// The most executions whose timings are read.
pub const SAMPLED: u32 = 50;

/// An optimization report.
#[derive(Debug, Clone, Serialize)]
pub struct Optimization {
    /// The workflow.
    pub workflow: String,
    /// Its version analyzed (none for a definition not stored).
    pub version: Option<u32>,
    /// The critical path and the findings.
    #[serde(flatten)]
    pub analysis: Analysis,
    /// How many past executions gave timings.
    pub executions_sampled: usize,
    /// The model's explanation, when one is configured.
    pub explanation: Option<Explanation>,
    /// The model, or null.
    pub model: Option<String>,
    /// Tokens used.
    pub tokens: Tokens,
}

/// The model's reading of the findings.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// In a few sentences.
    pub summary: String,
    /// Findings by the model's rank, most worth doing first: `{finding, why}` where
    /// `finding` is an index into `findings`.
    pub ranking: Vec<Value>,
}

fn answer_schema(n: usize) -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 400},
            "ranking": {"type": "array", "maxItems": n.clamp(1, 5), "items": {
                "type": "object",
                "properties": {
                    "finding": {"type": "integer", "minimum": 0, "maximum": n.saturating_sub(1)},
                    "why": {"type": "string", "maxLength": 160}
                },
                "required": ["finding", "why"], "additionalProperties": false
            }}
        },
        "required": ["summary", "ranking"],
        "additionalProperties": false
    })
}

impl Assist {
    /// Analyzes the stored workflow `id` (the latest version unless `version`).
    pub async fn optimize(&self, id: &str, version: Option<u32>) -> Result<Optimization> {
        let workflow = crate::Workflows(self.ctx.clone()).plan(id, version).await?;
        let record = &workflow.record;
        let (timings, sampled) = self.timings(&record.name).await?;
        self.report(&workflow.plan, Some(record.version), timings, sampled)
            .await
    }

    /// Analyzes a definition that need not be stored (timings from a stored workflow
    /// of its name, if there is one).
    pub async fn optimize_source(&self, source: &Source) -> Result<Optimization> {
        let checked = crate::Workflows(self.ctx.clone()).check(source).await?;
        let (timings, sampled) = self.timings(&checked.plan.workflow.name).await?;
        self.report(&checked.plan, None, timings, sampled).await
    }

    async fn timings(&self, workflow: &str) -> Result<(Vec<Timing>, usize)> {
        let page = crate::Executions(self.ctx.clone())
            .list(ExecutionFilter {
                workflow: Some(workflow.to_string()),
                statuses: vec![ExecutionStatus::Succeeded],
                limit: Some(SAMPLED),
                ..ExecutionFilter::default()
            })
            .await;
        // A workflow never stored has no executions.
        let Ok(page) = page else {
            return Ok((Vec::new(), 0));
        };
        let mut by_task: indexmap::IndexMap<String, Vec<f64>> = indexmap::IndexMap::new();
        for e in &page.items {
            for run in self.ctx.store().task_runs(e.id).await? {
                if run.item.is_some() || run.status != TaskStatus::Succeeded {
                    continue;
                }
                if let (Some(a), Some(b)) = (run.started_at, run.ended_at) {
                    by_task
                        .entry(run.task)
                        .or_default()
                        .push(b.since(a).as_secs_f64() * 1000.0);
                }
            }
        }
        let timings = by_task
            .into_iter()
            .map(|(task, samples_ms)| Timing { task, samples_ms })
            .collect();
        Ok((timings, page.items.len()))
    }

    async fn report(
        &self,
        plan: &Plan,
        version: Option<u32>,
        timings: Vec<Timing>,
        sampled: usize,
    ) -> Result<Optimization> {
        let analysis = analyze(plan, &timings);
        let mut out = Optimization {
            workflow: plan.workflow.name.clone(),
            version,
            analysis,
            executions_sampled: sampled,
            explanation: None,
            model: None,
            tokens: Tokens::default(),
        };
        let Some(llm) = &self.llm else { return Ok(out) };
        let findings = &out.analysis.findings;
        if findings.is_empty() {
            return Ok(out);
        }
        let mut list = String::new();
        for (i, f) in findings.iter().enumerate() {
            list.push_str(&format!(
                "[{i}] {}: {} Fix: {}\n",
                f.path, f.message, f.suggestion
            ));
        }
        let prompt = format!(
            "Workflow `{}`. Critical path: {}.\nFindings:\n{}\nRank the findings by how much fixing each would help, and explain briefly.",
            out.workflow,
            out.analysis.critical_path.tasks.join(" -> "),
            clip(&list, self.settings.context_chars)
        );
        let req = ChatRequest {
            max_tokens: Some(self.settings.max_tokens),
            temperature: Some(0.0),
            ..ChatRequest::new(vec![
                Message::system("You review workflow definitions for speed and reliability. Answer with JSON only."),
                Message::user(prompt),
            ])
        }
        .with_schema("optimization", answer_schema(findings.len()));
        match llm.chat(&req).await {
            Ok(answer) => {
                out.tokens.add(&answer.usage);
                out.model = Some(answer.model.clone());
                if let Some(j) = answer.json {
                    let n = findings.len() as u64;
                    let mut seen = std::collections::BTreeSet::new();
                    let ranking = j
                        .get("ranking")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|r| {
                            let i = r.get("finding")?.as_u64()?;
                            // Only findings that exist, once each.
                            (i < n && seen.insert(i)).then(|| {
                                json!({"finding": i, "why": clip(r.get("why").and_then(Value::as_str).unwrap_or_default(), 160)})
                            })
                        })
                        .collect();
                    out.explanation = Some(Explanation {
                        summary: clip(
                            j.get("summary").and_then(Value::as_str).unwrap_or_default(),
                            400,
                        ),
                        ranking,
                    });
                }
            }
            Err(harmonia_llm::Error::InvalidOutput { .. }) => {
                out.model = Some(llm.model().to_string())
            }
            Err(e) => return Err(model_error(e)),
        }
        Ok(out)
    }
}
