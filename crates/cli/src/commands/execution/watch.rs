//! `harmonia execution watch ID`, and `submit --watch`: follow an execution until it
//! ends, then print its outputs on stdout and exit 0 when it succeeded, 1 otherwise.
//!
//! The execution is read every [`POLL`] (`GET /api/executions/{id}`), which shows the
//! whole plan from the start, survives a server restart and needs nothing but HTTP.
//! On a terminal (stderr), a live list: one line per task that has started, with a
//! spinner and its elapsed time while it runs, a progress bar with counts for a
//! fan-out, and ✓/✗ when it ends; past [`MAX_LINES`] tasks the rest are counted on one
//! line. Elsewhere (a pipe, CI), plain lines as tasks change. Both end with a summary
//! naming each failed task and its error.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;
use serde_json::Value;

use super::get::{error_text, task_detail};
use crate::commands::remote::{Client, Failure, ids, when};
use crate::output::outln;

/// How often the execution is read.
const POLL: Duration = Duration::from_millis(250);
/// The most task lines a live view shows.
const MAX_LINES: usize = 30;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<ExitCode, Failure> {
    let id = ids::execution(client, &args.id).await?;
    follow(client, &id).await
}

/// Follows execution `id` (a whole id) to its end; the exit code of its outcome.
pub(crate) async fn follow(client: &Client, id: &str) -> Result<ExitCode, Failure> {
    let mut view = View::new(std::io::stderr().is_terminal());
    let detail = loop {
        let detail: Value = client.json(client.get(&["api", "executions", id])).await?;
        view.update(&detail, Timestamp::now());
        if ended(&detail) {
            break detail;
        }
        tokio::time::sleep(POLL).await;
    };
    view.clear();
    for line in summary(&detail, Timestamp::now()) {
        crate::output::errln!("{line}");
    }
    if let Some(outputs) = detail.get("outputs").filter(|o| !o.is_null()) {
        outln!(
            "{}",
            serde_json::to_string_pretty(outputs).unwrap_or_default()
        );
    }
    let succeeded = detail.get("status").and_then(Value::as_str) == Some("succeeded");
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn ended(x: &Value) -> bool {
    matches!(
        x.get("status").and_then(Value::as_str),
        Some("succeeded" | "failed" | "cancelled")
    )
}

/// The lines that end a watch: the outcome, then each failed task with its error.
pub(crate) fn summary(x: &Value, now: Timestamp) -> Vec<String> {
    let status = x.get("status").and_then(Value::as_str).unwrap_or("unknown");
    let took = when::took(
        x.get("started_at").and_then(Value::as_str),
        x.get("ended_at").and_then(Value::as_str),
        now,
    );
    let id = x.get("id").and_then(Value::as_str).unwrap_or("");
    let workflow = x.get("workflow").and_then(Value::as_str).unwrap_or("");
    let mut lines = vec![format!("execution {id} ({workflow}) {status} in {took}")];
    let tasks = x.get("tasks").and_then(Value::as_object);
    for (name, t) in tasks.into_iter().flatten() {
        if t.get("status").and_then(Value::as_str) == Some("failed") {
            lines.push(format!("  ✗ {name}: {}", task_detail(t)));
        }
    }
    if status != "succeeded"
        && lines.len() == 1
        && let Some(e) = x.get("error").filter(|e| !e.is_null())
    {
        lines.push(format!("  {}", error_text(e)));
    }
    lines
}

/// What one task looks like now.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    status: String,
    attempts: u64,
    items: Option<(u64, u64)>,
    detail: String,
}

impl Row {
    fn of(t: &Value) -> Row {
        let items = t.get("items").and_then(Value::as_array).map(|items| {
            let done = items
                .iter()
                .filter(|i| {
                    matches!(
                        i.get("status").and_then(Value::as_str),
                        Some("succeeded" | "failed" | "skipped" | "cancelled")
                    )
                })
                .count() as u64;
            (done, items.len() as u64)
        });
        Row {
            status: t
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("pending")
                .to_string(),
            // A fan-out's attempts are its items' together: not "attempt N" of anything.
            attempts: if items.is_some() {
                0
            } else {
                t.get("attempts").and_then(Value::as_u64).unwrap_or(0)
            },
            items,
            detail: task_detail(t),
        }
    }

