//! `harmonia graph FILE --format mermaid|dot|json`: draw a workflow's task graph.
//!
//! The definition must be valid; otherwise its problems are printed as by `validate`
//! and the exit code is 1.

use crate::output::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use harmonia_model::graph::{GraphFormat, render};

use super::read_source;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A definition file (YAML or JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Mermaid,
    Dot,
    Json,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let name = args.file.display().to_string();
    let source = read_source(&args.file).map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))?;
    match harmonia_model::load(&source, &harmonia_engine::kinds::builtin_types()) {
        Ok(loaded) => {
            let format = match args.format {
                Format::Mermaid => GraphFormat::Mermaid,
                Format::Dot => GraphFormat::Dot,
                Format::Json => GraphFormat::Json,
            };
            out!("{}", render(&loaded.plan, format));
            if args.format == Format::Json {
                outln!();
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for d in e.diagnostics() {
                crate::output::errln!("{}", d.render(&name));
            }
            Ok(ExitCode::from(1))
        }
    }
}
