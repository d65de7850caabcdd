//! Several `harmonia serve` processes (nodes) sharing one PostgreSQL database: each
//! owns the executions it starts under a lease, and takes over those of a node that was
//! lost (SIGKILL, or a stall past its lease: SIGSTOP) or that left (SIGTERM).
//!
//! Every test has a database of its own, `harmonia_nodes_<random hex>`, made through the
//! admin URL in `HARMONIA_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped `WITH (FORCE)` at the end
//! (see [`TestDb`]). A server that cannot be reached fails the test, saying so: these
//! tests never pass by skipping.
//!
//! The tasks call the ledger (see `ledger`) with a key naming their execution and task,
//! so that the side effects that really happened can be held against the event log:
//! - three nodes under load, two of them killed one after the other: every execution
//!   ends on the survivor, within a lease and a little of each kill, and no success is
//!   repeated;
//! - a node stalled past its lease: the other takes its executions over, and the
//!   stalled one, once it runs again, writes nothing more to them (its commits are
//!   fenced);
//! - a schedule on three nodes fires once per tick;
//! - a node stopped with SIGTERM hands its executions over at once, not after its lease;
//! - a watcher on one node follows an execution that another node runs.
//!
//! Each test prints a summary of what it measured.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use harmonia_storage::prelude::*;
use harmonia_storage::{EventRecord, ExecutionQuery, ExecutionRecord, ExecutionStatus};
use harmonia_storage_sql::{PostgresOptions, PostgresStore};
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use tokio_tungstenite::tungstenite::Message;

use super::ledger::{self, Ledger};
use super::served::Served;

/// How long each ledger call takes, by key.
const CALL_MS: RangeInclusive<u64> = 5..=40;
/// How long anything awaited may take, on a slow and busy machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------
// A database of one's own

/// The admin URL the tests make their databases through.
fn admin_url() -> String {
    std::env::var("HARMONIA_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database replaced by `database` (its query kept).
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{database}{query}")
}

/// A connection to the admin database, or a failed test that says how to get one.
async fn admin_connection(admin: &str) -> PgConnection {
    let connect = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(admin));
    match connect.await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "cannot connect to the PostgreSQL server for the tests ({e}): start PostgreSQL, \
             or set HARMONIA_TEST_PG_URL to the URL of a database on a server where this \
             user may create databases"
        ),
        Err(_) => panic!(
            "the PostgreSQL server for the tests did not answer within 10 s: start \
             PostgreSQL, or set HARMONIA_TEST_PG_URL to the URL of a database on a server \
             where this user may create databases"
        ),
    }
}

/// A database of its own for one test, dropped (with `WITH (FORCE)`, which ends the
/// sessions still on it) when this is dropped.
pub(crate) struct TestDb {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl TestDb {
    pub(crate) fn new() -> TestDb {
        let admin = admin_url();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let random = RandomState::new().hash_one((nanos, std::process::id()));
        let name = format!("harmonia_nodes_{random:016x}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let mut conn = admin_connection(&admin).await;
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
            let _ = conn.close().await;
        });
        let url = with_database(&admin, &name);
        TestDb { admin, name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A thread of its own, with a runtime of its own (the test may be inside one),
        // drops the database, and is waited for so that no database outlives the test.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("dropping test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping test database {}: the thread panicked", self.name),
        }
    }
}

// ---------------------------------------------------------------------------------
// The rig: a database, a ledger, an HTTP client, and the nodes on them

/// What every test shares. Nodes are locals of the test, declared after the rig, so
/// that they are killed before the database is dropped.
pub(crate) struct Rig {
    ledger: Ledger,
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) http: reqwest::Client,
    db: TestDb,
}

impl Rig {
    pub(crate) fn new() -> Rig {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = TestDb::new();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the clients' runtime");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .expect("a client");
        Rig {
            ledger: Ledger::start(CALL_MS),
            rt,
            http,
            db,
        }
    }

    /// A node on the test's database, as `--node-id id`, with these flags too.
    pub(crate) fn node(&self, id: &str, extra: &[&str]) -> Served {
        self.node_with_env(id, extra, &[])
    }

    /// [`Rig::node`], with these environment variables set.
    pub(crate) fn node_with_env(&self, id: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
        let mut args = vec!["--node-id", id];
        args.extend_from_slice(extra);
        Served::start_with_env(Path::new(&self.db.url), &args, env)
    }

    fn get(&self, url: &str) -> (u16, Value) {
        self.rt.block_on(get(&self.http, url))
    }

