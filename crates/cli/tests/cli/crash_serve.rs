//! `harmonia serve` stopped under concurrent API load: killed with SIGKILL (once while it
//! is recovering from the previous kill), and stopped with SIGTERM.
//!
//! A real server runs on a SQLite file with `--max-concurrency` far below the attempts
//! that are ready, so that most of them wait for a slot. Client tasks start executions
//! through `POST /api/workflows/load/execute` until 300 are acknowledged (answered with
//! an id), each request with its own `tag` input; the server is restarted after every
//! stop, on the same file, and the clients go on against it. Each execution's `http`
//! tasks (one, a fan-out of four, then one more after a `set`) call the ledger (see
//! `ledger`) with a key naming the execution and the unit.
//!
//! Once everything has ended, the checks:
//! - every acknowledged execution exists and succeeded with the outputs of its tag;
//! - every stored execution comes from one request: acknowledged with that id, or left
//!   without an answer by a stop (such a request may have created an execution or
//!   not), never from a request the API refused, never two from one request;
//! - every call the ledger saw belongs to a stored execution and has a durable attempt
//!   (per unit, calls <= `attempt_started` events), no attempt started after its unit's
//!   recorded success, and every unit ran;
//! - after SIGTERM: the server exits by itself with status 0 within the grace period,
//!   the bound on running attempts held, and there is no duplicate side effect at all
//!   (one call per unit), because a drain lets running attempts finish and keeps their
//!   results.
//!
//! The moments of the stops come from a seeded generator, as numbers of acknowledged
//! executions rather than times, so that they land during the load however fast or
//! loaded the machine is. Each test prints a summary of what happened.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use harmonia_storage::prelude::*;
use harmonia_storage::{ExecutionQuery, ExecutionStatus};
use serde_json::{Value, json};

use super::ledger::{self, Ledger};
use super::served::Served;

const WORKFLOW: &str = r#"name: load
inputs:
  type: object
  required: [ledger, tag]
  properties: {ledger: {type: string}, tag: {type: integer}}
tasks:
  first:
    type: http
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/first"}}
    output: ${ $inputs.tag }
  fan:
    type: http
    needs: [first]
    for_each: ${ [range(4)] }
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/fan/${ $index }"}}
    output: ${ $index * 10 }
  sum:
    type: set
    needs: [fan]
    with: ${ $tasks.fan.output | add }
  last:
    type: http
    needs: [sum]
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $execution.id }/last"}}
    output: ${ $tasks.sum.output + $tasks.first.output }
outputs:
  tag: ${ $tasks.first.output }
  last: ${ $tasks.last.output }
"#;

/// The units of an execution that call the ledger.
const CALLING_UNITS: [&str; 6] = ["first", "fan/0", "fan/1", "fan/2", "fan/3", "last"];
/// Every unit of an execution.
const ALL_UNITS: [&str; 7] = ["first", "fan/0", "fan/1", "fan/2", "fan/3", "sum", "last"];

/// What each execution returns for its tag.
fn expected_outputs(tag: u64) -> Value {
    json!({"tag": tag, "last": 60 + tag})
}

/// Acknowledged executions to reach.
const TARGET: usize = 300;
/// Client tasks starting executions at once.
const CLIENTS: usize = 6;
/// `--max-concurrency`: far below the attempts ready under this load.
const MAX_CONCURRENCY: usize = 12;
/// `--shutdown-grace`.
const GRACE: Duration = Duration::from_secs(20);
/// How long anything awaited may take, on a slow and busy machine.
const PATIENCE: Duration = Duration::from_secs(120);
/// How long each ledger call takes, by key.
const CALL_MS: RangeInclusive<u64> = 3..=30;

/// A seeded xorshift generator: the same stops on every run.
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

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What the clients share: where the server is, and what became of their requests.
#[derive(Default)]
struct Load {
    /// The running server's base URL; `None` while it is stopped.
    base: RwLock<Option<String>>,
    /// Acknowledged executions: id and tag.
    acked: Mutex<Vec<(String, u64)>>,
    /// Tags of requests sent without an answer (the server stopped meanwhile).
    unanswered: Mutex<Vec<u64>>,
    /// Tags of requests refused with 503 (the engine was stopping): nothing created.
    refused: Mutex<Vec<u64>>,
    /// Any other answer, which no stop explains.
    unexpected: Mutex<Vec<String>>,
    next_tag: AtomicU64,
}

