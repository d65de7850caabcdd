//! Running one attempt: from a dispatch to a result.
//!
//! 1. [`PrepareJob`]: what evaluating the task's `with:` needs, taken from the state
//!    when the attempt is dispatched, so that the evaluation can run in the turn or off
//!    it (see `crate::eval`). [`PrepareJob::run`] evaluates it with `$secrets` bound
//!    (only here: secrets are never in the state, the log or a read model).
//!
//! Taint: the value of every expression that reads `$secrets` is tainted (see
//! `harmonia_expr::Program::reads`). It reaches the parameters of a task with an effect
//! outside (`http`, `shell`, an executor the binary registers), and every text in it
//! (strings, keys, numbers; [`MIN_REDACTED`] characters or more) joins the secret
//! values as what the attempt's output and errors are redacted of, and what an executor
//! must not send further (an `http` redirect to another origin drops the headers that
//! carry them). A task without an effect outside (`set`, `transform`, `sleep`,
//! `workflow`: what they are given becomes an output, a child's inputs, a log line)
//! gets `***` in their place, so no form of a secret (upper-cased, base64, sliced, a
//! key) can become a stored or shown value. A statically named secret that is not set
//! (`$secrets.NAME`) fails the attempt, naming the environment variable to set.
//! 2. [`run`]: call the executor under the attempt's time limit. At the limit the call's
//!    token is cancelled and the executor gets a grace period to stop its work (kill its
//!    process group) before the attempt is reported as a `timeout`.
//! 3. [`finish`]: apply the task's `output:` to the raw result, redact secret values
//!    from outputs and errors, and refuse an output nested deeper than
//!    [`harmonia_expr::MAX_DEPTH`] (it could not be stored and read back).
//!
//! A pure task (`set`, `transform`) does all three in one [`run_pure`], in the turn
//! when it is quick.

use std::sync::Arc;
use std::time::Duration;

use harmonia_expr::{Context, Limits, Template, Val, Var};
use harmonia_model::{ErrorClass, Plan};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::event::TaskError;
use crate::kinds::{Call, CallMeta, Run, Spawned, TaskKind, TokenLedger};
use crate::machine::{AttemptRef, Execution};

/// How long a kind may take to stop after its token is cancelled.
const GRACE: Duration = Duration::from_secs(5);

/// An attempt ready to run.
pub(crate) struct Prepared {
    pub(crate) call: Call,
    pub(crate) output: Option<Template>,
}

/// Texts shorter than this are not redacted (they would redact ordinary text); such
/// a secret, or such a piece of one, is still available to tasks.
pub(crate) const MIN_REDACTED: usize = 4;

/// Secret values and what to replace them with in recorded data.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    pub(crate) val: Val,
    /// The names set.
    names: Arc<std::collections::BTreeSet<String>>,
    values: Vec<String>,
}

impl Secrets {
    pub(crate) fn new(secrets: &std::collections::BTreeMap<String, String>) -> Secrets {
        let val = Val::object(
            secrets
                .iter()
                .map(|(k, v)| (k.clone(), Val::from(Value::String(v.clone())))),
        );
        let names = Arc::new(secrets.keys().cloned().collect());
        Secrets::with_values(val, names, secrets.values().cloned())
    }

    fn with_values(
        val: Val,
        names: Arc<std::collections::BTreeSet<String>>,
        values: impl IntoIterator<Item = String>,
    ) -> Secrets {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| v.len() >= MIN_REDACTED)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Secrets { val, names, values }
    }

    /// Whether a secret named `name` is set.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// These secrets, also redacting `texts` (what an attempt computed from them).
    pub(crate) fn and(&self, texts: impl IntoIterator<Item = String>) -> Secrets {
        Secrets::with_values(
            self.val.clone(),
            self.names.clone(),
            self.values.iter().cloned().chain(texts),
        )
    }

    /// The texts redacted: secret values and what was computed from them.
    pub(crate) fn texts(&self) -> &[String] {
        &self.values
    }

    fn redact_text(&self, s: &mut String) -> bool {
        let mut changed = false;
        for secret in &self.values {
            if s.contains(secret.as_str()) {
                *s = s.replace(secret.as_str(), "***");
                changed = true;
            }
        }
        changed
    }

    /// `value` with every secret replaced by `***`, in strings and in object keys.
    pub(crate) fn redact(&self, value: &mut Value) {
        if self.values.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                self.redact_text(s);
            }
            Value::Number(n) => {
                let mut text = n.to_string();
                if self.redact_text(&mut text) {
                    *value = Value::String(text);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact(v)),
            Value::Object(map) => {
                if map
                    .keys()
                    .any(|k| self.values.iter().any(|s| k.contains(s.as_str())))
                {
                    let entries = std::mem::take(map);
                    for (mut k, v) in entries {
                        self.redact_text(&mut k);
                        map.insert(k, v);
                    }
                }
                map.values_mut().for_each(|v| self.redact(v));
            }
            _ => {}
        }
    }

    pub(crate) fn redact_error(&self, error: &mut TaskError) {
        if self.values.is_empty() {
            return;
        }
        let mut message = Value::String(std::mem::take(&mut error.message));
        self.redact(&mut message);
        error.message = message.as_str().unwrap_or_default().to_string();
        if let Some(details) = &mut error.details {
            self.redact(details);
        }
    }
}