    fn post(&self, url: &str, body: &Value) -> (u16, Value) {
        self.rt.block_on(async {
            let r = self
                .http
                .post(url)
                .json(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"));
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// Creates a workflow from its YAML through node `base`.
    pub(crate) fn apply(&self, base: &str, yaml: &str) {
        let (status, text) = self.rt.block_on(async {
            let r = self
                .http
                .post(format!("{base}/api/workflows"))
                .header("content-type", "application/yaml")
                .body(yaml.to_string())
                .send()
                .await
                .expect("the server answers");
            let status = r.status().as_u16();
            (status, r.text().await.expect("a body"))
        });
        assert_eq!(status, 201, "creating the workflow: {text}");
    }

    /// Starts an execution of `workflow` on node `base`; its id.
    fn execute(&self, base: &str, workflow: &str, inputs: &Value) -> String {
        let url = format!("{base}/api/workflows/{workflow}/execute");
        let (status, body) = self.post(&url, &json!({"inputs": inputs}));
        assert_eq!(status, 201, "starting {workflow}: {body}");
        body["execution_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no execution id in {body}"))
            .to_string()
    }

    /// The `node` object of `/health` on node `base`.
    fn health(&self, base: &str) -> Value {
        let (status, body) = self.get(&format!("{base}/health"));
        assert_eq!(status, 200, "/health: {body}");
        body["node"].clone()
    }

    /// `GET /api/nodes` on node `base` (`?all=true` with `all`).
    fn nodes(&self, base: &str, all: bool) -> Vec<Value> {
        let (status, body) = self.get(&format!("{base}/api/nodes?all={all}"));
        assert_eq!(status, 200, "/api/nodes: {body}");
        body["nodes"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `what` every `every` until it holds; panics with `failure()` after
    /// `patience`.
    fn wait_for(
        &self,
        patience: Duration,
        every: Duration,
        mut what: impl FnMut() -> bool,
        failure: impl FnOnce() -> String,
    ) {
        let deadline = Instant::now() + patience;
        while !what() {
            assert!(
                Instant::now() < deadline,
                "after {patience:?}: {}",
                failure()
            );
            std::thread::sleep(every);
        }
    }

    /// The status of every execution in `ids` as node `base` answers it.
    fn statuses(&self, base: &str, ids: &[String]) -> Vec<String> {
        ids.iter()
            .map(|id| {
                let (status, x) = self.get(&format!("{base}/api/executions/{id}"));
                assert_eq!(status, 200, "execution {id}: {x}");
                x["status"].as_str().unwrap_or_default().to_string()
            })
            .collect()
    }

    /// Waits until every execution in `ids` has ended, as node `base` answers.
    fn wait_ended(&self, base: &str, ids: &[String], patience: Duration, logs: &[&Served]) {
        let mut pending: Vec<String> = ids.to_vec();
        let deadline = Instant::now() + patience;
        loop {
            let statuses = self.statuses(base, &pending);
            pending = pending
                .into_iter()
                .zip(statuses)
                .filter(|(_, s)| is_open(s))
                .map(|(id, _)| id)
                .collect();
            if pending.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} executions have not ended after {patience:?}, such as {:?}; the nodes' last lines:\n{}",
                pending.len(),
                pending.iter().take(5).collect::<Vec<_>>(),
                tails(logs, 30)
            );
            std::thread::sleep(ms(250));
        }
    }

    /// Every execution in the store, with its event log, read directly from the
    /// database.
    fn snapshot(&self) -> (Vec<ExecutionRecord>, HashMap<String, Vec<EventRecord>>) {
        self.rt.block_on(async {
            let options = PostgresOptions {
                max_connections: 2,
                ..PostgresOptions::default()
            };
            let store = PostgresStore::connect(&self.db.url, options)
                .await
                .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.db.name));
            let query = ExecutionQuery {
                limit: 100_000,
                ..ExecutionQuery::default()
            };
            let all = store.executions(&query).await.expect("the executions");
            let mut logs = HashMap::new();
            for x in &all {
                let events = store.events(x.id).await.expect("the events");
                logs.insert(x.id.to_string(), events);
            }
            (all, logs)
        })
    }
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = http
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn is_open(status: &str) -> bool {
    ["pending", "running", "paused"].contains(&status)
}

/// The last `n` lines of each node's log, for failure messages.
fn tails(nodes: &[&Served], n: usize) -> String {
    nodes
        .iter()
        .map(|s| {
            let lines = s.log_lines();
            let from = lines.len().saturating_sub(n);
            format!("--- {}\n{}", s.base, lines[from..].join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many lines of a node's log say that it let go of an execution another node
/// took over (its commit for it was fenced).
fn let_go(served: &Served) -> usize {
    served
        .log_lines()
        .iter()
        .filter(|l| l.contains("another engine took this execution over"))
        .count()
}

/// A seeded xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn within(&mut self, range: RangeInclusive<u64>) -> u64 {
        range.start() + self.next() % (range.end() - range.start() + 1)
    }
}

// ---------------------------------------------------------------------------------
// What the store and the ledger must agree on

/// What the audit of the store against the ledger found.
#[derive(Debug, Default)]
struct Audit {
    problems: Vec<String>,
    calls: u64,
    /// Calls beyond one per unit.
    duplicates: u64,
    /// `attempt_started` events with `recovered: true`.
    recovered: u32,
}

/// Holds every stored execution of `workflow` against the ledger: it succeeded; every
/// ledger call has a durable attempt, nothing started again after its success, each
/// unit of `all` succeeded once and each of `calling` called the ledger; and every
/// ledger call names a stored execution's calling unit.
fn audit(
    ledger: &Ledger,
    executions: &[ExecutionRecord],
    logs: &HashMap<String, Vec<EventRecord>>,
    calling: &[&str],
    all: &[&str],
) -> Audit {
    let mut report = Audit::default();
    let by_id: HashSet<String> = executions.iter().map(|x| x.id.to_string()).collect();
    let mut calls: HashMap<String, BTreeMap<String, u32>> = HashMap::new();
    for (key, n) in ledger.all() {
        report.calls += u64::from(n);
        report.duplicates += u64::from(n.saturating_sub(1));
        match key.split_once('/') {
            Some((id, unit)) if by_id.contains(id) && calling.contains(&unit) => {
                calls
                    .entry(id.to_string())
                    .or_default()
                    .insert(unit.to_string(), n);
            }
            _ => report.problems.push(format!(
                "{n} calls with key {key:?}, which names no stored execution's unit"
            )),
        }
    }
    for x in executions {
        let id = x.id.to_string();
        if x.status != ExecutionStatus::Succeeded {
            report
                .problems
                .push(format!("{id} ended {}: {:?}", x.status, x.error));
        }
        let units = ledger::units(logs.get(&id).map_or(&[][..], Vec::as_slice));
        let calls = calls.remove(&id).unwrap_or_default();
        report.problems.extend(ledger::audit(&id, &calls, &units));
        for unit in calling {
            if calls.get(*unit).copied().unwrap_or(0) == 0 {
                report
                    .problems
                    .push(format!("{id}: {unit} never called the ledger"));
            }
        }
        for unit in all {
            let succeeded = units.get(*unit).map_or(0, |u| u.succeeded);
            if succeeded != 1 {
                report
                    .problems
                    .push(format!("{id}: {unit} succeeded {succeeded} times"));
            }
        }
        report.recovered += units.values().map(|u| u.recovered).sum::<u32>();
    }
    report
}

/// Panics with the first problems found, if any.
fn assert_no_problems(problems: &[String], context: &str) {
    assert!(
        problems.is_empty(),
        "{} problems ({context}), the first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ---------------------------------------------------------------------------------
// Three nodes under load, two of them killed

const RELAY: &str = r#"name: relay
inputs:
  type: object
  required: [ledger, tag]
  properties: {ledger: {type: string}, tag: {type: integer}}
tasks:
  a:
    type: http
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/a"}}
  b:
    type: http
    needs: [a]
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/b"}}
  c:
    type: http
    needs: [b]
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/c"}}
    output: ${ $inputs.tag }
outputs:
  tag: ${ $tasks.c.output }
"#;

/// The units of `relay`, each calling the ledger.
const RELAY_UNITS: [&str; 3] = ["a", "b", "c"];

/// Acknowledged executions to reach.
const TARGET: usize = 300;
/// Client tasks starting executions at once.
const CLIENTS: usize = 6;

/// What the clients share: the live nodes, and what became of their requests.
#[derive(Default)]
struct Load {
    /// The base URLs of the nodes to send to, in turn.
    bases: RwLock<Vec<String>>,
    turn: AtomicUsize,
    /// Acknowledged executions: id, tag, and the node that answered.
    acked: Mutex<Vec<(String, u64, String)>>,
    /// Tags of requests sent without an answer (the node was killed meanwhile).
    unanswered: Mutex<Vec<u64>>,
    /// Any other answer, which no kill explains.
    unexpected: Mutex<Vec<String>>,
    next_tag: AtomicU64,
}

impl Load {
    fn acked(&self) -> usize {
        self.acked.lock().expect("the acked lock").len()
    }

    fn drop_node(&self, base: &str) {
        self.bases
            .write()
            .expect("the bases lock")
            .retain(|b| b != base);
    }
}

/// Starts executions of `relay` on the live nodes in turn until `TARGET` are
/// acknowledged, pausing a little between requests.
async fn client(load: Arc<Load>, http: reqwest::Client, ledger: String, mut rng: Rng) {
    while load.acked() < TARGET {
        let base = {
            let bases = load.bases.read().expect("the bases lock");
            let turn = load.turn.fetch_add(1, Ordering::SeqCst);
            bases[turn % bases.len()].clone()
        };
        let tag = load.next_tag.fetch_add(1, Ordering::SeqCst);
        let sent = http
            .post(format!("{base}/api/workflows/relay/execute"))
            .json(&json!({"inputs": {"ledger": ledger, "tag": tag}}))
            .send()
            .await;
        let response = match sent {
            // The node is gone: nothing was sent; the next turn goes to a live one.
            Err(e) if e.is_connect() => {
                tokio::time::sleep(ms(5)).await;
                continue;
            }
            Err(_) => {
                load.unanswered.lock().expect("lock").push(tag);
                continue;
            }
            Ok(r) => r,
        };
        let status = response.status().as_u16();
        match (status, response.text().await) {
            (201, Ok(text)) => {
                let body: Value = serde_json::from_str(&text).expect("a JSON answer");
                let id = body["execution_id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no execution id in {body}"))
                    .to_string();
                load.acked.lock().expect("lock").push((id, tag, base));
            }
            (_, Err(_)) => load.unanswered.lock().expect("lock").push(tag),
            (status, Ok(text)) => {
                let answer = format!("tag {tag} on {base}: {status} {text}");
                load.unexpected.lock().expect("lock").push(answer);
            }
        }
        tokio::time::sleep(ms(rng.within(10..=60))).await;
    }
}

/// Polls `/api/nodes?all=true` on node `base` until node `lost` owns no unfinished
/// execution: how long that took from `since`, and how many it owned at the first
/// look.
async fn takeover(
    http: reqwest::Client,
    base: String,
    lost: String,
    since: Instant,
    patience: Duration,
) -> Result<(Duration, u64), String> {
    let mut at_first = None;
    loop {
        let (status, body) = get(&http, &format!("{base}/api/nodes?all=true")).await;
        if status != 200 {
            return Err(format!("/api/nodes answered {status}: {body}"));
        }
        let owned = body["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["id"] == lost.as_str())
            .map_or(0, |n| n["owned"].as_u64().unwrap_or(0));
        let first = *at_first.get_or_insert(owned);
        if owned == 0 {
            return Ok((since.elapsed(), first));
        }
        if since.elapsed() > patience {
            return Err(format!(
                "{lost} still owns {owned} executions {patience:?} after it was killed: {body}"
            ));
        }
        tokio::time::sleep(ms(20)).await;
    }
}

#[test]
fn three_nodes_share_the_work_and_survive_losing_two() {
    const LEASE: Duration = Duration::from_secs(2);
    let started = Instant::now();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let rig = Rig::new();
    let flags = ["--lease", "2s", "--max-concurrency", "16"];
    let n1 = rig.node("n1", &flags);
    let n2 = rig.node("n2", &flags);
    let mut n3 = rig.node("n3", &flags);
    rig.apply(&n1.base, RELAY);

    let names: HashMap<String, &str> = [(&n1, "n1"), (&n2, "n2"), (&n3, "n3")]
        .into_iter()
        .map(|(n, name)| (n.base.clone(), name))
        .collect();
    let load = Arc::new(Load::default());
    *load.bases.write().expect("the bases lock") =
        vec![n1.base.clone(), n2.base.clone(), n3.base.clone()];
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let c = client(
                load.clone(),
                rig.http.clone(),
                rig.ledger.url.clone(),
                Rng(rng.next() | 1),
            );
            rig.rt.spawn(c)
        })
        .collect();
    let wait_acked = |n: usize| {
        rig.wait_for(
            PATIENCE,
            ms(2),
            || load.acked() >= n,
            || format!("only {} of {n} executions acknowledged", load.acked()),
        );
    };

    // Kill n1, then n2, while executions are being started; the survivor, n3, measures
    // how long each one's executions take to have another owner.
    let mut kills = Vec::new();
    let mut measures = Vec::new();
    for (victim, id, moment) in [(n1, "n1", 80), (n2, "n2", 180)] {
        wait_acked(moment);
        load.drop_node(&victim.base);
        let (acked, in_flight) = (load.acked(), rig.ledger.in_flight());
        let since = Instant::now();
        victim.kill();
        kills.push(format!(
            "SIGKILL {id} at {acked} acknowledged, {in_flight} ledger calls in flight"
        ));
        measures.push(rig.rt.spawn(takeover(
            rig.http.clone(),
            n3.base.clone(),
            id.to_string(),
            since,
            PATIENCE,
        )));
    }
    for c in clients {
        rig.rt.block_on(c).expect("a client ends without panicking");
    }
    let mut takeovers = Vec::new();
    for (m, kill) in measures.into_iter().zip(&kills) {
        let measured = rig.rt.block_on(m).expect("the measure ends");
        let (took, owned) = measured.unwrap_or_else(|e| {
            panic!(
                "{kill}: {e}; the survivor's last lines:\n{}",
                tails(&[&n3], 40)
            )
        });
        takeovers.push((took, owned));
    }

    // Everything ends on the survivor.
    let acked = load.acked.lock().expect("lock").clone();
    let ids: Vec<String> = acked.iter().map(|(id, ..)| id.clone()).collect();
    rig.wait_ended(&n3.base, &ids, Duration::from_secs(180), &[&n3]);
    // And those that unanswered requests created.
    rig.wait_for(
        PATIENCE,
        ms(250),
        || rig.snapshot().0.iter().all(|x| x.status.is_terminal()),
        || format!("executions left by unanswered requests have not ended; the survivor's last lines:\n{}", tails(&[&n3], 30)),
    );
    let (executions, logs) = rig.snapshot();

    // Checks: acknowledged executions exist, each stored one came from one request,
    // and the store agrees with the ledger.
    let unanswered: HashSet<u64> = load
        .unanswered
        .lock()
        .expect("lock")
        .iter()
        .copied()
        .collect();
    let mut problems: Vec<String> = load.unexpected.lock().expect("lock").clone();
    let by_id: HashMap<String, &ExecutionRecord> =
        executions.iter().map(|x| (x.id.to_string(), x)).collect();
    let acked_tag_of: HashMap<&str, u64> = acked
        .iter()
        .map(|(id, tag, _)| (id.as_str(), *tag))
        .collect();
    for (id, tag, base) in &acked {
        if !by_id.contains_key(id) {
            problems.push(format!(
                "execution {id} (tag {tag}), acknowledged by {base}, is not stored"
            ));
        }
    }
    let mut tags_seen: HashMap<u64, u32> = HashMap::new();
    let mut unanswered_created = 0;
    for x in &executions {
        let id = x.id.to_string();
        let Some(tag) = x.inputs["tag"].as_u64() else {
            problems.push(format!("{id}: no tag in its inputs {}", x.inputs));
            continue;
        };
        *tags_seen.entry(tag).or_default() += 1;
        match acked_tag_of.get(id.as_str()) {
            Some(&t) if t == tag => {}
            Some(&t) => problems.push(format!("{id}: acknowledged for tag {t}, stored with {tag}")),
            None if unanswered.contains(&tag) => unanswered_created += 1,
            None => problems.push(format!("{id}: created by no request (tag {tag})")),
        }
        if x.status == ExecutionStatus::Succeeded && x.outputs != Some(json!({"tag": tag})) {
            problems.push(format!("{id} (tag {tag}): outputs {:?}", x.outputs));
        }
    }
    for (tag, n) in tags_seen {
        if n > 1 {
            problems.push(format!("one request (tag {tag}) created {n} executions"));
        }
    }
    let report = audit(&rig.ledger, &executions, &logs, &RELAY_UNITS, &RELAY_UNITS);
    problems.extend(report.problems.iter().cloned());
    assert_no_problems(
        &problems,
        &format!("the survivor's last lines:\n{}", tails(&[&n3], 40)),
    );

    // The survivor took executions over, and only it is listed as live.
    let health = rig.health(&n3.base);
    let survivor_takeovers = health["takeovers"].as_u64().unwrap_or(0);
    assert!(
        survivor_takeovers > 0,
        "the survivor took nothing over: {health}"
    );
    let live = rig.nodes(&n3.base, false);
    let live_ids: Vec<&str> = live.iter().filter_map(|n| n["id"].as_str()).collect();
    assert_eq!(live_ids, ["n3"], "the live nodes: {live:?}");
    let all = rig.nodes(&n3.base, true);

    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, base) in &acked {
        let name = names.get(base.as_str()).copied().unwrap_or("?");
        *per_node.entry(name).or_default() += 1;
    }
    eprintln!(
        "three nodes, two killed: {} acknowledged ({} unanswered requests, {} of them created one), {} stored, {:.1?} in all",
        acked.len(),
        unanswered.len(),
        unanswered_created,
        executions.len(),
        started.elapsed()
    );
    for (kill, (took, owned)) in kills.iter().zip(&takeovers) {
        eprintln!("  {kill}: its {owned} unfinished executions had another owner {took:.2?} later");
    }
    eprintln!("  acknowledged per node: {per_node:?}");
    eprintln!(
        "  ledger: {} calls, {} beyond one per unit (each with a durable attempt); {} attempts ran again as recovered",
        report.calls, report.duplicates, report.recovered
    );
    eprintln!(
        "  survivor n3: {survivor_takeovers} executions taken over, {} lease renewals; nodes in the store: {}, live: {}",
        health["lease_renewals"],
        all.len(),
        live.len()
    );
    for ((took, _), kill) in takeovers.iter().zip(&kills) {
        assert!(
            *took < LEASE + Duration::from_secs(3),
            "{kill}: the takeover took {took:?}, more than the lease ({LEASE:?}) and 3 s"
        );
    }
    let (status, _) = n3.terminate_within(Duration::from_secs(40));
    assert!(status.success(), "the survivor's exit status: {status}");
}

// ---------------------------------------------------------------------------------
// A call, a nap, a call

/// A workflow `name`: a ledger call, a nap of `nap_ms`, another ledger call.
fn napping(name: &str, nap_ms: u64) -> String {
    format!(
        r#"name: {name}
inputs:
  type: object
  required: [ledger]
  properties: {{ledger: {{type: string}}}}
tasks:
  first:
    type: http
    with: {{method: POST, url: "${{ $inputs.ledger }}", json: {{key: "${{ $execution.id }}/first"}}}}
  nap:
    type: sleep
    needs: [first]
    with: {{duration: {nap_ms}ms}}
  last:
    type: http
    needs: [nap]
    with: {{method: POST, url: "${{ $inputs.ledger }}", json: {{key: "${{ $execution.id }}/last"}}}}
"#
    )
}

const NAPPING_CALLING: [&str; 2] = ["first", "last"];
const NAPPING_UNITS: [&str; 3] = ["first", "nap", "last"];

/// Waits until the `nap` of every execution in `ids` runs, as node `base` answers.
fn wait_napping(rig: &Rig, base: &str, ids: &[String], node: &Served) {
    rig.wait_for(
        PATIENCE,
        ms(50),
        || {
            ids.iter().all(|id| {
                let (_, x) = rig.get(&format!("{base}/api/executions/{id}"));
                x["tasks"]["nap"]["status"] == "running"
            })
        },
        || {
            format!(
                "not every nap runs; the node's last lines:\n{}",
                tails(&[node], 30)
            )
        },
    );
}

/// Every ledger key called more than once.
fn repeated_calls(ledger: &Ledger) -> Vec<String> {
    let mut repeated: Vec<String> = ledger
        .all()
        .into_iter()
        .filter(|(_, n)| *n != 1)
        .map(|(key, n)| format!("{key} was called {n} times"))
        .collect();
    repeated.sort();
    repeated
}

#[test]
fn a_stalled_node_cannot_commit_what_it_lost() {
    const RUNS: usize = 20;
    let started = Instant::now();
    let rig = Rig::new();
    let flags = ["--lease", "1s", "--max-concurrency", "32"];
    let a = rig.node("a", &flags);
    let b = rig.node("b", &flags);
    rig.apply(&a.base, &napping("stall", 5000));
    let inputs = json!({"ledger": rig.ledger.url});
    let ids: Vec<String> = (0..RUNS)
        .map(|_| rig.execute(&a.base, "stall", &inputs))
        .collect();
    wait_napping(&rig, &a.base, &ids, &a);

    // A stalls past its lease while its executions nap: B takes them over.
    // What A owns then: every execution, unless the machine was so slow that some
    // nap ended already.
    let owned = rig.health(&a.base)["owned"].as_u64().unwrap_or(0);
    assert!(owned > 0, "A owns nothing while its executions nap");
    let takeovers_before = rig.health(&b.base)["takeovers"].as_u64().unwrap_or(0);
    let since = Instant::now();
    a.stop();
    rig.wait_for(
        PATIENCE,
        ms(20),
        || {
            let taken = rig.health(&b.base)["takeovers"].as_u64().unwrap_or(0);
            taken >= takeovers_before + owned
        },
        || {
            format!(
                "B did not take A's executions over; B's last lines:\n{}",
                tails(&[&b], 30)
            )
        },
    );
    let took = since.elapsed();
    rig.wait_ended(&b.base, &ids, PATIENCE, &[&b]);
    let (executions, before) = rig.snapshot();

    // A runs again: its naps end, and its commits for them must be fenced.
    let stalled = since.elapsed();
    a.cont();
    rig.wait_for(
        Duration::from_secs(20),
        ms(50),
        || rig.health(&a.base)["late_renewals"].as_u64().unwrap_or(0) >= 1,
        || {
            format!(
                "A did not renew late; its last lines:\n{}",
                tails(&[&a], 30)
            )
        },
    );
    // Its naps' timers expired during the stall: their ends are handled at once; wait
    // for A to let go of each execution, or a few seconds.
    let resumed = Instant::now();
    while (let_go(&a) as u64) < owned && resumed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(ms(50));
    }
    std::thread::sleep(ms(1000));
    let (after_executions, after) = rig.snapshot();

    let mut problems = Vec::new();
    for x in &after_executions {
        let id = x.id.to_string();
        let (n_before, n_after) = (
            before.get(&id).map_or(0, Vec::len),
            after.get(&id).map_or(0, Vec::len),
        );
        if n_before != n_after {
            let extra: Vec<String> = after
                .get(&id)
                .into_iter()
                .flatten()
                .skip(n_before)
                .map(|e| format!("{} {} {}", e.seq, e.kind, e.data.value()))
                .collect();
            problems.push(format!(
                "{id}: {n_before} events before A resumed, {n_after} after: {extra:?}"
            ));
        }
    }
    let statuses_before: BTreeMap<String, String> = executions
        .iter()
        .map(|x| (x.id.to_string(), x.status.to_string()))
        .collect();
    let statuses_after: BTreeMap<String, String> = after_executions
        .iter()
        .map(|x| (x.id.to_string(), x.status.to_string()))
        .collect();
    if statuses_before != statuses_after {
        problems.push(format!(
            "statuses changed after A resumed: {statuses_before:?} -> {statuses_after:?}"
        ));
    }
    let report = audit(
        &rig.ledger,
        &after_executions,
        &after,
        &NAPPING_CALLING,
        &NAPPING_UNITS,
    );
    problems.extend(report.problems);
    problems.extend(repeated_calls(&rig.ledger));
    if after_executions.len() != RUNS {
        problems.push(format!(
            "{} executions stored, {RUNS} started",
            after_executions.len()
        ));
    }
    assert_no_problems(
        &problems,
        &format!("the nodes' last lines:\n{}", tails(&[&a, &b], 40)),
    );

    let health = rig.health(&a.base);
    let late = health["late_renewals"].as_u64().unwrap_or(0);
    assert!(late >= 1, "A's health after the stall: {health}");
    let live = rig.nodes(&b.base, false);
    eprintln!(
        "a stalled node: {RUNS} executions napping on A ({owned} owned by A at the stop), A stopped for {stalled:.1?}; {:.1?} in all",
        started.elapsed()
    );
    eprintln!("  B took them over {took:.2?} after A stopped (lease 1s), and ran them to the end");
    eprintln!(
        "  A after SIGCONT: {late} late renewal(s), let go of {} executions (fenced commits), owns {}; live nodes: {}",
        let_go(&a),
        health["owned"],
        live.len()
    );
    eprintln!(
        "  events unchanged after A resumed ({} in all); ledger: {} calls, none repeated; {} attempts recovered on B",
        after.values().map(Vec::len).sum::<usize>(),
        report.calls,
        report.recovered
    );
}

// ---------------------------------------------------------------------------------
// A schedule on three nodes

#[test]
fn a_schedule_fires_once_per_tick_across_three_nodes() {
    const FIRES: usize = 6;
    let started = Instant::now();
    let rig = Rig::new();
    let flags = ["--lease", "2s"];
    let n1 = rig.node("n1", &flags);
    let n2 = rig.node("n2", &flags);
    let n3 = rig.node("n3", &flags);
    let tick = format!(
        r#"name: tick
inputs: {{type: object, required: [at], properties: {{at: {{type: string}}}}}}
triggers:
  - schedule: {{cron: '* * * * * *', overlap: allow, inputs: {{at: '${{ $trigger.scheduled_at }}'}}}}
tasks:
  a: {{type: http, with: {{method: POST, url: '{}', json: {{key: 'tick/${{ $inputs.at }}'}}}}}}
"#,
        rig.ledger.url
    );
    rig.apply(&n1.base, &tick);
    let applied = jiff::Timestamp::now().as_second();

    let count = || {
        let (status, page) = rig.get(&format!(
            "{}/api/executions?workflow=tick&limit=500",
            n2.base
        ));
        assert_eq!(status, 200, "{page}");
        page["executions"].as_array().map_or(0, Vec::len)
    };
    rig.wait_for(
        PATIENCE,
        ms(100),
        || count() >= FIRES,
        || {
            format!(
                "fewer than {FIRES} fires; the nodes' last lines:\n{}",
                tails(&[&n1, &n2, &n3], 20)
            )
        },
    );
    let pausing = jiff::Timestamp::now().as_second();
    let (status, body) = rig.post(
        &format!("{}/api/triggers/tick.0/pause", n3.base),
        &json!({}),
    );
    assert_eq!(status, 200, "pausing the schedule: {body}");
    let paused = jiff::Timestamp::now().as_second();
    // A fire under way when the pause landed is committed meanwhile.
    std::thread::sleep(ms(1500));

    let (executions, _) = rig.snapshot();
    let ids: Vec<String> = executions.iter().map(|x| x.id.to_string()).collect();
    rig.wait_ended(&n2.base, &ids, PATIENCE, &[&n1, &n2, &n3]);
    let (executions, _) = rig.snapshot();
    let mut fired: Vec<i64> = executions
        .iter()
        .map(|x| {
            let at = x.inputs["at"]
                .as_str()
                .unwrap_or_else(|| panic!("no `at` in {}", x.inputs));
            at.parse::<jiff::Timestamp>()
                .unwrap_or_else(|e| panic!("{at}: {e}"))
                .as_second()
        })
        .collect();
    fired.sort_unstable();
    let unique: BTreeSet<i64> = fired.iter().copied().collect();
    assert_eq!(unique.len(), fired.len(), "a tick fired twice: {fired:?}");
    let (first, last) = (
        *unique.first().expect("fires"),
        *unique.last().expect("fires"),
    );
    assert_eq!(
        unique.len() as i64,
        last - first + 1,
        "a tick was lost: {fired:?}"
    );
    // The ticks from the first fire to the pause, give or take the one at each edge:
    // every tick before the pause was asked for has fired (or fires late), and none
    // after it was answered.
    let (at_least, at_most) = (pausing - first + 1, paused - first + 1);
    assert!(
        (at_least - 1..=at_most + 1).contains(&(unique.len() as i64)),
        "{} fires for {at_least}..={at_most} ticks from the first fire to the pause: {fired:?}",
        unique.len()
    );
    assert!(
        first - applied <= 5,
        "the first fire came {} s after the workflow was created",
        first - applied
    );
    let ok: Vec<&ExecutionRecord> = executions
        .iter()
        .filter(|x| x.status == ExecutionStatus::Succeeded)
        .collect();
    assert_eq!(
        ok.len(),
        executions.len(),
        "every fire's execution succeeds"
    );
    let repeated = repeated_calls(&rig.ledger);
    assert!(repeated.is_empty(), "{repeated:?}");
    assert_eq!(
        rig.ledger.all().len(),
        fired.len(),
        "one ledger call per fire"
    );
    let mut per_owner: BTreeMap<String, usize> = BTreeMap::new();
    for x in &executions {
        let owner = x.owner.clone().unwrap_or_else(|| "-".to_string());
        *per_owner.entry(owner).or_default() += 1;
    }
    eprintln!(
        "a schedule on three nodes: {} fires for the ticks {first}..={last} (paused at {paused}), none twice, none lost; {:.1?} in all",
        fired.len(),
        started.elapsed()
    );
    eprintln!("  executions by the node that owns them: {per_owner:?}");
}

// ---------------------------------------------------------------------------------
// A graceful stop

/// One slow `http` call: on A at its SIGTERM, it outlasts the grace period.
const SLOW_CALL: &str = r#"name: slowcall
inputs:
  type: object
  required: [ledger]
  properties: {ledger: {type: string}}
tasks:
  call:
    type: http
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/call"}}
"#;

#[test]
fn a_graceful_stop_hands_executions_over_at_once() {
    const RUNS: usize = 10;
    const SLOW: usize = 4;
    let started = Instant::now();
    let rig = Rig::new();
    // Calls that take longer than A's grace period.
    let slow = Ledger::start(4000..=4500);
    let mut a = rig.node("a", &["--lease", "30s", "--shutdown-grace", "1s"]);
    let b = rig.node("b", &["--lease", "30s"]);
    rig.apply(&a.base, &napping("handover", 3000));
    rig.apply(&a.base, SLOW_CALL);
    let inputs = json!({"ledger": rig.ledger.url});
    let ids: Vec<String> = (0..RUNS)
        .map(|_| rig.execute(&a.base, "handover", &inputs))
        .collect();
    let slow_inputs = json!({"ledger": slow.url});
    let slow_ids: Vec<String> = (0..SLOW)
        .map(|_| rig.execute(&a.base, "slowcall", &slow_inputs))
        .collect();
    wait_napping(&rig, &a.base, &ids, &a);
    rig.wait_for(
        PATIENCE,
        ms(10),
        || slow.in_flight() == SLOW,
        || {
            format!(
                "the slow calls are not all in flight ({})",
                slow.in_flight()
            )
        },
    );

    // SIGTERM: A drains for its grace period (the slow calls outlast it), leaves, and B
    // takes everything over at its next scan, not after the 30 s lease.
    let takeovers_before = rig.health(&b.base)["takeovers"].as_u64().unwrap_or(0);
    let since = Instant::now();
    let (status, exited) = a.terminate_within(Duration::from_secs(15));
    assert!(
        status.success(),
        "A's exit status after SIGTERM: {status}; its last lines:\n{}",
        tails(&[&a], 30)
    );
    rig.wait_for(
        PATIENCE,
        ms(20),
        || {
            let taken = rig.health(&b.base)["takeovers"].as_u64().unwrap_or(0);
            taken >= takeovers_before + (RUNS + SLOW) as u64
        },
        || {
            format!(
                "B did not take A's executions over; B's last lines:\n{}",
                tails(&[&b], 30)
            )
        },
    );
    let handed = since.elapsed();
    let all_ids: Vec<String> = ids.iter().chain(&slow_ids).cloned().collect();
    rig.wait_ended(&b.base, &all_ids, PATIENCE, &[&b]);
    let (executions, logs) = rig.snapshot();
    let (napped, called): (Vec<ExecutionRecord>, Vec<ExecutionRecord>) = executions
        .into_iter()
        .partition(|x| x.workflow == "handover");
    let report = audit(
        &rig.ledger,
        &napped,
        &logs,
        &NAPPING_CALLING,
        &NAPPING_UNITS,
    );
    let slow_report = audit(&slow, &called, &logs, &["call"], &["call"]);
    let mut problems = report.problems;
    problems.extend(slow_report.problems);
    problems.extend(repeated_calls(&rig.ledger));
    if (napped.len(), called.len()) != (RUNS, SLOW) {
        problems.push(format!(
            "{} + {} executions stored, {RUNS} + {SLOW} started",
            napped.len(),
            called.len()
        ));
    }
    assert_no_problems(
        &problems,
        &format!("the nodes' last lines:\n{}", tails(&[&a, &b], 40)),
    );
    let listed = rig.nodes(&b.base, true);
    eprintln!(
        "a graceful stop: {RUNS} executions napping and {SLOW} in a slow call on A (lease 30s, grace 1s); {:.1?} in all",
        started.elapsed()
    );
    eprintln!(
        "  A drained and exited 0 {exited:.2?} after SIGTERM; B owned them all {handed:.2?} after it; all succeeded",
    );
    eprintln!(
        "  napping: no ledger call repeated; slow calls: {} calls for {SLOW} units, {} recovered on B; nodes left in the store: {}",
        slow_report.calls,
        slow_report.recovered,
        listed.len()
    );
    assert!(
        handed < Duration::from_secs(5),
        "B took A's executions over {handed:?} after SIGTERM (the lease is 30 s)"
    );
    assert!(
        slow_report.recovered > 0,
        "no slow call outlasted the grace period: the drain was not exercised"
    );
    assert_eq!(
        listed
            .iter()
            .filter_map(|n| n["id"].as_str())
            .collect::<Vec<_>>(),
        ["b"],
        "a node that left has no row"
    );
}

// ---------------------------------------------------------------------------------
// A watcher on another node

#[test]
fn a_watcher_on_one_node_follows_an_execution_another_node_runs() {
    let started = Instant::now();
    let rig = Rig::new();
    let flags = ["--lease", "2s"];
    let a = rig.node("a", &flags);
    let b = rig.node("b", &flags);
    rig.apply(&a.base, &napping("watched", 1500));
    let id = rig.execute(&a.base, "watched", &json!({"ledger": rig.ledger.url}));

    let url = format!("{}/ws/executions/{id}", b.base.replacen("http", "ws", 1));
    let seen: Vec<Value> = rig.rt.block_on(async {
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        let mut seen = Vec::new();
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_secs(30), socket.next()).await
        {
            if let Message::Text(t) = m {
                seen.push(serde_json::from_str::<Value>(&t).expect("JSON messages"));
            }
        }
        seen
    });

    let (executions, logs) = rig.snapshot();
    let x = executions
        .iter()
        .find(|x| x.id.to_string() == id)
        .expect("the execution is stored");
    let events = logs.get(&id).cloned().unwrap_or_default();
    let kinds: Vec<&str> = seen.iter().filter_map(|m| m["type"].as_str()).collect();
    assert_eq!(
        seen.first().map(|m| m["type"].clone()),
        Some(json!("snapshot")),
        "{kinds:?}"
    );
    let last = seen.last().expect("messages");
    assert_eq!(last["type"], "finished", "{kinds:?}");
    assert_eq!(last["execution"]["status"], "succeeded", "{last}");
    // The events after the snapshot, every one of them, in order.
    let from = seen[0]["last_seq"]
        .as_u64()
        .expect("the snapshot's last_seq");
    let seqs: Vec<u64> = seen
        .iter()
        .filter(|m| m["type"] == "event")
        .filter_map(|m| m["seq"].as_u64())
        .collect();
    let stored: Vec<u64> = events.iter().map(|e| e.seq).filter(|s| *s > from).collect();
    assert_eq!(
        seqs, stored,
        "the events sent after the snapshot (at {from})"
    );
    assert!(
        seen.iter().any(|m| m["kind"] == "execution_succeeded"),
        "{kinds:?}"
    );
    assert_eq!(x.status, ExecutionStatus::Succeeded);
    assert!(
        rig.ledger.calls(&format!("{id}/last")) == 1,
        "the last call ran once"
    );
    let a_health = rig.health(&a.base);
    let b_health = rig.health(&b.base);
    assert_eq!(
        b_health["takeovers"], 0,
        "B took nothing over: it only watched ({b_health})"
    );
    eprintln!(
        "a watcher on B, the execution on A: a snapshot at seq {from}, {} events, then `finished` ({}); A took over {}, B {}; {:.1?} in all",
        seqs.len(),
        last["execution"]["status"],
        a_health["takeovers"],
        b_health["takeovers"],
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------
// A concurrency policy across nodes

/// Regression: a workflow's `concurrency` limit was decided under a lock of each
/// process only, so starts sent to two nodes at once could both take the last slot.
/// Now the decision also holds the store's lock of the workflow. Starts of a
/// `limit: 1, on_conflict: queue` workflow are sent to two nodes at once; the runs, read
/// from the database, never overlap, and all succeed.
#[test]
fn a_concurrency_limit_holds_across_nodes() {
    const WAVES: usize = 12;
    let rig = Rig::new();
    let a = rig.node("n1", &["--lease", "5s"]);
    let b = rig.node("n2", &["--lease", "5s"]);
    rig.apply(
        &a.base,
        "name: one-at-a-time
concurrency: {limit: 1, on_conflict: queue}
inputs:
  type: object
  required: [ledger]
  properties: {ledger: {type: string}}
tasks:
  call:
    type: http
    with: {method: POST, url: \"${ $inputs.ledger }\", json: {key: \"${ $execution.id }/call\"}}
  nap:
    type: sleep
    needs: [call]
    with: {duration: 200ms}
",
    );
    let inputs = json!({"ledger": rig.ledger.url});
    // Waves of two starts at the same moment, one on each node, each wave once the
    // one before has ended: every wave is a fresh race for a free slot.
    let mut ids: Vec<String> = Vec::new();
    for _ in 0..WAVES {
        let wave: Vec<String> = rig.rt.block_on(async {
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let sent = [&a.base, &b.base].map(|base| {
                let http = rig.http.clone();
                let url = format!("{base}/api/workflows/one-at-a-time/execute");
                let body = json!({"inputs": inputs});
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = http.post(&url).json(&body).send().await.expect("answers");
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.expect("JSON");
                    assert_eq!(status, 201, "{body}");
                    body["execution_id"].as_str().expect("an id").to_string()
                })
            });
            let mut ids = Vec::new();
            for done in futures::future::join_all(sent).await {
                ids.push(done.expect("the start task"));
            }
            ids
        });
        rig.wait_ended(&a.base, &wave, PATIENCE, &[&a, &b]);
        ids.extend(wave);
    }
    rig.wait_ended(&a.base, &ids, PATIENCE, &[&a, &b]);
    assert!(
        rig.statuses(&a.base, &ids).iter().all(|s| s == "succeeded"),
        "{:?}",
        rig.statuses(&a.base, &ids)
    );
    let (all, logs) = rig.snapshot();
    // When each run really ran: its first attempt's start to its end.
    let mut runs: Vec<(i64, i64, String)> = all
        .iter()
        .map(|x| {
            let first = logs[&x.id.to_string()]
                .iter()
                .find(|e| e.kind == "attempt_started")
                .map(|e| e.at.0)
                .expect("an attempt");
            (first, x.ended_at.expect("ended").0, x.id.to_string())
        })
        .collect();
    runs.sort();
    for pair in runs.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "two runs overlapped: {} ran {}..{} and {} began at {}",
            pair[0].2,
            pair[0].0,
            pair[0].1,
            pair[1].2,
            pair[1].0
        );
    }
    assert_eq!(rig.ledger.max_in_flight(), 1);
    println!(
        "concurrency across nodes: {} runs, one at a time, {} ms from the first to the last",
        runs.len(),
        runs.last().map_or(0, |r| r.1) - runs.first().map_or(0, |r| r.0)
    );
}
