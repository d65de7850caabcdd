//! The definition format's types: what a user writes, as data.
//!
//! These types are produced by the reader (`read`), which checks every field and reports
//! every problem with its location; they serialize back to the same format (a round trip
//! through JSON or YAML reads back equal), and they generate the format's JSON Schema
//! (`schema`). Expressions are kept here as the text the user wrote; the validated and
//! compiled form is [`crate::Plan`].
//!
//! Field names are listed once per struct in `FIELDS` constants; a test checks them
//! against the generated schema, so the reader, the schema and the types cannot drift.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::duration::Dur;

/// A workflow definition.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Harmonia workflow")]
pub struct Workflow {
    /// The JSON Schema this document follows, for editors. Ignored otherwise.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Unique name: lowercase letters, digits, `_` and `-`, starting with a letter or digit.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"), length(max = 128))]
    pub name: String,
    /// What the workflow does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The template version this workflow was made from. Metadata only: it changes
    /// nothing about how the workflow runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateRef>,
    /// Parameter values: what expressions read as `$params` (a template instantiation
    /// fills them in). Plain data: strings in it are not expressions. Without it,
    /// `$params` is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub params: Option<Value>,
    /// JSON Schema of the execution's inputs; defaults in it fill missing inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub inputs: Option<Value>,
    /// Results of the execution: names and `${ }` expressions (or values holding some).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, Value>,
    /// Defaults for every task.
    #[serde(default, skip_serializing_if = "Defaults::is_empty")]
    pub defaults: Defaults,
    /// Time limit of the whole execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
    /// What starts the workflow without a person: each trigger starts an execution
    /// when it fires, with the `inputs` it maps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// How many executions may run at once (per key), and what a start beyond that
    /// does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    /// The tasks, by name. Names are identifiers (`fetch_data`), so that
    /// `$tasks.fetch_data` works in expressions.
    #[schemars(length(min = 1))]
    pub tasks: IndexMap<String, Task>,
    /// Tasks that run after the execution failed (or timed out), before it ends; they
    /// read `$execution.status`, `$execution.error` and `$tasks`. Their own failure is
    /// recorded and changes nothing of the outcome.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub on_failure: IndexMap<String, Task>,
    /// Tasks that run after the execution succeeded, before it ends.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub on_success: IndexMap<String, Task>,
    /// Tasks that run after the workflow's tasks whatever the outcome (cancelled too),
    /// alongside `on_failure` or `on_success`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub finally: IndexMap<String, Task>,
}

impl Workflow {
    /// The blocks of handler tasks, as written, with the phase each runs in.
    pub const HANDLER_BLOCKS: [&'static str; 3] = ["on_failure", "on_success", "finally"];

    /// The tasks of handler block `block` (one of [`Workflow::HANDLER_BLOCKS`]).
    pub fn handlers(&self, block: &str) -> &IndexMap<String, Task> {
        match block {
            "on_failure" => &self.on_failure,
            "on_success" => &self.on_success,
            _ => &self.finally,
        }
    }

    /// The fields of a workflow, as written.
    pub const FIELDS: &'static [&'static str] = &[
        "$schema",
        "name",
        "description",
        "template",
        "params",
        "inputs",
        "outputs",
        "defaults",
        "timeout",
        "triggers",
        "concurrency",
        "tasks",
        "on_failure",
        "on_success",
        "finally",
    ];
}

/// A trigger: one kind, written as a mapping with the kind's name as its only key
/// (`- event: {type: order.created}`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Starts an execution for each CloudEvent posted to `POST /api/events` whose
    /// `type` (and `source`, when set) is the trigger's and whose `filter` holds; once
    /// per event (`source` and `id`).
    Event(EventTrigger),
    /// Starts an execution for each request to `POST /hooks/{name}` whose signature
    /// `verify` accepts (once per `dedup` value, when set).
    Webhook(WebhookTrigger),
    /// Starts an execution at each time a cron pattern names, in a time zone.
    Schedule(ScheduleTrigger),
}

impl Trigger {
    /// The kinds of triggers, as written.
    pub const KINDS: &'static [&'static str] = &["event", "webhook", "schedule"];
    /// Kinds of the definition format that this version does not run yet.
    pub const PLANNED: &'static [&'static str] = &[];
}

