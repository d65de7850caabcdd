//! `harmonia template instantiate NAME`: make a workflow from a template version and
//! parameter values on the server, and with `--execute` start it.
//!
//! Parameters come from `--params-file` (an object, JSON or YAML) first, then each
//! `--param KEY=VALUE` sets one value over it (see `pairs` for KEY and VALUE). The
//! server fills in defaults and checks the values against the template's schema; when
//! they do not validate it reports every violation, printed one per line with its path.
//! Prints what happened to the workflow (`created workflow W vN from template T vM`,
//! `updated workflow W to vN ...`, or `workflow W vN is unchanged ...` when it had
//! this definition already), and with `--execute` the execution's id, status and
//! WebSocket address; `--json` prints the server's answer.

use crate::output::outln;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::pairs::{self, Pair};
use crate::commands::remote::client::{Client, Failure};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The template's name (or id).
    #[arg(value_name = "NAME")]
    template: String,
    /// This version of the template rather than the latest.
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    /// The workflow's name [default: the server's, from the template and the values].
    #[arg(long, value_name = "WORKFLOW")]
    name: Option<String>,
    /// A parameter, as KEY=VALUE (KEY may be dotted: a.b=1); VALUE is JSON when it
    /// parses as JSON, else a string. Overrides --params-file.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = pairs::parse_pair)]
    params: Vec<Pair>,
    /// A file holding an object of parameters (JSON when named *.json, else YAML).
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
    /// Start an execution of the new workflow at once.
    #[arg(long)]
    execute: bool,
    /// An input of the execution, as KEY=VALUE (like --param).
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE", value_parser = pairs::parse_pair, requires = "execute")]
    inputs: Vec<Pair>,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

/// The parts of the server's answer that the text output shows.
#[derive(Debug, Deserialize)]
struct Instantiated {
    /// `created`, `updated` or `unchanged` (absent from older servers' answers).
    #[serde(default)]
    outcome: Option<String>,
    workflow: NameVersion,
    template: NameVersion,
    #[serde(default)]
    execution: Option<Started>,
}

#[derive(Debug, Deserialize)]
struct NameVersion {
    name: String,
    version: u64,
}

#[derive(Debug, Deserialize)]
struct Started {
    execution_id: String,
    status: String,
    #[serde(default)]
    links: Map<String, Value>,
}

/// The request's body.
fn body(args: &Args, file: Map<String, Value>) -> Value {
    let mut body = Map::new();
    if let Some(v) = args.version {
        body.insert("version".into(), v.into());
    }
    if let Some(name) = &args.name {
        body.insert("name".into(), name.clone().into());
    }
    body.insert(
        "params".into(),
        Value::Object(pairs::object(file, &args.params)),
    );
    if args.execute {
        body.insert("execute".into(), true.into());
        body.insert(
            "inputs".into(),
            Value::Object(pairs::object(Map::new(), &args.inputs)),
        );
    }
    Value::Object(body)
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let file = match &args.params_file {
        Some(path) => pairs::read_object(path).map_err(Failure::Local)?,
        None => Map::new(),
    };
    let request = client
        .post(&["api", "templates", &args.template, "instantiate"])
        .json(&body(args, file));
    let answer: Value = client.json(request).await?;
    if args.json {
        let text =
            serde_json::to_string_pretty(&answer).map_err(|e| Failure::Local(e.to_string()))?;
        outln!("{text}");
        return Ok(());
    }
    let done: Instantiated = serde_json::from_value(answer).map_err(|e| {
        Failure::Local(format!(
            "the server's answer is not what this client expects: {e}"
        ))
    })?;
    for line in lines(&done, client.server()) {
        outln!("{line}");
    }
    Ok(())
}

