//! Which database a server-side command uses (`--db`, `HARMONIA_DB`, `db` in the
//! config file): a SQLite file path, or a PostgreSQL URL (`postgres://` or
//! `postgresql://`), which several `harmonia serve` nodes may share.
//!
//! Opening either brings its schema up to date (the migrations are in the binary); a
//! database written by a newer Harmonia is refused, saying so. A URL is shown with its
//! password replaced by `***`, never in clear.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use harmonia_storage::Store;
use harmonia_storage_sql::dialect::Dialect;
use harmonia_storage_sql::{
    PostgresDialect, PostgresOptions, PostgresStore, SqliteDialect, SqliteOptions, SqliteStore,
};

/// A database, by where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server's database, by URL.
    Postgres(String),
}

impl Database {
    /// `text` as a database: a PostgreSQL URL by its scheme, otherwise a file path.
    pub(crate) fn parse(text: &str) -> Database {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres(text.to_owned())
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }

    /// How to show it: the path, or the URL without its password.
    pub(crate) fn display(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => redact(url),
        }
    }

    /// Whether several servers may share it.
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }

    /// Opens it (SQLite with `sqlite`'s settings), its schema brought up to date. The
    /// caller closes it ([`Opened::close`]) before the process ends.
    pub(crate) async fn open(&self, sqlite: SqliteOptions) -> anyhow::Result<Opened> {
        Ok(match self {
            Database::Sqlite(path) => {
                let store = Arc::new(
                    SqliteStore::open(path, sqlite)
                        .await
                        .with_context(|| format!("cannot open the database {}", path.display()))?,
                );
                Opened {
                    store: store.clone(),
                    pools: Pools::Sqlite(store),
                }
            }
            Database::Postgres(url) => {
                let store = Arc::new(
                    PostgresStore::connect(url, PostgresOptions::default())
                        .await
                        .with_context(|| format!("cannot open the database {}", redact(url)))?,
                );
                Opened {
                    store: store.clone(),
                    pools: Pools::Postgres(store),
                }
            }
        })
    }

    /// The version of the last migration this binary knows for it.
    pub(crate) fn schema_version(&self) -> i64 {
        let migrator = match self {
            Database::Sqlite(_) => SqliteDialect::migrator(),
            Database::Postgres(_) => PostgresDialect::migrator(),
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

/// The longest a command waits for its database to close before it exits anyway.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// An open database.
pub(crate) struct Opened {
    /// The store, for everything that uses it.
    pub(crate) store: Arc<dyn Store>,
    pools: Pools,
}

/// The connections behind [`Opened::store`], to close.
enum Pools {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Opened {
    /// Closes the connections and waits until they are closed (at most [`CLOSE_WAIT`]):
    /// a SQLite file then holds everything on its own (the last connection to close
    /// copies the WAL into it and removes the WAL), and a PostgreSQL server sees its
    /// sessions end rather than drop. Left to the process's exit, SQLite's copy could be
    /// cut off halfway (nothing is lost: the next open reads the WAL).
    pub(crate) async fn close(self) {
        let closed = match &self.pools {
            Pools::Sqlite(s) => tokio::time::timeout(CLOSE_WAIT, s.close()).await,
            Pools::Postgres(s) => tokio::time::timeout(CLOSE_WAIT, s.close()).await,
        };
        if closed.is_err() {
            tracing::warn!("the database did not close within {CLOSE_WAIT:?}");
        }
    }
}

/// `url` with the password of its user part replaced by `***`.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(a PostgreSQL URL that does not parse)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_the_rest_are_files() {
        assert_eq!(
            Database::parse("postgres://u:p@h/db"),
            Database::Postgres("postgres://u:p@h/db".into())
        );
        assert!(matches!(
            Database::parse("PostgreSQL://h/db"),
            Database::Postgres(_)
        ));
        assert_eq!(
            Database::parse("data/harmonia.db"),
            Database::Sqlite("data/harmonia.db".into())
        );
        assert_eq!(
            Database::parse("postgres.db"),
            Database::Sqlite("postgres.db".into())
        );
    }

    #[test]
    fn a_password_is_never_shown() {
        let shown = Database::parse("postgres://me:s3cret@db.internal:5433/h").display();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("me:***@db.internal:5433/h"), "{shown}");
        assert_eq!(
            Database::parse("postgres://db/h").display(),
            "postgres://db/h"
        );
    }
}