/// A workflow's concurrency policy.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Concurrency {
    /// One `${ }` expression over `$inputs` (and `$params`): executions with the same
    /// value share the limit (`${ $inputs.repo }`); without it, every execution of the
    /// workflow does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How many may run at once per key (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub limit: Option<u32>,
    /// What a start beyond the limit does (default `queue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<ConflictPolicy>,
}

impl Concurrency {
    /// The fields of `concurrency`, as written.
    pub const FIELDS: &'static [&'static str] = &["key", "limit", "on_conflict"];
}

/// What a start beyond a concurrency limit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// It waits, paused, and starts when a slot frees, first come first served.
    #[default]
    Queue,
    /// It is cancelled at once (recorded, with the reason).
    CancelNew,
    /// The oldest running ones are cancelled to make room; it starts.
    CancelOld,
    /// It waits like `queue`, but replaces the start waiting before it (cancelled), so
    /// a burst collapses into one run.
    Coalesce,
}

impl ConflictPolicy {
    /// The policies, as written.
    pub const NAMES: [&'static str; 4] = ["queue", "cancel_new", "cancel_old", "coalesce"];
    /// The policies, in the order of [`ConflictPolicy::NAMES`].
    pub const ALL: [ConflictPolicy; 4] = [
        ConflictPolicy::Queue,
        ConflictPolicy::CancelNew,
        ConflictPolicy::CancelOld,
        ConflictPolicy::Coalesce,
    ];
}

/// A `schedule` trigger.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    /// A cron pattern of 5 fields (minute hour day-of-month month day-of-week) or 6
    /// (seconds first); names (`MON`, `JAN`), `L`, `W`, `#` and `@daily`-style
    /// nicknames are understood.
    #[schemars(length(min = 1))]
    pub cron: String,
    /// The IANA time zone the pattern reads in (`Europe/Paris`); UTC when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// What a fire does while a run of the workflow is unfinished (default `skip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Overlap>,
    /// What the fires missed while the server was down become (default `last`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catchup: Option<Catchup>,
    /// The execution's inputs: names and values, whose strings may hold `${ }`
    /// expressions over `$trigger` (`id`, `scheduled_at`, `fired_at`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub inputs: IndexMap<String, Value>,
}

impl ScheduleTrigger {
    /// The fields of a `schedule` trigger, as written.
    pub const FIELDS: &'static [&'static str] =
        &["cron", "timezone", "overlap", "catchup", "inputs"];
}

/// What a schedule's fire does while a run of the workflow is unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Nothing: the fire is skipped (and recorded as skipped).
    #[default]
    Skip,
    /// The fire waits until no run is unfinished, then starts.
    Queue,
    /// The fire starts a run beside the unfinished ones.
    Allow,
    /// The unfinished runs are cancelled, then the fire starts.
    CancelPrevious,
}

impl Overlap {
    /// The policies, as written.
    pub const NAMES: [&'static str; 4] = ["skip", "queue", "allow", "cancel_previous"];
    /// The policies, in the order of [`Overlap::NAMES`].
    pub const ALL: [Overlap; 4] = [
        Overlap::Skip,
        Overlap::Queue,
        Overlap::Allow,
        Overlap::CancelPrevious,
    ];
}

/// What the fires a schedule missed (the server was down) become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Catchup {
    /// None of them run.
    None,
    /// The latest of them runs.
    #[default]
    Last,
    /// All of them run, oldest first, at most 100 (the latest 100).
    All,
}

impl Catchup {
    /// The policies, as written.
    pub const NAMES: [&'static str; 3] = ["none", "last", "all"];
    /// The policies, in the order of [`Catchup::NAMES`].
    pub const ALL: [Catchup; 3] = [Catchup::None, Catchup::Last, Catchup::All];
}

/// A `webhook` trigger.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// The hook's name: requests go to `POST /hooks/{name}`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"), length(max = 128))]
    pub name: String,
    /// How a request proves where it comes from.
    pub verify: Verify,
    /// One `${ }` expression over `$request` (such as the delivery id header): a
    /// request with a value seen before answers the first execution and starts nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup: Option<String>,
    /// The execution's inputs: names and values, whose strings may hold `${ }`
    /// expressions over `$request` (`method`, `headers` lower-cased, `query`, `body`
    /// parsed by its content type, `raw`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub inputs: IndexMap<String, Value>,
}

