//! Harmonia's use cases: what a user can do with workflows, templates and executions,
//! once, for every way in. The server's REST routes and WebSockets and the CLI's local
//! commands are adapters over this crate: they parse, call a use case, and render its
//! value or its [`Error`].
//!
//! [`App`] holds them all over an engine [`Handle`] (and, through it, the store):
//! - [`Workflows`]: create and update (with diagnostics and warnings), check without
//!   storing, read any version, list, versions, delete (refused while executions are
//!   unfinished, unless told they may run on), graph, and register (what
//!   instantiation and `harmonia run` store);
//! - [`Templates`]: create and update (with the Tekton conversion and a dry run), read,
//!   list, versions, delete, diff, instantiate, export, import, seed the built-ins;
//! - [`Executions`]: start with inputs, read with task detail, list with filters and a
//!   cursor, cancel, pause, resume, retry (or preview it), answer an approval,
//!   history, and the stream of events; a start may carry an idempotency key; a
//!   task's inputs evaluated again, secrets masked (`task_inputs`);
//! - [`Events`]: CloudEvents received once each (by source and id), delivered to the
//!   `wait_event` tasks they match, and listed;
//! - [`Triggers`]: the triggers of every workflow, listed, read, paused and resumed
//!   (an `event` trigger starts its workflow from [`Events`]);
//! - [`Webhooks`]: requests to `webhook` triggers, verified by signature, each
//!   starting its workflow (once per `dedup` value);
//! - [`Components`]: the Tekton components `component` tasks call, from the config and
//!   from Hermes ([`hermes`] also keeps Harmonia registered there), with their tools;
//! - [`Workers`]: the leases of `worker` tasks, for external workers that poll queues;
//! - [`TaskTypes`]: the task types definitions are validated against, with their
//!   parameter and output schemas (what a designer may offer), and whether this
//!   engine can run each;
//! - [`Analytics`]: what fails most and what is slow over a window of executions
//!   (aggregates the store computes), and what the server uses now;
//! - [`Nodes`](nodes::Nodes): the nodes sharing the store (their leases, what each
//!   owns), and this one;
//! - [`Changes`]: the hub of workflow changes, announced by [`Workflows`] only, so that
//!   every way a workflow changes (an API call, an instantiation, a local run) is
//!   announced once and in one shape.
//!
//! - [`Assist`]: the assistant (a workflow drafted from plain language and repaired
//!   until it validates, failure diagnosis with a validated patch, optimization
//!   findings, a chat about an execution), over a language model when one is given
//!   ([`App::with_llm`]).
//!
//! Invariants: nothing here knows HTTP, WebSockets or the command line (no status, no
//! route, no flag in a message); a use case checks all of its input before it writes
//! anything (one exception, kept as the API has always behaved: an instantiation that
//! also starts an execution stores the workflow before the start checks the inputs);
//! a change is announced after it is stored. Values returned are the
//! domain's (store records, model types, engine plans); the API's views are the
//! server's.
//!
//! Dependencies: `engine <- app <- server <- cli`; the store is reached through the
//! engine's handle, as the `harmonia_storage::Store` trait.

pub mod analytics;
pub mod assist;
mod changes;
pub mod components;
pub mod concurrency;
mod error;
pub mod events;
pub mod executions;
pub mod hermes;
pub mod nodes;
pub mod notify;
pub mod schedules;
mod task_inputs;
pub mod task_types;
pub mod templates;
pub mod triggers;
pub mod webhooks;
pub mod workers;
pub mod workflows;

use std::sync::Arc;

use harmonia_engine::{Handle, Plans};
use harmonia_storage::Store;

pub use analytics::Analytics;
pub use assist::Assist;
pub use changes::{Change, Changes};
pub use components::Components;
pub use concurrency::Concurrency;
pub use error::{Error, Kind, Result};
pub use events::Events;
pub use executions::Executions;
pub use schedules::Schedules;
pub use task_types::TaskTypes;
pub use templates::Templates;
pub use triggers::Triggers;
pub use webhooks::Webhooks;
pub use workers::Workers;
pub use workflows::Workflows;

