//! `set`: the output is the evaluated `with:`, as it is.
//!
//! Parameters: any value. Pure and instantaneous, so it runs inline.

use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Description, Inline, Run, TaskKind};
use crate::event::TaskError;

/// The `set` kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Set;

impl TaskKind for Set {
    fn name(&self) -> &'static str {
        "set"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Outputs its evaluated `with:` value as it is.",
            params: json!({}),
            output: json!({"description": "The evaluated `with:`."}),
            check: None,
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Inline(self)
    }
}

impl Inline for Set {
    fn run(&self, call: &Call) -> Result<Value, TaskError> {
        Ok(call.params.clone())
    }
}
