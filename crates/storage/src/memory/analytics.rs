//! [`Analytics`] for the [`MemoryStore`]: the contract in executable form, by walking
//! every execution under the lock. Fine for tests and baselines; the SQL store computes
//! the same numbers in SQL.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use serde_json::Value;

use super::{Inner, MemoryStore};
use crate::analytics::{
    Analytics, Backlog, DurationGroup, DurationStats, ExecutionSummary, FailureGroups, Failures,
    GroupBy, QueueWaits, SeriesBucket, StatusCounts, WORKER_SIGNAL, WaitKinds, Window, error_field,
    slowest_first,
};
use crate::records::{ExecutionRecord, TaskRunRecord};
use crate::{ExecutionId, ExecutionStatus, Result, TaskStatus, Timestamp};

/// The executions of `window`.
fn in_window<'a>(
    inner: &'a Inner,
    window: &'a Window,
) -> impl Iterator<Item = &'a ExecutionRecord> + 'a {
    inner.executions.values().filter(move |x| {
        x.created_at >= window.since
            && x.created_at < window.until
            && window.workflow.as_ref().is_none_or(|w| &x.workflow == w)
    })
}

/// The task rows (not fan-out items) of execution `id`.
fn task_rows(inner: &Inner, id: ExecutionId) -> impl Iterator<Item = &TaskRunRecord> {
    inner
        .task_runs
        .get(&id)
        .into_iter()
        .flat_map(|runs| runs.values())
        .filter(|t| t.item.is_none())
}

fn duration(started: Option<Timestamp>, ended: Option<Timestamp>) -> Option<i64> {
    Some(ended?.0 - started?.0)
}

/// Durations (and attempts) by workflow and task.
type Grouped = BTreeMap<(String, Option<String>), (Vec<i64>, Option<u64>)>;

/// Each group's durations as stats (task groups with their attempts).
fn stats(groups: Grouped) -> Vec<DurationGroup> {
    groups
        .into_iter()
        .filter_map(|((workflow, task), (mut ms, attempts))| {
            ms.sort_unstable();
            Some(DurationGroup {
                workflow,
                task,
                durations: DurationStats::of(&ms)?,
                attempts,
            })
        })
        .collect()
}

#[async_trait]
impl Analytics for MemoryStore {
    async fn execution_summary(&self, window: &Window) -> Result<ExecutionSummary> {
        let inner = self.lock()?;
        let mut summary = ExecutionSummary::default();
        let mut ms = Vec::new();
        for x in in_window(&inner, window) {
            summary.counts.add(x.status, 1);
            ms.extend(duration(x.started_at, x.ended_at));
        }
        ms.sort_unstable();
        summary.durations = DurationStats::of(&ms);
        Ok(summary)
    }

    async fn status_by_workflow(&self, window: &Window) -> Result<Vec<(String, StatusCounts)>> {
        let inner = self.lock()?;
        let mut by: BTreeMap<String, StatusCounts> = BTreeMap::new();
        for x in in_window(&inner, window) {
            by.entry(x.workflow.clone()).or_default().add(x.status, 1);
        }
        Ok(by.into_iter().collect())
    }

