//! `sleep`: waits for `duration` on a durable timer.
//!
//! Parameters: `duration` (`500ms`, `30s`, `1h30m`). Output: `null`. The timer is
//! recorded with the attempt's wait, so a restart resumes it with the time left; it
//! costs no thread. A duration computed at run time that does not parse fails the
//! attempt with a `validation` error.

use harmonia_model::{Dur, ParamProblem};
use harmonia_storage::Timestamp;
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Begin, Description, Run, TaskKind, Waiting};
use super::params::invalid;
use crate::event::TaskError;

/// The `sleep` kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sleep;

impl TaskKind for Sleep {
    fn name(&self) -> &'static str {
        "sleep"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Waits for `duration` on a durable timer.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["duration"],
                "properties": {
                    "duration": {"type": "string", "description": "A duration such as `500ms`, `30s` or `1h30m`."}
                }
            }),
            output: json!({"type": "null", "description": "Nothing."}),
            check: Some(check),
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Waiting(self)
    }
}

impl Waiting for Sleep {
    fn begin(&self, call: &Call) -> Result<Begin, TaskError> {
        let text = call
            .params
            .get("duration")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let d = Dur::parse(text).map_err(|m| invalid(format!("`duration`: {m}")))?;
        Ok(Begin::Sleep {
            until: Timestamp::now().plus(d.get()),
        })
    }
}

/// A literal duration must parse.
fn check(with: &Value) -> Vec<ParamProblem> {
    match with.get("duration").and_then(Value::as_str) {
        Some(d) if !harmonia_expr::Template::has_expressions(d) => match Dur::parse(d) {
            Ok(_) => Vec::new(),
            Err(message) => vec![ParamProblem {
                pointer: "/duration".into(),
                message,
                span: None,
            }],
        },
        _ => Vec::new(),
    }
}
