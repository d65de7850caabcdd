//! Schedules: the `schedule` triggers of the latest workflow versions, fired on time,
//! durably, and backfilled on request.
//!
//! [`Schedules::tick`] does everything that is due at a given time (the clock is the
//! caller's, so tests drive it); [`Schedules::run`] calls it as time passes, waking at
//! the next fire time (or after a second, to see new schedules, pauses and ended runs).
//!
//! Durability: each schedule has a fire mark in the store (`fire_marks`), the latest
//! scheduled time it handled. A fire starts its execution with an idempotency key made
//! of the trigger and the scheduled time, committed with the execution itself; the mark
//! moves after that commit. A crash before the commit loses nothing (the mark has not
//! moved: the fire is due again at the next start); a crash between the commit and the
//! mark doubles nothing (the fire is due again, and its key answers the execution it
//! started). A schedule seen for the first time is marked at that time: it fires from
//! then on, never for its past.
//!
//! Due fires: a fire at most [`GRACE`] old is late, not missed, and runs whatever
//! `catchup` says; older ones were missed (the server was down) and follow `catchup`:
//! `none` drops them, `last` runs the latest, `all` runs them oldest first, at most
//! [`MAX_CATCHUP`] (the latest ones). A paused schedule fires nothing and its mark
//! follows the clock, so resuming does not replay the pause.
//!
//! `overlap`, when a run of the workflow is unfinished: `skip` marks the fire and starts
//! nothing; `queue` leaves the fire due (the mark stays) until no run is unfinished;
//! `allow` starts anyway; `cancel_previous` cancels the unfinished runs, then starts.
//!
//! Invariant: a fire's execution is started at most once per (trigger, scheduled
//! time), live, after a restart, or by a backfill.

use std::collections::HashMap;
use std::time::Duration;

use harmonia_engine::Workflow;
use harmonia_expr::{Context, Limits, Val, Var};
use harmonia_model::{Catchup, Overlap, PlanTrigger, SchedulePlan};
use harmonia_storage::prelude::*;
use harmonia_storage::{ExecutionId, ExecutionRecord, Origin, OriginKind, Timestamp};
use serde_json::{Value, json};

use crate::triggers::trigger_id;
use crate::{Ctx, Error, Result};

/// How old a due fire may be and still be late rather than missed.
pub const GRACE: Duration = Duration::from_secs(60);
/// The most fires one catch-up or backfill starts.
pub const MAX_CATCHUP: usize = 100;
/// How long a fire's idempotency key holds (far longer than a crash takes to recover).
const KEY_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Schedules (see the module doc).
#[derive(Clone)]
pub struct Schedules(pub(crate) Ctx);

/// One fire and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Fire {
    /// The trigger.
    pub trigger: String,
    /// The time it was scheduled for (ms).
    pub scheduled_at: i64,
    /// What it did.
    pub outcome: FireOutcome,
}

/// What a fire did.
#[derive(Debug, Clone, PartialEq)]
pub enum FireOutcome {
    /// Started this execution (or found the one its key started before).
    Started {
        /// The execution.
        execution: ExecutionId,
        /// Whether the key had started it already (a fire repeated after a crash, or
        /// a backfill over a fire that ran).
        existing: bool,
    },
    /// Skipped: a run was unfinished (`overlap: skip`).
    Skipped,
    /// Waits for the unfinished runs to end (`overlap: queue`).
    Queued,
    /// Failed to start (its inputs, say); the fire is not retried.
    Failed(String),
}

impl Schedules {
    /// Fires what is due at `now` (ms), and says what each fire did.
    pub async fn tick(&self, now: i64) -> Result<Vec<Fire>> {
        let store = self.0.store();
        let marks: HashMap<String, i64> = store
            .fire_marks()
            .await?
            .into_iter()
            .map(|(id, at)| (id, at.0))
            .collect();
        let paused = store.paused_triggers().await?;
        let mut unfinished: Option<Vec<ExecutionRecord>> = None;
        let mut fired = Vec::new();
        for (workflow, plan) in self.schedules().await? {
            let id = trigger_id(&workflow.record.name, plan.index);
            let Some(&mark) = marks.get(&id) else {
                store.mark_fired(&id, Timestamp(now)).await?;
                continue;
            };
            if paused.iter().any(|(p, _)| *p == id) {
                if mark < now {
                    store.mark_fired(&id, Timestamp(now)).await?;
                }
                continue;
            }
            for at in due(&plan, mark, now) {
                let outcome = match self.overlap(&workflow, &plan, &mut unfinished).await? {
                    Some(held) => held,
                    None => {
                        unfinished = None;
                        self.start(&workflow, &plan, &id, at, now).await
                    }
                };
                let queued = outcome == FireOutcome::Queued;
                if !queued {
                    crash_point();
                    store.mark_fired(&id, Timestamp(at)).await?;
                }
                fired.push(Fire {
                    trigger: id.clone(),
                    scheduled_at: at,
                    outcome,
                });
                if queued {
                    break;
                }
            }
        }
        Ok(fired)
    }

