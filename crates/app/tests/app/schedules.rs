//! Schedules on an injected clock: `tick(now)` with chosen times. A new schedule fires
//! from the time it is first seen; a fire runs once however often it is ticked; after
//! an outage `catchup` decides; `overlap` holds, queues, cancels or allows; a paused
//! schedule does not replay its pause; a backfill starts one run per past fire time and
//! never doubles one that ran.

use harmonia_app::schedules::{Fire, FireOutcome, MAX_CATCHUP};
use harmonia_storage::ExecutionId;
use serde_json::json;

use super::{Env, env, yaml};

const HOUR: i64 = 3_600_000;

fn ms(utc: &str) -> i64 {
    utc.parse::<jiff::Timestamp>()
        .expect("a time")
        .as_millisecond()
}

/// A workflow `name` on an hourly schedule whose runs wait (for an event) until
/// cancelled, so that they stay unfinished.
fn hourly(name: &str, overlap: &str, catchup: &str) -> String {
    format!(
        "name: {name}
inputs: {{type: object, properties: {{at: {{type: string}}}}}}
triggers:
  - schedule: {{cron: '0 * * * *', overlap: {overlap}, catchup: {catchup}, inputs: {{at: '${{ $trigger.scheduled_at }}'}}}}
tasks:
  hold: {{type: wait_event, with: {{type: never, timeout: 24h}}}}
"
    )
}

async fn with(workflow: &str) -> Env {
    let env = env().await;
    env.app
        .workflows()
        .create(&yaml(workflow))
        .await
        .expect("created");
    env
}

fn started(fires: &[Fire]) -> Vec<(String, ExecutionId)> {
    fires
        .iter()
        .filter_map(|f| match f.outcome {
            FireOutcome::Started { execution, .. } => {
                Some((harmonia_app::schedules::rfc3339(f.scheduled_at), execution))
            }
            _ => None,
        })
        .collect()
}

fn times(fires: &[Fire]) -> Vec<String> {
    started(fires).into_iter().map(|(t, _)| t).collect()
}

async fn cancel_all(env: &Env, fires: &[Fire]) {
    for (_, id) in started(fires) {
        let _ = env.app.executions().cancel(id, None).await;
        env.ended(id).await;
    }
}

#[tokio::test]
async fn a_fire_runs_once_with_its_time_and_a_new_schedule_has_no_past() {
    let env = with(&hourly("hourly", "allow", "all")).await;
    let s = env.app.schedules();
    let t0 = ms("2026-06-01T09:59:00Z");
    assert!(s.tick(t0).await.expect("tick").is_empty(), "first sight");
    assert!(s.tick(t0 + 30_000).await.expect("tick").is_empty());
    let fired = s.tick(ms("2026-06-01T10:00:00.004Z")).await.expect("tick");
    assert_eq!(times(&fired), ["2026-06-01T10:00:00Z"]);
    // Ticked again at the same moment, and a little later: nothing more.
    assert!(
        s.tick(ms("2026-06-01T10:00:00.004Z"))
            .await
            .expect("tick")
            .is_empty()
    );
    assert!(
        s.tick(ms("2026-06-01T10:00:30Z"))
            .await
            .expect("tick")
            .is_empty()
    );
    let (_, id) = started(&fired)[0];
    let record = env.app.executions().record(id).await.expect("record");
    assert_eq!(*record.inputs, json!({"at": "2026-06-01T10:00:00Z"}));
    cancel_all(&env, &fired).await;
}

#[tokio::test]
async fn after_an_outage_catchup_decides_what_runs() {
    for (catchup, expected) in [
        ("none", vec!["2026-06-01T15:00:00Z"]),
        ("last", vec!["2026-06-01T14:00:00Z", "2026-06-01T15:00:00Z"]),
        (
            "all",
            vec![
                "2026-06-01T11:00:00Z",
                "2026-06-01T12:00:00Z",
                "2026-06-01T13:00:00Z",
                "2026-06-01T14:00:00Z",
                "2026-06-01T15:00:00Z",
            ],
        ),
    ] {
        let env = with(&hourly("h", "allow", catchup)).await;
        let s = env.app.schedules();
        s.tick(ms("2026-06-01T10:30:00Z"))
            .await
            .expect("first sight");
        // Down from 10:30 to 15:00:20: 11:00 to 14:00 were missed, 15:00 is late.
        let fired = s.tick(ms("2026-06-01T15:00:20Z")).await.expect("tick");
        assert_eq!(times(&fired), expected, "catchup: {catchup}");
        assert!(
            s.tick(ms("2026-06-01T15:00:40Z"))
                .await
                .expect("tick")
                .is_empty(),
            "catchup: {catchup}"
        );
        cancel_all(&env, &fired).await;
    }
}

#[tokio::test]
async fn catchup_all_is_bounded_to_the_latest_fires() {
    let env = with(&hourly("h", "allow", "all")).await;
    let s = env.app.schedules();
    let t0 = ms("2026-01-01T00:30:00Z");
    s.tick(t0).await.expect("first sight");
    let fired = s.tick(t0 + 200 * HOUR).await.expect("tick");
    let t = times(&fired);
    assert_eq!(t.len(), MAX_CATCHUP);
    assert_eq!(
        t.last().map(String::as_str),
        Some(harmonia_app::schedules::rfc3339(t0 + 200 * HOUR - HOUR / 2).as_str())
    );
    cancel_all(&env, &fired).await;
}

