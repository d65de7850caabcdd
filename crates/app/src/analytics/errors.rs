//! What fails most: the failures of a window (the store's groups of failed executions
//! and failed task runs, by workflow, task, error class and message) summed by error
//! class, by task, by workflow, and by message pattern.
//!
//! A message's pattern is the message with what varies between occurrences of "the
//! same" error replaced ([`pattern`]): UUIDs by `<uuid>`, RFC 3339 times by `<time>`,
//! long hexadecimal strings by `<hex>`, and numbers that stand alone (not the digits
//! of a name such as `step3`) by `<n>`; so `timeout after 3012 ms` and `timeout after
//! 2990 ms` are one pattern, `timeout after <n> ms`. Patterns come from failed task
//! runs, and from failed executions whose error is not a task's (a workflow's timeout,
//! its outputs), so that each failure is counted once.
//!
//! Every list is ordered most first (ties by name) and cut to the caller's limit; an
//! example is the newest execution of its group.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use harmonia_storage::ExecutionId;
use harmonia_storage::analytics::{FailureGroup, Failures, StatusCounts};
use regex::Regex;

/// The longest pattern or example message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Failures by error class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFailures {
    /// The class (`None`: errors without one).
    pub class: Option<String>,
    /// Failed executions whose error has this class.
    pub executions: u64,
    /// Failed task runs whose error has this class.
    pub task_runs: u64,
    /// The newest execution among them.
    pub example: ExecutionId,
}

/// How many failures of one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCount {
    /// The class.
    pub class: Option<String>,
    /// How many.
    pub count: u64,
}

/// The failed runs of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailures {
    /// Its workflow.
    pub workflow: String,
    /// The task.
    pub task: String,
    /// Its failed runs.
    pub count: u64,
    /// By error class, most first.
    pub classes: Vec<ClassCount>,
    /// The newest execution among them.
    pub example: ExecutionId,
}

/// The failures of one workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowFailures {
    /// The workflow.
    pub workflow: String,
    /// Its failed executions.
    pub failed: u64,
    /// Its ended executions (succeeded, failed or cancelled).
    pub ended: u64,
    /// `failed / ended`, to thousandths (`None` when none ended).
    pub failure_rate: Option<f64>,
    /// Its failed task runs (a task may fail without failing its execution).
    pub failed_task_runs: u64,
    /// Its newest failed execution (or, when none failed, the newest with a failed
    /// task run).
    pub example: ExecutionId,
}

/// Failures that share a class and a message pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFailures {
    /// The message with what varies replaced (see [`pattern`]).
    pub pattern: String,
    /// The error class.
    pub class: Option<String>,
    /// How many failures.
    pub count: u64,
    /// The message of the example.
    pub example_message: String,
    /// The newest execution among them.
    pub example: ExecutionId,
}

/// The failures of a window, summed for people.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorReport {
    /// Failed executions.
    pub failed_executions: u64,
    /// Failed task runs.
    pub failed_task_runs: u64,
    /// By error class.
    pub by_class: Vec<ClassFailures>,
    /// By task (failed task runs).
    pub by_task: Vec<TaskFailures>,
    /// By workflow.
    pub by_workflow: Vec<WorkflowFailures>,
    /// By message pattern.
    pub messages: Vec<MessageFailures>,
}

fn total(groups: &[FailureGroup]) -> u64 {
    groups.iter().map(|g| g.count).sum()
}

/// Sorts `items` by `count` descending, then by `name`, and keeps the first `limit`.
fn top<T, K: Ord>(
    mut items: Vec<T>,
    limit: usize,
    count: impl Fn(&T) -> u64,
    name: impl Fn(&T) -> K,
) -> Vec<T> {
    items.sort_by(|a, b| count(b).cmp(&count(a)).then_with(|| name(a).cmp(&name(b))));
    items.truncate(limit);
    items
}

/// The report of `failures`, with each workflow's executions by status
/// (`by_workflow`), every list cut to `limit`.
pub(crate) fn report(
    failures: &Failures,
    by_workflow: &[(String, StatusCounts)],
    limit: usize,
) -> ErrorReport {
    ErrorReport {
        failed_executions: total(&failures.executions),
        failed_task_runs: total(&failures.task_runs),
        by_class: by_class(failures, limit),
        by_task: by_task(&failures.task_runs, limit),
        by_workflow: workflows(failures, by_workflow, limit),
        messages: messages(failures, limit),
    }
}

