//! `harmonia workflow diff NAME [--from N] [--to M]`: what changed between two versions.
//!
//! For people, a unified diff of the two definitions as written (`--- NAME vN`,
//! `+++ NAME vM`, coloured on a terminal), which is what `diff -u` of the applied files
//! would show. With `-o json|yaml`, the server's structural diff
//! (`GET /api/workflows/{id}/diff`): one change per JSON pointer, which scripts and the
//! console read. `--from` defaults to the version before `--to`, which defaults to the
//! latest.

use std::io::IsTerminal;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::Output;
use crate::commands::remote::print;
use crate::commands::remote::{Client, Failure};
use crate::output::out;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The workflow's name (or id).
    #[arg(value_name = "NAME")]
    name: String,
    /// The older version (default: the one before --to).
    #[arg(long, value_name = "N")]
    from: Option<u32>,
    /// The newer version (default: the latest).
    #[arg(long, value_name = "M")]
    to: Option<u32>,
    #[command(flatten)]
    output: Output,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let mut query = Vec::new();
    if let Some(v) = args.from {
        query.push(("from", v));
    }
    if let Some(v) = args.to {
        query.push(("to", v));
    }
    let diff: Value = client
        .json(
            client
                .get(&["api", "workflows", &args.name, "diff"])
                .query(&query),
        )
        .await?;
    if print::data(args.output.format, &diff)? {
        return Ok(());
    }
    let version = |field: &str| diff.get(field).and_then(Value::as_u64).unwrap_or(0);
    let (from, to) = (version("from"), version("to"));
    let name = diff
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&args.name)
        .to_string();
    let source = |v: u64| async move {
        let detail: Value = client
            .json(
                client
                    .get(&["api", "workflows", &args.name])
                    .query(&[("version", v)]),
            )
            .await?;
        Ok::<String, Failure>(
            detail
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    let (a, b) = (source(from).await?, source(to).await?);
    if a == b {
        crate::output::errln!("{name}: versions {from} and {to} are the same");
        return Ok(());
    }
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    out!("{}", unified(&name, from, to, &a, &b, colour));
    Ok(())
}

/// The unified diff of two definitions, with three lines of context.
pub(crate) fn unified(name: &str, from: u64, to: u64, a: &str, b: &str, colour: bool) -> String {
    let diff = TextDiff::from_lines(a, b);
    let mut out = format!("--- {name} v{from}\n+++ {name} v{to}\n");
    for group in diff.grouped_ops(3) {
        let (first, last) = match (group.first(), group.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => continue,
        };
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        let header = format!(
            "@@ -{},{} +{},{} @@\n",
            old.start + 1,
            old.len(),
            new.start + 1,
            new.len()
        );
        out.push_str(&paint(&header, "36", colour));
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, code) = match change.tag() {
                    ChangeTag::Delete => ('-', Some("31")),
                    ChangeTag::Insert => ('+', Some("32")),
                    ChangeTag::Equal => (' ', None),
                };
                let mut line = format!("{sign}{}", change.value());
                if !line.ends_with('\n') {
                    line.push('\n');
                }
                match code {
                    Some(code) => out.push_str(&paint(&line, code, colour)),
                    None => out.push_str(&line),
                }
            }
        }
    }
    out
}

/// `text` in an ANSI colour when `colour`, the newline kept outside the colour.
fn paint(text: &str, code: &str, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let body = text.trim_end_matches('\n');
    format!("\x1b[{code}m{body}\x1b[0m\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_with_its_context() {
        let a = "name: hello\ndescription: Greets\ntasks:\n  greet: {type: set}\n";
        let b = "name: hello\ndescription: Greets loudly\ntasks:\n  greet: {type: set}\n";
        insta::assert_snapshot!(unified("hello", 1, 2, a, b, false), @r"
        --- hello v1
        +++ hello v2
        @@ -1,4 +1,4 @@
         name: hello
        -description: Greets
        +description: Greets loudly
         tasks:
           greet: {type: set}
        ");
    }
}
