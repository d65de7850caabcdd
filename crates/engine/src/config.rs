//! The engine's settings.

use std::collections::BTreeMap;

use harmonia_expr::Limits;

use crate::kinds::KindsConfig;

/// How an engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Attempts running at once, over all executions (inline `set`/`transform` attempts,
    /// which take microseconds, do not count).
    pub max_concurrency: usize,
    /// The most commands folded into one commit.
    pub max_batch: usize,
    /// The events after which a turn stops applying queued work and commits; the rest
    /// goes into the next turn. Bounds the memory and latency of a turn when pure tasks
    /// cascade (a fan-out of 100,000 `set` items).
    pub max_batch_events: usize,
    /// Bounds on each expression evaluation.
    pub limits: Limits,
    /// The name this engine owns executions under (see `scheduler::commit`): unique
    /// among the engines that share a store. Default: `node-` and random hex.
    pub node: String,
    /// The lease under which this engine, one of several nodes on a shared store, owns
    /// its executions (see `scheduler::lease`): it joins the nodes, renews the lease,
    /// and takes over the executions of nodes whose lease expired. `None` (the
    /// default, and a CLI run): not a member; it claims at start what no live node
    /// holds.
    pub lease: Option<std::time::Duration>,
    /// Where this node's API listens, as the other nodes and operators see it (shown in
    /// the list of nodes).
    pub address: Option<String>,
    /// Settings of the built-in task kinds.
    pub kinds: KindsConfig,
    /// Values of `$secrets`, by name. Never stored or logged; redacted from outputs and
    /// errors.
    pub secrets: BTreeMap<String, String>,
    /// Run pure tasks (`set`, `transform`) inside the scheduler's loop, in the same
    /// commit as their cause, instead of as separate attempts. On by default; turning it
    /// off is only useful to measure what it saves.
    pub inline_pure_tasks: bool,
    /// The committed events the broadcast to subscribers ([`Handle::subscribe`](crate::Handle::subscribe))
    /// holds for the slowest of them; one that falls further behind gets `Lagged` and
    /// reads the rest from the store. Its slots (about 32 bytes each) are allocated and
    /// written when the engine starts, so a process that runs one small workflow
    /// starts faster with fewer. Default: 16,384.
    pub event_buffer: usize,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            max_concurrency: 256,
            max_batch: 8192,
            max_batch_events: 50_000,
            limits: Limits::default(),
            node: format!("node-{:016x}", rand::random::<u64>()),
            lease: None,
            address: None,
            kinds: KindsConfig::default(),
            secrets: BTreeMap::new(),
            inline_pure_tasks: true,
            event_buffer: 16_384,
        }
    }
}