fn by_class(failures: &Failures, limit: usize) -> Vec<ClassFailures> {
    let mut classes: BTreeMap<Option<String>, ClassFailures> = BTreeMap::new();
    let sources = [(&failures.executions, true), (&failures.task_runs, false)];
    for (groups, executions) in sources {
        for g in groups {
            let c = classes
                .entry(g.class.clone())
                .or_insert_with(|| ClassFailures {
                    class: g.class.clone(),
                    executions: 0,
                    task_runs: 0,
                    example: g.example,
                });
            if executions {
                c.executions += g.count;
            } else {
                c.task_runs += g.count;
            }
            c.example = c.example.max(g.example);
        }
    }
    top(
        classes.into_values().collect(),
        limit,
        |c| c.executions + c.task_runs,
        |c| c.class.clone(),
    )
}

fn by_task(task_runs: &[FailureGroup], limit: usize) -> Vec<TaskFailures> {
    // Per (workflow, task): the sums, and the counts by class.
    type Sums = (TaskFailures, BTreeMap<Option<String>, u64>);
    let mut tasks: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for g in task_runs {
        let task = g.task.clone().unwrap_or_default();
        let (t, classes) = tasks
            .entry((g.workflow.clone(), task.clone()))
            .or_insert_with(|| {
                let t = TaskFailures {
                    workflow: g.workflow.clone(),
                    task,
                    count: 0,
                    classes: Vec::new(),
                    example: g.example,
                };
                (t, BTreeMap::new())
            });
        t.count += g.count;
        t.example = t.example.max(g.example);
        *classes.entry(g.class.clone()).or_default() += g.count;
    }
    let tasks = tasks
        .into_values()
        .map(|(mut t, classes)| {
            let classes = classes
                .into_iter()
                .map(|(class, count)| ClassCount { class, count })
                .collect();
            t.classes = top(classes, usize::MAX, |c| c.count, |c| c.class.clone());
            t
        })
        .collect();
    top(
        tasks,
        limit,
        |t| t.count,
        |t| (t.workflow.clone(), t.task.clone()),
    )
}

fn workflows(
    failures: &Failures,
    by_workflow: &[(String, StatusCounts)],
    limit: usize,
) -> Vec<WorkflowFailures> {
    // (failed executions, failed task runs, newest failed execution, newest with a
    // failed task run).
    type Sums = (u64, u64, Option<ExecutionId>, Option<ExecutionId>);
    let mut sums: BTreeMap<&str, Sums> = BTreeMap::new();
    for g in &failures.executions {
        let s = sums.entry(g.workflow.as_str()).or_default();
        s.0 += g.count;
        s.2 = s.2.max(Some(g.example));
    }
    for g in &failures.task_runs {
        let s = sums.entry(g.workflow.as_str()).or_default();
        s.1 += g.count;
        s.3 = s.3.max(Some(g.example));
    }
    let out = sums
        .into_iter()
        .filter_map(
            |(workflow, (failed, failed_task_runs, newest, newest_task))| {
                let ended = by_workflow
                    .iter()
                    .find(|(w, _)| w == workflow)
                    .map_or(failed, |(_, c)| c.ended());
                Some(WorkflowFailures {
                    workflow: workflow.to_owned(),
                    failed,
                    ended,
                    failure_rate: (ended > 0).then(|| super::round(failed as f64 / ended as f64)),
                    failed_task_runs,
                    example: newest.or(newest_task)?,
                })
            },
        )
        .collect();
    top(
        out,
        limit,
        |w| w.failed,
        |w| (u64::MAX - w.failed_task_runs, w.workflow.clone()),
    )
}

