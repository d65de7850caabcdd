//! Harmonia's durable stores: the storage roles of `harmonia-storage` on SQL databases
//! through sqlx, written once ([`SqlStore`]) over a small [`Dialect`](dialect::Dialect)
//! seam: SQLite ([`SqliteStore`]) and PostgreSQL ([`PostgresStore`]).
//!
//! Layout:
//! - `dialect.rs`: the seam: what differs between databases, and what the SQL code
//!   relies on in every one (its module doc).
//! - `sqlite.rs`: [`SqliteDialect`], and [`SqliteStore`]: opening a file, its options
//!   and connections (one writer, a pool of readers, WAL mode).
//! - `sqlite_log.rs`: SQLite's log writer, a thread that writes an execution log
//!   commit in one trip (sqlx would take one trip per statement).
//! - `sqlite_schema.rs`: a new SQLite file's whole schema in one transaction.
//! - `checkpoint.rs`: SQLite's background task that copies the WAL into the database
//!   file, so that commits do not pay for it.
//! - `postgres.rs`: [`PostgresDialect`], and [`PostgresStore`]: connecting to a
//!   database (one pool, as writer and readers; row locks keep concurrent writers of
//!   the same rows apart), its options, and failures to connect that say why.
//! - `store.rs`: [`SqlStore`], its pools, and what its roles share.
//! - One module per role, each generic over the dialect: `log.rs`
//!   ([`ExecutionLog`](harmonia_storage::ExecutionLog): commits and events), `write.rs`
//!   (a [`CommitBatch`](harmonia_storage::CommitBatch) as a few multi-row `INSERT`s and
//!   upserts, chunked to the bound-value limit), `queries.rs`
//!   ([`ExecutionQueries`](harmonia_storage::ExecutionQueries)), `catalog.rs`
//!   ([`Catalog`](harmonia_storage::catalog::Catalog) for every document kind) with
//!   `tables.rs` (the tables of workflows and of templates), `tokens.rs`
//!   ([`Tokens`](harmonia_storage::Tokens)), `timers.rs`
//!   ([`Timers`](harmonia_storage::Timers)), `inbox.rs`
//!   ([`Inbox`](harmonia_storage::Inbox)), `idempotency.rs`
//!   ([`Idempotency`](harmonia_storage::Idempotency)), `nodes.rs`
//!   ([`Nodes`](harmonia_storage::Nodes): leases and claims), `analytics.rs`
//!   ([`Analytics`](harmonia_storage::Analytics): aggregates and percentiles in SQL).
//! - `sql.rs`: a statement with its bound values, and running it on a connection.
//! - `rows.rs`: column lists, and rows decoded back into records, where anything that
//!   does not decode is [`Error::Corrupt`](harmonia_storage::Error::Corrupt).
//! - `error.rs`: sqlx errors as `harmonia_storage::Error`.
//! - `migrations/sqlite/`, `migrations/postgres/`: the schema of each database (the
//!   same tables), embedded in the binary and applied by `open` and `connect`.
//!
//! The schema (see the migrations) stores ids as uuid text, JSON as text and timestamps
//! as integer milliseconds, so that both databases have the same tables. The
//! contract every store follows, and the shared suite that checks it, are in
//! `harmonia-storage`.

mod analytics;
mod catalog;
mod checkpoint;
mod deliveries;
pub mod dialect;
mod error;
mod idempotency;
mod inbox;
mod log;
mod nodes;
mod postgres;
mod queries;
mod rows;
mod sql;
mod sqlite;
mod sqlite_image;
mod sqlite_log;
mod sqlite_schema;
mod sqlite_vfs;
mod sqlite_wal;
mod sqlite_wal_space;
mod store;
mod tables;
mod timers;
mod tokens;
mod triggers;
mod write;

pub use postgres::{PostgresDialect, PostgresOptions, PostgresStore};
pub use sqlite::{SqliteDialect, SqliteOptions, SqliteStore, Synchronous};
pub use store::SqlStore;
