//! `harmonia migrate [--db PATH|URL]`: brings a database's schema up to date and says
//! where it stands, without serving. `harmonia serve` does the same when it starts;
//! this is for doing it ahead (before a rolling upgrade of several nodes, say), or for
//! checking that a database is usable by this binary.
//!
//! A database written by a newer Harmonia is refused, saying which migration it has
//! that this binary lacks; an unreachable server says which address it tried.

use std::process::ExitCode;

use crate::output::outln;

use super::database::Database;
use super::local::runtime;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database: a SQLite file, or a PostgreSQL URL [default: harmonia.db].
    #[arg(long, env = "HARMONIA_DB", value_name = "PATH|URL")]
    db: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let db = Database::parse(args.db.as_deref().unwrap_or("harmonia.db"));
    runtime()?.block_on(async {
        db.open(Default::default()).await?.close().await;
        outln!(
            "{}: the schema is up to date (migration {})",
            db.display(),
            db.schema_version()
        );
        Ok(ExitCode::SUCCESS)
    })
}