fn messages(failures: &Failures, limit: usize) -> Vec<MessageFailures> {
    let own = failures.executions.iter().filter(|g| g.task.is_none());
    let mut groups: BTreeMap<(Option<String>, String), MessageFailures> = BTreeMap::new();
    for g in failures.task_runs.iter().chain(own) {
        let message = g.message.as_deref().unwrap_or_default();
        let key = (g.class.clone(), pattern(message));
        let m = groups
            .entry(key)
            .or_insert_with_key(|(class, pattern)| MessageFailures {
                pattern: pattern.clone(),
                class: class.clone(),
                count: 0,
                example_message: clip(message),
                example: g.example,
            });
        m.count += g.count;
        if g.example > m.example {
            m.example = g.example;
            m.example_message = clip(message);
        }
    }
    top(
        groups.into_values().collect(),
        limit,
        |m| m.count,
        |m| (m.pattern.clone(), m.class.clone()),
    )
}

/// `text`, at most [`MAX_MESSAGE_CHARS`] characters (then `…`).
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The parts of messages that vary: UUIDs, RFC 3339 times, long hex strings, numbers.
fn variable() -> &'static Regex {
    static VARIABLE: OnceLock<Regex> = OnceLock::new();
    VARIABLE.get_or_init(|| {
        let uuid = r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})";
        let time = r"(?P<time>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)";
        let hex = r"(?P<hex>[0-9a-fA-F]{16,})";
        let number = r"(?P<n>\d+(?:[.,:]\d+)*)";
        match Regex::new(&format!("{uuid}|{time}|{hex}|{number}")) {
            Ok(r) => r,
            // Constants, compiled by the tests: this cannot fail.
            Err(e) => unreachable!("the message patterns: {e}"),
        }
    })
}

