//! PostgreSQL: [`PostgresDialect`], and [`PostgresStore`] (the [`SqlStore`] on one
//! PostgreSQL database): connecting to it, its pool, and what is PostgreSQL's own in
//! the SQL.
//!
//! Connections: one pool, used as both the writer and the readers of the
//! [`SqlStore`]. The server serializes what must be serialized with row locks, so
//! several writers (of this process or of other nodes on the same database) run at
//! once: the catalog's writes lock their name's row, a conditional commit the
//! execution rows of its fences and the idempotency rows of its keys
//! ([`Dialect::LOCK_ROW`] is ` FOR UPDATE`), and a unique key decides between
//! concurrent inserts of the same event, inbox event or idempotency key.
//!
//! What is PostgreSQL's own in the dialect: `$n` placeholders everywhere, 65,535
//! bound values per statement, values bound as `INT8` and `TEXT` and read back as
//! `i64` and `&str` (so every integer column is `BIGINT`), `strpos` for
//! [`Dialect::FIND`], JSON fields read through `jsonb` (the columns stay text, so an
//! event reads back byte for byte), the database's size from `pg_database_size`.
//!
//! Invariants:
//! - [`PostgresStore::connect`] returns only once the server answered and the
//!   migrations (`migrations/postgres/`, embedded in the binary, idempotent, run under
//!   sqlx's advisory lock so that two nodes starting at once do not both run them)
//!   are applied.
//! - A failure to connect says which server (`host:port`, or the socket) and why, in
//!   words a user can act on; it never shows the password, nor the URL it came in.

use std::str::FromStr;
use std::time::Duration;

use harmonia_storage::{Error, Result};
use sqlx::error::BoxDynError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult, PgRow, Postgres,
};
use sqlx::{Arguments, Connection as _, Executor, Row as _};

use crate::dialect::{Dialect, Value};
use crate::store::SqlStore;

/// The migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// How to connect a [`PostgresStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The most connections the store's pool opens (at least 1).
    pub max_connections: u32,
    /// How long an operation waits for a free connection of the pool.
    pub acquire_timeout: Duration,
    /// How long `connect` waits for the server to answer before failing.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The [`Dialect`] of PostgreSQL. It holds nothing: the server keeps all there is.
#[derive(Debug)]
pub struct PostgresDialect {
    _private: (),
}

impl Dialect for PostgresDialect {
    type Db = Postgres;
    type Args = PgArguments;

    /// The protocol counts a statement's parameters in 16 bits.
    const MAX_BIND_PARAMS: usize = 65_535;
    /// Row locks (below) keep concurrent writers of the same rows apart.
    const BEGIN_WRITE: &'static str = "BEGIN";
    const LOCK_ROW: &'static str = " FOR UPDATE";
    const FIND: &'static str = "strpos";

    fn placeholder(sql: &mut String, n: usize) {
        use std::fmt::Write as _;
        // Writing to a `String` cannot fail.
        let _ = write!(sql, "${n}");
    }

    fn bind(args: &mut PgArguments, value: Value) -> Result<(), BoxDynError> {
        match value {
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Shared(v) => args.add(v),
        }
    }

    fn exec<'c>(conn: &'c mut PgConnection) -> impl Executor<'c, Database = Postgres> {
        conn
    }

    fn text<'r>(row: &'r PgRow, column: &str) -> Result<Option<&'r str>, sqlx::Error> {
        row.try_get(column)
    }

    fn int(row: &PgRow, column: &str) -> Result<Option<i64>, sqlx::Error> {
        row.try_get(column)
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn json_field(column: &str, field: &str) -> String {
        format!(
            "CASE jsonb_typeof({column}::jsonb -> '{field}') \
             WHEN 'string' THEN {column}::jsonb ->> '{field}' WHEN 'null' THEN NULL \
             ELSE ({column}::jsonb -> '{field}')::text END"
        )
    }

    fn json_rows(columns: &[&str]) -> String {
        format!(
            "coalesce(json_agg(json_build_array({})), '[]')::text",
            columns.join(", ")
        )
    }

    const DATABASE_SIZE: Option<&'static str> =
        Some("SELECT pg_database_size(current_database()) AS n");
}

/// A store on a PostgreSQL database.
pub type PostgresStore = SqlStore<PostgresDialect>;

impl SqlStore<PostgresDialect> {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// with sqlx's parameters, such as `sslmode`), and brings its schema up to date.
    /// The database must exist.
    ///
    /// Fails within `options.connect_timeout` when the server cannot be reached, with
    /// an error that names the server (never the password).
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        let connect = PgConnectOptions::from_str(url).map_err(|e| {
            fail(
                format!(
                    "invalid PostgreSQL URL `{}`: {}",
                    redact(url),
                    plain(&e.to_string(), url)
                ),
                e,
            )
        })?;
        let server = Server::of(&connect);

