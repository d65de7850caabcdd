//! Event triggers: a new event starts every workflow whose `event` trigger it matches
//! (its `type`, its `source` when the trigger names one, and its `filter`), with the
//! inputs the trigger maps from `$event`.
//!
//! Each start carries an idempotency key made of the event's (`source`, `id`) and the
//! trigger's position: an event routed again after a crash (routing is at least once)
//! answers the execution it already started, so an event starts a workflow at most
//! once per trigger. What each trigger did, an execution started or why not (a filter
//! or a mapping that failed, inputs the workflow refuses), is recorded with the event.
//!
//! The latest version of each workflow is the one whose triggers count. A paused
//! trigger (see `crate::triggers`) starts nothing: it is recorded as `paused`, before
//! its filter is evaluated. Expressions are
//! evaluated off the async runtime, under the default limits.

use harmonia_engine::Workflow;
use harmonia_expr::{Context, Limits, Val, Var};
use harmonia_model::PlanTrigger;
use harmonia_storage::prelude::*;
use harmonia_storage::{Origin, OriginKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Events;
use crate::Result;

/// How long a trigger's idempotency key holds: longer than any crash and restart.
const KEY_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// A trigger that matched, with the inputs it mapped (or why it could not).
struct Matched {
    workflow: Workflow,
    trigger: usize,
    inputs: std::result::Result<Value, String>,
}

impl Events {
    /// Starts the workflows `event` triggers; returns what each matching trigger did.
    pub(super) async fn fire_triggers(&self, event: &Value) -> Result<Vec<Value>> {
        let field = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or_default();
        let (ty, source) = (field("type").to_string(), field("source").to_string());
        let paused = self.0.store().paused_triggers().await?;
        let mut out = Vec::new();
        let mut candidates = Vec::new();
        for record in self.0.store().workflows().await? {
            // A workflow that no longer compiles (a kind since removed) starts nothing.
            let Ok(workflow) = self.0.plans().get(&record.name, Some(record.version)).await else {
                continue;
            };
            let triggers: Vec<usize> = workflow
                .plan
                .triggers
                .iter()
                .enumerate()
                .filter(|(_, t)| match t {
                    PlanTrigger::Event(e) => {
                        e.ty == ty && e.source.as_ref().is_none_or(|s| *s == source)
                    }
                    PlanTrigger::Webhook(_) | PlanTrigger::Schedule(_) => false,
                })
                .map(|(i, _)| i)
                .filter(|i| {
                    let id = crate::triggers::trigger_id(&record.name, *i);
                    let on = !paused.iter().any(|(p, _)| *p == id);
                    if !on {
                        out.push(json!({"workflow": record.name, "trigger": i, "paused": true}));
                    }
                    on
                })
                .collect();
            if !triggers.is_empty() {
                candidates.push((workflow, triggers));
            }
        }
        if candidates.is_empty() {
            return Ok(out);
        }
        let judged = {
            let event = event.clone();
            tokio::task::spawn_blocking(move || judge(candidates, &event))
                .await
                .map_err(|e| crate::Error::Internal(format!("judging triggers: {e}")))?
        };
        let key_base = hex::encode(Sha256::digest(format!("{source}\0{}", field("id"))));
        for m in judged {
            let name = m.workflow.record.name.clone();
            let mut record = json!({"workflow": name, "trigger": m.trigger});
            match m.inputs {
                Err(why) => record["error"] = Value::String(why),
                Ok(inputs) => {
                    let key = harmonia_engine::Idempotency {
                        key: format!("event-{key_base}-{}", m.trigger),
                        body_hash: key_base.clone(),
                        ttl: KEY_TTL,
                    };
                    let origin = Origin::by(
                        OriginKind::Event,
                        crate::triggers::trigger_id(&name, m.trigger),
                    );
                    match self
                        .executions()
                        .start_request(m.workflow, inputs, Some(key), origin)
                        .await
                    {
                        Ok(started) => {
                            record["execution_id"] = Value::String(started.execution.to_string());
                        }
                        Err(e) => record["error"] = Value::String(e.to_string()),
                    }
                }
            }
            out.push(record);
        }
        Ok(out)
    }

    fn executions(&self) -> crate::Executions {
        crate::Executions(self.0.clone())
    }
}

/// The triggers among `candidates` whose filter `event` passes, with their inputs.
fn judge(candidates: Vec<(Workflow, Vec<usize>)>, event: &Value) -> Vec<Matched> {
    let limits = Limits::default();
    let mut out = Vec::new();
    for (workflow, triggers) in candidates {
        let params = workflow.plan.workflow.params.clone().unwrap_or(Value::Null);
        let ctx = Context::new()
            .with(Var::Event, Val::from(event))
            .with(Var::Params, Val::from(&params));
        for i in triggers {
            let Some(PlanTrigger::Event(t)) = workflow.plan.triggers.get(i) else {
                continue;
            };
            if let Some(filter) = &t.filter {
                match filter.eval(&ctx, &limits) {
                    Ok(v) if v.is_truthy() => {}
                    Ok(_) => continue,
                    Err(e) => {
                        out.push(Matched {
                            workflow: workflow.clone(),
                            trigger: t.index,
                            inputs: Err(format!("its `filter` failed: {e}")),
                        });
                        continue;
                    }
                }
            }
            let inputs = t
                .inputs
                .eval(&ctx, &limits)
                .and_then(|v| v.to_json(limits.max_output_bytes))
                .map_err(|e| format!("its `inputs` could not be computed: {e}"));
            out.push(Matched {
                workflow: workflow.clone(),
                trigger: t.index,
                inputs,
            });
        }
    }
    out
}