/// `message` with what varies between occurrences of the same error replaced (see the
/// module doc), at most [`MAX_MESSAGE_CHARS`] characters.
pub fn pattern(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut last = 0;
    for caps in variable().captures_iter(message) {
        let Some(whole) = caps.get(0) else { continue };
        // A match that continues a word (`step3`, `v2`, `sha256`) is part of a name.
        let glued = |at: usize, after: bool| {
            let c = if after {
                message[at..].chars().next()
            } else {
                message[..at].chars().next_back()
            };
            c.is_some_and(|c| c.is_alphanumeric() || c == '_')
        };
        let name = if caps.name("uuid").is_some() {
            "<uuid>"
        } else if caps.name("time").is_some() {
            "<time>"
        } else if caps.name("hex").is_some() {
            if glued(whole.start(), false)
                || glued(whole.end(), true)
                || !whole.as_str().bytes().any(|b| b.is_ascii_digit())
            {
                continue;
            }
            "<hex>"
        } else {
            if glued(whole.start(), false) {
                continue;
            }
            "<n>"
        };
        out.push_str(&message[last..whole.start()]);
        out.push_str(name);
        last = whole.end();
    }
    out.push_str(&message[last..]);
    clip(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_keep_what_is_the_same() {
        assert_eq!(pattern("timeout after 3012 ms"), "timeout after <n> ms");
        assert_eq!(pattern("timeout after 2990 ms"), "timeout after <n> ms");
        assert_eq!(pattern("took 3012ms, limit 1.5s"), "took <n>ms, limit <n>s");
        assert_eq!(
            pattern("no order 01a20b95-3770-719e-8ae1-f9888c382918 (HTTP 404)"),
            "no order <uuid> (HTTP <n>)"
        );
        assert_eq!(
            pattern("at 2026-11-24T10:00:00.123Z: exit code 3"),
            "at <time>: exit code <n>"
        );
        assert_eq!(
            pattern("task `step3` failed: sha256 deadbeefdeadbeef0123 mismatch"),
            "task `step3` failed: sha256 <hex> mismatch"
        );
        assert_eq!(
            pattern("connect 10.0.0.1:8080 refused"),
            "connect <n> refused"
        );
        assert_eq!(pattern(""), "");
        let long = "x".repeat(MAX_MESSAGE_CHARS + 10);
        assert_eq!(pattern(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    fn group(
        workflow: &str,
        task: Option<&str>,
        class: &str,
        message: &str,
        count: u64,
        example: ExecutionId,
    ) -> FailureGroup {
        FailureGroup {
            workflow: workflow.into(),
            task: task.map(str::to_owned),
            class: Some(class.into()),
            message: Some(message.into()),
            count,
            example,
        }
    }

    #[test]
    fn failures_are_summed_by_class_task_workflow_and_pattern() {
        let ids: Vec<ExecutionId> = (0..6).map(|_| ExecutionId::new()).collect();
        let failures = Failures {
            executions: vec![
                group(
                    "etl",
                    Some("load"),
                    "timeout",
                    "task `load` failed: timeout after 3012 ms",
                    2,
                    ids[1],
                ),
                group(
                    "etl",
                    None,
                    "timeout",
                    "the workflow did not finish within its timeout of 1s",
                    1,
                    ids[2],
                ),
                group(
                    "ping",
                    Some("get"),
                    "http_5xx",
                    "task `get` failed: HTTP 503",
                    1,
                    ids[3],
                ),
            ],
            task_runs: vec![
                group(
                    "etl",
                    Some("load"),
                    "timeout",
                    "timeout after 3012 ms",
                    1,
                    ids[0],
                ),
                group(
                    "etl",
                    Some("load"),
                    "timeout",
                    "timeout after 2990 ms",
                    1,
                    ids[1],
                ),
                group(
                    "etl",
                    Some("load"),
                    "connection",
                    "connection refused",
                    1,
                    ids[4],
                ),
                group("ping", Some("get"), "http_5xx", "HTTP 503", 1, ids[3]),
                group("ping", Some("get"), "http_5xx", "HTTP 502", 1, ids[5]),
            ],
        };
        let by_workflow = vec![
            (
                "etl".to_string(),
                StatusCounts {
                    succeeded: 7,
                    failed: 3,
                    ..StatusCounts::default()
                },
            ),
            (
                "ping".to_string(),
                StatusCounts {
                    failed: 1,
                    running: 4,
                    ..StatusCounts::default()
                },
            ),
        ];
        let r = report(&failures, &by_workflow, 10);
        assert_eq!((r.failed_executions, r.failed_task_runs), (4, 5));
        let classes: Vec<(Option<&str>, u64, u64, ExecutionId)> = r
            .by_class
            .iter()
            .map(|c| (c.class.as_deref(), c.executions, c.task_runs, c.example))
            .collect();
        assert_eq!(
            classes,
            vec![
                (Some("timeout"), 3, 2, ids[2]),
                (Some("http_5xx"), 1, 2, ids[5]),
                (Some("connection"), 0, 1, ids[4]),
            ]
        );
        assert_eq!(r.by_task.len(), 2);
        assert_eq!(
            (
                r.by_task[0].task.as_str(),
                r.by_task[0].count,
                r.by_task[0].example
            ),
            ("load", 3, ids[4])
        );
        assert_eq!(
            r.by_task[0].classes,
            vec![
                ClassCount {
                    class: Some("timeout".into()),
                    count: 2
                },
                ClassCount {
                    class: Some("connection".into()),
                    count: 1
                },
            ]
        );
        let workflows: Vec<(&str, u64, u64, Option<f64>, u64)> = r
            .by_workflow
            .iter()
            .map(|w| {
                (
                    w.workflow.as_str(),
                    w.failed,
                    w.ended,
                    w.failure_rate,
                    w.failed_task_runs,
                )
            })
            .collect();
        assert_eq!(
            workflows,
            vec![("etl", 3, 10, Some(0.3), 3), ("ping", 1, 1, Some(1.0), 2)]
        );
        let messages: Vec<(&str, u64, &str)> = r
            .messages
            .iter()
            .map(|m| (m.pattern.as_str(), m.count, m.example_message.as_str()))
            .collect();
        assert_eq!(
            messages,
            vec![
                ("HTTP <n>", 2, "HTTP 502"),
                ("timeout after <n> ms", 2, "timeout after 2990 ms"),
                ("connection refused", 1, "connection refused"),
                (
                    "the workflow did not finish within its timeout of <n>s",
                    1,
                    "the workflow did not finish within its timeout of 1s"
                ),
            ]
        );
        let one = report(&failures, &by_workflow, 1);
        assert_eq!((one.by_class.len(), one.messages.len()), (1, 1));
    }
}