    async fn execution_series(
        &self,
        window: &Window,
        origin: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<SeriesBucket>> {
        let inner = self.lock()?;
        let bucket_ms = bucket_ms.max(1);
        let mut by: BTreeMap<u64, StatusCounts> = BTreeMap::new();
        for x in in_window(&inner, window) {
            let index =
                u64::try_from(x.created_at.0.saturating_sub(origin.0) / bucket_ms).unwrap_or(0);
            by.entry(index).or_default().add(x.status, 1);
        }
        Ok(by
            .into_iter()
            .map(|(index, counts)| SeriesBucket { index, counts })
            .collect())
    }

    async fn durations(
        &self,
        window: &Window,
        by: GroupBy,
        limit: usize,
    ) -> Result<Vec<DurationGroup>> {
        let inner = self.lock()?;
        let mut groups = Grouped::new();
        for x in in_window(&inner, window) {
            match by {
                GroupBy::Workflow => {
                    if let Some(ms) = duration(x.started_at, x.ended_at) {
                        groups
                            .entry((x.workflow.clone(), None))
                            .or_default()
                            .0
                            .push(ms);
                    }
                }
                GroupBy::Task => {
                    for t in task_rows(&inner, x.id) {
                        if let Some(ms) = duration(t.started_at, t.ended_at) {
                            let g = groups
                                .entry((x.workflow.clone(), Some(t.task.clone())))
                                .or_default();
                            g.0.push(ms);
                            g.1 = Some(g.1.unwrap_or(0) + u64::from(t.attempts));
                        }
                    }
                }
            }
        }
        Ok(slowest_first(stats(groups), limit))
    }

    async fn queue_waits(
        &self,
        window: &Window,
        sample: usize,
        kinds: WaitKinds<'_>,
    ) -> Result<QueueWaits> {
        let inner = self.lock()?;
        let mut newest: Vec<&ExecutionRecord> = in_window(&inner, window).collect();
        newest.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id)));
        newest.truncate(sample);
        let mut groups = Grouped::new();
        for x in &newest {
            // Per task: when it became ready, and when its first attempt started.
            let mut tasks: HashMap<String, (Option<i64>, Option<i64>)> = HashMap::new();
            for e in inner.events.get(&x.id).into_iter().flatten() {
                let slot = if e.kind == kinds.ready {
                    0
                } else if e.kind == kinds.started {
                    1
                } else {
                    continue;
                };
                let Ok(data) = serde_json::from_str::<Value>(e.data.get()) else {
                    continue;
                };
                let Some(task) = data.get("task").and_then(Value::as_str) else {
                    continue;
                };
                let times = tasks.entry(task.to_owned()).or_default();
                let at = if slot == 0 {
                    &mut times.0
                } else {
                    &mut times.1
                };
                *at = Some(at.map_or(e.at.0, |t| t.min(e.at.0)));
            }
            for (task, times) in tasks {
                if let (Some(ready), Some(started)) = times {
                    groups
                        .entry((x.workflow.clone(), Some(task)))
                        .or_default()
                        .0
                        .push(started - ready);
                }
            }
        }
        Ok(QueueWaits {
            sampled: newest.len() as u64,
            groups: stats(groups),
        })
    }

    async fn failures(&self, window: &Window) -> Result<Failures> {
        let inner = self.lock()?;
        let mut executions = FailureGroups::default();
        let mut task_runs = FailureGroups::default();
        for x in in_window(&inner, window) {
            if x.status == ExecutionStatus::Failed {
                let task = error_field(x.error.as_ref(), "task");
                executions.add(&x.workflow, task, x.error.as_ref(), x.id);
            }
            for t in task_rows(&inner, x.id).filter(|t| t.status == TaskStatus::Failed) {
                task_runs.add(&x.workflow, Some(t.task.clone()), t.error.as_ref(), x.id);
            }
        }
        Ok(Failures {
            executions: executions.into_groups(),
            task_runs: task_runs.into_groups(),
        })
    }

    async fn backlog(&self, workflow: Option<&str>) -> Result<Backlog> {
        let inner = self.lock()?;
        let mut backlog = Backlog::default();
        let open = inner
            .executions
            .values()
            .filter(|x| !x.status.is_terminal() && workflow.is_none_or(|w| x.workflow == w));
        for x in open {
            backlog.open_executions += 1;
            for t in inner
                .task_runs
                .get(&x.id)
                .into_iter()
                .flat_map(|r| r.values())
            {
                if t.status == TaskStatus::Queued {
                    backlog.queued_task_runs += 1;
                }
                if t.status == TaskStatus::Running && t.wait_for.as_deref() == Some(WORKER_SIGNAL) {
                    backlog.worker_task_runs += 1;
                }
            }
        }
        Ok(backlog)
    }

    async fn database_size(&self) -> Result<Option<u64>> {
        Ok(None)
    }
}
