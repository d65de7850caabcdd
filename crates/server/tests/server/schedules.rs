//! Schedule triggers through the API: a schedule shows where it is and when it fires
//! next; a backfill starts one run per past fire time, answers the runs of fires that
//! ran, and refuses a window it cannot serve, saying which field is wrong.

use axum::http::StatusCode;
use serde_json::json;

use super::{assert_error, server};

const REPORT: &str = "name: report
inputs: {type: object, required: [day], properties: {day: {type: string}}}
triggers:
  - schedule: {cron: '0 6 * * *', timezone: Europe/Paris, inputs: {day: '${ $trigger.scheduled_at }'}}
tasks:
  a: {type: set, with: '${ $inputs.day }'}
outputs: {day: '${ $tasks.a.output }'}
";

#[tokio::test]
async fn a_schedule_shows_its_next_fires_and_backfills_past_ones_once() {
    let s = server().await;
    let r = s.post_yaml("/api/workflows", REPORT).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let t = s.get("/api/triggers/report.0").await.json();
    assert_eq!(t["kind"], "schedule");
    assert_eq!(t["definition"]["timezone"], "Europe/Paris");
    let next = t["schedule"]["next_fires"].as_array().expect("next fires");
    assert_eq!(next.len(), 5, "{t}");
    // 06:00 in Paris is 04:00 or 05:00 UTC, depending on the season.
    for at in next {
        let at = at.as_str().unwrap_or_default();
        assert!(at.contains("T04:00:00") || at.contains("T05:00:00"), "{at}");
    }
    assert_eq!(t["links"]["backfill"], "/api/triggers/report.0/backfill");

    let window = json!({"from": "2026-03-27T00:00:00Z", "to": "2026-03-30T00:00:00Z"});
    let r = s
        .post_json("/api/triggers/report.0/backfill", window.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fires = r.json()["fires"].as_array().cloned().expect("fires");
    let times: Vec<&str> = fires
        .iter()
        .map(|f| f["scheduled_at"].as_str().unwrap_or_default())
        .collect();
    // The clocks changed on the 29th: 06:00 CET, then 06:00 CEST.
    assert_eq!(
        times,
        [
            "2026-03-27T05:00:00Z",
            "2026-03-28T05:00:00Z",
            "2026-03-29T04:00:00Z"
        ]
    );
    assert!(fires.iter().all(|f| f["existing"] == false));
    let first = fires[0]["execution_id"].as_str().expect("an execution");
    assert_eq!(
        s.outputs_when_succeeded(first).await,
        json!({"day": "2026-03-27T05:00:00Z"})
    );

    // The same window again starts nothing new.
    let again = s
        .post_json("/api/triggers/report.0/backfill", window)
        .await
        .json();
    assert!(
        again["fires"]
            .as_array()
            .expect("fires")
            .iter()
            .all(|f| f["existing"] == true)
    );
    assert_eq!(again["fires"][0]["execution_id"], first);
    assert_eq!(s.executions_of("report").await, 3);

    for (body, needle) in [
        (
            json!({"from": "yesterday", "to": "2026-03-30T00:00:00Z"}),
            "`from`",
        ),
        (
            json!({"from": "2026-03-30T00:00:00Z", "to": "2026-03-27T00:00:00Z"}),
            "before",
        ),
        (
            json!({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
            "narrower",
        ),
        (
            json!({"from": "2026-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"}),
            "future",
        ),
    ] {
        let e = assert_error(
            &s.post_json("/api/triggers/report.0/backfill", body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        assert!(
            e["message"].as_str().unwrap_or_default().contains(needle),
            "{e}"
        );
    }
    assert_eq!(s.executions_of("report").await, 3, "refusals start nothing");
    assert_error(
        &s.post_json(
            "/api/triggers/nope.0/backfill",
            json!({"from": "2026-03-27T00:00:00Z", "to": "2026-03-28T00:00:00Z"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
