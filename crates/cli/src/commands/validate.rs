//! `harmonia validate FILE...`: every problem of every file, one line each.
//!
//! A file may hold a workflow, a template, an export document of templates, or an
//! original Tekton template (told apart by their top-level keys; see
//! `harmonia_model::Parsed::kind`; a workflow is then read from that same parse, not
//! parsed again). A Tekton file is converted: what the conversion could not carry over
//! is a warning pointing into the file, and a problem of the converted form an error at
//! the file's start naming its place in that form.
//!
//! A workflow that runs another (`type: workflow`) gets a warning when no file beside
//! it holds that workflow (`NAME.yaml`, `NAME.yml` or `NAME.json`, where `harmonia run`
//! looks): it may still be stored on the server it will run on.
//!
//! Text output is one `FILE:LINE:COL: error: FIELD: MESSAGE` line per problem (warnings
//! as `warning:`), in file order then source order, on stdout, and a summary on stderr.
//! `--format json` prints one JSON document instead. Exit 0 when every file is valid
//! (warnings allowed), 1 otherwise.

use crate::output::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use harmonia_model::template::tekton;
use harmonia_model::template::{self, FileKind};
use harmonia_model::{Diagnostic, Position, Severity, Source, TaskTypes};
use serde_json::json;

use super::beside::Beside;
use super::{expand, read_source};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Definition files (YAML or JSON: workflows, templates, export documents, Tekton
    /// templates), or directories of them.
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
    let types = harmonia_engine::kinds::builtin_types();
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
            Ok(source) => {
                let beside = Beside {
                    dir: file
                        .parent()
                        .map(PathBuf::from)
                        .unwrap_or_else(|| PathBuf::from(".")),
                };
                check(&source, &types, &beside)
            }
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
                    outln!("{}", d.render(name));
                }
            }
            let errors: usize = reports
                .iter()
                .map(|(_, d)| d.iter().filter(|d| d.severity == Severity::Error).count())
                .sum();
            let warnings: usize = reports
                .iter()
                .map(|(_, d)| d.iter().filter(|d| d.severity == Severity::Warning).count())
                .sum();
            if invalid == 0 && warnings == 0 {
                crate::output::errln!("{} valid", plural(reports.len(), "file"));
            } else if invalid == 0 {
                crate::output::errln!(
                    "{} valid ({})",
                    plural(reports.len(), "file"),
                    plural(warnings, "warning")
                );
            } else {
                crate::output::errln!(
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
            outln!(
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

/// Every problem of one file (errors and warnings), whatever it holds; sub-workflows
/// are looked for in `beside`.
fn check(source: &Source, types: &TaskTypes, beside: &Beside) -> Vec<Diagnostic> {
    // Parsed once: its top-level keys say which reader it is for, and a workflow (the
    // common case, and the large one) is read from the same tree.
    let parsed = harmonia_model::parse(source);
    match parsed.kind() {
        FileKind::Workflow => match harmonia_model::load_parsed(source, parsed, types) {
            Ok(loaded) => {
                let mut found = loaded.warnings.clone();
                found.extend(missing_sub_workflows(&loaded, source, beside));
                found.sort_by_key(|d| d.position);
                found
            }
            Err(e) => e.diagnostics().to_vec(),
        },
        FileKind::Template => match template::read(source, types) {
            Ok(loaded) => loaded.warnings,
            Err(e) => e.diagnostics().to_vec(),
        },
        FileKind::Document => match template::Document::read(source, types) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics().to_vec(),
        },
        FileKind::Tekton => match tekton::convert(source) {
            Err(e) => e.diagnostics().to_vec(),
            Ok(conversion) => {
                let mut found: Vec<Diagnostic> = conversion
                    .report
                    .iter()
                    .map(|i| Diagnostic {
                        severity: Severity::Warning,
                        path: i.path.clone(),
                        task: None,
                        message: format!("{}: {}", i.kind.as_str(), i.message),
                        position: i.position,
                    })
                    .collect();
                let problems = match template::read(&conversion.source(), types) {
                    Ok(loaded) => loaded.warnings,
                    Err(e) => e.diagnostics().to_vec(),
                };
                found.extend(problems.into_iter().map(|d| Diagnostic {
                    message: format!(
                        "in the converted template, at {}: {}",
                        d.position, d.message
                    ),
                    position: Position { line: 1, column: 1 },
                    ..d
                }));
                found
            }
        },
    }
}

/// A warning for each sub-workflow that no file beside the definition holds.
fn missing_sub_workflows(
    loaded: &harmonia_model::Loaded,
    source: &Source,
    beside: &Beside,
) -> Vec<Diagnostic> {
    harmonia_model::sub_workflows(loaded, source)
        .into_iter()
        .filter(|sub| !beside.candidates(&sub.name).iter().any(|p| p.is_file()))
        .map(|sub| {
            let name = harmonia_model::clip(&sub.name);
            sub.warning(format!(
                "no workflow `{name}` beside this file ({name}.yaml, {name}.yml or {name}.json), where `harmonia run` looks for it; unless it is stored where this workflow runs, task `{}` fails",
                sub.task
            ))
        })
        .collect()
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