impl Load {
    fn acked(&self) -> usize {
        self.acked.lock().expect("the acked lock").len()
    }

    fn point_at(&self, base: Option<String>) {
        *self.base.write().expect("the base lock") = base;
    }
}

/// Starts executions until `TARGET` are acknowledged, pausing a little between
/// requests.
async fn client(load: Arc<Load>, http: reqwest::Client, ledger: String, mut rng: Rng) {
    while load.acked() < TARGET {
        let base = load.base.read().expect("the base lock").clone();
        let Some(base) = base else {
            tokio::time::sleep(ms(5)).await;
            continue;
        };
        let tag = load.next_tag.fetch_add(1, Ordering::SeqCst);
        let sent = http
            .post(format!("{base}/api/workflows/load/execute"))
            .json(&json!({"inputs": {"ledger": ledger, "tag": tag}}))
            .send()
            .await;
        let response = match sent {
            // It reached no server: the previous one is gone, the next one not there.
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
                load.acked.lock().expect("lock").push((id, tag));
            }
            (503, Ok(_)) => load.refused.lock().expect("lock").push(tag),
            (_, Err(_)) => load.unanswered.lock().expect("lock").push(tag),
            (status, Ok(text)) => {
                let answer = format!("tag {tag}: {status} {text}");
                load.unexpected.lock().expect("lock").push(answer);
            }
        }
        tokio::time::sleep(ms(rng.within(0..=12))).await;
    }
}

/// One scenario's server, database, ledger and clients.
struct Rig {
    _dir: tempfile::TempDir,
    db: PathBuf,
    ledger: Ledger,
    load: Arc<Load>,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    clients: Vec<tokio::task::JoinHandle<()>>,
    starts: usize,
}

/// What a scenario did, from the final store and the ledger.
#[derive(Debug, Default)]
struct Report {
    executions: usize,
    acked: usize,
    unanswered: usize,
    unanswered_created: usize,
    refused: usize,
    calls: u64,
    /// Calls beyond one per unit.
    duplicates: u64,
    /// `attempt_started` events with `recovered: true`.
    recovered: u32,
    /// Units that ran as recovered more than once (recovered again after a recovery).
    recovered_twice: usize,
}

