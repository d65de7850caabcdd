//! `harmonia schema`: print the JSON Schema of the workflow definition format.
//!
//! `docs/workflow.schema.json` is this output; a test keeps the two equal.

use std::process::ExitCode;

use harmonia_model::TaskTypes;
use harmonia_model::schema::workflow_schema;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_: &Args) -> anyhow::Result<ExitCode> {
    let schema = workflow_schema(&TaskTypes::builtin());
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