    fn finished(&self) -> bool {
        matches!(
            self.status.as_str(),
            "succeeded" | "failed" | "skipped" | "cancelled"
        )
    }
}

/// The live view (a terminal) or the plain lines (anything else).
pub(crate) struct View {
    live: Option<Live>,
    seen: HashMap<String, Row>,
    /// For plain output: when each fan-out's counts were last printed.
    printed: HashMap<String, Instant>,
}

struct Live {
    multi: MultiProgress,
    header: ProgressBar,
    bars: HashMap<String, ProgressBar>,
    more: Option<ProgressBar>,
}

impl View {
    /// A live view when `terminal`, plain lines otherwise.
    pub(crate) fn new(terminal: bool) -> View {
        let live = terminal.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let header = multi.add(ProgressBar::new_spinner());
            header.set_style(style("{spinner:.cyan} {wide_msg}"));
            header.enable_steady_tick(Duration::from_millis(100));
            Live {
                multi,
                header,
                bars: HashMap::new(),
                more: None,
            }
        });
        View {
            live,
            seen: HashMap::new(),
            printed: HashMap::new(),
        }
    }

    /// Shows execution `x` (the server's view of it) as of `now`.
    pub(crate) fn update(&mut self, x: &Value, now: Timestamp) {
        let tasks: Vec<(String, Row, Value)> = x
            .get("tasks")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(n, t)| (n.clone(), Row::of(t), t.clone()))
            .collect();
        match &mut self.live {
            Some(live) => live.update(x, &tasks, now),
            None => {
                for (name, row, _) in &tasks {
                    if self.seen.get(name) == Some(row) || row.status == "pending" {
                        continue;
                    }
                    let before = self.seen.get(name);
                    let status_changed = before.is_none_or(|b| b.status != row.status);
                    let due = self
                        .printed
                        .get(name)
                        .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
                    if status_changed || due || row.finished() {
                        crate::output::errln!("{}", plain_line(name, row));
                        self.printed.insert(name.clone(), Instant::now());
                        self.seen.insert(name.clone(), row.clone());
                    }
                }
            }
        }
    }

    /// Ends the view: the tasks' lines stay, the header goes.
    pub(crate) fn clear(&mut self) {
        if let Some(live) = &self.live {
            for bar in live.bars.values() {
                bar.finish();
            }
            if let Some(more) = &live.more {
                more.finish();
            }
            // The tasks' lines stay on the screen above the summary; the header goes.
            live.header.finish_and_clear();
        }
    }
}

/// A plain line: `TASK STATUS [DETAIL]`.
fn plain_line(name: &str, row: &Row) -> String {
    let mut line = format!("{name} {}", row.status);
    if row.attempts > 1 {
        line.push_str(&format!(" (attempt {})", row.attempts));
    }
    if !row.detail.is_empty() {
        line.push_str(&format!(": {}", row.detail));
    }
    line
}

