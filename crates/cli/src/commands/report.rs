//! The result of an execution as `harmonia run --output json` prints it.
//!
//! `{"execution_id", "status", "outputs", "error", "tasks": {"<name>": {"status",
//! "attempts", "output", "error", "started_at", "ended_at", "skip_reason"?, "items"?}}}`;
//! `items` for fan-outs, one entry per item with the same fields, in item order.
//! Tasks appear in the order of the definition.

use std::collections::HashMap;

use harmonia_model::Plan;
use harmonia_storage::{ExecutionRecord, Store, TaskRunRecord};
use serde_json::{Map, Value, json};

fn task_json(r: TaskRunRecord) -> Map<String, Value> {
    // Sized: growing a map rehashes its keys.
    let mut m = Map::with_capacity(8);
    m.insert("status".into(), json!(r.status));
    m.insert("attempts".into(), json!(r.attempts));
    m.insert("output".into(), r.output.unwrap_or(Value::Null));
    m.insert("error".into(), r.error.unwrap_or(Value::Null));
    m.insert("started_at".into(), json!(r.started_at));
    m.insert("ended_at".into(), json!(r.ended_at));
    if let Some(reason) = r.skip_reason {
        m.insert("skip_reason".into(), Value::String(reason));
    }
    m
}

/// The report of execution `x` of `plan`: its row as the caller read it once it ended
/// (what waiting for it returns), and its task runs from `store`.
pub(crate) async fn execution_report(
    store: &dyn Store,
    x: &ExecutionRecord,
    plan: &Plan,
) -> anyhow::Result<Value> {
    let id = x.id;
    // Taken apart, not copied: outputs can be large.
    let (items, runs): (Vec<_>, Vec<_>) = store
        .task_runs(id)
        .await?
        .into_iter()
        .partition(|r| r.item.is_some());
    // One pass to group the items by task: a scan per task was quadratic in tasks.
    let mut by_task: HashMap<String, Vec<Value>> = HashMap::new();
    for i in items {
        let list = by_task.entry(i.task.clone()).or_default();
        list.push(Value::Object(task_json(i)));
    }
    let mut tasks: Vec<(usize, String, Map<String, Value>)> = Vec::with_capacity(runs.len());
    for mut r in runs {
        let name = std::mem::take(&mut r.task);
        let index = plan.task_index(&name);
        let fan_out = index.is_some_and(|t| plan.tasks[t].for_each.is_some());
        let mut m = task_json(r);
        if fan_out {
            let mine = by_task.remove(&name).unwrap_or_default();
            m.insert("items".into(), Value::Array(mine));
        }
        tasks.push((index.unwrap_or(usize::MAX), name, m));
    }
    tasks.sort_by_key(|(index, _, _)| *index);
    let tasks: Map<String, Value> = tasks
        .into_iter()
        .map(|(_, n, m)| (n, Value::Object(m)))
        .collect();
    // Built field by field: `json!` would serialize `tasks` into a copy of itself (a
    // fifth of the instructions of a 1,000-task run's report).
    let mut report = Map::with_capacity(5);
    report.insert("execution_id".into(), Value::String(x.id.to_string()));
    report.insert("status".into(), json!(x.status));
    report.insert("outputs".into(), x.outputs.clone().unwrap_or(Value::Null));
    report.insert("error".into(), x.error.clone().unwrap_or(Value::Null));
    report.insert("tasks".into(), Value::Object(tasks));
    Ok(Value::Object(report))
}
