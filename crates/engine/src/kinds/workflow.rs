//! `workflow`: runs another workflow, by name, as a child execution.
//!
//! Parameters: `workflow` (its name), `version` (default: the latest), `inputs`. Output:
//! the child's outputs. The scheduler resolves the child's definition off its loop,
//! validates the inputs against the child's schema, and starts the child in the same
//! commit as the parent's attempt records that it waits on it (see
//! `scheduler::children`); a child that fails fails the attempt with the child's error
//! class, and cancelling the parent cancels the child.

use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Begin, Description, Run, TaskKind, Waiting};
use super::params::invalid;
use crate::event::TaskError;

/// The `workflow` kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubWorkflow;

impl TaskKind for SubWorkflow {
    fn name(&self) -> &'static str {
        "workflow"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Runs another workflow by name as a child execution; the output is its outputs.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["workflow"],
                "properties": {
                    "workflow": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                    "version": {"type": "integer", "minimum": 1},
                    "inputs": {"type": "object"}
                }
            }),
            output: json!({"description": "The child execution's outputs."}),
            check: None,
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Waiting(self)
    }
}

impl Waiting for SubWorkflow {
    fn begin(&self, call: &Call) -> Result<Begin, TaskError> {
        let p = &call.params;
        let workflow = p
            .get("workflow")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("`workflow` must be a workflow name"))?
            .to_string();
        let version = match p.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| invalid("`version` must be a version number"))?,
            ),
        };
        Ok(Begin::Child {
            workflow,
            version,
            inputs: p.get("inputs").cloned().unwrap_or(Value::Null),
        })
    }
}
