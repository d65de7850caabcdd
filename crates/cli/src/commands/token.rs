//! `harmonia token create|list|delete`: API tokens of a server's database.
//!
//! A token is printed once, when created; the database keeps only its hash. Creating
//! the first token turns auth on for a server using that database, for good: deleting
//! every token afterwards leaves a server that refuses every API request until a new
//! token is created. A deleted token is refused by a running server from its next
//! request on; no restart is needed for either.

use crate::output::outln;
use std::process::ExitCode;

use harmonia_server::Role;
use harmonia_storage::Store;

use super::database::Database;
use super::local::runtime;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
    /// The server's database: a SQLite file or a PostgreSQL URL [default: harmonia.db].
    #[arg(long, env = "HARMONIA_DB", value_name = "PATH|URL", global = true)]
    db: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create a token and print it (once).
    Create {
        /// admin, operator, viewer, or worker (an external worker: may only poll and
        /// report work).
        #[arg(long, value_parser = ["admin", "operator", "viewer", "worker"])]
        role: String,
        /// Who or what uses it.
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their values).
    List,
    /// Delete a token by id.
    Delete {
        /// The token's id.
        id: String,
    },
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(token(args))
}

async fn token(args: &Args) -> anyhow::Result<ExitCode> {
    let db = Database::parse(args.db.as_deref().unwrap_or("harmonia.db"));
    let opened = db.open(Default::default()).await?;
    let code = tokens(args, opened.store.as_ref()).await;
    opened.close().await;
    code
}

async fn tokens(args: &Args, store: &dyn Store) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::Create { role, name } => {
            let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("unknown role `{role}`"))?;
            let (token, record) = harmonia_server::create_token(store, name, role).await?;
            crate::output::errln!(
                "created token {} ({} `{}`); it is shown only once:",
                record.id,
                record.role,
                record.name
            );
            outln!("{token}");
        }
        Command::List => {
            for t in store.tokens().await? {
                outln!("{}  {:<8}  {}  {}", t.id, t.role, t.created_at, t.name);
            }
        }
        Command::Delete { id } => {
            if !store.delete_token(id).await? {
                crate::output::errln!("error: no token {id}");
                return Ok(ExitCode::from(1));
            }
            crate::output::errln!("deleted token {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
