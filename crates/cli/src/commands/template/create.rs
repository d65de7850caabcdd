//! `harmonia template create FILE`: store a new template from a file in our format, or
//! from an original Tekton Harmonia template file (JSON with `workflow_definition`),
//! which the server converts.
//!
//! The file is sent as it is (`application/json` for `*.json`, `application/yaml`
//! otherwise). Prints `created template NAME vN`. With `--dry-run` nothing is stored:
//! the template as the server would store it (for a Tekton file, its converted form) is
//! printed on stdout, as YAML. Whatever a conversion could not carry over exactly is
//! printed on stderr, one `FILE:LINE:COL: warning: KIND: PATH: MESSAGE` line each,
//! pointing into the Tekton file; so are the server's warnings about the template
//! (`FILE:LINE:COL: warning: PATH: MESSAGE`, or for a converted file the place in the
//! converted form). A template that exists already is refused (409): a
//! new version goes through the API's `PUT`, or `template import`.

use crate::output::{out, outln};
use std::path::PathBuf;

use serde::Deserialize;

use crate::commands::remote::client::{Client, Failure, content_type};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The template (YAML, or JSON when named *.json; a Tekton template file is converted).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The change note of the first version.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Check (and convert) only: print the template as it would be stored.
    #[arg(long)]
    dry_run: bool,
}

/// One entry of a conversion report.
#[derive(Debug, Deserialize)]
struct Issue {
    kind: String,
    path: String,
    message: String,
    line: u64,
    column: u64,
}

/// A warning the server gives about a template it accepted.
#[derive(Debug, Deserialize)]
struct Warning {
    path: String,
    message: String,
    line: u64,
    column: u64,
}

/// The answer to a stored template.
#[derive(Debug, Deserialize)]
struct Saved {
    template: Summary,
    #[serde(default)]
    conversion: Option<Vec<Issue>>,
    #[serde(default)]
    warnings: Vec<Warning>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    name: String,
    version: u64,
}

/// The answer to a dry run.
#[derive(Debug, Deserialize)]
struct Preview {
    source: String,
    #[serde(default)]
    conversion: Option<Vec<Issue>>,
    #[serde(default)]
    warnings: Vec<Warning>,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let name = args.file.display().to_string();
    let body = std::fs::read(&args.file)
        .map_err(|e| Failure::Local(format!("cannot read {name}: {e}")))?;
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(note) = &args.note {
        query.push(("note", note.clone()));
    }
    if args.dry_run {
        query.push(("dry_run", "true".into()));
    }
    let request = client
        .post(&["api", "templates"])
        .query(&query)
        .header(reqwest::header::CONTENT_TYPE, content_type(&args.file))
        .body(body);
    if args.dry_run {
        let preview: Preview = client.json(request).await.map_err(|f| f.in_file(&name))?;
        report(&name, preview.conversion.as_deref(), &preview.warnings);
        out!("{}", preview.source);
        if !preview.source.ends_with('\n') {
            outln!();
        }
    } else {
        let saved: Saved = client.json(request).await.map_err(|f| f.in_file(&name))?;
        report(&name, saved.conversion.as_deref(), &saved.warnings);
        outln!(
            "created template {} v{}",
            saved.template.name,
            saved.template.version
        );
    }
    Ok(())
}

/// Prints a conversion report and the warnings on stderr.
fn report(file: &str, issues: Option<&[Issue]>, warnings: &[Warning]) {
    for line in report_lines(file, issues.unwrap_or_default()) {
        crate::output::errln!("{line}");
    }
    for line in warning_lines(file, issues.is_some(), warnings) {
        crate::output::errln!("{line}");
    }
}

/// One line per warning; for a converted file, whose warnings are placed in the
/// converted form, the place is named in the message instead.
fn warning_lines(file: &str, converted: bool, warnings: &[Warning]) -> Vec<String> {
    warnings
        .iter()
        .map(|w| {
            if converted {
                format!(
                    "{file}:1:1: warning: {}: in the converted template, at {}:{}: {}",
                    w.path, w.line, w.column, w.message
                )
            } else {
                format!(
                    "{file}:{}:{}: warning: {}: {}",
                    w.line, w.column, w.path, w.message
                )
            }
        })
        .collect()
}

/// One line per issue, like a compiler's warnings.
fn report_lines(file: &str, issues: &[Issue]) -> Vec<String> {
    issues
        .iter()
        .map(|i| {
            format!(
                "{file}:{}:{}: warning: {}: {}: {}",
                i.line, i.column, i.kind, i.path, i.message
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn conversion_issues_read_like_warnings() {
        let saved: Saved = serde_json::from_value(json!({
            "template": {"id": "x", "name": "bug-fix", "version": 1},
            "outcome": "created",
            "conversion": [{"kind": "dropped", "path": "/workflow_definition/x",
                            "message": "no equivalent", "line": 3, "column": 5}],
        }))
        .expect("an answer");
        assert_eq!(
            report_lines("t.json", saved.conversion.as_deref().unwrap_or_default()),
            ["t.json:3:5: warning: dropped: /workflow_definition/x: no equivalent"]
        );
    }

    #[test]
    fn warnings_read_like_a_compilers() {
        let saved: Saved = serde_json::from_value(json!({
            "template": {"id": "x", "name": "greet", "version": 1},
            "outcome": "created",
            "warnings": [{"severity": "warning", "path": "workflow.tasks.a.with", "task": "a",
                          "message": "`$params.x` reads `x`, which ...", "line": 7, "column": 30}],
        }))
        .expect("an answer");
        assert_eq!(
            warning_lines("t.yaml", false, &saved.warnings),
            ["t.yaml:7:30: warning: workflow.tasks.a.with: `$params.x` reads `x`, which ..."]
        );
        assert_eq!(
            warning_lines("t.json", true, &saved.warnings),
            [
                "t.json:1:1: warning: workflow.tasks.a.with: in the converted template, at 7:30: `$params.x` reads `x`, which ..."
            ]
        );
    }
}
