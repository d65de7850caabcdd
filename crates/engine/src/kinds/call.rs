//! What an attempt's run is given: the evaluated parameters, the time limit, the
//! cancellation token, the variables, and which attempt it is.
//!
//! Invariant: `params` never holds a secret for a kind that is not spawned (inline
//! and waiting kinds get `***` where `with:` read a secret; see `scheduler::runner`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmonia_expr::{Context, Limits};
use harmonia_model::ErrorClass;
use harmonia_storage::ExecutionId;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::event::{TaskError, TokenUsage};

/// Which attempt a call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMeta {
    /// The execution.
    pub execution: ExecutionId,
    /// The workflow's name.
    pub workflow: String,
    /// The task's name.
    pub task: String,
    /// The fan-out item.
    pub item: Option<u32>,
    /// The attempt, from 1.
    pub attempt: u32,
}

/// One attempt's call of an executor.
#[derive(Debug, Clone)]
pub struct Call {
    /// The evaluated `with:`.
    pub params: Value,
    /// The attempt's time limit (the runner enforces it too, by cancelling).
    pub timeout: Option<Duration>,
    /// Cancelled when the attempt must stop (its timeout, a cancel, a shutdown).
    pub cancel: CancellationToken,
    /// Which attempt this is.
    pub meta: CallMeta,
    /// The variables of the task's expressions, for executors that evaluate some.
    pub ctx: Context,
    /// Bounds on expression evaluation.
    pub limits: Limits,
    /// The texts of this call's parameters that come from secrets (the secret values,
    /// and what `with:` computed from them). The engine redacts them from the result;
    /// an executor must not send them anywhere the task did not ask it to (an `http`
    /// redirect to another origin drops the headers that carry them).
    pub secret_texts: Arc<[String]>,
    /// The LLM tokens the execution spent before this attempt, and where the attempt
    /// reports its own (recorded with its result).
    pub tokens: TokenLedger,
}

/// An attempt's view of LLM tokens: what its execution spent before it (from the
/// recorded results, so it survives restarts), and the slot where a kind that spends
/// tokens reports how many; the engine records them with the attempt's result.
#[derive(Debug, Clone, Default)]
pub struct TokenLedger {
    /// Tokens the execution's earlier attempts spent.
    pub used_before: u64,
    spent: Arc<Mutex<Option<TokenUsage>>>,
}

impl TokenLedger {
    /// A ledger of an execution that spent `used_before` tokens so far.
    pub fn new(used_before: u64) -> TokenLedger {
        TokenLedger {
            used_before,
            spent: Arc::default(),
        }
    }

    /// Reports what this attempt spent (replacing an earlier report).
    pub fn report(&self, usage: TokenUsage) {
        if let Ok(mut slot) = self.spent.lock() {
            *slot = Some(usage);
        }
    }

    /// This ledger, its reports going to `other`'s slot.
    #[must_use]
    pub(crate) fn reporting_to(mut self, other: &TokenLedger) -> TokenLedger {
        self.spent = other.spent.clone();
        self
    }

    /// What this attempt reported, if it reported anything.
    pub fn spent(&self) -> Option<TokenUsage> {
        self.spent.lock().ok().and_then(|slot| *slot)
    }
}

impl Call {
    /// Runs `work` until it ends, the call is cancelled (a `cancelled` error: `what`,
    /// then that the request was dropped) or its time limit passes (a `timeout` error:
    /// `what`, then `late` and the limit). Cancellation wins a tie.
    pub(crate) async fn bounded(
        &self,
        what: &str,
        late: &str,
        work: impl std::future::Future<Output = Result<Value, TaskError>>,
    ) -> Result<Value, TaskError> {
        let deadline = async {
            match self.timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(TaskError::new(
                ErrorClass::Cancelled,
                format!("{what}: cancelled; the request was dropped"),
            )),
            () = deadline => Err(TaskError::new(
                ErrorClass::Timeout,
                format!("{what}: {late} within {:?}", self.timeout.unwrap_or_default()),
            )),
            r = work => r,
        }
    }
}

#[cfg(test)]
impl Call {
    /// The first attempt of task `task` in a new execution, with no variables: what
    /// the executors' unit tests call them with.
    pub(crate) fn for_test(
        task: &str,
        params: Value,
        timeout: Option<Duration>,
        cancel: CancellationToken,
    ) -> Call {
        Call {
            params,
            timeout,
            cancel,
            meta: CallMeta {
                execution: ExecutionId::new(),
                workflow: "test".into(),
                task: task.into(),
                item: None,
                attempt: 1,
            },
            ctx: Context::new(),
            limits: Limits::default(),
            secret_texts: Arc::from(Vec::new()),
            tokens: TokenLedger::default(),
        }
    }
}