impl WebhookTrigger {
    /// The fields of a `webhook` trigger, as written.
    pub const FIELDS: &'static [&'static str] = &["name", "verify", "dedup", "inputs"];
}

/// How a webhook's requests are verified.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// The scheme: a sender's preset, a generic `hmac`, or `none` (only served on
    /// loopback).
    pub preset: Preset,
    /// The secret, always as `${ $secrets.NAME }` (never written in a definition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `hmac`: the header holding the signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `hmac`: the hash (default `sha256`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<HmacAlgorithm>,
    /// `hmac`: text before the signature in its header (`sha256=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `hmac`: how the signature is written (default `hex`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<SignatureEncoding>,
    /// `hmac`: a header with the request's Unix time; then `TIMESTAMP.BODY` is signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// How far a signed timestamp may be from now (default `5m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Dur>,
}

impl Verify {
    /// The fields of `verify`, as written.
    pub const FIELDS: &'static [&'static str] = &[
        "preset",
        "secret",
        "header",
        "algorithm",
        "prefix",
        "encoding",
        "timestamp_header",
        "tolerance",
    ];
    /// The fields only a generic `hmac` takes.
    pub const HMAC_ONLY: &'static [&'static str] = &[
        "header",
        "algorithm",
        "prefix",
        "encoding",
        "timestamp_header",
    ];
}

/// A webhook verification scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// GitHub: `X-Hub-Signature-256`.
    Github,
    /// GitLab: `X-Gitlab-Token`.
    Gitlab,
    /// Stripe: `Stripe-Signature`.
    Stripe,
    /// Slack: `X-Slack-Signature`.
    Slack,
    /// A generic HMAC, configured by the other fields.
    Hmac,
    /// No verification: only served when the server listens on loopback.
    None,
}

impl Preset {
    /// The presets, as written.
    pub const NAMES: [&'static str; 6] = ["github", "gitlab", "stripe", "slack", "hmac", "none"];
    /// The presets, in the order of [`Preset::NAMES`].
    pub const ALL: [Preset; 6] = [
        Preset::Github,
        Preset::Gitlab,
        Preset::Stripe,
        Preset::Slack,
        Preset::Hmac,
        Preset::None,
    ];
}

/// The hash of a generic HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// How a signature is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    /// Hexadecimal.
    Hex,
    /// Base64.
    Base64,
}

/// An `event` trigger.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTrigger {
    /// The events' `type` (`order.created`).
    #[serde(rename = "type")]
    #[schemars(length(min = 1))]
    pub ty: String,
    /// Only events from this `source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// One `${ }` expression over `$event`: the event starts the workflow only when it
    /// is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The execution's inputs: names and values, whose strings may hold `${ }`
    /// expressions over `$event` (`order: ${ $event.data }`). Checked against the
    /// workflow's `inputs` schema when the event arrives.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub inputs: IndexMap<String, Value>,
}

impl EventTrigger {
    /// The fields of an `event` trigger, as written.
    pub const FIELDS: &'static [&'static str] = &["type", "source", "filter", "inputs"];
}

/// Where a workflow came from: a template and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    /// The template's name.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"), length(max = 128))]
    pub name: String,
    /// The template's version, from 1.
    #[schemars(range(min = 1))]
    pub version: u32,
}

impl TemplateRef {
    /// The fields of `template`.
    pub const FIELDS: &'static [&'static str] = &["name", "version"];
}

/// Defaults applied to every task that does not set its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Retry policy; a task's own `retry` overrides it field by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Time limit of each attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
}

impl Defaults {
    /// The fields of `defaults`.
    pub const FIELDS: &'static [&'static str] = &["retry", "timeout"];

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.retry.is_none() && self.timeout.is_none()
    }
}

