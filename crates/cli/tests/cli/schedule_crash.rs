//! A schedule firing every second, on a real `harmonia serve`, killed at the worst
//! moments (like `kill -9`): just before the first fire's execution is committed, and
//! just after a fire's execution is committed but before its fire mark moves. After a
//! restart, every second from the first fire to the last has exactly one execution: no
//! fire is lost, none is doubled.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::served::Served;

const TICK: &str = "name: tick
inputs: {type: object, required: [at], properties: {at: {type: string}}}
triggers:
  - schedule: {cron: '* * * * * *', overlap: allow, inputs: {at: '${ $trigger.scheduled_at }'}}
tasks:
  a: {type: set, with: '${ $inputs.at }'}
";

struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Http {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            client: reqwest::Client::new(),
        }
    }

    fn call(&self, method: reqwest::Method, url: &str, body: Option<(&str, String)>) -> Value {
        let mut request = self.client.request(method, url);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        self.rt.block_on(async {
            let r = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            assert!(status.is_success(), "{url}: {status} {text}");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
        })
    }

    /// The `at` input of every execution of `tick`.
    fn fired(&self, base: &str) -> Vec<String> {
        let page = self.call(
            reqwest::Method::GET,
            &format!("{base}/api/executions?workflow=tick&limit=500"),
            None,
        );
        page["executions"]
            .as_array()
            .expect("executions")
            .iter()
            .map(|e| {
                let id = e["id"].as_str().expect("an id");
                let detail = self.call(
                    reqwest::Method::GET,
                    &format!("{base}/api/executions/{id}"),
                    None,
                );
                detail["inputs"]["at"].as_str().expect("at").to_string()
            })
            .collect()
    }
}

/// Every second from the first fire to the last, exactly once.
fn assert_once_each_second(fired: &[String]) {
    let unique: BTreeSet<i64> = fired
        .iter()
        .map(|t| t.parse::<jiff::Timestamp>().expect("a time").as_second())
        .collect();
    assert_eq!(unique.len(), fired.len(), "a fire ran twice: {fired:?}");
    let (first, last) = (
        *unique.first().expect("fires"),
        *unique.last().expect("fires"),
    );
    assert_eq!(
        unique.len() as i64,
        last - first + 1,
        "a fire was lost: {fired:?}"
    );
}

fn crash_then_restart(crash_at: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("s.db");
    let http = Http::new();
    let mut served = Served::start_with_env(&db, &[], &[("HARMONIA_TEST_CRASH_AT", crash_at)]);
    http.call(
        reqwest::Method::POST,
        &format!("{}/api/workflows", served.base),
        Some(("application/yaml", TICK.to_string())),
    );
    let status = served.exited_within(Duration::from_secs(20));
    assert!(!status.success(), "the crash point aborted it: {status}");

    let served = Served::start(&db, &[]);
    let since = Instant::now();
    while http.fired(&served.base).len() < 5 && since.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    http.call(
        reqwest::Method::POST,
        &format!("{}/api/triggers/tick.0/pause", served.base),
        None,
    );
    // A fire under way when the pause landed is in the list once it is committed.
    std::thread::sleep(Duration::from_millis(300));
    let fired = http
        .fired(&served.base)
        .into_iter()
        .chain([])
        .collect::<Vec<_>>();
    assert!(
        fired.len() >= 5,
        "the schedule fired after the restart: {fired:?}"
    );
    assert_once_each_second(&fired);
    let trigger = http.call(
        reqwest::Method::GET,
        &format!("{}/api/triggers/tick.0", served.base),
        None,
    );
    assert_eq!(
        trigger["schedule"]["next_fires"].as_array().map(Vec::len),
        Some(5),
        "{trigger}"
    );
    served.terminate();
}

#[test]
fn a_kill_before_a_fires_commit_loses_nothing() {
    crash_then_restart("before_commit:1");
}

#[test]
fn a_kill_between_a_fires_commit_and_its_mark_doubles_nothing() {
    crash_then_restart("after_fire:2");
}