impl Rig {
    fn new() -> Rig {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("harmonia.db");
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
            _dir: dir,
            db,
            ledger: Ledger::start(CALL_MS),
            load: Arc::default(),
            rt,
            http,
            clients: Vec::new(),
            starts: 0,
        }
    }

    /// Starts the server on the database and points the clients at it.
    fn start(&mut self) -> Served {
        let concurrency = MAX_CONCURRENCY.to_string();
        let grace = format!("{}s", GRACE.as_secs());
        let served = Served::start(
            &self.db,
            &[
                "--max-concurrency",
                &concurrency,
                "--shutdown-grace",
                &grace,
            ],
        );
        self.starts += 1;
        self.load.point_at(Some(served.base.clone()));
        served
    }

    /// SIGKILL, then a new server on the same database (it recovers what was running).
    fn kill_and_restart(&mut self, served: Served) -> Served {
        served.kill();
        self.load.point_at(None);
        self.start()
    }

    fn register(&self, served: &Served) {
        let url = format!("{}/api/workflows", served.base);
        let request = self
            .http
            .post(url)
            .header("content-type", "application/yaml")
            .body(WORKFLOW);
        let (status, text) = self.rt.block_on(async {
            let r = request.send().await.expect("the server answers");
            let status = r.status().as_u16();
            (status, r.text().await.expect("a body"))
        });
        assert_eq!(status, 201, "creating the workflow: {text}");
    }

    fn spawn_clients(&mut self, rng: &mut Rng) {
        for _ in 0..CLIENTS {
            let client = client(
                self.load.clone(),
                self.http.clone(),
                self.ledger.url.clone(),
                Rng(rng.next() | 1),
            );
            self.clients.push(self.rt.spawn(client));
        }
    }

    fn join_clients(&mut self) {
        for c in std::mem::take(&mut self.clients) {
            self.rt
                .block_on(c)
                .expect("a client ends without panicking");
        }
    }

    /// Waits until `n` executions are acknowledged.
    fn wait_acked(&self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.load.acked() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} executions acknowledged after {PATIENCE:?}",
                self.load.acked()
            );
            std::thread::sleep(ms(2));
        }
    }

    /// Waits until the ledger has seen more than `calls` calls.
    fn wait_calls_beyond(&self, calls: u64) {
        let deadline = Instant::now() + PATIENCE;
        while self.ledger.total() <= calls {
            assert!(
                Instant::now() < deadline,
                "no ledger call within {PATIENCE:?} of a restart"
            );
            std::thread::sleep(ms(1));
        }
    }

    /// Waits until every acknowledged execution has ended (polling each one), then
    /// until no execution at all is unfinished (those that unanswered requests created).
    fn wait_until_all_ended(&self, served: &Served) {
        let base = served.base.clone();
        let http = self.http.clone();
        let mut pending: Vec<String> = {
            let acked = self.load.acked.lock().expect("lock");
            acked.iter().map(|(id, _)| id.clone()).collect()
        };
        self.rt.block_on(async move {
            let get = |url: String| {
                let http = http.clone();
                async move {
                    let r = http.get(url).send().await.expect("the server answers");
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.expect("a JSON body");
                    (status, body)
                }
            };
            let deadline = Instant::now() + PATIENCE;
            while !pending.is_empty() {
                let mut still = Vec::new();
                for id in pending {
                    let (status, x) = get(format!("{base}/api/executions/{id}")).await;
                    assert_eq!(status, 200, "acknowledged execution {id}: {x}");
                    if ["pending", "running", "paused"]
                        .contains(&x["status"].as_str().unwrap_or(""))
                    {
                        still.push(id);
                    }
                }
                pending = still;
                if pending.is_empty() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} acknowledged executions have not ended after {PATIENCE:?}",
                    pending.len()
                );
                tokio::time::sleep(ms(250)).await;
            }
            loop {
                let mut open = 0;
                for status in ["pending", "running", "paused"] {
                    let url = format!("{base}/api/executions?status={status}&limit=500");
                    let (code, page) = get(url).await;
                    assert_eq!(code, 200, "{page}");
                    open += page["executions"].as_array().map_or(0, Vec::len);
                }
                if open == 0 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{open} executions have not ended after {PATIENCE:?}"
                );
                tokio::time::sleep(ms(250)).await;
            }
        });
    }

    /// Every check of the module doc, on the final store (the server stopped) and the
    /// ledger; panics with every problem found.
    fn check(&self) -> Report {
        let (executions, logs) = self.rt.block_on(async {
            let store = harmonia_storage_sql::SqliteStore::open(&self.db, Default::default())
                .await
                .expect("the database opens");
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
        });
        let acked = self.load.acked.lock().expect("lock").clone();
        let unanswered: HashSet<u64> = self
            .load
            .unanswered
            .lock()
            .expect("lock")
            .iter()
            .copied()
            .collect();
        let refused: HashSet<u64> = self
            .load
            .refused
            .lock()
            .expect("lock")
            .iter()
            .copied()
            .collect();
        let mut problems: Vec<String> = self.load.unexpected.lock().expect("lock").clone();
        let mut report = Report {
            executions: executions.len(),
            acked: acked.len(),
            unanswered: unanswered.len(),
            refused: refused.len(),
            ..Report::default()
        };

        // Executions: acknowledged ones exist; each stored one came from one request.
        let by_id: HashMap<String, &harmonia_storage::ExecutionRecord> =
            executions.iter().map(|x| (x.id.to_string(), x)).collect();
        let acked_tag_of: HashMap<&str, u64> =
            acked.iter().map(|(id, tag)| (id.as_str(), *tag)).collect();
        for (id, tag) in &acked {
            if !by_id.contains_key(id) {
                problems.push(format!(
                    "acknowledged execution {id} (tag {tag}) is not stored"
                ));
            }
        }
        let mut tags_seen: HashMap<u64, u32> = HashMap::new();
        for x in &executions {
            let id = x.id.to_string();
            let Some(tag) = x.inputs["tag"].as_u64() else {
                problems.push(format!("{id}: no tag in its inputs {}", x.inputs));
                continue;
            };
            *tags_seen.entry(tag).or_default() += 1;
            match acked_tag_of.get(id.as_str()) {
                Some(&t) if t == tag => {}
                Some(&t) => {
                    problems.push(format!("{id}: acknowledged for tag {t}, stored with {tag}"))
                }
                None if unanswered.contains(&tag) => report.unanswered_created += 1,
                None if refused.contains(&tag) => {
                    problems.push(format!(
                        "{id}: created by a request refused with 503 (tag {tag})"
                    ));
                }
                None => problems.push(format!("{id}: created by no request (tag {tag})")),
            }
            if x.status != ExecutionStatus::Succeeded {
                problems.push(format!(
                    "{id} (tag {tag}) ended {}: {:?}",
                    x.status, x.error
                ));
            } else if x.outputs != Some(expected_outputs(tag)) {
                problems.push(format!("{id} (tag {tag}): outputs {:?}", x.outputs));
            }
        }
        for (tag, n) in tags_seen {
            if n > 1 {
                problems.push(format!("one request (tag {tag}) created {n} executions"));
            }
        }

        // Side effects: every call has a durable attempt; nothing runs after its success.
        let mut calls: HashMap<String, BTreeMap<String, u32>> = HashMap::new();
        for (key, n) in self.ledger.all() {
            report.calls += u64::from(n);
            report.duplicates += u64::from(n.saturating_sub(1));
            match key.split_once('/') {
                Some((id, unit)) if by_id.contains_key(id) && CALLING_UNITS.contains(&unit) => {
                    calls
                        .entry(id.to_string())
                        .or_default()
                        .insert(unit.to_string(), n);
                }
                _ => problems.push(format!(
                    "{n} calls with key {key:?}, which names no stored execution's unit"
                )),
            }
        }
        for x in &executions {
            let id = x.id.to_string();
            let units = ledger::units(logs.get(&id).map_or(&[][..], Vec::as_slice));
            let calls = calls.remove(&id).unwrap_or_default();
            problems.extend(ledger::audit(&id, &calls, &units));
            for unit in CALLING_UNITS {
                if calls.get(unit).copied().unwrap_or(0) == 0 {
                    problems.push(format!("{id}: {unit} never called the ledger"));
                }
            }
            for unit in ALL_UNITS {
                let succeeded = units.get(unit).map_or(0, |u| u.succeeded);
                if succeeded != 1 {
                    problems.push(format!("{id}: {unit} succeeded {succeeded} times"));
                }
            }
            report.recovered += units.values().map(|u| u.recovered).sum::<u32>();
            report.recovered_twice += units.values().filter(|u| u.recovered > 1).count();
        }

        let shown: Vec<&String> = problems.iter().take(30).collect();
        assert!(
            problems.is_empty(),
            "{} problems ({report:?}), the first ones:\n{}",
            problems.len(),
            shown
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        report
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // Clients still running after a failure stop with the runtime.
        for c in &self.clients {
            c.abort();
        }
    }
}