/// What evaluating an attempt's `with:` needs, taken from the state at dispatch.
#[derive(Clone)]
pub(crate) struct PrepareJob {
    plan: Arc<Plan>,
    task: usize,
    ctx: Context,
    secrets: Arc<Secrets>,
    /// Whether the task has an effect outside, so that it may be given secrets (see the
    /// module doc); otherwise values from secrets are `***`.
    effects: bool,
    meta: CallMeta,
    /// The LLM tokens the execution had spent when the attempt was dispatched.
    tokens_used: u64,
    /// The full limits: for the executor's own evaluations, and for `finish`.
    pub(crate) limits: Limits,
    /// The attempt's token, registered with the scheduler before the attempt starts.
    pub(crate) cancel: CancellationToken,
}

impl PrepareJob {
    /// The job of attempt `a` of `x`.
    pub(crate) fn new(
        x: &Execution,
        a: AttemptRef,
        secrets: &Arc<Secrets>,
        limits: Limits,
        effects: bool,
    ) -> PrepareJob {
        let unit = x.tasks[a.task].unit_of(a.item);
        PrepareJob {
            plan: x.plan.clone(),
            task: a.task,
            ctx: x.context(a.task, unit),
            secrets: secrets.clone(),
            effects,
            meta: CallMeta {
                execution: x.id,
                workflow: x.plan.workflow.name.clone(),
                task: x.plan.tasks[a.task].name.clone(),
                item: a.item,
                attempt: a.attempt,
            },
            tokens_used: x.tokens_used,
            limits,
            cancel: CancellationToken::new(),
        }
    }

    /// Evaluates `with:` under `limits` and assembles the call (whose own evaluations
    /// are bounded by `limits` too), with what it computed from secrets.
    pub(crate) fn run(&self, limits: &Limits) -> Result<Prepared, TaskError> {
        let task = &self.plan.tasks[self.task];
        self.check_secrets_exist()?;
        let with_ctx = self
            .ctx
            .clone()
            .with(Var::Secrets, self.secrets.val.clone());
        let mut tainted: Vec<String> = Vec::new();
        let effects = self.effects;
        let params = task
            .with
            .eval_mapped(&with_ctx, limits, &mut |program, value| {
                if !program.reads(Var::Secrets) {
                    value
                } else if effects {
                    tainted.extend(value.texts());
                    value
                } else {
                    Val::from(Value::String("***".into()))
                }
            })
            .and_then(|v| v.to_json(limits.max_output_bytes))
            .map_err(|e| TaskError::new(ErrorClass::Expression, format!("`with` failed: {e}")))?;
        let secrets = self.secrets.and(tainted);
        Ok(Prepared {
            call: Call {
                params,
                timeout: task.timeout,
                cancel: self.cancel.clone(),
                meta: self.meta.clone(),
                ctx: self.ctx.clone(),
                limits: *limits,
                secret_texts: secrets.texts().into(),
                tokens: TokenLedger::new(self.tokens_used),
            },
            output: task.output.clone(),
        })
    }

    /// Fails when `with:` names a secret that is not set (`$secrets.NAME`).
    fn check_secrets_exist(&self) -> Result<(), TaskError> {
        let mut missing = None;
        self.plan.tasks[self.task]
            .with
            .for_each_template(&mut |_, t| {
                for p in t.programs() {
                    for r in p.var_paths() {
                        if r.var == Var::Secrets
                            && let Some(harmonia_expr::PathSeg::Key(name)) = r.path.first()
                            && !self.secrets.has(name)
                            && missing.is_none()
                        {
                            missing = Some(name.clone());
                        }
                    }
                }
            });
        match missing {
            None => Ok(()),
            Some(name) => Err(TaskError::new(
                ErrorClass::Validation,
                format!(
                    "`with` reads the secret `{0}`, which is not set: set the environment variable HARMONIA_SECRET_{0} where Harmonia runs",
                    harmonia_expr::clip(&name)
                ),
            )),
        }
    }

