//! `harmonia workflow apply FILE...`: each file's workflow is created, or gets a new
//! version when its text changed, or is left as it is (`unchanged`).
//!
//! Directories expand to the definition files they hold. The workflow's name is read
//! from the file; a file that does not read is sent as it is, so that the server's
//! diagnostics (`FILE:LINE:COL: error: ...`, the same as `harmonia validate`) say what
//! is wrong. Each file is applied on its own: one that fails does not stop the others,
//! and the exit code is 1 when any failed.

use std::path::PathBuf;
use std::process::ExitCode;

use reqwest::StatusCode;
use serde_json::Value;

use crate::commands::remote::client::content_type;
use crate::commands::remote::{Client, Failure};
use crate::commands::{expand, read_source};
use crate::output::outln;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Definition files (YAML or JSON), or directories of them.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// What applying one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The workflow's name.
    pub(crate) name: String,
    /// Its version now.
    pub(crate) version: u64,
    /// `created`, `configured` (a new version) or `unchanged`.
    pub(crate) outcome: &'static str,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<ExitCode, Failure> {
    let files = expand(&args.files).map_err(|e| Failure::Local(e.to_string()))?;
    if files.is_empty() {
        return Err(Failure::Local(
            "no definition files (*.yaml, *.yml, *.json) in the paths given".into(),
        ));
    }
    let mut failed = false;
    for file in &files {
        match apply(client, file).await {
            Ok(a) => outln!("workflow/{} {} (version {})", a.name, a.outcome, a.version),
            Err(failure) => {
                failure.print();
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Applies one file: creates its workflow or stores a new version; prints its
/// warnings on stderr.
pub(crate) async fn apply(client: &Client, file: &std::path::Path) -> Result<Applied, Failure> {
    let shown = file.display().to_string();
    let source =
        read_source(file).map_err(|e| Failure::Local(format!("cannot read {shown}: {e}")))?;
    let name = harmonia_model::read(&source).ok().map(|w| w.name.clone());
    let current = match &name {
        Some(name) => current_version(client, name).await?,
        None => None,
    };
    let request = match (&name, current) {
        (Some(name), Some(_)) => client.put(&["api", "workflows", name]),
        _ => client.post(&["api", "workflows"]),
    };
    let request = request
        .header(reqwest::header::CONTENT_TYPE, content_type(file))
        .body(source.text().to_string());
    let saved: Value = client.json(request).await.map_err(|f| f.in_file(&shown))?;
    print_warnings(&saved, &shown);
    let version = saved.get("version").and_then(Value::as_u64).unwrap_or(0);
    let outcome = match current {
        None => "created",
        Some(v) if v == version => "unchanged",
        Some(_) => "configured",
    };
    Ok(Applied {
        name: saved
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| name.unwrap_or_default(), str::to_string),
        version,
        outcome,
    })
}

/// The latest version of workflow `name`, or `None` when the server has none.
async fn current_version(client: &Client, name: &str) -> Result<Option<u64>, Failure> {
    match client
        .json::<Value>(client.get(&["api", "workflows", name]))
        .await
    {
        Ok(v) => Ok(v.get("version").and_then(Value::as_u64)),
        Err(Failure::Api {
            status: StatusCode::NOT_FOUND,
            ..
        }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The warnings of a stored definition, as `FILE:LINE:COL: warning: PATH: MESSAGE`.
fn print_warnings(saved: &Value, file: &str) {
    let Some(Value::Array(warnings)) = saved.get("warnings") else {
        return;
    };
    for w in warnings {
        let message = w.get("message").and_then(Value::as_str).unwrap_or("");
        let path = w.get("path").and_then(Value::as_str).unwrap_or("");
        let line = w.get("line").and_then(Value::as_u64).unwrap_or(1);
        let column = w.get("column").and_then(Value::as_u64).unwrap_or(1);
        if path.is_empty() {
            crate::output::errln!("{file}:{line}:{column}: warning: {message}");
        } else {
            crate::output::errln!("{file}:{line}:{column}: warning: {path}: {message}");
        }
    }
}
