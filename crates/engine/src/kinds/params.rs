//! What the executors share to check their parameters: the `validation` error and how
//! scalar values become text.
//!
//! Invariant: messages describe a wrong value by its type (`kind_of`), never by its
//! content, which may be a credential.

use harmonia_model::ErrorClass;
use serde_json::Value;

use crate::event::TaskError;

pub(crate) use harmonia_expr::kind_of as describe;

/// A `validation` error: the parameters are wrong, and retrying will not help.
pub(crate) fn invalid(message: impl Into<String>) -> TaskError {
    TaskError::new(ErrorClass::Validation, message)
}

/// The text of a header, query value, argument or variable: strings as they are,
/// numbers and booleans as JSON; anything else has none.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
