//! JSON Schema violations in words a user can act on.
//!
//! jsonschema's own messages are generic ("value is not of type \"array\""); these say
//! what was expected and what was found, for the keywords people meet most.

use serde_json::Value;

/// A JSON Schema violation in words, for the common keywords.
pub(crate) fn constraint_message(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    let found = describe(e.instance());
    match e.kind() {
        K::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("expected {expected}, found {found}")
        }
        K::MinItems { limit } => format!(
            "expected at least {limit} item{}, found {}",
            if *limit == 1 { "" } else { "s" },
            e.instance().as_array().map_or(0, Vec::len)
        ),
        K::MaxItems { limit } => format!("expected at most {limit} items"),
        K::MinLength { limit } => format!(
            "expected at least {limit} character{}, found {found}",
            if *limit == 1 { "" } else { "s" }
        ),
        K::MaxLength { limit } => format!("expected at most {limit} characters"),
        K::Minimum { limit } => format!("expected at least {limit}, found {found}"),
        K::Maximum { limit } => format!("expected at most {limit}, found {found}"),
        K::Pattern { pattern } => format!(
            "expected a value matching `{}`, found {found}",
            harmonia_expr::clip(pattern)
        ),
        K::MinProperties { limit } => format!(
            "expected at least {limit} entr{}",
            if *limit == 1 { "y" } else { "ies" }
        ),
        K::MaxProperties { limit } => format!(
            "expected at most {limit} entr{}",
            if *limit == 1 { "y" } else { "ies" }
        ),
        _ => e.masked().to_string(),
    }
}

/// A value as a user would name it: `the string "x"` (clipped, see
/// `harmonia_expr::clip`), `a list`.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!(
            "the string {}",
            Value::String(harmonia_expr::clip(s).into_owned())
        ),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}
