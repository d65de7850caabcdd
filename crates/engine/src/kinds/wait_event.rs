//! `wait_event`: waits, durably, for an event of a type that matches a filter.
//!
//! Parameters:
//! - `type` (required): the event's `type` (`payment.settled`);
//! - `source`: when set, only events from this `source`;
//! - `filter`: an expression over `$event` (and the task's usual variables), evaluated
//!   for each event of the type that arrives while the task waits: the first for which
//!   it is true ends the wait. Deferred: it is compiled at validation, with `$event`,
//!   and evaluated only then. An event the filter fails on (it reads a field the event
//!   does not have as an object, say) does not match;
//! - `timeout`: how long to wait (none: for ever); at its end the attempt fails with
//!   the class `wait_timeout`. Not the task's `timeout:` (see `approval`).
//!
//! Output: the event, as CloudEvents JSON (`specversion`, `id`, `source`, `type`,
//! `data`, ...). Events arrive through `POST /api/events` (see the application layer,
//! which stores each once by `source` and `id` and routes it here as the signal `event`
//! keyed by its type). An event reaches only the waits that have begun when it arrives.

use harmonia_expr::{Val, Var, VarSet};
use harmonia_model::{Dur, ErrorClass, ParamProblem};
use harmonia_storage::Timestamp;
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Answer, Begin, Description, Run, Signal, TaskKind, Waiter, Waiting};
use super::params::invalid;
use crate::event::TaskError;

/// The signal events arrive as.
pub const SIGNAL: &str = "event";

/// The `wait_event` kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitEvent;

impl TaskKind for WaitEvent {
    fn name(&self) -> &'static str {
        "wait_event"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Waits for an event of `type` (posted to /api/events) for which `filter` holds; the output is the event.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "minLength": 1, "description": "The event's `type`."},
                    "source": {"type": "string", "minLength": 1, "description": "Only events from this `source`."},
                    "filter": {"description": "An expression over `$event`, such as `${ $event.data.order == $inputs.order }`."},
                    "timeout": {"type": "string", "description": "How long to wait, such as `1h`."}
                }
            }),
            output: json!({
                "type": "object",
                "description": "The event (CloudEvents 1.0 JSON).",
                "properties": {
                    "id": {"type": "string"},
                    "source": {"type": "string"},
                    "type": {"type": "string"},
                    "data": {}
                }
            }),
            check: Some(check),
            deferred: vec![("filter", VarSet::of(&[Var::Event]))],
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Waiting(self)
    }
}

impl Waiting for WaitEvent {
    fn begin(&self, call: &Call) -> Result<Begin, TaskError> {
        let p = &call.params;
        let ty = p
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| invalid("`type` must be an event type"))?;
        let timeout = match p.get("timeout") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                Dur::parse(t.as_str().unwrap_or_default())
                    .map_err(|m| invalid(format!("`timeout`: {m}")))?,
            ),
        };
        Ok(Begin::Signal {
            name: SIGNAL.into(),
            key: Some(ty.to_string()),
            spec: json!({
                "type": ty,
                "source": p.get("source").cloned().unwrap_or(Value::Null),
                "timeout": timeout.map(|d| d.to_string()),
            }),
            until: timeout.map(|d| Timestamp::now().plus(d.get())),
        })
    }

    fn signal(&self, w: &Waiter<'_>, signal: &Signal) -> Answer {
        let event = &signal.payload;
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        if signal.name != SIGNAL || field(event, "type") != field(w.spec, "type") {
            return Answer::Ignored;
        }
        if let Some(source) = field(w.spec, "source")
            && field(event, "source").as_deref() != Some(source.as_str())
        {
            return Answer::Ignored;
        }
        if let Some(filter) = w.deferred("filter") {
            let ctx = w.ctx.clone().with(Var::Event, Val::from(event.clone()));
            match filter.eval(&ctx, w.limits) {
                Ok(v) if v.is_truthy() => {}
                Ok(_) => return Answer::Ignored,
                Err(e) => {
                    tracing::debug!(task = w.task, error = %e, "an event's filter failed: no match");
                    return Answer::Ignored;
                }
            }
        }
        Answer::Done(Ok(event.clone()))
    }

    fn expire(&self, w: &Waiter<'_>) -> Result<Value, TaskError> {
        let field = |k: &str| w.spec.get(k).and_then(Value::as_str).unwrap_or("?");
        Err(TaskError::new(
            ErrorClass::WaitTimeout,
            format!(
                "no `{}` event matched within {}",
                harmonia_expr::clip(field("type")),
                field("timeout")
            ),
        ))
    }
}

/// A literal `timeout` must be a duration.
fn check(with: &Value) -> Vec<ParamProblem> {
    match with.get("timeout").and_then(Value::as_str) {
        Some(t) if !harmonia_expr::Template::has_expressions(t) => match Dur::parse(t) {
            Ok(_) => Vec::new(),
            Err(message) => vec![ParamProblem {
                pointer: "/timeout".into(),
                message,
                span: None,
            }],
        },
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use harmonia_expr::{Context, Limits, ValueTemplate};

    use super::*;

    fn matches(filter: Option<&str>, event: Value) -> Answer {
        let vars = VarSet::of(&[Var::Inputs, Var::Event]);
        let deferred: Vec<(String, ValueTemplate)> = filter
            .map(|f| {
                vec![(
                    "filter".to_string(),
                    ValueTemplate::compile(&json!(f), vars).expect("compiles"),
                )]
            })
            .unwrap_or_default();
        let ctx = Context::new().with(Var::Inputs, Val::from(json!({"order": 7})));
        let spec = json!({"type": "paid", "source": null, "timeout": "1h"});
        let w = Waiter {
            task: "settle",
            spec: &spec,
            ctx: &ctx,
            deferred: &deferred,
            limits: &Limits::default(),
            now: Timestamp(0),
        };
        WaitEvent.signal(
            &w,
            &Signal {
                name: SIGNAL.into(),
                payload: event,
                by: None,
            },
        )
    }

    #[test]
    fn the_filter_reads_the_event_and_the_inputs() {
        let f = Some("${ $event.data.order == $inputs.order }");
        let hit = json!({"type": "paid", "id": "1", "source": "s", "data": {"order": 7}});
        assert_eq!(matches(f, hit.clone()), Answer::Done(Ok(hit)));
        let miss = json!({"type": "paid", "id": "2", "source": "s", "data": {"order": 8}});
        assert_eq!(matches(f, miss), Answer::Ignored);
        // A filter that fails on an odd event: no match, no failure.
        let odd = json!({"type": "paid", "id": "3", "source": "s", "data": "text"});
        assert_eq!(
            matches(Some("${ $event.data.order > 1 }"), odd),
            Answer::Ignored
        );
        let other = json!({"type": "refunded", "id": "4", "source": "s"});
        assert_eq!(matches(None, other), Answer::Ignored);
    }
}