/// One task of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The task type: `set`, `transform`, `http`, `shell`, `sleep`, `workflow`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// What the task does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tasks that must end before this one starts (a name or a list of names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "needs_schema")]
    pub needs: Vec<String>,
    /// Run only when this is true: a `${ }` expression or a boolean.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "condition_schema")]
    pub condition: Option<Value>,
    /// When the task may run, given how its dependencies ended.
    #[serde(default, skip_serializing_if = "Join::is_default")]
    pub join: Join,
    /// What a failure of this task does to the execution.
    #[serde(default, skip_serializing_if = "OnError::is_default")]
    pub on_error: OnError,
    /// The task type's parameters; strings may hold `${ }` expressions.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub with: Value,
    /// Fan out: run once per item of this list or `${ }` expression (`$item`, `$index`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "for_each_schema")]
    pub for_each: Option<Value>,
    /// How many items of a fan-out run at once (default: no limit but the global one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub concurrency: Option<u32>,
    /// Reshape the raw result: a `${ }` expression over `$output` (also `.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "expression_schema")]
    pub output: Option<String>,
    /// Retry policy; fields not set come from `defaults.retry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Time limit of each attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
    /// What undoes this task's effect: when the execution fails, the compensations of
    /// the tasks that succeeded run, in reverse dependency order (it reads the task's
    /// result as `$tasks.NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensate: Option<Box<Task>>,
    /// What stands in when every attempt failed: a task whose output becomes this
    /// task's (which then succeeds, recovered by its fallback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Box<Task>>,
}

impl Task {
    /// The fields of a task, as written.
    pub const FIELDS: &'static [&'static str] = &[
        "type",
        "description",
        "needs",
        "if",
        "join",
        "on_error",
        "with",
        "for_each",
        "concurrency",
        "output",
        "retry",
        "timeout",
        "compensate",
        "fallback",
    ];

    /// A task of type `kind` with everything else unset.
    pub fn new(kind: impl Into<String>) -> Task {
        Task {
            kind: kind.into(),
            description: None,
            needs: Vec::new(),
            condition: None,
            join: Join::All,
            on_error: OnError::Fail,
            with: Value::Null,
            for_each: None,
            concurrency: None,
            output: None,
            retry: None,
            timeout: None,
            compensate: None,
            fallback: None,
        }
    }
}

/// When a task with dependencies may run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Join {
    /// Every dependency succeeded (a skipped one skips this task too).
    #[default]
    All,
    /// At least one dependency succeeded.
    Any,
    /// Every dependency ended, whatever the outcome.
    AllDone,
}

impl Join {
    /// The spellings, in order.
    pub const NAMES: &'static [&'static str] = &["all", "any", "all_done"];

    fn is_default(&self) -> bool {
        *self == Join::All
    }
}

/// What a task's failure does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The execution fails once running tasks finish; no new task starts.
    #[default]
    Fail,
    /// The task is `failed`, the execution goes on (dependents with `join: all_done` run).
    Continue,
    /// The task is `held` and the execution pauses there, until a person retries it,
    /// skips it with an output, or fails it.
    Pause,
}

impl OnError {
    /// The spellings, in order.
    pub const NAMES: &'static [&'static str] = &["fail", "continue", "pause"];

    fn is_default(&self) -> bool {
        *self == OnError::Fail
    }
}

/// How retries are spaced and which errors they cover. Unset fields inherit from
/// `defaults.retry`, then from the built-in defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_attempts: Option<u32>,
    /// How the delay grows between attempts (default `exponential`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Delay before the first retry (default `1s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<Dur>,
    /// Cap on any delay (default `5m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_delay: Option<Dur>,
    /// Growth factor of `exponential` backoff (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1.0, max = 100.0))]
    pub multiplier: Option<f64>,
    /// Draw each delay uniformly from [0.5, 1.0] of the computed one (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
    /// Error classes that are retried (default: timeout, connection, http_429, http_5xx,
    /// exit_code, component_error, worker_error, llm_invalid_output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<Vec<ErrorClass>>,
}

impl RetryPolicy {
    /// The fields of a retry policy.
    pub const FIELDS: &'static [&'static str] = &[
        "max_attempts",
        "backoff",
        "initial_delay",
        "max_delay",
        "multiplier",
        "jitter",
        "retry_on",
    ];
}

/// How the delay between attempts grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Always `initial_delay`.
    Fixed,
    /// `initial_delay` times the retry number.
    Linear,
    /// `initial_delay` times `multiplier` to the power of the retry number minus one.
    Exponential,
}

