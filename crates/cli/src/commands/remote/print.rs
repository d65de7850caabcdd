//! How client commands print what the server sent: `-o table` (the default) for
//! people, `-o json` or `-o yaml` for scripts.
//!
//! Invariant: JSON and YAML output is the server's answer as it was sent (a list
//! command prints every page's items as one array), so a script reads the same fields
//! the API documents; only the table is shaped for people.

use serde_json::Value;

use super::Failure;
use crate::output::{out, outln};

/// What a read command prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns (or the command's own view) for people.
    #[default]
    Table,
    /// The server's JSON, pretty-printed.
    Json,
    /// The server's answer as YAML.
    Yaml,
}

/// The `-o` option of read commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OutputArg {
    /// How to print the result: table (for people), json or yaml (for scripts).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

/// Prints `value` as JSON or YAML; `false` for [`Format::Table`], which the caller
/// prints its own way.
pub(crate) fn data(format: Format, value: &Value) -> Result<bool, Failure> {
    match format {
        Format::Table => Ok(false),
        Format::Json => {
            let text = serde_json::to_string_pretty(value)
                .map_err(|e| Failure::Local(format!("cannot print JSON: {e}")))?;
            outln!("{text}");
            Ok(true)
        }
        Format::Yaml => {
            let text = serde_saphyr::to_string(value)
                .map_err(|e| Failure::Local(format!("cannot print YAML: {e}")))?;
            out!("{text}");
            if !text.ends_with('\n') {
                outln!();
            }
            Ok(true)
        }
    }
}

/// The text of a string field, or `-` when it is absent or null.
pub(crate) fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_read_as_text_with_a_dash_for_nothing() {
        let v = json!({"a": "x", "n": 3, "z": null});
        assert_eq!(text(&v, "a"), "x");
        assert_eq!(text(&v, "n"), "3");
        assert_eq!(text(&v, "z"), "-");
        assert_eq!(text(&v, "missing"), "-");
    }
}