#[test]
fn serve_killed_under_load_and_while_recovering_loses_nothing_and_repeats_no_success() {
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut rig = Rig::new();
    let mut served = rig.start();
    rig.register(&served);
    rig.spawn_clients(&mut rng);

    // Three kills while executions are being started; after the second, one more while
    // the new server resumes what the kill interrupted (once it has made calls again).
    let mut kills: Vec<String> = Vec::new();
    let moments = [
        rng.within(20..=70),
        rng.within(100..=150),
        rng.within(190..=240),
    ];
    for (round, moment) in moments.into_iter().enumerate() {
        rig.wait_acked(moment as usize);
        std::thread::sleep(ms(rng.within(0..=30)));
        let (acked, in_flight) = (rig.load.acked(), rig.ledger.in_flight());
        served = rig.kill_and_restart(served);
        kills.push(format!(
            "SIGKILL under load at {acked} acknowledged, {in_flight} calls in flight"
        ));
        if round == 1 {
            let calls = rig.ledger.total();
            rig.wait_calls_beyond(calls);
            std::thread::sleep(ms(rng.within(0..=20)));
            let (made, in_flight) = (rig.ledger.total() - calls, rig.ledger.in_flight());
            served = rig.kill_and_restart(served);
            kills.push(format!(
                "SIGKILL during recovery, {made} calls after the restart, {in_flight} in flight"
            ));
        }
    }
    rig.join_clients();
    // And once while the backlog of attempts runs.
    std::thread::sleep(ms(rng.within(20..=400)));
    let in_flight = rig.ledger.in_flight();
    served = rig.kill_and_restart(served);
    kills.push(format!(
        "SIGKILL after the load, {in_flight} calls in flight"
    ));

    rig.wait_until_all_ended(&served);
    let (status, _) = served.terminate_within(GRACE + Duration::from_secs(10));
    assert!(status.success(), "the last server's exit status: {status}");
    let report = rig.check();
    assert!(
        report.recovered > 0,
        "no attempt was running at any kill: the test exercised no recovery ({report:?})"
    );

    eprintln!(
        "serve under SIGKILL: {} kills, {} server starts, {:.1?} in all",
        kills.len(),
        rig.starts,
        started.elapsed()
    );
    for k in &kills {
        eprintln!("  {k}");
    }
    eprintln!(
        "  executions: {} acknowledged, {} requests unanswered ({} of them created one), {} refused, {} stored",
        report.acked,
        report.unanswered,
        report.unanswered_created,
        report.refused,
        report.executions
    );
    eprintln!(
        "  ledger: {} calls, {} beyond one per unit (each accounted for by a durable attempt); {} attempts ran again as recovered, {} units recovered twice; at most {} calls in flight at once",
        report.calls,
        report.duplicates,
        report.recovered,
        report.recovered_twice,
        rig.ledger.max_in_flight()
    );
}

