//! How database failures become [`harmonia_storage::Error`]s.
//!
//! - Anything sqlx reports (I/O, SQL, a pool timeout) is [`Error::Backend`], with the
//!   sqlx error as its source.
//! - A duplicate key is [`Error::Conflict`] only where the code that writes decides so
//!   (an event: two writers of one execution; a token), with the dialect's
//!   [`is_unique_violation`](crate::dialect::Dialect::is_unique_violation).
//! - A row that does not decode (a bad uuid, status or JSON text, an out-of-range
//!   number, an unexpected NULL) is [`Error::Corrupt`], with a message that names the
//!   table and the column: see [`corrupt`].
//! - A schema newer than the binary's migrations says so ([`migration`]).

use harmonia_storage::Error;

/// A sqlx failure as a backend error.
pub(crate) fn backend(e: sqlx::Error) -> Error {
    Error::Backend(Box::new(e))
}

/// A failure to bring a database's schema up to date. A database that has a migration
/// this binary does not know was written by a newer Harmonia: said so, in words a
/// user can act on, rather than as sqlx's "previously applied but is missing".
pub(crate) fn migration(
    e: sqlx::migrate::MigrateError,
    migrator: &sqlx::migrate::Migrator,
) -> Error {
    match e {
        sqlx::migrate::MigrateError::VersionMissing(found) => {
            let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
            backend_msg(format!(
                "the database's schema is newer than this Harmonia's (it has migration {found}; \
                 this binary knows migrations up to {known}): it was written by a newer \
                 version; run that version, or restore a backup made before the upgrade"
            ))
        }
        e => Error::Backend(Box::new(e)),
    }
}

/// A backend error that sqlx did not report (such as a value we cannot bind).
pub(crate) fn backend_msg(message: String) -> Error {
    Error::Backend(message.into())
}

/// A stored value that does not decode, in `table.column`.
pub(crate) fn corrupt(table: &str, column: &str, problem: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{table}.{column}: {problem}"))
}
