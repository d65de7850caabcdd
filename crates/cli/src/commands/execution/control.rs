//! `harmonia execution cancel|pause|resume|approve|reject`: acting on an execution.
//!
//! Each prints what the server says the execution (or task) is now:
//! `execution ID paused`, `task review of execution ID succeeded`. A refusal (an
//! execution that already ended, a task that does not wait) is the server's error,
//! printed with its reason.

use serde_json::{Map, Value, json};

use crate::commands::remote::{Client, Failure, ids};
use crate::commands::template::pairs::{self, Pair};
use crate::output::outln;

#[derive(Debug, clap::Args)]
pub(crate) struct IdArgs {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CancelArgs {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
    /// Why, recorded in its history.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct AnswerArgs {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
    /// The task that waits for approval.
    #[arg(value_name = "TASK")]
    task: String,
    /// A value of the approval's form, as KEY=VALUE (VALUE is JSON when it parses).
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE", value_parser = pairs::parse_pair)]
    inputs: Vec<Pair>,
    /// Which item of a fan-out, when several of its items wait.
    #[arg(long, value_name = "N")]
    item: Option<u64>,
}

pub(crate) async fn cancel(client: &Client, args: &CancelArgs) -> Result<(), Failure> {
    let id = ids::execution(client, &args.id).await?;
    let body = json!({"reason": args.reason});
    let r: Value = client
        .json(
            client
                .post(&["api", "executions", &id, "cancel"])
                .json(&body),
        )
        .await?;
    outln!("execution {id} {}", status(&r));
    Ok(())
}

/// `pause` or `resume`.
pub(crate) async fn simple(client: &Client, args: &IdArgs, action: &str) -> Result<(), Failure> {
    let id = ids::execution(client, &args.id).await?;
    let r: Value = client
        .json(
            client
                .post(&["api", "executions", &id, action])
                .json(&json!({})),
        )
        .await?;
    outln!("execution {id} {}", status(&r));
    Ok(())
}

/// `approve` or `reject`.
pub(crate) async fn answer(
    client: &Client,
    args: &AnswerArgs,
    action: &str,
) -> Result<(), Failure> {
    let id = ids::execution(client, &args.id).await?;
    let inputs = pairs::object(Map::new(), &args.inputs);
    let mut body = json!({"inputs": inputs});
    if let Some(item) = args.item {
        body["item"] = json!(item);
    }
    let r: Value = client
        .json(
            client
                .post(&["api", "executions", &id, "tasks", &args.task, action])
                .json(&body),
        )
        .await?;
    let task_status = r
        .get("task_status")
        .and_then(Value::as_str)
        .unwrap_or("answered");
    outln!("task {} of execution {id} {task_status}", args.task);
    Ok(())
}

fn status(r: &Value) -> &str {
    r.get("status").and_then(Value::as_str).unwrap_or("changed")
}
