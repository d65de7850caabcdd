//! `set`: the output is the evaluated `with:`, as it is.
//!
//! Parameters: any value. Pure and instantaneous, so it runs inline.

use async_trait::async_trait;
use serde_json::Value;

use super::{Call, Executor};
use crate::event::TaskError;

/// The `set` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetExecutor;

#[async_trait]
impl Executor for SetExecutor {
    fn kind(&self) -> &'static str {
        "set"
    }

    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        Ok(call.params)
    }

    fn pure(&self) -> bool {
        true
    }

    fn run_inline(&self, call: &Call) -> Option<Result<Value, TaskError>> {
        Some(Ok(call.params.clone()))
    }
}