/// What the text output says.
fn lines(done: &Instantiated, server: &str) -> Vec<String> {
    let (w, t) = (&done.workflow, &done.template);
    let first = match done.outcome.as_deref() {
        Some("unchanged") => format!(
            "workflow {} v{} is unchanged: it is template {} v{} with these parameters already",
            w.name, w.version, t.name, t.version
        ),
        Some("updated") => format!(
            "updated workflow {} to v{} from template {} v{}",
            w.name, w.version, t.name, t.version
        ),
        _ => format!(
            "created workflow {} v{} from template {} v{}",
            w.name, w.version, t.name, t.version
        ),
    };
    let mut lines = vec![first];
    if let Some(x) = &done.execution {
        lines.push(format!(
            "started execution {} ({})",
            x.execution_id, x.status
        ));
        if let Some(path) = x.links.get("websocket").and_then(Value::as_str) {
            lines.push(format!("watch it at {}", websocket_url(server, path)));
        }
    }
    lines
}

/// The WebSocket URL of a path on the server (`http` becomes `ws`, `https` `wss`).
fn websocket_url(server: &str, path: &str) -> String {
    let base = server
        .strip_prefix("http")
        .map(|rest| format!("ws{rest}"))
        .unwrap_or_else(|| server.to_string());
    format!("{base}{path}")
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("instantiate").chain(argv.iter().copied()))
            .map(|c| c.args)
    }

    #[test]
    fn params_override_the_file_and_inputs_go_with_execute() {
        let args = parse(&[
            "etl",
            "--version",
            "2",
            "-p",
            "source.url=https://x.test",
            "--param",
            "limit=10",
            "--execute",
            "--input",
            "day=2026-01-01",
        ])
        .expect("parses");
        let file = json!({"source": {"url": "old", "auth": "none"}, "limit": 1});
        let Value::Object(file) = file else {
            unreachable!()
        };
        assert_eq!(
            body(&args, file),
            json!({
                "version": 2,
                "params": {"source": {"url": "https://x.test", "auth": "none"}, "limit": 10},
                "execute": true,
                "inputs": {"day": "2026-01-01"},
            })
        );
        let args = parse(&["etl", "--name", "nightly"]).expect("parses");
        assert_eq!(
            body(&args, Map::new()),
            json!({"name": "nightly", "params": {}})
        );
    }

    #[test]
    fn bad_pairs_and_inputs_without_execute_are_command_line_errors() {
        assert!(parse(&["etl", "--param", "novalue"]).is_err());
        assert!(parse(&["etl", "--param", "a..b=1"]).is_err());
        assert!(parse(&["etl", "--input", "a=1"]).is_err());
    }

    #[test]
    fn the_text_names_the_workflow_and_the_execution() {
        let done: Instantiated = serde_json::from_value(json!({
            "outcome": "created",
            "workflow": {"id": "w", "name": "etl-1a2b", "version": 1},
            "template": {"name": "etl", "version": 3},
            "params": {},
            "execution": {"execution_id": "e1", "status": "running", "workflow": "etl-1a2b",
                          "version": 1, "links": {"self": "/api/executions/e1", "websocket": "/ws/executions/e1"}},
        }))
        .expect("an answer");
        assert_eq!(
            lines(&done, "https://h.test/base"),
            [
                "created workflow etl-1a2b v1 from template etl v3",
                "started execution e1 (running)",
                "watch it at wss://h.test/base/ws/executions/e1",
            ]
        );
    }

    /// Regression: a workflow that existed already was reported as created.
    #[test]
    fn the_text_says_whether_the_workflow_is_new() {
        let answer = |outcome: &str, version: u64| -> Instantiated {
            serde_json::from_value(json!({
                "outcome": outcome,
                "workflow": {"name": "hello", "version": version},
                "template": {"name": "greet", "version": 2},
            }))
            .expect("an answer")
        };
        assert_eq!(
            lines(&answer("unchanged", 1), "http://h.test"),
            [
                "workflow hello v1 is unchanged: it is template greet v2 with these parameters already"
            ]
        );
        assert_eq!(
            lines(&answer("updated", 3), "http://h.test"),
            ["updated workflow hello to v3 from template greet v2"]
        );
    }
}
