//! `harmonia workflow list|get|versions|delete`: reading workflows, and deleting one.
//!
//! Tables for people by default; `-o json|yaml` prints the server's answer (a list as
//! one array of every page's items). `get` prints the definition as it was written, so
//! `harmonia workflow get W > w.yaml` gives back the file that was applied.

use jiff::Timestamp;
use serde_json::Value;

use super::Output;
use crate::commands::remote::print;
use crate::commands::remote::{Client, Failure, table, when};
use crate::output::{out, outln};

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only workflows whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// The workflow's name (or id).
    #[arg(value_name = "NAME")]
    name: String,
    /// The version (default: the latest).
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub(crate) struct VersionsArgs {
    /// The workflow's name (or id).
    #[arg(value_name = "NAME")]
    name: String,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    /// The workflow's name (or id).
    #[arg(value_name = "NAME")]
    name: String,
    /// Delete it even while executions of it are unfinished (they run on to their end).
    #[arg(long)]
    force: bool,
}

pub(crate) async fn list(client: &Client, args: &ListArgs) -> Result<(), Failure> {
    let mut query = Vec::new();
    if let Some(q) = &args.search {
        query.push(("q", q.clone()));
    }
    let items = client
        .all_pages(&["api", "workflows"], &query, "workflows", None)
        .await?;
    if print::data(args.output.format, &Value::Array(items.clone()))? {
        return Ok(());
    }
    if items.is_empty() {
        crate::output::errln!("no workflows; create one with `harmonia workflow apply FILE`");
        return Ok(());
    }
    out!("{}", render_list(&items, Timestamp::now()));
    Ok(())
}

/// The table of `workflow list`.
pub(crate) fn render_list(items: &[Value], now: Timestamp) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|w| {
            vec![
                print::text(w, "name"),
                print::text(w, "version"),
                when::ago(&print::text(w, "created_at"), now),
                w.get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ]
        })
        .collect();
    table::render(
        &["NAME", "VERSION", "UPDATED", "DESCRIPTION"],
        &rows,
        table::WIDTH,
    )
}

pub(crate) async fn get(client: &Client, args: &GetArgs) -> Result<(), Failure> {
    let mut request = client.get(&["api", "workflows", &args.name]);
    if let Some(v) = args.version {
        request = request.query(&[("version", v)]);
    }
    let detail: Value = client.json(request).await?;
    if print::data(args.output.format, &detail)? {
        return Ok(());
    }
    let source = detail.get("source").and_then(Value::as_str).unwrap_or("");
    out!("{source}");
    if !source.ends_with('\n') {
        outln!();
    }
    Ok(())
}

pub(crate) async fn versions(client: &Client, args: &VersionsArgs) -> Result<(), Failure> {
    let list: Value = client
        .json(client.get(&["api", "workflows", &args.name, "versions"]))
        .await?;
    if print::data(args.output.format, &list)? {
        return Ok(());
    }
    let now = Timestamp::now();
    let rows: Vec<Vec<String>> = list
        .get("versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|v| {
            vec![
                print::text(v, "version"),
                when::ago(&print::text(v, "created_at"), now),
                v.get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ]
        })
        .collect();
    out!(
        "{}",
        table::render(&["VERSION", "CREATED", "DESCRIPTION"], &rows, table::WIDTH)
    );
    Ok(())
}

pub(crate) async fn delete(client: &Client, args: &DeleteArgs) -> Result<(), Failure> {
    let mut request = client.delete(&["api", "workflows", &args.name]);
    if args.force {
        request = request.query(&[("force", "true")]);
    }
    match client.send(request).await {
        Ok(_) => {}
        Err(Failure::Api {
            status: reqwest::StatusCode::CONFLICT,
            details,
            ..
        }) if !args.force => {
            return Err(Failure::Api {
                status: reqwest::StatusCode::CONFLICT,
                message: format!(
                    "workflow `{}` has unfinished executions; pass --force to delete it anyway (they run on to their end), or cancel them first",
                    args.name
                ),
                details,
                file: None,
            });
        }
        Err(other) => return Err(other),
    }
    outln!("workflow/{} deleted", args.name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_list_reads_like_kubectl() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().expect("a time");
        let items = [
            json!({"name": "etl", "version": 3, "created_at": "2026-11-30T11:00:00Z", "description": "Extract,\ntransform and load"}),
            json!({"name": "hello-world", "version": 1, "created_at": "2026-11-28T12:00:00Z", "description": null}),
        ];
        insta::assert_snapshot!(render_list(&items, now), @r"
        NAME         VERSION  UPDATED  DESCRIPTION
        etl          3        1h ago   Extract, transform and load
        hello-world  1        2d ago
        ");
    }
}
