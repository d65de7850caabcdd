//! How database failures become [`harmonia_storage::Error`]s.
//!
//! - Anything sqlx reports (I/O, SQL, a pool timeout) is [`Error::Backend`], with the
//!   sqlx error as its source.
//! - A duplicate event key is [`Error::Conflict`]; only the code that inserts events
//!   decides that (see [`is_unique_violation`]), because only there does a unique
//!   violation mean "two writers of one execution".
//! - A row that does not decode (a bad uuid, status or JSON text, an out-of-range
//!   number, an unexpected NULL) is [`Error::Corrupt`], with a message that names the
//!   table and the column: see [`corrupt`].

use harmonia_storage::Error;

/// A sqlx failure as a backend error.
pub(crate) fn backend(e: sqlx::Error) -> Error {
    Error::Backend(Box::new(e))
}

/// A backend error that sqlx did not report (such as a value we cannot bind).
pub(crate) fn backend_msg(message: String) -> Error {
    Error::Backend(message.into())
}

/// A stored value that does not decode, in `table.column`.
pub(crate) fn corrupt(table: &str, column: &str, problem: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{table}.{column}: {problem}"))
}

/// Whether `e` is the database refusing a row because its key exists already.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
