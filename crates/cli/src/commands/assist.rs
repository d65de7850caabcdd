//! `harmonia assist new|diagnose|optimize`: the assistant from the command line, on a
//! local database (`--db`, as `harmonia run` uses; a temporary one when not given)
//! with the model of `harmonia.toml`'s `[llm]` and the `HARMONIA_LLM_*` variables.
//! The same use cases as the server's `/api/assist` routes.
//!
//! Exit codes: 0 done (`new`: the draft validates); 1 the draft does not validate, or
//! the model or the database failed; 2 the command line is wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use harmonia_app::App;
use harmonia_app::assist::DraftRequest;
use harmonia_storage::ExecutionId;
use serde_json::{Value, json};

use super::durability::Durability;
use super::local::{Local, Output, runtime};
use crate::output::{errln, outln};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
    /// The local database (default: a temporary one).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// How to print the result.
    #[arg(long, short = 'o', global = true, value_enum, default_value = "text")]
    output: Output,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Draft a workflow from a description: the model drafts, Harmonia validates, the
    /// model repairs from the diagnostics. Prints the YAML (or writes it to --file).
    New(NewArgs),
    /// Explain why an execution of the local database failed, with a patch that
    /// validates when there is one.
    Diagnose(DiagnoseArgs),
    /// Find what could make a workflow faster or sturdier: its critical path, needless
    /// serial steps, calls without a timeout or retry, unbounded fan-outs, ...
    Optimize(OptimizeArgs),
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// What the workflow should do, in plain language.
    description: String,
    /// Write the YAML to this file instead of stdout (not when it does not validate).
    #[arg(long, short = 'f', value_name = "FILE")]
    file: Option<PathBuf>,
    /// Example inputs, as a JSON object: the draft gets an `inputs` schema from them.
    #[arg(long, value_name = "JSON")]
    inputs_example: Option<String>,
    /// Drafts to allow (the first and its repairs), 1 to 10.
    #[arg(long, value_name = "N")]
    max_rounds: Option<u32>,
}

#[derive(Debug, clap::Args)]
struct DiagnoseArgs {
    /// The execution's id.
    id: String,
}

#[derive(Debug, clap::Args)]
struct OptimizeArgs {
    /// A definition file, or the name of a workflow stored in the database.
    workflow: String,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        // The model comes with the local engine (`Local::open` reads it).
        let local = Local::open(args.db.as_deref(), Durability::default(), false, None).await?;
        let app = local.app.clone();
        let outcome = match &args.command {
            Command::New(a) => new(&app, a, args.output).await,
            Command::Diagnose(a) => diagnose(&app, a, args.output).await,
            Command::Optimize(a) => optimize(&app, a, args.output).await,
        };
        local.close().await;
        outcome
    })
}

fn print_error(e: &harmonia_app::Error, output: Output) -> ExitCode {
    match output {
        Output::Json => outln!("{}", json!({"error": {"message": e.to_string()}})),
        Output::Text => errln!("error: {e}"),
    }
    ExitCode::from(1)
}

async fn new(app: &App, a: &NewArgs, output: Output) -> anyhow::Result<ExitCode> {
    let inputs_example = match &a.inputs_example {
        Some(text) => {
            Some(serde_json::from_str::<Value>(text).context("--inputs-example is not JSON")?)
        }
        None => None,
    };
    let request = DraftRequest {
        description: a.description.clone(),
        inputs_example,
        max_rounds: a.max_rounds,
    };
    let draft = match app.assist().draft(&request).await {
        Ok(d) => d,
        Err(e) => return Ok(print_error(&e, output)),
    };
    if output == Output::Json {
        outln!("{}", serde_json::to_string_pretty(&draft)?);
    } else {
        match (&a.file, draft.valid) {
            (Some(path), true) => {
                std::fs::write(path, &draft.yaml)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                errln!("wrote {}", path.display());
            }
            _ => outln!("{}", draft.yaml.trim_end()),
        }
        let verdict = if draft.valid { "valid" } else { "NOT valid" };
        errln!(
            "{verdict} after {} draft(s) by {} ({} ms; {} prompt + {} completion tokens)",
            draft.rounds,
            draft.model,
            draft.elapsed_ms,
            draft.tokens.prompt,
            draft.tokens.completion
        );
        for r in &draft.repairs {
            errln!("  note: {r}");
        }
        for d in &draft.diagnostics {
            errln!("  {}", d.render("draft"));
        }
    }
    Ok(if draft.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn diagnose(app: &App, a: &DiagnoseArgs, output: Output) -> anyhow::Result<ExitCode> {
    let Ok(id) = a.id.parse::<ExecutionId>() else {
        errln!("error: `{}` is not an execution id", a.id);
        return Ok(ExitCode::from(2));
    };
    let d = match app.assist().diagnose(id).await {
        Ok(d) => d,
        Err(e) => return Ok(print_error(&e, output)),
    };
    if output == Output::Json {
        outln!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}", d.summary);
    outln!("cause: {}", d.cause);
    for e in &d.evidence {
        outln!(
            "  event #{}: {}",
            e["seq"],
            e["why"].as_str().unwrap_or_default()
        );
    }
    for s in &d.suggestions {
        outln!("- {s}");
    }
    if let Some(p) = &d.patch {
        outln!("patch (validated):");
        outln!("{}", p.diff.trim_end());
    }
    if d.model.is_none() {
        errln!("(no language model configured: this is Harmonia's own diagnosis)");
    }
    Ok(ExitCode::SUCCESS)
}

async fn optimize(app: &App, a: &OptimizeArgs, output: Output) -> anyhow::Result<ExitCode> {
    let path = std::path::Path::new(&a.workflow);
    let report = if path.exists() {
        let source =
            super::read_source(path).with_context(|| format!("cannot read {}", path.display()))?;
        app.assist().optimize_source(&source).await
    } else {
        app.assist().optimize(&a.workflow, None).await
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => return Ok(print_error(&e, output)),
    };
    if output == Output::Json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let cp = &report.analysis.critical_path;
    outln!("critical path: {}", cp.tasks.join(" -> "));
    for (i, f) in report.analysis.findings.iter().enumerate() {
        let severity = serde_json::to_value(f.severity).unwrap_or(Value::Null);
        outln!(
            "[{i}] {} {}: {}",
            severity.as_str().unwrap_or_default(),
            f.path,
            f.message
        );
        outln!("    fix: {}", f.suggestion);
    }
    if report.analysis.findings.is_empty() {
        outln!("no findings");
    }
    if let Some(x) = &report.explanation {
        outln!("\n{}", x.summary);
        for r in &x.ranking {
            outln!(
                "  #{}: {}",
                r["finding"],
                r["why"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
