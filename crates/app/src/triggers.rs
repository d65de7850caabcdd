//! Triggers: what starts workflows without a person, listed, read, paused and resumed.
//!
//! A trigger is part of its workflow's definition (the latest version's `triggers:`);
//! its id is the workflow's name and its position, `fulfil.0`. Only whether it is
//! paused is stored (the store's `TriggerStates`), so a pause outlives a restart and a
//! new version of the workflow (it stays with the position). A paused trigger starts
//! nothing: an event it would have started records that it was paused.
//!
//! Invariants: pausing or resuming a trigger that does not exist is `NotFound` and
//! changes nothing; pausing twice keeps the first time.

use harmonia_model::{PlanTrigger, Trigger};
use harmonia_storage::Timestamp;
use harmonia_storage::prelude::*;
use serde_json::Value;

use crate::{Ctx, Error, Result};

/// Triggers (see the module doc).
#[derive(Clone)]
pub struct Triggers(pub(crate) Ctx);

/// A trigger as its workflow defines it, and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerInfo {
    /// `<workflow>.<position>`.
    pub id: String,
    /// The workflow it starts.
    pub workflow: String,
    /// The workflow's version that defines it (the latest).
    pub version: u32,
    /// Its position in `triggers:`.
    pub position: usize,
    /// Its kind: `event`, `webhook` or `schedule`.
    pub kind: &'static str,
    /// Its definition, as written (the fields of its kind).
    pub definition: Value,
    /// Since when it is paused; `None` when it is active.
    pub paused_since: Option<Timestamp>,
    /// For a `schedule`: its fire state and next fire times.
    pub schedule: Option<ScheduleState>,
}

/// Where a schedule is.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleState {
    /// Fires up to this time are handled (started, skipped, or passed by `catchup`);
    /// `None` until the scheduler first sees the schedule.
    pub fired_through: Option<Timestamp>,
    /// The next fire times, from now (at most [`NEXT_FIRES`]).
    pub next: Vec<Timestamp>,
}

/// How many next fire times a schedule shows.
pub const NEXT_FIRES: usize = 5;

impl Triggers {
    /// Every trigger of every workflow, by workflow name then position.
    pub async fn list(&self) -> Result<Vec<TriggerInfo>> {
        let paused = self.0.store().paused_triggers().await?;
        let marks = self.0.store().fire_marks().await?;
        let mut out = Vec::new();
        for record in self.0.store().workflows().await? {
            let Ok(workflow) = self.0.plans().get(&record.name, Some(record.version)).await else {
                continue;
            };
            for (position, trigger) in workflow.plan.workflow.triggers.iter().enumerate() {
                let id = trigger_id(&record.name, position);
                let paused_since = paused.iter().find(|(p, _)| *p == id).map(|(_, at)| *at);
                let schedule = schedule_state(&workflow, position, &id, &marks);
                out.push(info(
                    id,
                    &record.name,
                    record.version,
                    position,
                    trigger,
                    paused_since,
                    schedule,
                ));
            }
        }
        Ok(out)
    }

    /// One trigger, by id.
    pub async fn get(&self, id: &str) -> Result<TriggerInfo> {
        let (name, position) = parse_id(id)?;
        let record = self
            .0
            .store()
            .workflow(name, None)
            .await?
            .ok_or_else(|| not_found(id))?;
        let workflow = self
            .0
            .plans()
            .get(&record.name, Some(record.version))
            .await?;
        let trigger = workflow
            .plan
            .workflow
            .triggers
            .get(position)
            .ok_or_else(|| not_found(id))?;
        let paused_since = self
            .0
            .store()
            .paused_triggers()
            .await?
            .into_iter()
            .find(|(p, _)| p == id)
            .map(|(_, at)| at);
        let marks = self.0.store().fire_marks().await?;
        let schedule = schedule_state(&workflow, position, id, &marks);
        Ok(info(
            id.to_string(),
            &record.name,
            record.version,
            position,
            trigger,
            paused_since,
            schedule,
        ))
    }

    /// Pauses a trigger: it starts nothing until it is resumed.
    pub async fn pause(&self, id: &str) -> Result<TriggerInfo> {
        self.set(id, true).await
    }

    /// Resumes a paused trigger.
    pub async fn resume(&self, id: &str) -> Result<TriggerInfo> {
        self.set(id, false).await
    }

    async fn set(&self, id: &str, paused: bool) -> Result<TriggerInfo> {
        self.get(id).await?;
        self.0
            .store()
            .set_trigger_paused(id, paused, Timestamp::now())
            .await?;
        self.get(id).await
    }
}

/// The id of the trigger at `position` of workflow `name`.
pub fn trigger_id(name: &str, position: usize) -> String {
    format!("{name}.{position}")
}

/// The workflow name and position an id names (workflow names have no `.`).
fn parse_id(id: &str) -> Result<(&str, usize)> {
    id.rsplit_once('.')
        .and_then(|(name, n)| Some((name, n.parse().ok()?)))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no trigger `{}`: a trigger's id is its workflow's name and its position, such as `fulfil.0`",
                harmonia_expr::clip(id)
            ))
        })
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("no trigger `{}`", harmonia_expr::clip(id)))
}

/// The state of the trigger at `position` of `workflow`, when it is a schedule.
fn schedule_state(
    workflow: &harmonia_engine::Workflow,
    position: usize,
    id: &str,
    marks: &[(String, Timestamp)],
) -> Option<ScheduleState> {
    let PlanTrigger::Schedule(plan) = workflow.plan.triggers.get(position)? else {
        return None;
    };
    Some(ScheduleState {
        fired_through: marks.iter().find(|(m, _)| m == id).map(|(_, at)| *at),
        next: plan
            .fires_between(Timestamp::now().0, i64::MAX, NEXT_FIRES)
            .into_iter()
            .map(Timestamp)
            .collect(),
    })
}

fn info(
    id: String,
    workflow: &str,
    version: u32,
    position: usize,
    trigger: &Trigger,
    paused_since: Option<Timestamp>,
    schedule: Option<ScheduleState>,
) -> TriggerInfo {
    let (kind, definition) = match trigger {
        Trigger::Event(e) => ("event", serde_json::to_value(e).unwrap_or(Value::Null)),
        Trigger::Webhook(w) => ("webhook", serde_json::to_value(w).unwrap_or(Value::Null)),
        Trigger::Schedule(s) => ("schedule", serde_json::to_value(s).unwrap_or(Value::Null)),
    };
    TriggerInfo {
        id,
        workflow: workflow.to_string(),
        version,
        position,
        kind,
        definition,
        paused_since,
        schedule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_workflow_and_a_position() {
        assert_eq!(parse_id("fulfil.0").ok(), Some(("fulfil", 0)));
        assert_eq!(parse_id("a-b_c.12").ok(), Some(("a-b_c", 12)));
        for bad in ["fulfil", "fulfil.x", ".0", "", "fulfil.-1"] {
            assert!(matches!(parse_id(bad), Err(Error::NotFound(_))), "{bad}");
        }
        assert_eq!(trigger_id("fulfil", 3), "fulfil.3");
    }
}
