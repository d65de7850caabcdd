//! `harmonia schema`: print the JSON Schema of the workflow definition format, or with
//! `--template` that of the template format.
//!
//! `docs/workflow.schema.json` and `docs/template.schema.json` are these outputs; tests
//! keep them equal.

use crate::output::outln;
use std::process::ExitCode;

use harmonia_model::schema::{template_schema, workflow_schema};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The schema of templates (parameters, metadata and a workflow body) instead.
    #[arg(long)]
    template: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let types = harmonia_engine::kinds::builtin_types();
    let schema = if args.template {
        template_schema(&types)
    } else {
        workflow_schema(&types)
    };
    outln!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