impl Live {
    fn update(&mut self, x: &Value, tasks: &[(String, Row, Value)], now: Timestamp) {
        let status = x.get("status").and_then(Value::as_str).unwrap_or("");
        let took = when::took(x.get("started_at").and_then(Value::as_str), None, now);
        let done = tasks.iter().filter(|(_, r, _)| r.finished()).count();
        self.header.set_message(format!(
            "{} {} v{}: {status}, {done}/{} tasks, {took}",
            x.get("id").and_then(Value::as_str).unwrap_or(""),
            x.get("workflow").and_then(Value::as_str).unwrap_or(""),
            x.get("version").and_then(Value::as_u64).unwrap_or(0),
            tasks.len()
        ));
        let width = tasks
            .iter()
            .map(|(n, _, _)| n.len())
            .max()
            .unwrap_or(4)
            .min(40);
        let mut hidden = 0usize;
        for (name, row, t) in tasks {
            if row.status == "pending" && !self.bars.contains_key(name) {
                continue;
            }
            if !self.bars.contains_key(name) {
                if self.bars.len() >= MAX_LINES {
                    hidden += 1;
                    continue;
                }
                let fresh = ProgressBar::new(0).with_style(style("{spinner:.cyan} {prefix}"));
                let bar = match &self.more {
                    Some(more) => self.multi.insert_before(more, fresh),
                    None => self.multi.add(fresh),
                };
                bar.enable_steady_tick(Duration::from_millis(100));
                self.bars.insert(name.clone(), bar);
            }
            let Some(bar) = self.bars.get(name) else {
                continue;
            };
            if bar.is_finished() {
                continue;
            }
            let elapsed = when::took(
                t.get("started_at").and_then(Value::as_str),
                t.get("ended_at").and_then(Value::as_str),
                now,
            );
            let label = format!("{name:<width$}");
            if row.finished() {
                let mark = match row.status.as_str() {
                    "succeeded" => "\x1b[32m✓\x1b[0m",
                    "failed" => "\x1b[31m✗\x1b[0m",
                    _ => "\x1b[2m-\x1b[0m",
                };
                bar.set_style(style("{msg}"));
                let detail = if row.detail.is_empty() {
                    String::new()
                } else {
                    format!("  {}", row.detail)
                };
                bar.finish_with_message(format!(
                    "{mark} {label}  {} {elapsed}{detail}",
                    row.status
                ));
                continue;
            }
            let attempt = if row.attempts > 1 {
                format!(" (attempt {})", row.attempts)
            } else {
                String::new()
            };
            match row.items {
                Some((done, total)) => {
                    bar.set_style(style(
                        "{spinner:.cyan} {prefix} [{bar:24.cyan/blue}] {pos}/{len} {wide_msg}",
                    ));
                    bar.set_length(total);
                    bar.set_position(done);
                    bar.set_prefix(label);
                    bar.set_message(format!("{elapsed}{attempt}"));
                }
                None => {
                    bar.set_style(style("{spinner:.cyan} {prefix}  {wide_msg}"));
                    bar.set_prefix(label);
                    let detail = if row.detail.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", row.detail)
                    };
                    bar.set_message(format!("{} {elapsed}{attempt}{detail}", row.status));
                }
            }
        }
        if hidden > 0 {
            let more = self.more.get_or_insert_with(|| {
                let more = self.multi.add(ProgressBar::new_spinner());
                more.set_style(style("  {wide_msg}"));
                more
            });
            more.set_message(format!("… and {hidden} more tasks started"));
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_summary_names_each_failed_task_and_its_error() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().expect("a time");
        let x = json!({
            "id": "01a2", "workflow": "etl", "status": "failed",
            "started_at": "2026-11-30T11:59:58Z", "ended_at": "2026-11-30T11:59:59.500Z",
            "tasks": {
                "a": {"status": "succeeded", "attempts": 1, "error": null},
                "b": {"status": "failed", "attempts": 3, "error": {"class": "timeout", "message": "took longer than 5s"}}
            }
        });
        assert_eq!(
            summary(&x, now),
            [
                "execution 01a2 (etl) failed in 1.5s",
                "  ✗ b: timeout: took longer than 5s"
            ]
        );
    }

    #[test]
    fn plain_lines_say_the_status_attempt_and_detail() {
        let row = Row::of(&json!({"status": "running", "attempts": 2, "error": null}));
        assert_eq!(plain_line("fetch", &row), "fetch running (attempt 2)");
        let row = Row::of(
            &json!({"status": "running", "attempts": 1, "items": [{"status": "succeeded"}, {"status": "running"}]}),
        );
        assert_eq!(plain_line("fan", &row), "fan running: 1/2 items");
    }
}
