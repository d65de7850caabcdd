//! `harmonia`: the one binary.
//!
//! Each subcommand lives in `commands/` and returns the process exit code; `main` only
//! parses the command line and exits with it. Exit codes: 0 success, 1 the input was
//! invalid (or the work failed), 2 the command line itself was wrong. Results go to
//! stdout through `output` (`outln!`), which ends the process quietly, with 0, when
//! stdout is closed.

// Results go through `output::outln!`, which handles a closed stdout, and messages
// through `output::errln!`, which never panics on a closed stderr.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod output;

use std::process::ExitCode;

/// jemalloc: its per-thread counters bound the memory of each expression evaluation
/// (see `harmonia_expr::Limits`), and it returns freed memory to the system steadily.
/// It is built with one arena (`.cargo/config.toml`), so that what one thread frees the
/// others reuse, and without a prefix, so that it is the C `malloc` as well: SQLite's
/// allocations share its caches instead of a second allocator's.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use clap::{Parser, Subcommand};

/// Harmonia: durable workflow orchestration.
#[derive(Debug, Parser)]
#[command(name = "harmonia", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log as JSON lines (for log collectors) instead of text.
    #[arg(long, global = true, env = "HARMONIA_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, WebSockets, OpenAPI docs and metrics on one port.
    Serve(commands::serve::Args),
    /// Manage API tokens (create, list, delete).
    Token(commands::token::Args),
    /// Bring a database's schema up to date (SQLite file or PostgreSQL URL) without
    /// serving.
    Migrate(commands::migrate::Args),
    /// Check workflow definitions and print every problem as FILE:LINE:COL: error: ...
    Validate(commands::validate::Args),
    /// Draw a workflow's task graph (Mermaid, Graphviz DOT or JSON).
    Graph(commands::graph::Args),
    /// Print the JSON Schema of the workflow definition format (or, with --template, of
    /// templates).
    Schema(commands::schema::Args),
    /// Run a workflow locally on SQLite and show its progress and outputs.
    Run(commands::run::Args),
    /// Finish the unfinished executions of a local database (after a crash or a kill).
    Resume(commands::resume::Args),
    /// Run a failed execution again, reusing the outputs of what succeeded.
    Retry(commands::retry::Args),
    /// Show an execution's event log.
    History(commands::history::Args),
    /// Measure the engine on durable SQLite (chain, fan-outs, many executions).
    Bench(commands::bench::Args),
    /// Work with workflows on a running server: apply, list, get, versions, diff,
    /// delete.
    Workflow(commands::workflow::Args),
    /// Start an execution on a running server (from a file or a workflow's name), and
    /// optionally watch it to its end.
    Submit(commands::submit::Args),
    /// Work with executions on a running server: list, get, watch, events, cancel,
    /// pause, resume, retry, approve, reject.
    Execution(commands::execution::Args),
    /// Work with templates on a running server: list, show, create, export, import,
    /// instantiate.
    Template(commands::template::Args),
    /// Work with triggers on a running server: list, show, pause, resume.
    Trigger(commands::trigger::Args),
    /// The assistant, with a language model: draft a workflow from a description,
    /// diagnose a failed execution, find what to optimize.
    Assist(commands::assist::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(commands::completions::Args),
}

/// Logs to stderr, filtered by `RUST_LOG` (default: info for `serve`, warnings for
/// the other commands; the MCP SDK's per-request lines only from warnings), as text or
/// as JSON lines.
fn init_logging(json: bool, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log line that cannot be written is dropped: reporting it would write to
        // the same closed stderr, and panic.
        .log_internal_errors(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serve = matches!(cli.command, Command::Serve(_));
    // Freed memory goes back to the system in the background, not only when the
    // allocator is busy: an idle server that handled large inputs shrinks again. A
    // command that ends gives it all back at its exit; starting the thread there cost
    // a thread's start and end.
    if serve && let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        crate::output::errln!("warning: cannot start the allocator's background thread: {e}");
    }
    let default = if serve { "info,rmcp=warn" } else { "warn" };
    init_logging(cli.log_json, default);
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(&args),
        Command::Token(args) => commands::token::run(&args),
        Command::Migrate(args) => commands::migrate::run(&args),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Graph(args) => commands::graph::run(&args),
        Command::Schema(args) => commands::schema::run(&args),
        Command::Run(args) => commands::run::run(&args),
        Command::Resume(args) => commands::resume::run(&args),
        Command::Retry(args) => commands::retry::run(&args),
        Command::History(args) => commands::history::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Template(args) => commands::template::run(&args),
        Command::Trigger(args) => commands::trigger::run(&args),
        Command::Workflow(args) => commands::workflow::run(&args),
        Command::Submit(args) => commands::submit::run(&args),
        Command::Execution(args) => commands::execution::run(&args),
        Command::Assist(args) => commands::assist::run(&args),
        Command::Completions(args) => {
            commands::completions::run(&args, <Cli as clap::CommandFactory>::command())
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::output::errln!("error: {}", causes(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes, joined by `: `, each cause left out when the text so far
/// already says it (an error whose message quotes its source, as many do).
fn causes(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn a_cause_the_message_already_quotes_is_said_once() {
        let inner = std::io::Error::other("connection refused");
        let e = anyhow::Error::new(inner).context("cannot reach the server: connection refused");
        let e = e.context("cannot open the database");
        assert_eq!(
            super::causes(&e),
            "cannot open the database: cannot reach the server: connection refused"
        );
    }

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// Regression: `--help` said that `run` and `serve` were still to come.
    #[test]
    fn the_help_describes_the_binary_as_it_is() {
        let help = super::Cli::command().render_help().to_string();
        let about = help.lines().next().unwrap_or_default();
        for says in ["serve", "run"] {
            assert!(about.contains(says), "{about}");
        }
        assert!(!help.contains("as they land"), "{help}");
        for command in ["serve", "token", "run", "resume", "retry", "template"] {
            assert!(
                help.lines().any(|l| l.trim_start().starts_with(command)),
                "{command} in {help}"
            );
        }
    }
}
