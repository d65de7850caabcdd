//! Live progress of a local run when stderr is not a terminal (on a terminal,
//! `execution::watch::View` draws the task list; this still follows the events).
//!
//! On a terminal: one status line, redrawn, with done/running/failed counts, the names
//! of running tasks (with `done/total` for fan-outs) and the elapsed time. Elsewhere
//! (a pipe, CI): plain lines as tasks start, retry and end; a fan-out of more than
//! `LONG_FAN_OUT` items prints its counts every tenth instead of a line per item. Both go to stderr, so
//! stdout carries only the result.
//!
//! Events come from two sources that overlap: the live subscription and the
//! execution's log (read to catch up). [`Progress::take`] keeps the sequence number of
//! the last event taken in, so that each event is shown once and in order, whichever
//! source brings it first; a gap (a lagging subscription lost events) is reported to
//! the caller, which fills it from the log.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use harmonia_engine::event::Event;
use harmonia_model::Plan;
use indicatif::{ProgressBar, ProgressStyle};

/// Past this many items, a fan-out's plain progress is counts, not a line per item
/// (failures are still printed one by one).
const LONG_FAN_OUT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

struct TaskView {
    name: String,
    state: State,
    items: Option<(usize, usize)>,
}

/// Progress of one execution.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    started: Instant,
    tasks: Vec<TaskView>,
    index: HashMap<String, usize>,
    /// The sequence number of the last event taken in (0 before the first).
    last_seq: u64,
    /// Whether the execution's outcome (its last event) was taken in.
    ended: bool,
    /// Plain lines not yet written (see [`Progress::flush`]).
    pending: String,
}

/// What [`Progress::take`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// It was the next one: shown.
    Shown,
    /// It had been taken in already: ignored.
    Seen,
    /// Events before it are missing: read them from the log first.
    Gap,
}

impl Progress {
    /// Progress for `plan`: a redrawn line when `tty`, plain lines when `plain`.
    pub(crate) fn new(plan: &Plan, tty: bool, plain: bool) -> Progress {
        let tasks: Vec<TaskView> = plan
            .tasks
            .iter()
            .map(|t| TaskView {
                name: t.name.clone(),
                state: State::Pending,
                items: None,
            })
            .collect();
        let index = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        let bar = tty.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} · {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Progress {
            bar,
            plain: plain && !tty,
            started: Instant::now(),
            tasks,
            index,
            last_seq: 0,
            ended: false,
            pending: String::new(),
        }
    }

    /// Takes in the event at position `seq` of the execution's log (from 1), if it is
    /// the next one.
    pub(crate) fn take(&mut self, seq: u64, event: &Event) -> Taken {
        if seq <= self.last_seq {
            return Taken::Seen;
        }
        if seq != self.last_seq + 1 {
            return Taken::Gap;
        }
        self.last_seq = seq;
        self.ended = matches!(
            event,
            Event::ExecutionSucceeded { .. }
                | Event::ExecutionFailed { .. }
                | Event::ExecutionCancelled
        );
        self.event(event);
        Taken::Shown
    }

    /// Whether the execution's outcome, the last event of its log, was taken in: with
    /// every event before it (see [`Progress::take`]), nothing is left to read.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// The sequence number of the last event taken in (0 before the first): the log
    /// holds nothing this has not shown up to it.
    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Writes the plain lines taken in since the last flush, in one write: a catch-up
    /// of thousands of events is one system call, not one per line.
    pub(crate) fn flush(&mut self) {
        if !self.pending.is_empty() {
            crate::output::errln!("{}", self.pending.trim_end_matches('\n'));
            self.pending.clear();
        }
    }

    /// Whether `task` is a fan-out of more than [`LONG_FAN_OUT`] items, whose items'
    /// routine events are counted rather than printed one by one.
    fn long_fan_out(&self, task: &str) -> bool {
        self.index
            .get(task)
            .and_then(|&i| self.tasks[i].items)
            .is_some_and(|(_, total)| total > LONG_FAN_OUT)
    }

    fn line(&mut self, text: String) {
        if self.plain {
            use std::fmt::Write as _;
            let at = self.started.elapsed().as_secs_f64();
            let _ = writeln!(self.pending, "[{at:>8.2}s] {text}");
        }
    }