#[tokio::test]
async fn overlap_skip_queue_cancel_previous_and_allow() {
    // skip: the 11:00 fire finds 10:00 unfinished and starts nothing.
    let env = with(&hourly("skip", "skip", "none")).await;
    let s = env.app.schedules();
    s.tick(ms("2026-06-01T09:30:00Z")).await.expect("sight");
    let first = s.tick(ms("2026-06-01T10:00:01Z")).await.expect("tick");
    assert_eq!(times(&first).len(), 1);
    let second = s.tick(ms("2026-06-01T11:00:01Z")).await.expect("tick");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].outcome, FireOutcome::Skipped);
    assert!(
        s.tick(ms("2026-06-01T11:00:30Z"))
            .await
            .expect("tick")
            .is_empty()
    );
    cancel_all(&env, &first).await;

    // queue: the 11:00 fire waits for 10:00 to end, then starts, as 11:00.
    let env = with(&hourly("queue", "queue", "last")).await;
    let s = env.app.schedules();
    s.tick(ms("2026-06-01T09:30:00Z")).await.expect("sight");
    let first = s.tick(ms("2026-06-01T10:00:01Z")).await.expect("tick");
    let held = s.tick(ms("2026-06-01T11:00:01Z")).await.expect("tick");
    assert_eq!(held[0].outcome, FireOutcome::Queued);
    let held = s.tick(ms("2026-06-01T11:00:20Z")).await.expect("tick");
    assert_eq!(held[0].outcome, FireOutcome::Queued, "still queued");
    cancel_all(&env, &first).await;
    let now = s.tick(ms("2026-06-01T11:00:30Z")).await.expect("tick");
    assert_eq!(times(&now), ["2026-06-01T11:00:00Z"]);
    cancel_all(&env, &now).await;

    // cancel_previous: the 11:00 fire cancels 10:00 and starts.
    let env = with(&hourly("cancels", "cancel_previous", "none")).await;
    let s = env.app.schedules();
    s.tick(ms("2026-06-01T09:30:00Z")).await.expect("sight");
    let first = s.tick(ms("2026-06-01T10:00:01Z")).await.expect("tick");
    let second = s.tick(ms("2026-06-01T11:00:01Z")).await.expect("tick");
    assert_eq!(times(&second), ["2026-06-01T11:00:00Z"]);
    assert_eq!(
        env.ended(started(&first)[0].1).await,
        harmonia_storage::ExecutionStatus::Cancelled
    );
    cancel_all(&env, &second).await;

    // allow: both run.
    let env = with(&hourly("allows", "allow", "none")).await;
    let s = env.app.schedules();
    s.tick(ms("2026-06-01T09:30:00Z")).await.expect("sight");
    let first = s.tick(ms("2026-06-01T10:00:01Z")).await.expect("tick");
    let second = s.tick(ms("2026-06-01T11:00:01Z")).await.expect("tick");
    assert_eq!(times(&second), ["2026-06-01T11:00:00Z"]);
    let unfinished = env.store.unfinished().await.expect("unfinished");
    assert_eq!(unfinished.len(), 2);
    cancel_all(&env, &first).await;
    cancel_all(&env, &second).await;
}

#[tokio::test]
async fn a_paused_schedule_fires_nothing_and_does_not_replay_its_pause() {
    let env = with(&hourly("paused", "allow", "all")).await;
    let s = env.app.schedules();
    s.tick(ms("2026-06-01T09:30:00Z")).await.expect("sight");
    env.app.triggers().pause("paused.0").await.expect("pause");
    assert!(
        s.tick(ms("2026-06-01T12:00:10Z"))
            .await
            .expect("tick")
            .is_empty()
    );
    env.app.triggers().resume("paused.0").await.expect("resume");
    assert!(
        s.tick(ms("2026-06-01T12:00:30Z"))
            .await
            .expect("tick")
            .is_empty()
    );
    let fired = s.tick(ms("2026-06-01T13:00:00Z")).await.expect("tick");
    assert_eq!(times(&fired), ["2026-06-01T13:00:00Z"]);
    cancel_all(&env, &fired).await;
}

#[tokio::test]
async fn a_backfill_starts_each_past_fire_once() {
    let env = with(&hourly("back", "allow", "none")).await;
    let s = env.app.schedules();
    let now = jiff::Timestamp::now().as_millisecond();
    s.tick(now).await.expect("sight");
    let from = now - now.rem_euclid(HOUR) - 3 * HOUR;
    let fired = s
        .backfill("back.0", from, from + 2 * HOUR)
        .await
        .expect("backfill");
    assert_eq!(started(&fired).len(), 3);
    let again = s
        .backfill("back.0", from + HOUR, from + 2 * HOUR)
        .await
        .expect("again");
    assert!(
        again
            .iter()
            .all(|f| matches!(f.outcome, FireOutcome::Started { existing: true, .. }))
    );
    assert_eq!(started(&again)[0].1, started(&fired)[1].1, "the same run");
    for (from, to, needle) in [
        (from, from - 1, "before"),
        (from, now + HOUR, "future"),
        (from - 200 * HOUR, from, "narrower"),
    ] {
        let e = s.backfill("back.0", from, to).await.expect_err("refused");
        assert!(e.to_string().contains(needle), "{e}");
    }
    let e = s.backfill("nope.0", from, from).await.expect_err("unknown");
    assert!(matches!(e, harmonia_app::Error::NotFound(_)), "{e}");
    cancel_all(&env, &fired).await;
}
