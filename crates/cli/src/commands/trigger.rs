//! `harmonia trigger list|show|pause|resume|deliveries|replay|backfill`: a client of a running server's trigger
//! API (`/api/triggers`), like `harmonia template` (see `commands::remote` for the
//! connection, `--server` and `--token`, and how failures are printed).
//!
//! A trigger's id is its workflow's name and its position in `triggers:` (`fulfil.0`).
//! `list` prints ID, WORKFLOW, KIND, STATE and what it fires on; `show` the trigger as
//! JSON; `pause` and `resume` print the trigger's new state; `deliveries` lists what a
//! webhook trigger received (ID RECEIVED VERDICT EXECUTION REASON, newest first) and
//! `replay` maps a stored delivery again and prints the execution it started;
//! `backfill` starts a schedule's past fires and prints one line per fire. Exit codes: 0 success, 1
//! when the server refused or could not be reached, 2 when the command line is wrong.

use std::process::ExitCode;

use serde_json::Value;

use super::local::runtime;
use super::remote::{Client, Connection, Failure, table};
use crate::output::{out, outln};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List every trigger: ID WORKFLOW KIND STATE ON.
    List {
        /// Print the triggers as one JSON array, as the server sent them.
        #[arg(long)]
        json: bool,
    },
    /// Print one trigger, as JSON.
    Show {
        /// The trigger's id: WORKFLOW.POSITION, such as `fulfil.0`.
        id: String,
    },
    /// Pause a trigger: it starts nothing until it is resumed.
    Pause {
        /// The trigger's id: WORKFLOW.POSITION, such as `fulfil.0`.
        id: String,
    },
    /// Resume a paused trigger.
    Resume {
        /// The trigger's id: WORKFLOW.POSITION, such as `fulfil.0`.
        id: String,
    },
    /// List a webhook trigger's deliveries, newest first: ID RECEIVED VERDICT EXECUTION
    /// REASON.
    Deliveries {
        /// The trigger's id: WORKFLOW.POSITION, such as `deploy.0`.
        id: String,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print the page as JSON, as the server sent it.
        #[arg(long)]
        json: bool,
    },
    /// Start the runs a schedule would have started in a past window (at most 100):
    /// SCHEDULED_AT EXECUTION STATE, one line per fire time.
    Backfill {
        /// The schedule trigger's id: WORKFLOW.POSITION, such as `report.0`.
        id: String,
        /// The window's start, RFC 3339 (`2026-11-29T00:00:00Z`), included.
        #[arg(long)]
        from: String,
        /// The window's end, RFC 3339, included; not in the future.
        #[arg(long)]
        to: String,
    },
    /// Replay a stored delivery: map it again and start a new run (prints its id).
    Replay {
        /// The delivery's id (from `deliveries`).
        delivery: u64,
    },
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.connection)?;
    let outcome = runtime()?.block_on(async {
        match &args.command {
            Command::List { json } => list(&client, *json).await,
            Command::Show { id } => {
                let t: Value = client.json(client.get(&["api", "triggers", id])).await?;
                print_json(&t)
            }
            Command::Pause { id } => set(&client, id, "pause").await,
            Command::Resume { id } => set(&client, id, "resume").await,
            Command::Deliveries { id, limit, json } => deliveries(&client, id, *limit, *json).await,
            Command::Backfill { id, from, to } => {
                let r: Value = client
                    .json(
                        client
                            .post(&["api", "triggers", id, "backfill"])
                            .json(&serde_json::json!({"from": from, "to": to})),
                    )
                    .await?;
                for f in r["fires"].as_array().into_iter().flatten() {
                    let state = match (f["existing"].as_bool(), f["error"].as_str()) {
                        (_, Some(e)) => format!("failed: {e}"),
                        (Some(true), _) => "existing".to_string(),
                        _ => "started".to_string(),
                    };
                    outln!(
                        "{} {} {state}",
                        text(&f["scheduled_at"]),
                        f["execution_id"].as_str().unwrap_or("-")
                    );
                }
                Ok(())
            }
            Command::Replay { delivery } => {
                let d = delivery.to_string();
                let r: Value = client
                    .json(client.post(&["api", "deliveries", &d, "replay"]))
                    .await?;
                outln!("{}", text(&r["execution_id"]));
                Ok(())
            }
        }
    });
    Ok(match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.print(),
    })
}

async fn list(client: &Client, json: bool) -> Result<(), Failure> {
    let listed: Value = client.json(client.get(&["api", "triggers"])).await?;
    let triggers = listed["triggers"].as_array().cloned().unwrap_or_default();
    if json {
        return print_json(&Value::Array(triggers));
    }
    if triggers.is_empty() {
        crate::output::errln!("no triggers");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = triggers.iter().map(row).collect();
    out!(
        "{}",
        table::render(
            &["ID", "WORKFLOW", "KIND", "STATE", "ON"],
            &rows,
            table::WIDTH
        )
    );
    Ok(())
}

async fn set(client: &Client, id: &str, action: &str) -> Result<(), Failure> {
    let t: Value = client
        .json(client.post(&["api", "triggers", id, action]))
        .await?;
    outln!("{} {}", text(&t["id"]), state(&t));
    Ok(())
}

async fn deliveries(client: &Client, id: &str, limit: u32, json: bool) -> Result<(), Failure> {
    let page: Value = client
        .json(
            client
                .get(&["api", "triggers", id, "deliveries"])
                .query(&[("limit", limit)]),
        )
        .await?;
    if json {
        return print_json(&page);
    }
    let list = page["deliveries"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        crate::output::errln!("no deliveries");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|d| {
            vec![
                text(&d["id"]),
                text(&d["received_at"]),
                text(&d["verdict"]),
                d["execution_id"].as_str().unwrap_or("-").to_string(),
                d["reason"].as_str().unwrap_or("").to_string(),
            ]
        })
        .collect();
    out!(
        "{}",
        table::render(
            &["ID", "RECEIVED", "VERDICT", "EXECUTION", "REASON"],
            &rows,
            table::WIDTH
        )
    );
    Ok(())
}

/// A trigger's row in `list`.
fn row(t: &Value) -> Vec<String> {
    let d = &t["definition"];
    let mut on = match t["kind"].as_str() {
        Some("webhook") => format!("POST /hooks/{}", text(&d["name"])),
        Some("schedule") => format!(
            "{} {}",
            text(&d["cron"]),
            d["timezone"].as_str().unwrap_or("UTC")
        ),
        _ => text(&d["type"]),
    };
    if let Some(source) = d["source"].as_str() {
        on.push_str(&format!(" from {source}"));
    }
    if let Some(filter) = d["filter"].as_str() {
        on.push_str(&format!(" if {filter}"));
    }
    vec![
        text(&t["id"]),
        text(&t["workflow"]),
        text(&t["kind"]),
        state(t),
        on,
    ]
}

fn state(t: &Value) -> String {
    match t["paused_since"].as_str() {
        Some(since) => format!("paused since {since}"),
        None => "active".into(),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn print_json(v: &Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Failure::Local(e.to_string()))?;
    outln!("{text}");
    Ok(())
}