impl Backoff {
    /// The spellings, in order.
    pub const NAMES: &'static [&'static str] = &["fixed", "linear", "exponential"];
}

/// The class of a task error, for `retry_on` and for users reading a failure.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// An attempt ran out of time.
    Timeout,
    /// A connection could not be made or broke.
    Connection,
    /// HTTP 429 Too Many Requests.
    #[serde(rename = "http_429")]
    Http429,
    /// Another HTTP 4xx status.
    #[serde(rename = "http_4xx")]
    Http4xx,
    /// An HTTP 5xx status.
    #[serde(rename = "http_5xx")]
    Http5xx,
    /// A process exited with a non-zero code.
    ExitCode,
    /// An expression failed at run time.
    Expression,
    /// Parameters or inputs did not validate at run time.
    Validation,
    /// The task was cancelled.
    Cancelled,
    /// A wait (an event, an approval) reached its `timeout` without an answer.
    WaitTimeout,
    /// A person rejected an approval.
    Rejected,
    /// A component's tool or action answered with an error.
    ComponentError,
    /// An external worker reported that the work failed.
    WorkerError,
    /// A model's answer was not usable: not JSON, not valid under the task's `schema`,
    /// or cut at `max_tokens` (the `llm` kind).
    LlmInvalidOutput,
    /// The execution's LLM token budget is spent (the `llm` kind).
    LlmBudget,
    /// A prompt would carry a value computed from a secret: secrets never reach a model.
    SecretInPrompt,
}

impl ErrorClass {
    /// Every class, in order.
    pub const ALL: [ErrorClass; 16] = [
        ErrorClass::Timeout,
        ErrorClass::Connection,
        ErrorClass::Http429,
        ErrorClass::Http4xx,
        ErrorClass::Http5xx,
        ErrorClass::ExitCode,
        ErrorClass::Expression,
        ErrorClass::Validation,
        ErrorClass::Cancelled,
        ErrorClass::WaitTimeout,
        ErrorClass::Rejected,
        ErrorClass::ComponentError,
        ErrorClass::WorkerError,
        ErrorClass::LlmInvalidOutput,
        ErrorClass::LlmBudget,
        ErrorClass::SecretInPrompt,
    ];

    /// The classes retried when `retry_on` is not set: failures of work outside that
    /// may well pass on another try.
    pub const RETRIED_BY_DEFAULT: [ErrorClass; 8] = [
        ErrorClass::Timeout,
        ErrorClass::Connection,
        ErrorClass::Http429,
        ErrorClass::Http5xx,
        ErrorClass::ExitCode,
        ErrorClass::ComponentError,
        ErrorClass::WorkerError,
        ErrorClass::LlmInvalidOutput,
    ];

    /// The spelling in definitions.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Connection => "connection",
            ErrorClass::Http429 => "http_429",
            ErrorClass::Http4xx => "http_4xx",
            ErrorClass::Http5xx => "http_5xx",
            ErrorClass::ExitCode => "exit_code",
            ErrorClass::Expression => "expression",
            ErrorClass::Validation => "validation",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::WaitTimeout => "wait_timeout",
            ErrorClass::Rejected => "rejected",
            ErrorClass::ComponentError => "component_error",
            ErrorClass::WorkerError => "worker_error",
            ErrorClass::LlmInvalidOutput => "llm_invalid_output",
            ErrorClass::LlmBudget => "llm_budget",
            ErrorClass::SecretInPrompt => "secret_in_prompt",
        }
    }

    /// The class spelled `name`.
    pub fn from_name(name: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn expression_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": r"^\s*\$\{[\s\S]*\}\s*$",
        "description": "A `${ jq }` expression."
    })
}

fn needs_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "A task name or a list of task names.",
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "uniqueItems": true}
        ]
    })
}

fn condition_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "A `${ jq }` expression (false or null skips the task) or a boolean.",
        "oneOf": [
            {"type": "boolean"},
            {"type": "string", "pattern": r"^\s*\$\{[\s\S]*\}\s*$"}
        ]
    })
}

fn for_each_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The items to fan out over: a list, or a `${ jq }` expression that yields one.",
        "oneOf": [
            {"type": "array"},
            {"type": "string", "pattern": r"^\s*\$\{[\s\S]*\}\s*$"}
        ]
    })
}
