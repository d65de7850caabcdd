//! `harmonia validate FILE...`: every problem of every file, one line each.
//!
//! Text output is one `FILE:LINE:COL: error: FIELD: MESSAGE` line per problem (warnings
//! as `warning:`), in file order then source order, on stdout, and a summary on stderr.
//! `--format json` prints one JSON document instead. Exit 0 when every file is valid
//! (warnings allowed), 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use harmonia_model::{Diagnostic, Position, Severity, TaskTypes};
use serde_json::json;

use super::{expand, read_source};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Definition files (YAML or JSON), or directories of them.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let types = TaskTypes::builtin();
    let files = expand(&args.files)?;
    let mut reports = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        let diagnostics = match read_source(file) {
            Err(e) => vec![Diagnostic {
                severity: Severity::Error,
                path: String::new(),
                task: None,
                message: format!("cannot read the file: {e}"),
                position: Position { line: 1, column: 1 },
            }],
            Ok(source) => match harmonia_model::load(&source, &types) {
                Ok(loaded) => loaded.warnings,
                Err(e) => e.diagnostics().to_vec(),
            },
        };
        reports.push((name, diagnostics));
    }

    let invalid = reports
        .iter()
        .filter(|(_, d)| d.iter().any(|d| d.severity == Severity::Error))
        .count();
    match args.format {
        OutputFormat::Text => {
            for (name, diagnostics) in &reports {
                for d in diagnostics {
                    println!("{}", d.render(name));
                }
            }
            let errors: usize = reports
                .iter()
                .map(|(_, d)| d.iter().filter(|d| d.severity == Severity::Error).count())
                .sum();
            if invalid == 0 {
                eprintln!("{} valid", plural(reports.len(), "file"));
            } else {
                eprintln!(
                    "{} in {} of {}",
                    plural(errors, "error"),
                    invalid,
                    plural(reports.len(), "file")
                );
            }
        }
        OutputFormat::Json => {
            let files: Vec<_> = reports
                .iter()
                .map(|(name, diagnostics)| {
                    json!({
                        "file": name,
                        "valid": !diagnostics.iter().any(|d| d.severity == Severity::Error),
                        "diagnostics": diagnostics,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"valid": invalid == 0, "files": files}))?
            );
        }
    }
    Ok(if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