/// What every use case works over: the engine, its store and plans, and the hub.
#[derive(Clone)]
struct Ctx {
    handle: Handle,
    changes: Changes,
    /// The locks that serialize concurrency decisions, per workflow.
    gates: Arc<concurrency::Gates>,
    /// Where `component` tasks find their components.
    components: Arc<components::Directory>,
}

impl Ctx {
    fn store(&self) -> &Arc<dyn Store> {
        self.handle.store()
    }

    fn plans(&self) -> &Arc<Plans> {
        self.handle.plans()
    }
}

/// Every use case, over one engine (cheap to clone).
#[derive(Clone)]
pub struct App {
    workflows: Workflows,
    templates: Templates,
    executions: Executions,
    events: Events,
    triggers: Triggers,
    webhooks: Webhooks,
    schedules: Schedules,
    concurrency: Concurrency,
    components: Components,
    workers: Workers,
    analytics: Analytics,
    nodes: nodes::Nodes,
    task_types: TaskTypes,
    assist: Assist,
    changes: Changes,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// The use cases over the engine behind `handle`, with no components.
    pub fn new(handle: Handle) -> App {
        App::with_components(handle, Arc::new(components::Directory::empty()))
    }

    /// The use cases over the engine behind `handle`, whose `component` tasks find
    /// their components in `directory` (the engine's kind should be given the same).
    pub fn with_components(handle: Handle, directory: Arc<components::Directory>) -> App {
        let ctx = Ctx {
            handle,
            changes: Changes::new(),
            gates: Arc::default(),
            components: directory,
        };
        App {
            workflows: Workflows(ctx.clone()),
            templates: Templates(ctx.clone()),
            executions: Executions(ctx.clone()),
            events: Events(ctx.clone()),
            triggers: Triggers(ctx.clone()),
            webhooks: Webhooks(ctx.clone()),
            schedules: Schedules(ctx.clone()),
            concurrency: Concurrency(ctx.clone()),
            components: Components(ctx.clone()),
            workers: Workers::new(ctx.clone()),
            analytics: Analytics(ctx.clone()),
            nodes: nodes::Nodes(ctx.clone()),
            task_types: TaskTypes(ctx.clone()),
            assist: Assist::new(ctx.clone()),
            changes: ctx.changes,
        }
    }

    /// These use cases with the assistant asking `llm` (without, it answers what it
    /// can without a model, and [`Error::NoModel`] for the rest).
    pub fn with_llm(mut self, llm: std::sync::Arc<dyn harmonia_llm::Provider>) -> App {
        self.assist.llm = Some(llm);
        self
    }

    /// The assistant's bounds.
    pub fn with_assist_settings(mut self, settings: assist::AssistSettings) -> App {
        self.assist.settings = settings;
        self
    }

    /// The assistant.
    pub fn assist(&self) -> &Assist {
        &self.assist
    }

    /// Workflows.
    pub fn workflows(&self) -> &Workflows {
        &self.workflows
    }

    /// Templates.
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The nodes sharing the store, and this one.
    pub fn nodes(&self) -> &nodes::Nodes {
        &self.nodes
    }

    /// Executions.
    pub fn executions(&self) -> &Executions {
        &self.executions
    }

    /// Events received (CloudEvents).
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Triggers: listed, read, paused and resumed.
    pub fn triggers(&self) -> &Triggers {
        &self.triggers
    }

    /// The server-wide failure notification to `url` (see `notify`).
    pub fn notifier(&self, url: reqwest::Url) -> std::result::Result<notify::Notifier, String> {
        let client = harmonia_engine::kinds::http_client()?;
        Ok(notify::Notifier::new(
            self.executions.0.clone(),
            url,
            client,
        ))
    }