    /// Applies `output:`, redacts (the secrets, and `secret_texts`: what the attempt
    /// computed from them) and checks a raw result (see [`finish`]).
    pub(crate) fn finish(
        &self,
        raw: Result<Value, TaskError>,
        output: Option<&Template>,
        limits: &Limits,
        secret_texts: &[String],
    ) -> Result<Value, TaskError> {
        let secrets = self.secrets.and(secret_texts.iter().cloned());
        finish(raw, output, &self.ctx, limits, &secrets)
    }
}

/// Prepares and runs an inline kind's attempt, and finishes its result, all under
/// `limits`.
pub(crate) fn run_pure(
    job: &PrepareJob,
    kind: &dyn TaskKind,
    limits: &Limits,
) -> Result<Value, TaskError> {
    let prepared = job.run(limits)?;
    let texts = prepared.call.secret_texts.clone();
    let raw = match kind.run() {
        Run::Inline(k) => k.run(&prepared.call),
        _ => Err(TaskError::new(
            ErrorClass::Validation,
            format!(
                "the `{}` task type cannot run in the scheduler's loop",
                kind.name()
            ),
        )),
    };
    job.finish(raw, prepared.output.as_ref(), limits, &texts)
}

/// Runs a spawned kind under the attempt's time limit and its token.
pub(crate) async fn run(kind: &dyn Spawned, call: Call) -> Result<Value, TaskError> {
    let timeout = call.timeout;
    let cancel = call.cancel.clone();
    let work = kind.execute(call);
    tokio::pin!(work);
    let Some(limit) = timeout else {
        return work.await;
    };
    tokio::select! {
        r = &mut work => r,
        () = tokio::time::sleep(limit) => {
            cancel.cancel();
            // Let the executor stop what it started before reporting.
            let _ = tokio::time::timeout(GRACE, &mut work).await;
            Err(TaskError::new(
                ErrorClass::Timeout,
                format!("the attempt did not finish within its timeout of {}", harmonia_model::Dur(limit)),
            ))
        }
    }
}

/// Applies `output:` to a raw result, redacts secrets, and refuses an output that is
/// nested too deeply to be stored.
pub(crate) fn finish(
    raw: Result<Value, TaskError>,
    output: Option<&Template>,
    ctx: &Context,
    limits: &Limits,
    secrets: &Secrets,
) -> Result<Value, TaskError> {
    let reshaped = raw.and_then(|raw| match output {
        None => Ok(raw),
        Some(t) => {
            let raw = Val::from(raw);
            let ctx = ctx.clone().with(Var::Output, raw.clone());
            t.eval_with_input(&ctx, &raw, limits)
                .and_then(|v| v.to_json(limits.max_output_bytes))
                .map_err(|e| {
                    TaskError::new(ErrorClass::Expression, format!("`output` failed: {e}"))
                })
        }
    });
    let checked = reshaped.and_then(|v| {
        if harmonia_expr::json_deeper_than(&v, harmonia_expr::MAX_DEPTH) {
            Err(TaskError::new(
                ErrorClass::Validation,
                format!(
                    "the task's output is nested more than {} levels deep, which cannot be stored; flatten it (with `output:`, say)",
                    harmonia_expr::MAX_DEPTH
                ),
            ))
        } else {
            Ok(v)
        }
    });
    match checked {
        Ok(mut v) => {
            secrets.redact(&mut v);
            Ok(v)
        }
        Err(mut e) => {
            secrets.redact_error(&mut e);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_are_redacted_from_outputs_and_errors() {
        let s = Secrets::new(&BTreeMap::from([
            ("token".to_string(), "s3cr3t-value".to_string()),
            ("pin".to_string(), "12".to_string()),
        ]));
        let mut v = json!({"url": "http://h/?t=s3cr3t-value", "n": [12, "12", "a s3cr3t-value b"]});
        s.redact(&mut v);
        assert_eq!(
            v,
            json!({"url": "http://h/?t=***", "n": [12, "12", "a *** b"]})
        );
        let mut e = TaskError::new(ErrorClass::Http4xx, "GET http://h/?t=s3cr3t-value: 401")
            .with_details(json!({"body": "bad token s3cr3t-value"}));
        s.redact_error(&mut e);
        assert_eq!(e.message, "GET http://h/?t=***: 401");
        assert_eq!(
            e.details.as_deref(),
            Some(&json!({"body": "bad token ***"}))
        );
    }

    #[test]
    fn an_output_too_deep_to_store_is_an_error() {
        let mut deep = json!(1);
        for _ in 0..=harmonia_expr::MAX_DEPTH {
            deep = json!([deep]);
        }
        let r = finish(
            Ok(deep),
            None,
            &Context::new(),
            &Limits::default(),
            &Secrets::default(),
        );
        let e = r.expect_err("refused");
        assert!(e.message.contains("nested more than 100"), "{e}");
    }
}
