//! The seam between the SQL code, written once, and a database: [`Dialect`].
//!
//! Every query and every row decoder in this crate is generic over a dialect, and runs
//! through `sql::Sql` (SQL text with its bound [`Value`]s). A dialect
//! says how to bind those values and read columns back (so the generic code needs no
//! sqlx type bounds), and supplies the few pieces of SQL and behaviour that differ
//! between databases. Why sqlx generic code rather than sqlx's `Any` driver: `Any`
//! copies every bound value and every row into its own representation (the commit of
//! a 100,000-task fan-out binds millions of values, and an event log is read whole on
//! every recovery), and cannot reach what is particular to one database (SQLite's
//! pragmas and checkpoints, PostgreSQL's row locks); a dialect is a few small
//! functions, resolved at compile time.
//!
//! What the SQL code relies on, in every dialect:
//! - Fixed statements write their parameters `$1`, `$2`, ...: PostgreSQL's syntax,
//!   which sqlx's SQLite driver also reads. Statements built piece by piece (listings,
//!   multi-row inserts) ask the dialect ([`Dialect::placeholder`]); one statement never
//!   mixes the two.
//! - Upserts and insert-or-ignore are `INSERT ... ON CONFLICT (key) DO UPDATE SET c =
//!   excluded.c` and `ON CONFLICT (key) DO NOTHING`, which SQLite and PostgreSQL both
//!   accept; a dialect overrides [`Dialect::upsert`] and [`Dialect::insert_ignore`]
//!   otherwise.
//! - `RETURNING` on `INSERT` and `UPDATE` (the inbox's new `seq`, the fences a claim
//!   made), which SQLite (3.35 on) and PostgreSQL both accept. An insert-or-ignore
//!   that inserts nothing returns no row.
//! - Matching rows by a pair of columns is `(a = ? AND b = ?) OR ...`
//!   (`Sql::any_of`), not a row-value `(a, b) IN (VALUES ...)`, which SQLite answers
//!   with a table scan.
//! - The schema is the same tables in every database (see `migrations/`): ids
//!   are lowercase hyphenated uuid text, JSON is text, timestamps are integer
//!   milliseconds, booleans are integers 0 and 1, a task run's `item` is -1 for the
//!   task itself.
//!
//! # The dialects
//!
//! - SQLite (`sqlite.rs`, `migrations/sqlite/`): `?` placeholders in built
//!   statements, `BEGIN IMMEDIATE` for [`BEGIN_WRITE`](Dialect::BEGIN_WRITE) (the
//!   database's write lock before the first read; no row locks, so
//!   [`LOCK_ROW`](Dialect::LOCK_ROW) is empty), `instr`, `json_type` and `->>` for JSON
//!   fields, `json_group_array`, and a log writer of its own for commits without
//!   idempotency keys (`sqlite_log.rs`).
//! - PostgreSQL (`postgres.rs`, `migrations/postgres/`): `PostgresDialect`, with `Db =
//!   sqlx::Postgres`, `Args = PgArguments`. [`placeholder`](Dialect::placeholder)
//!   writes `$n`; [`bind`](Dialect::bind) adds each [`Value`] as its Rust type
//!   (`Option<i64>`, `Option<String>`, `Arc<str>`), which sqlx sends as `INT8` and
//!   `TEXT`; [`text`](Dialect::text) and [`int`](Dialect::int) read `Option<&str>` and
//!   `Option<i64>`; `MAX_BIND_PARAMS` is 65,535; `BEGIN_WRITE` is `BEGIN` and
//!   `LOCK_ROW` is ` FOR UPDATE` (the catalog's writes lock the name's row instead of
//!   the whole database; a conditional commit locks the execution rows of its fences
//!   and the idempotency rows of its keys, in key order; a key that no row holds yet
//!   cannot be locked, and the commit runs again when another took it meanwhile, see
//!   `log.rs`); [`FIND`](Dialect::FIND) is `strpos`;
//!   [`json_field`](Dialect::json_field) is `CASE jsonb_typeof(c::jsonb -> 'f') WHEN
//!   'string' THEN c::jsonb ->> 'f' WHEN 'null' THEN NULL ELSE (c::jsonb -> 'f')::text
//!   END`, [`json_rows`](Dialect::json_rows) `coalesce(json_agg(json_build_array(a,
//!   b)), '[]')::text`, and [`DATABASE_SIZE`](Dialect::DATABASE_SIZE) `SELECT
//!   pg_database_size(current_database()) AS n`. The defaults of `upsert`,
//!   `insert_ignore` and `is_unique_violation` (SQLSTATE 23505) are right for it. The
//!   execution log takes the generic transaction path (SQLite's log writer is
//!   SQLite's alone). One pool serves as both writer and readers.
//!
//! The PostgreSQL schema is the SQLite one: what SQLite's migrations 0001 to 0011
//! make is PostgreSQL's `0001_initial.sql`, and later changes come as one migration in
//! each folder. Every integer column `BIGINT` (the dialect reads `i64`; PostgreSQL's
//! `INTEGER` is `INT4`); JSON columns `TEXT`, not `jsonb` (an event's text must read
//! back byte for byte, and `jsonb` reorders keys); ids `TEXT`; keys, names and labels
//! (task names among them) `COLLATE "C"`, so that listings and cursors order bytewise,
//! as SQLite and the in-memory store do, not by the server's locale; the inbox's and
//! the deliveries' `seq` `BIGINT GENERATED ALWAYS AS IDENTITY` (SQLite: `INTEGER
//! PRIMARY KEY AUTOINCREMENT`; the code never writes them); the partial indexes
//! (`WHERE wait_for IS NOT NULL`, `WHERE routed_at IS NULL`, `WHERE status =
//! 'failed'`) written the same way.
//!
//! SQL that would differ between them is kept out of the shared code: no two-argument
//! scalar `MAX`, no `GROUP_CONCAT`, no `LIMIT -1`, no comparison of a boolean
//! expression with an integer; integer sums carry an explicit `CAST(... AS BIGINT)`.
//!
//! Known differences to keep in mind: `LOWER` lowercases all of Unicode in PostgreSQL
//! under most collations but only ASCII in SQLite; the names it is used on (a template
//! name search) are `COLLATE "C"`, under which PostgreSQL's `LOWER` is ASCII-only too,
//! so both match alike. A PostgreSQL transaction that hits a unique violation is
//! aborted and must be rolled back before the connection is used again (the code does
//! so). `LIKE` is case-sensitive in PostgreSQL and not (for ASCII) in SQLite: patterns
//! are lowercase (ids, and lowercased searches), so both match alike.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use sqlx::error::BoxDynError;
use sqlx::migrate::Migrator;
use sqlx::{Database, Executor, IntoArguments};