        // One connection first, bounded by its own timeout: the pool would retry a
        // refused connection until its acquire timeout and then report only that it
        // timed out.
        match tokio::time::timeout(
            options.connect_timeout,
            PgConnection::connect_with(&connect),
        )
        .await
        {
            Ok(Ok(conn)) => {
                // The pool opens its own; this one only proved the server is there.
                let _ = conn.close().await;
            }
            Ok(Err(e)) => return Err(server.refused(e, url)),
            Err(_) => {
                return Err(Error::Backend(
                    format!(
                        "could not reach the PostgreSQL server at {}: no answer within {:?}; \
                         is it running, and is the address right?",
                        server.address, options.connect_timeout
                    )
                    .into(),
                ));
            }
        }

        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_lazy_with(connect);
        let migrator = PostgresDialect::migrator();
        if let Err(e) = migrator.run(&pool).await {
            pool.close().await;
            return Err(crate::error::migration(e, migrator));
        }
        Ok(SqlStore::with(
            pool.clone(),
            pool,
            PostgresDialect { _private: () },
        ))
    }
}

/// The server a store connects to, as a failure names it.
struct Server {
    /// `host:port`, or the socket directory.
    address: String,
    user: String,
    database: String,
}

impl Server {
    fn of(options: &PgConnectOptions) -> Server {
        let host = options.get_host();
        let address = if host.starts_with('/') || options.get_socket().is_some() {
            match options.get_socket() {
                Some(dir) => format!("socket {}", dir.display()),
                None => format!("socket {host}"),
            }
        } else if host.contains(':') {
            format!("[{host}]:{}", options.get_port())
        } else {
            format!("{host}:{}", options.get_port())
        };
        let user = options.get_username().to_owned();
        let database = options.get_database().unwrap_or(&user).to_owned();
        Server {
            address,
            user,
            database,
        }
    }

    /// A failed connection attempt as an error saying why, in words a user can act on.
    fn refused(&self, e: sqlx::Error, url: &str) -> Error {
        let address = &self.address;
        let message = match &e {
            sqlx::Error::Io(io) => format!(
                "could not reach the PostgreSQL server at {address}: {io}; is it running, and \
                 is the address right?"
            ),
            sqlx::Error::Tls(tls) => format!(
                "could not set up TLS with the PostgreSQL server at {address}: {}",
                plain(&tls.to_string(), url)
            ),
            sqlx::Error::Database(db) => {
                let said = plain(db.message(), url);
                match db.code().as_deref() {
                    Some("28P01" | "28000") => format!(
                        "the PostgreSQL server at {address} refused user `{}`: {said}; check \
                         the user name and password",
                        self.user
                    ),
                    Some("3D000") => format!(
                        "the PostgreSQL server at {address} has no database `{}`: {said}; \
                         create it first",
                        self.database
                    ),
                    Some("57P03") => format!(
                        "the PostgreSQL server at {address} is not accepting connections yet: \
                         {said}"
                    ),
                    _ => {
                        format!("the PostgreSQL server at {address} refused the connection: {said}")
                    }
                }
            }
            other => format!(
                "could not connect to the PostgreSQL server at {address} as user `{}`: {}",
                self.user,
                plain(&other.to_string(), url)
            ),
        };
        fail(message, e)
    }
}

/// A connection failure: a message that names the server, with sqlx's error as its
/// source.
#[derive(Debug)]
struct ConnectError {
    message: String,
    source: sqlx::Error,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn fail(message: String, source: sqlx::Error) -> Error {
    Error::Backend(Box::new(ConnectError { message, source }))
}

/// `text` with the password of `url`, if it has one, masked (a message that might
/// quote the URL back).
fn plain(text: &str, url: &str) -> String {
    match password(url) {
        Some(password) if !password.is_empty() => text.replace(password, "***"),
        _ => text.to_owned(),
    }
}

/// The password part of a URL's credentials, as written.
fn password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (credentials, _) = authority.rsplit_once('@')?;
    credentials.split_once(':').map(|(_, password)| password)
}

/// `url` without its credentials' password and without its query (which may carry
/// one): what an error may print.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{credentials}@{host}"),
        },
        None => authority.to_owned(),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_printed_without_their_password() {
        assert_eq!(
            redact("postgres://u:s3cret@db:5432/h?sslmode=require&password=x"),
            "postgres://u:***@db:5432/h"
        );
        assert_eq!(redact("postgres://u@db/h"), "postgres://u@db/h");
        assert_eq!(redact("postgres://db"), "postgres://db");
        assert_eq!(redact("nonsense"), "(not a URL)");
        assert_eq!(password("postgres://u:p@ss@db/h"), Some("p@ss"));
        assert_eq!(redact("postgres://u:p@ss@db/h"), "postgres://u:***@db/h");
        assert_eq!(
            plain("bad s3cret here", "postgres://u:s3cret@db/h"),
            "bad *** here"
        );
    }

    #[test]
    fn placeholders_are_numbered() {
        let mut sql = String::new();
        PostgresDialect::placeholder(&mut sql, 12);
        assert_eq!(sql, "$12");
    }
}
