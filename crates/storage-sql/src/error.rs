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