/// A row of dialect `D`.
pub type Row<D> = <<D as Dialect>::Db as Database>::Row;

/// A connection of dialect `D`.
pub type Connection<D> = <<D as Dialect>::Db as Database>::Connection;

/// A value to bind to a statement: the few types the schema uses. Each carries its
/// SQL type even when it is NULL (PostgreSQL types every parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An integer (`BIGINT`).
    Int(Option<i64>),
    /// Text.
    Text(Option<String>),
    /// Text shared with other values of a batch (an execution's id, a task's name),
    /// bound without a copy.
    Shared(Arc<str>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(Some(i64::from(v)))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_owned()))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_owned))
    }
}

/// Booleans are integers, 0 and 1 (the schema has no boolean type, so that every
/// database reads them alike).
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(Some(i64::from(v)))
    }
}

impl From<Arc<str>> for Value {
    fn from(v: Arc<str>) -> Value {
        Value::Shared(v)
    }
}

impl From<Option<Arc<str>>> for Value {
    fn from(v: Option<Arc<str>>) -> Value {
        match v {
            Some(v) => Value::Shared(v),
            None => Value::Text(None),
        }
    }
}

/// What differs between the databases the SQL code runs on (see the module doc).
///
/// A dialect is also a value, kept in its [`SqlStore`](crate::SqlStore): what the
/// backend holds beside its connection pools (SQLite: the file's path and the task
/// that checkpoints it), with hooks for after a commit and for closing.
pub trait Dialect: Debug + Send + Sync + Sized + 'static {
    /// The sqlx driver.
    type Db: Database;
    /// The driver's bound values.
    type Args: IntoArguments<Self::Db> + Default + Send;

    /// The most values one statement may bind.
    const MAX_BIND_PARAMS: usize;

    /// The statement that starts a transaction which reads, then writes what it read
    /// (the catalog's puts and imports, conditional commits), taking whatever lock
    /// keeps another writer of the same names (or executions, or keys) out until it
    /// ends. SQLite: `BEGIN IMMEDIATE` (the database's
    /// write lock, before the first read).
    const BEGIN_WRITE: &'static str;

    /// Whether the database takes one write at a time, which the store then orders in
    /// this process with its write gate (see `store.rs`): SQLite.
    const ONE_WRITER: bool = false;

    /// Whether an `UPDATE` that assigns an indexed column rewrites that index's entry
    /// even when the value stays the same (SQLite decides by the columns the statement
    /// names; PostgreSQL compares the values). The execution upsert then leaves the
    /// indexed columns that change only now and then (`status`, `owner`) to a second
    /// statement that assigns them only where they differ (see `write.rs`).
    const ASSIGNED_INDEXES_REWRITTEN: bool = false;

    /// Whether a batch's statements are sized by the batch (about a sixteenth of its
    /// rows each, see `write.rs`) rather than as large as allowed. Where a statement
    /// runs in the process (SQLite), preparing a new shape of many rows costs more
    /// than running a smaller shape several times, and a short-lived process (a
    /// `harmonia run`) prepares every shape it uses once.
    const BATCH_SIZED_STATEMENTS: bool = false;

    /// What ends the `SELECT` of a name's row in such a transaction, to lock that row
    /// (PostgreSQL: ` FOR UPDATE`; SQLite: nothing, its write lock is already held).
    const LOCK_ROW: &'static str;

    /// The function `FIND(text, needle)`: the 1-based position of `needle` in `text`,
    /// 0 when it is absent; a literal, case-sensitive search, no wildcards (SQLite's
    /// `instr`, the default; PostgreSQL's is `strpos`).
    const FIND: &'static str = "instr";

    /// Writes the placeholder of the `n`th value (from 1) of a statement being built.
    fn placeholder(sql: &mut String, n: usize);

    /// Adds `value` to a statement's values.
    fn bind(args: &mut Self::Args, value: Value) -> Result<(), BoxDynError>;

    /// A connection as what runs statements.
    fn exec<'c>(conn: &'c mut Connection<Self>) -> impl Executor<'c, Database = Self::Db>;

    /// A text column (`None` for NULL).
    fn text<'r>(row: &'r Row<Self>, column: &str) -> Result<Option<&'r str>, sqlx::Error>;

    /// An integer column (`None` for NULL).
    fn int(row: &Row<Self>, column: &str) -> Result<Option<i64>, sqlx::Error>;

    /// How many rows a statement changed.
    fn rows_affected(done: &<Self::Db as Database>::QueryResult) -> u64;

    /// The migrations that make and update the schema, embedded in the binary.
    fn migrator() -> &'static Migrator;

    /// Whether `e` is the database refusing a row because its key exists already.
    fn is_unique_violation(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
    }

    /// What follows `INSERT INTO t (cols) VALUES ...` to replace the row of `key` when
    /// it exists: every column in `update` takes the new row's value.
    ///
    /// Built by appending to one string of the right size: the execution log's writer
    /// makes three of these for every commit, and formatting each column (a `format!`
    /// per column, then a join) was half of encoding a one-step batch.
    fn upsert(key: &str, update: &[&str]) -> String {
        const HEAD: &str = " ON CONFLICT (";
        const SET: &str = ") DO UPDATE SET ";
        const EXCLUDED: &str = " = excluded.";
        let size = HEAD.len()
            + key.len()
            + SET.len()
            + update
                .iter()
                .map(|c| 2 * c.len() + EXCLUDED.len() + 2)
                .sum::<usize>();
        let mut sql = String::with_capacity(size);
        sql.push_str(HEAD);
        sql.push_str(key);
        sql.push_str(SET);
        for (i, column) in update.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(column);
            sql.push_str(EXCLUDED);
            sql.push_str(column);
        }
        sql
    }

    /// What follows `INSERT INTO t (cols) VALUES ...` to leave the row of `key` as it
    /// is when it exists.
    fn insert_ignore(key: &str) -> String {
        format!(" ON CONFLICT ({key}) DO NOTHING")
    }

    /// SQL that reads the field `field` of the JSON object in the text column
    /// `column`: a string as its text, `null` or a missing field as NULL, any other
    /// value as its JSON text. Both are names from this crate's code, never input.
    fn json_field(column: &str, field: &str) -> String;

    /// SQL of an aggregate that packs the values of `columns` (expressions) of every
    /// row into one JSON array of arrays (`[]` for no row), as text.
    fn json_rows(columns: &[&str]) -> String;

    /// A statement whose one row has the database's size in bytes as column `n`;
    /// `None` when the database cannot tell.
    const DATABASE_SIZE: Option<&'static str> = None;

    /// Called after every commit of the execution log.
    fn committed(&self) {}

    /// Called by [`SqlStore::close`](crate::SqlStore::close) before the pools close.
    fn closing(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteDialect;

    #[test]
    fn upserts_and_ignores_are_the_standard_on_conflict_clauses() {
        assert_eq!(
            SqliteDialect::upsert("id", &["a", "b"]),
            " ON CONFLICT (id) DO UPDATE SET a = excluded.a, b = excluded.b"
        );
        assert_eq!(
            SqliteDialect::insert_ignore("execution"),
            " ON CONFLICT (execution) DO NOTHING"
        );
    }
}
