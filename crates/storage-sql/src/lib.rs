//! Harmonia's durable stores: the [`Store`](harmonia_storage::Store) trait of
//! `harmonia-storage` on SQLite ([`SqliteStore`]), through sqlx; PostgreSQL follows.
//!
//! Layout:
//! - `sqlite.rs`: [`SqliteStore`], its options, its connections (one writer, a pool of
//!   readers, WAL mode) and the queries of the trait.
//! - `checkpoint.rs`: the background task that copies the WAL into the database file,
//!   so that commits do not pay for it.
//! - `write.rs`: a [`CommitBatch`](harmonia_storage::CommitBatch) as a few multi-row
//!   `INSERT`s and upserts, chunked to the bound-parameter limit.
//! - `templates.rs`: the template queries (versions, listing, deletion, imports).
//! - `rows.rs`: column lists, and rows decoded back into records, where anything that
//!   does not decode is [`Error::Corrupt`](harmonia_storage::Error::Corrupt).
//! - `error.rs`: sqlx errors as `harmonia_storage::Error`.
//! - `migrations/sqlite/`: the schema, embedded in the binary and applied by `open`.
//!
//! The schema (see the migration) stores ids as uuid text, JSON as text and timestamps
//! as integer milliseconds, so that the PostgreSQL schema can be the same tables, and
//! the SQL is written to run on both. The contract every store follows, and the shared
//! suite that checks it, are in `harmonia-storage`.

mod checkpoint;
mod error;
mod rows;
mod sqlite;
mod templates;
mod write;

pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};