    /// Concurrency policies: held runs released as others end.
    pub fn concurrency(&self) -> &Concurrency {
        &self.concurrency
    }

    /// Schedules: fired on time, durably; backfilled on request.
    pub fn schedules(&self) -> &Schedules {
        &self.schedules
    }

    /// Webhooks: deliveries verified by signature, starting workflows.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// Components: listed with their tools.
    pub fn components(&self) -> &Components {
        &self.components
    }

    /// External workers: leases of `worker` tasks, polled, heart-beaten and answered.
    pub fn workers(&self) -> &Workers {
        &self.workers
    }

    /// Analytics: aggregates over executions, and the server's resources.
    pub fn analytics(&self) -> &Analytics {
        &self.analytics
    }

    /// Task types: what definitions may use, as validation knows them.
    pub fn task_types(&self) -> &TaskTypes {
        &self.task_types
    }

    /// The hub of workflow changes.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// The store the use cases work on, for what is not a use case of this crate
    /// (API tokens, a readiness probe).
    pub fn store(&self) -> &Arc<dyn Store> {
        self.executions.0.store()
    }
}

/// One page of a list, and the cursor of the next one (none on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as the cursor to get the next page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The first `limit` of `items` (which holds at most one more, to tell whether
    /// there is a next page), the cursor of the next page taken from the last item
    /// kept.
    fn of(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Page<T> {
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = more.then(|| items.last().map(cursor)).flatten();
        Page { items, next_cursor }
    }
}

/// A page size: `default` when absent, an error outside 1..=`max`.
fn limit(value: Option<u32>, default: u32, max: u32) -> Result<usize> {
    match value {
        None => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(Error::InvalidRequest(format!(
            "`limit` must be from 1 to {max}, found {n}"
        ))),
    }
}

/// The largest numeric cursor: the largest integer a JSON number holds exactly.
const MAX_CURSOR: u64 = 9_007_199_254_740_991;

/// The `after` of a listing paged by a number (`seq`), from the `cursor` the previous
/// page gave. An empty cursor is not one a listing gave.
fn seq_cursor(cursor: Option<String>) -> Result<Option<u64>> {
    cursor
        .map(|c| {
            c.parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_CURSOR)
                .ok_or_else(|| {
                    Error::InvalidRequest(format!(
                        "`cursor` is not one this listing gave: `{}`",
                        harmonia_expr::clip(&c)
                    ))
                })
        })
        .transpose()
}

/// The two versions a diff compares: `to` (default: the `latest`) and `from` (default:
/// the one before `to`); a first version has nothing before it to compare with.
fn diff_versions(
    what: &str,
    name: &str,
    latest: u32,
    from: Option<u32>,
    to: Option<u32>,
) -> Result<(u32, u32)> {
    let to = to.unwrap_or(latest);
    match from {
        Some(v) => Ok((v, to)),
        None if to > 1 => Ok((to - 1, to)),
        None => Err(Error::NotFound(format!(
            "{what} `{name}` has no version before {to} to compare it with; pass `from`"
        ))),
    }
}

/// `None` for an absent or empty filter or cursor: an empty one filters nothing.
fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_bound() {
        assert_eq!(limit(None, 50, 500).ok(), Some(50));
        assert_eq!(limit(Some(500), 50, 500).ok(), Some(500));
        assert!(matches!(
            limit(Some(0), 50, 500),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            limit(Some(501), 50, 500),
            Err(Error::InvalidRequest(m)) if m == "`limit` must be from 1 to 500, found 501"
        ));
    }

    #[test]
    fn a_page_has_a_cursor_only_when_more_follow() {
        let page = Page::of(vec![1, 2, 3], 2, ToString::to_string);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let last = Page::of(vec![1, 2], 2, ToString::to_string);
        assert_eq!(last.next_cursor, None);
    }
}
