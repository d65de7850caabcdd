//! A new SQLite database gets its whole schema in one transaction.
//!
//! sqlx's migrator applies migrations one by one, each in its own transaction with its
//! own bookkeeping rows, every statement a trip to its connection's thread: on a new
//! file that is most of the time `harmonia run` takes (about 5 ms of ~20). A file that
//! `open` has just created is empty, so here every migration runs in one
//! transaction, and the migrator's table gets the rows sqlx would have written (the
//! same table definition, version, description and checksum). The migrator then runs
//! as on any database: it finds every migration applied with its checksum, and applies
//! what a later version adds.
//!
//! It runs on the connection of the log writer (`sqlite_log.rs`), the first this
//! process opens on the file, before sqlx's connections.
//!
//! Invariants: all or nothing (a failure leaves the file empty, and the migrator does
//! the work); used only on a file created by this open, never on one that holds data;
//! skipped when a migration must run outside a transaction (none does today).

use rusqlite::Connection;
use sqlx::migrate::Migrator;

/// The table sqlx's SQLite migrator keeps, as it creates it (`build.rs` makes the
/// schema image's with the same text).
const MIGRATIONS_TABLE: &str = include_str!("sqlx_migrations_table.sql");

/// Writes the schema of `migrator` into the new, empty database `conn` is open on,
/// unless a migration must run outside a transaction. A failure is logged and left to
/// the migrator, which then does the same work.
pub(crate) fn create(conn: &mut Connection, migrator: &Migrator) {
    if migrator.iter().any(|m| m.no_tx) {
        return;
    }
    if let Err(e) = write(conn, migrator) {
        tracing::debug!(error = %e, "the schema in one transaction failed; migrating step by step");
    }
}

fn write(conn: &mut Connection, migrator: &Migrator) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for m in migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
    {
        tx.execute_batch(m.sql.as_str())?;
    }
    tx.execute_batch(MIGRATIONS_TABLE)?;
    for m in migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
    {
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, 0)",
            rusqlite::params![m.version, &*m.description, &*m.checksum],
        )?;
    }
    tx.commit()
}
