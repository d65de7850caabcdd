//! External workers end to end: real worker processes (the Python reference worker,
//! `examples/workers/worker.py`) and a worker written in Rust here, polling a real
//! `harmonia serve` over HTTP on 127.0.0.1. A fan-out of 1,000 items is shared among
//! four workers (two in each language), each item completed once; a worker killed mid-task loses its lease
//! when its heartbeats stop, and another worker completes the retry.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};

use super::root;
use super::served::Served;

/// A blocking HTTP client over its own runtime.
struct Api {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("a client"),
            base: base.to_string(),
        }
    }

    fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        self.rt.block_on(async {
            let r = rb.send().await.expect("the server answers");
            let status = r.status().as_u16();
            let text = r.text().await.expect("a body");
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
    }

    /// Creates the workflow `yaml` (named `name`) and starts it; the execution's id.
    fn start(&self, name: &str, yaml: &str) -> String {
        let (status, body) = self.send(
            self.http
                .post(format!("{}/api/workflows", self.base))
                .header("content-type", "application/yaml")
                .body(yaml.to_string()),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.post(
            &format!("/api/workflows/{name}/execute"),
            &json!({"inputs": {}}),
        );
        assert_eq!(status, 201, "{body}");
        body["execution_id"].as_str().expect("an id").to_string()
    }

    /// The execution once it has ended (within `limit`).
    fn finished(&self, id: &str, limit: Duration) -> Value {
        let since = Instant::now();
        loop {
            let (status, x) = self.get(&format!("/api/executions/{id}"));
            assert_eq!(status, 200, "{x}");
            if ["succeeded", "failed", "cancelled"].contains(&x["status"].as_str().unwrap_or("")) {
                return x;
            }
            assert!(
                since.elapsed() < limit,
                "execution {id} did not end within {limit:?}: {x}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The execution's events, as `(kind, event)`.
    fn events(&self, id: &str) -> Vec<(String, Value)> {
        let (status, page) = self.get(&format!("/api/executions/{id}/events"));
        assert_eq!(status, 200, "{page}");
        page["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap_or_default().to_string(),
                    e["event"].clone(),
                )
            })
            .collect()
    }
}

/// A Python reference worker, in its own process group, its stderr in a file.
struct PyWorker {
    child: Child,
    log: PathBuf,
}

impl PyWorker {
    /// `worker.py` on `queue` as `id`, with `mode` (`--echo`, or `--command CMD`) and
    /// `extra` arguments; polls wait 1 s so that a SIGTERM is acted on soon.
    fn start(
        base: &str,
        queue: &str,
        id: &str,
        dir: &Path,
        mode: &[&str],
        extra: &[&str],
    ) -> PyWorker {
        let log = dir.join(format!("{id}.log"));
        let child = Command::new("python3")
            .current_dir(root())
            .arg("examples/workers/worker.py")
            .args([
                "--server", base, "--queue", queue, "--id", id, "--wait", "1", "--log",
            ])
            .args(mode)
            .args(extra)
            .env_remove("HARMONIA_TOKEN")
            .env_remove("HARMONIA_SERVER")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("a log file"))
            .process_group(0)
            .spawn()
            .expect("python3 runs the reference worker");
        PyWorker { child, log }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its log has a line containing `text`.
    fn wait_for_log(&mut self, text: &str, limit: Duration) {
        let since = Instant::now();
        while !self.log().contains(text) {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("the worker exited ({status}); its log:\n{}", self.log());
            }
            assert!(
                since.elapsed() < limit,
                "no `{text}` in the worker's log within {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its exit status, once it exits by itself (within `limit`).
    fn exited_within(&mut self, limit: Duration) -> ExitStatus {
        let since = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if since.elapsed() > limit {
                let _ = killpg(self.pid(), Signal::SIGKILL);
                let _ = self.child.wait();
                panic!(
                    "the worker still runs after {limit:?}; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, and its exit status.
    fn terminate(&mut self) -> ExitStatus {
        kill(self.pid(), Signal::SIGTERM).expect("SIGTERM");
        self.exited_within(Duration::from_secs(15))
    }

    /// SIGKILL to its process group.
    fn kill(&mut self) {
        killpg(self.pid(), Signal::SIGKILL).expect("SIGKILL");
        self.child.wait().expect("the killed worker is reaped");
    }
}

impl Drop for PyWorker {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = killpg(self.pid(), Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// What the Rust worker did.
#[derive(Debug, Default)]
struct RustTally {
    completed: usize,
    lost: usize,
}

/// A worker in Rust: a thread polling `queue` as `name` and completing every lease with
/// `{"echo": input, "worker": name}`, until `stop`.
fn rust_worker(
    base: &str,
    queue: &str,
    name: &'static str,
    stop: Arc<AtomicBool>,
) -> JoinHandle<RustTally> {
    let api = base.to_string();
    let queue = queue.to_string();
    std::thread::spawn(move || {
        let api = Api::new(&api);
        let mut tally = RustTally::default();
        while !stop.load(Ordering::SeqCst) {
            let (status, got) = api.post(
                "/api/workers/poll",
                &json!({"worker_id": name, "queues": [queue], "max_tasks": 1, "wait": 1}),
            );
            assert_eq!(status, 200, "{got}");
            for lease in got["leases"].as_array().expect("leases") {
                let id = lease["lease_id"].as_str().expect("a lease id");
                let (status, answer) = api.post(
                    &format!("/api/workers/leases/{id}/complete"),
                    &json!({"output": {"echo": lease["input"], "worker": name}}),
                );
                match status {
                    200 => tally.completed += 1,
                    409 => tally.lost += 1,
                    _ => panic!("complete answered {status}: {answer}"),
                }
            }
        }
        tally
    })
}

const ITEMS: usize = 1000;

const ECHOES: &str = "name: echoes
tasks:
  work:
    type: worker
    for_each: ${ [range(1000)] }
    with: {queue: echoes, input: '${ {n: $item} }'}
outputs:
  all: ${ $tasks.work.output }
";

#[test]
fn four_workers_in_two_languages_share_a_fan_out_of_1000_items() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = Served::start(&dir.path().join("w.db"), &[]);
    let api = Api::new(&served.base);

    let mut py = [
        PyWorker::start(&served.base, "echoes", "py-1", dir.path(), &["--echo"], &[]),
        PyWorker::start(&served.base, "echoes", "py-2", dir.path(), &["--echo"], &[]),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let rust = ["rust-1", "rust-2"].map(|n| rust_worker(&served.base, "echoes", n, stop.clone()));
    for w in &mut py {
        w.wait_for_log("polling echoes", Duration::from_secs(10));
    }
    // Let every worker's first poll reach the server before there is work.
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let id = api.start("echoes", ECHOES);
    let x = api.finished(&id, Duration::from_secs(60));
    let took = started.elapsed();
    assert_eq!(x["status"], "succeeded", "{x}");
    stop.store(true, Ordering::SeqCst);
    let tallies = rust.map(|r| r.join().expect("the Rust worker ends"));

    let all = x["outputs"]["all"].as_array().expect("a list of outputs");
    assert_eq!(all.len(), ITEMS);
    let mut by_worker = std::collections::BTreeMap::<String, usize>::new();
    for (i, out) in all.iter().enumerate() {
        assert_eq!(out["echo"], json!({"n": i}), "item {i}: {out}");
        let w = out["worker"].as_str().expect("a worker id");
        *by_worker.entry(w.to_string()).or_default() += 1;
    }
    eprintln!("{ITEMS} items in {took:?}: {by_worker:?}");
    assert_eq!(
        by_worker.keys().collect::<Vec<_>>(),
        ["py-1", "py-2", "rust-1", "rust-2"],
        "each worker did some: {by_worker:?}"
    );
    // Nothing was completed twice: every completion a worker made is one output.
    for (tally, name) in tallies.iter().zip(["rust-1", "rust-2"]) {
        assert_eq!(tally.lost, 0, "{tally:?}");
        assert_eq!(by_worker[name], tally.completed, "{name}: {tally:?}");
    }
    for (w, name) in py.iter().zip(["py-1", "py-2"]) {
        let log = w.log();
        let completed = log.lines().filter(|l| l.contains(" completed ")).count();
        assert_eq!(completed, by_worker[name], "{name}'s log:\n{log}");
        assert!(!log.contains(" lost "), "{name}'s log:\n{log}");
    }
    let events = api.events(&id);
    let succeeded = events
        .iter()
        .filter(|(k, _)| k == "attempt_succeeded")
        .count();
    assert_eq!(succeeded, ITEMS, "one success per item");

    for w in &mut py {
        let status = w.terminate();
        assert!(status.success(), "{status}; its log:\n{}", w.log());
    }
    assert!(served.terminate().success());
}

/// Appends its attempt, pid and input to the ledger (argv[1]); `slow` then sleeps 30 s
/// (mid-task), `fast` prints its output as JSON and exits 0.
const LEDGER_SCRIPT: &str = r#"import json, os, sys, time
ledger, mode = sys.argv[1], sys.argv[2]
data = json.load(sys.stdin)
attempt = int(os.environ["HARMONIA_ATTEMPT"])
line = {"attempt": attempt, "pid": os.getpid(), "input": data, "mode": mode,
        "task": os.environ.get("HARMONIA_TASK")}
with open(ledger, "a") as f:
    f.write(json.dumps(line) + "\n")
if mode == "slow":
    time.sleep(30)
print(json.dumps({"attempt": attempt, "input": data, "by": mode}))
"#;

const FRAGILE: &str = "name: fragile
tasks:
  work:
    type: worker
    retry: {max_attempts: 3, initial_delay: 10ms}
    with: {queue: fragile, input: {job: 7}, heartbeat_timeout: 1s}
outputs:
  out: ${ $tasks.work.output }
";

fn ledger(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a ledger line is JSON"))
        .collect()
}

#[test]
fn a_worker_killed_mid_task_loses_its_lease_and_another_completes_the_retry() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = dir.path().join("ledger.py");
    std::fs::write(&script, LEDGER_SCRIPT).expect("the script is written");
    let book = dir.path().join("ledger.jsonl");
    let command = |mode: &str| format!("python3 {} {} {mode}", script.display(), book.display());
    let served = Served::start(&dir.path().join("k.db"), &[]);
    let api = Api::new(&served.base);

    let slow = command("slow");
    let mut doomed = PyWorker::start(
        &served.base,
        "fragile",
        "doomed",
        dir.path(),
        &["--command", &slow],
        &[],
    );
    let id = api.start("fragile", FRAGILE);

    // Attempt 1 is under way: its command has written to the ledger and sleeps.
    let since = Instant::now();
    let first = loop {
        if let Some(l) = ledger(&book).first() {
            break l.clone();
        }
        assert!(
            since.elapsed() < Duration::from_secs(15),
            "attempt 1 did not start; the worker's log:\n{}",
            doomed.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(first["attempt"], 1, "{first}");
    assert_eq!(first["input"], json!({"job": 7}), "{first}");
    assert_eq!(first["task"], "work", "{first}");
    // Let a heartbeat or two go out, so that the lease is known to be alive.
    std::thread::sleep(Duration::from_millis(500));
    let (_, x) = api.get(&format!("/api/executions/{id}"));
    assert_eq!(x["status"], "running", "{x}");

    // The worker dies, with no chance to report; its command (in a session of its
    // own) is killed too.
    let killed = Instant::now();
    doomed.kill();
    let sleeper = Pid::from_raw(
        first["pid"]
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .expect("a pid"),
    );
    let _ = kill(sleeper, Signal::SIGKILL);

    let fast = command("fast");
    let mut rescuer = PyWorker::start(
        &served.base,
        "fragile",
        "rescuer",
        dir.path(),
        &["--command", &fast],
        &["--exit-after", "1"],
    );
    let x = api.finished(&id, Duration::from_secs(20));
    let recovery = killed.elapsed();
    eprintln!("recovery: {recovery:?} from SIGKILL of the worker to the execution's success");
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(
        x["outputs"]["out"],
        json!({"attempt": 2, "input": {"job": 7}, "by": "fast"}),
        "{x}"
    );
    assert!(
        recovery < Duration::from_secs(10),
        "recovery took {recovery:?}"
    );
    let status = rescuer.exited_within(Duration::from_secs(10));
    assert!(status.success(), "{status}; its log:\n{}", rescuer.log());

    let lines = ledger(&book);
    let seen: Vec<(&Value, &Value)> = lines.iter().map(|l| (&l["attempt"], &l["mode"])).collect();
    assert_eq!(
        seen,
        [(&json!(1), &json!("slow")), (&json!(2), &json!("fast"))],
        "{lines:?}"
    );

    let events = api.events(&id);
    let failed: Vec<&Value> = events
        .iter()
        .filter(|(k, _)| k == "attempt_failed")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["attempt"], 1, "{failed:?}");
    assert_eq!(failed[0]["error"]["class"], "timeout", "{failed:?}");
    let succeeded: Vec<&Value> = events
        .iter()
        .filter(|(k, _)| k == "attempt_succeeded")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(succeeded.len(), 1, "exactly one success: {succeeded:?}");
    assert_eq!(succeeded[0]["attempt"], 2, "{succeeded:?}");
    assert!(served.terminate().success());
}
