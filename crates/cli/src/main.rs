//! `harmonia`: the one binary.
//!
//! Each subcommand lives in `commands/` and returns the process exit code; `main` only
//! parses the command line and exits with it. Exit codes: 0 success, 1 the input was
//! invalid (or the work failed), 2 the command line itself was wrong.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Harmonia: durable workflow orchestration.
#[derive(Debug, Parser)]
#[command(name = "harmonia", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check workflow definitions and print every problem as FILE:LINE:COL: error: ...
    Validate(commands::validate::Args),
    /// Draw a workflow's task graph (Mermaid, Graphviz DOT or JSON).
    Graph(commands::graph::Args),
    /// Print the JSON Schema of the workflow definition format.
    Schema(commands::schema::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&args),
        Command::Graph(args) => commands::graph::run(&args),
        Command::Schema(args) => commands::schema::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