/// A SIGTERM: the server must drain and exit by itself, 0, within the grace period.
/// Returns a line for the summary.
fn terminate_and_restart(rig: &mut Rig, served: &mut Served) -> (String, Duration) {
    let (acked, in_flight) = (rig.load.acked(), rig.ledger.in_flight());
    let (status, took) = served.terminate_within(GRACE + Duration::from_secs(10));
    rig.load.point_at(None);
    let log = served.log_lines();
    assert!(
        status.success() && took < GRACE,
        "after SIGTERM the server exited {status} after {took:?} (grace {GRACE:?}); its last lines:\n{}",
        log.iter()
            .rev()
            .take(40)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The engine logs "draining: ... running=N" when the drain begins.
    let running = log
        .iter()
        .find(|l| l.contains("draining"))
        .and_then(|l| l.split("running=").nth(1))
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .map_or("?".to_string(), |n| n.to_string());
    *served = rig.start();
    (
        format!(
            "SIGTERM at {acked} acknowledged: {running} attempts running (engine log), {in_flight} ledger calls in flight; drained and exited 0 in {took:.1?}"
        ),
        took,
    )
}

#[test]
fn serve_stopped_with_sigterm_under_load_drains_without_duplicate_side_effects() {
    let started = Instant::now();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut rig = Rig::new();
    let mut served = rig.start();
    rig.register(&served);
    rig.spawn_clients(&mut rng);

    // Once while executions are being started, once while the backlog runs after it.
    let mut stops = Vec::new();
    rig.wait_acked(rng.within(80..=180) as usize);
    stops.push(terminate_and_restart(&mut rig, &mut served));
    rig.join_clients();
    std::thread::sleep(ms(rng.within(50..=400)));
    stops.push(terminate_and_restart(&mut rig, &mut served));

    rig.wait_until_all_ended(&served);
    let (status, _) = served.terminate_within(GRACE + Duration::from_secs(10));
    assert!(status.success(), "the last server's exit status: {status}");
    let report = rig.check();
    let max_in_flight = rig.ledger.max_in_flight();

    eprintln!(
        "serve under SIGTERM: {} stops, {} server starts, {:.1?} in all",
        stops.len(),
        rig.starts,
        started.elapsed()
    );
    for (line, _) in &stops {
        eprintln!("  {line}");
    }
    eprintln!(
        "  executions: {} acknowledged, {} requests unanswered ({} of them created one), {} refused while stopping, {} stored",
        report.acked,
        report.unanswered,
        report.unanswered_created,
        report.refused,
        report.executions
    );
    eprintln!(
        "  ledger: {} calls, duplicate side effects: {}; {} attempts ran again as recovered; at most {max_in_flight} calls in flight at once (max concurrency {MAX_CONCURRENCY})",
        report.calls, report.duplicates, report.recovered
    );
    assert!(
        max_in_flight <= MAX_CONCURRENCY,
        "{max_in_flight} calls in flight at once, above --max-concurrency {MAX_CONCURRENCY}"
    );
    assert_eq!(
        report.duplicates, 0,
        "a drain lets running attempts finish: no side effect may repeat ({report:?})"
    );
}