    /// Shows one event of the execution: its state in the task list, and, in plain
    /// mode, a line (the same words as `harmonia history`; see `Event::describe`).
    fn event(&mut self, event: &Event) {
        let quiet_item = match event {
            Event::AttemptWaiting {
                task,
                item: Some(_),
                ..
            }
            | Event::RetryScheduled {
                task,
                item: Some(_),
                ..
            } => self.long_fan_out(task),
            _ => false,
        };
        let mut set = |name: &str, state: State| -> Option<usize> {
            let i = *self.index.get(name)?;
            self.tasks[i].state = state;
            Some(i)
        };
        let shown = match event {
            Event::TaskStarted { task, items } => {
                if let Some(i) = set(task, State::Running) {
                    self.tasks[i].items = items.as_ref().map(|v| (0, v.len()));
                }
                true
            }
            Event::AttemptSucceeded {
                task,
                item: Some(_),
                ..
            } => {
                if let Some(&i) = self.index.get(task)
                    && let Some((done, total)) = &mut self.tasks[i].items
                {
                    *done += 1;
                    // A long fan-out says how far it is every tenth, not item by item.
                    let (done, total) = (*done, *total);
                    if total > LONG_FAN_OUT && (done * 10 / total) > ((done - 1) * 10 / total) {
                        self.line(format!("{task}: {done}/{total} items done"));
                    }
                }
                false
            }
            Event::AttemptWaiting {
                task,
                item: Some(_),
                ..
            }
            | Event::RetryScheduled {
                task,
                item: Some(_),
                ..
            } if quiet_item => false,
            Event::TaskSucceeded { task } => set(task, State::Succeeded).is_some(),
            Event::TaskFailed { task, .. } => set(task, State::Failed).is_some(),
            Event::TaskSkipped { task, .. } => set(task, State::Skipped).is_some(),
            Event::TaskCancelled { task } => set(task, State::Cancelled).is_some(),
            Event::AttemptFailed { .. }
            | Event::RetryScheduled { .. }
            | Event::AttemptWaiting { .. }
            | Event::SignalReceived { .. }
            | Event::Paused
            | Event::Resumed
            | Event::TaskHeld { .. }
            | Event::TaskDecided { .. }
            | Event::TaskRecovered { .. }
            | Event::Ending { .. }
            | Event::CancelRequested { .. } => true,
            _ => false,
        };
        if shown {
            self.line(event.describe());
        }
        self.redraw();
    }

    fn redraw(&self) {
        let Some(bar) = &self.bar else { return };
        let count = |s: State| self.tasks.iter().filter(|t| t.state == s).count();
        let running: Vec<String> = self
            .tasks
            .iter()
            .filter(|t| t.state == State::Running)
            .map(|t| match t.items {
                Some((done, total)) => format!("{} {done}/{total}", t.name),
                None => t.name.clone(),
            })
            .collect();
        let done = count(State::Succeeded) + count(State::Skipped);
        let mut msg = format!(
            "{done}/{} done · {} running · {} failed",
            self.tasks.len(),
            running.len(),
            count(State::Failed),
        );
        if !running.is_empty() {
            let mut names = running.join(", ");
            if names.len() > 60 {
                names = format!("{}…", names.chars().take(59).collect::<String>());
            }
            msg.push_str(&format!(" · {names}"));
        }
        bar.set_message(msg);
    }

    /// Writes what is pending and clears the live line.
    pub(crate) fn finish(&mut self) {
        self.flush();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Time since the run started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_taken_once_and_in_order() {
        let text = "name: p\ntasks:\n  a: {type: set}\n";
        let source = harmonia_model::Source::new("p.yaml", text, harmonia_model::Format::Yaml);
        let plan = harmonia_model::load(&source, &harmonia_engine::kinds::builtin_types())
            .expect("valid")
            .plan;
        let mut p = Progress::new(&plan, false, false);
        let e = Event::Paused;
        assert_eq!(p.take(1, &e), Taken::Shown);
        assert_eq!(p.take(1, &e), Taken::Seen);
        assert_eq!(p.take(3, &e), Taken::Gap);
        assert_eq!(p.take(2, &e), Taken::Shown);
        assert_eq!(p.take(3, &e), Taken::Shown);
    }
}