    /// Calls [`Schedules::tick`] as time passes, until `stop` is cancelled.
    pub async fn run(&self, stop: tokio_util::sync::CancellationToken) {
        loop {
            let now = Timestamp::now().0;
            if let Err(e) = self.tick(now).await {
                tracing::error!(error = %e, "firing schedules failed; trying again");
            }
            let wait = match self.next_fire(Timestamp::now().0).await {
                Ok(Some(next)) => {
                    Duration::from_millis(u64::try_from(next - Timestamp::now().0).unwrap_or(0))
                }
                _ => Duration::from_secs(1),
            }
            .min(Duration::from_secs(1));
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The earliest next fire of any schedule after `now`.
    async fn next_fire(&self, now: i64) -> Result<Option<i64>> {
        Ok(self
            .schedules()
            .await?
            .iter()
            .filter_map(|(_, p)| p.next_after(now))
            .min())
    }

    /// Starts the fires a schedule would have started in `[from, to]` (ms), one
    /// execution per fire time, oldest first; a fire that ran already answers its
    /// execution. Over [`MAX_CATCHUP`] fire times is refused.
    pub async fn backfill(&self, id: &str, from: i64, to: i64) -> Result<Vec<Fire>> {
        if to < from {
            return Err(Error::InvalidRequest(
                "`to` is before `from`: a backfill's window runs from `from` to `to`".into(),
            ));
        }
        let now = Timestamp::now().0;
        if to > now {
            return Err(Error::InvalidRequest(format!(
                "`to` is in the future ({}): a backfill starts past fires only",
                rfc3339(to)
            )));
        }
        let (workflow, plan) = self
            .schedules()
            .await?
            .into_iter()
            .find(|(w, p)| trigger_id(&w.record.name, p.index) == id)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no schedule trigger `{}`: backfill applies to `schedule` triggers",
                    harmonia_expr::clip(id)
                ))
            })?;
        let times = plan.fires_between(from - 1, to, MAX_CATCHUP + 1);
        if times.len() > MAX_CATCHUP {
            return Err(Error::InvalidRequest(format!(
                "the window holds more than {MAX_CATCHUP} fire times of `{}`: backfill a narrower one",
                plan.pattern
            )));
        }
        let mut out = Vec::with_capacity(times.len());
        for at in times {
            let outcome = self.start(&workflow, &plan, id, at, now).await;
            out.push(Fire {
                trigger: id.to_string(),
                scheduled_at: at,
                outcome,
            });
        }
        Ok(out)
    }

    /// The next `n` fire times of schedule `plan` after `now`.
    pub fn next_fires(plan: &SchedulePlan, now: i64, n: usize) -> Vec<i64> {
        plan.fires_between(now, i64::MAX, n)
    }

    /// Every schedule trigger of the latest workflow versions.
    pub(crate) async fn schedules(&self) -> Result<Vec<(Workflow, SchedulePlan)>> {
        let mut out = Vec::new();
        for record in self.0.store().workflows().await? {
            let Ok(workflow) = self.0.plans().get(&record.name, Some(record.version)).await else {
                continue;
            };
            let plans: Vec<SchedulePlan> = workflow
                .plan
                .triggers
                .iter()
                .filter_map(|t| match t {
                    PlanTrigger::Schedule(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            for plan in plans {
                out.push((workflow.clone(), plan));
            }
        }
        Ok(out)
    }

    /// `Some(outcome)` when the overlap policy holds the fire back.
    async fn overlap(
        &self,
        workflow: &Workflow,
        plan: &SchedulePlan,
        unfinished: &mut Option<Vec<ExecutionRecord>>,
    ) -> Result<Option<FireOutcome>> {
        if plan.overlap == Overlap::Allow {
            return Ok(None);
        }
        if unfinished.is_none() {
            *unfinished = Some(self.0.store().unfinished().await?);
        }
        let running: Vec<ExecutionId> = unfinished
            .iter()
            .flatten()
            .filter(|e| e.workflow == workflow.record.name && e.parent.is_none())
            .map(|e| e.id)
            .collect();
        if running.is_empty() {
            return Ok(None);
        }
        Ok(match plan.overlap {
            Overlap::Skip => Some(FireOutcome::Skipped),
            Overlap::Queue => Some(FireOutcome::Queued),
            Overlap::Allow => None,
            Overlap::CancelPrevious => {
                for id in running {
                    let reason = Some(
                        "cancelled by its schedule's next fire (`overlap: cancel_previous`)"
                            .to_string(),
                    );
                    if let Err(e) = self.0.handle.cancel(id, reason).await {
                        tracing::warn!(execution = %id, error = %e, "cancelling a previous run failed");
                    }
                }
                None
            }
        })
    }

    /// Starts the execution of fire `at` (once per trigger and time).
    async fn start(
        &self,
        workflow: &Workflow,
        plan: &SchedulePlan,
        id: &str,
        at: i64,
        now: i64,
    ) -> FireOutcome {
        let fire = json!({"id": id, "workflow": workflow.record.name, "scheduled_at": rfc3339(at), "fired_at": rfc3339(now)});
        let params = workflow.plan.workflow.params.clone().unwrap_or(Value::Null);
        let template = plan.inputs.clone();
        let inputs = tokio::task::spawn_blocking(move || {
            let limits = Limits::default();
            let ctx = Context::new()
                .with(Var::Trigger, Val::from(&fire))
                .with(Var::Params, Val::from(&params));
            template
                .eval(&ctx, &limits)
                .and_then(|v| v.to_json(limits.max_output_bytes))
        })
        .await;
        let inputs = match inputs {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return failed(id, at, format!("the schedule's `inputs` failed: {e}")),
            Err(e) => return failed(id, at, format!("evaluating the schedule's inputs: {e}")),
        };
        let key = format!("schedule-{id}-{at}");
        let idempotency = harmonia_engine::Idempotency {
            key: key.clone(),
            body_hash: key,
            ttl: KEY_TTL,
        };
        match crate::Executions(self.0.clone())
            .start_request(
                workflow.clone(),
                inputs,
                Some(idempotency),
                Origin::by(OriginKind::Schedule, id),
            )
            .await
        {
            Ok(started) => FireOutcome::Started {
                execution: started.execution,
                existing: started.replayed,
            },
            Err(e) => failed(id, at, e.to_string()),
        }
    }
}

/// The fires due at `now` after `mark`, oldest first (see the module doc).
fn due(plan: &SchedulePlan, mark: i64, now: i64) -> Vec<i64> {
    let missed_until = now - millis(GRACE);
    let mut missed = match plan.catchup {
        Catchup::None => Vec::new(),
        Catchup::Last => plan.latest_fires(mark, missed_until, 1),
        Catchup::All => plan.latest_fires(mark, missed_until, MAX_CATCHUP),
    };
    missed.reverse();
    let late = plan.fires_between(mark.max(missed_until), now, MAX_CATCHUP);
    missed.extend(late);
    missed
}

fn failed(id: &str, at: i64, message: String) -> FireOutcome {
    tracing::error!(trigger = %id, scheduled_at = %rfc3339(at), error = %message, "a schedule's fire did not start");
    FireOutcome::Failed(message)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A time (ms) as RFC 3339 in UTC.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| format!("{ms}ms"), |t| t.to_string())
}

/// `HARMONIA_TEST_CRASH_AT=after_fire:N` aborts the process (like `kill -9`) after the
/// N-th fire's execution is committed and before its mark moves. Tests only; unset, it
/// costs one lookup per fire.
fn crash_point() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FIRES: AtomicU64 = AtomicU64::new(0);
    let Ok(point) = std::env::var("HARMONIA_TEST_CRASH_AT") else {
        return;
    };
    let Some(n) = point
        .strip_prefix("after_fire:")
        .and_then(|n| n.trim().parse::<u64>().ok())
    else {
        return;
    };
    if FIRES.fetch_add(1, Ordering::SeqCst) + 1 == n {
        tracing::warn!(fire = n, "test crash point: aborting after a fire's commit");
        std::process::abort();
    }
}
