//! Why a template command failed, and how that is printed.
//!
//! The server's errors all have the shape `{"error": {"code", "message", "details"}}`.
//! A [`Failure::Api`] keeps them as sent and prints `error: MESSAGE`, then one line per
//! item when `details` is an array: a diagnostic (it has `line` and `column`) of a file
//! the command sent as `FILE:LINE:COL: error: PATH: MESSAGE`, the way `harmonia
//! validate` prints it; anything else with a message (parameter violations,
//! diagnostics of no local file) as `  - PATH: MESSAGE`. A 401 or 403 adds a hint about
//! `--token`. Every failure exits with code 1.

use std::process::ExitCode;

use reqwest::StatusCode;
use serde_json::Value;

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server answered with an error.
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The server's message.
        message: String,
        /// The server's details (often an array of problems), or null.
        details: Value,
        /// The local file the request sent, which diagnostics point into.
        file: Option<String>,
    },
    /// No server answered at the address.
    Unreachable {
        /// The server's base URL.
        server: String,
        /// The innermost cause (`Connection refused (os error 111)`).
        cause: String,
    },
    /// Anything else: a local file, an answer that is not what the API promises.
    Local(String),
}

impl Failure {
    /// This failure, its diagnostics pointing into `file` (the file the request sent).
    pub(crate) fn in_file(self, name: &str) -> Failure {
        match self {
            Failure::Api {
                status,
                message,
                details,
                ..
            } => Failure::Api {
                status,
                // The server names the text it read `request`; here it is the file.
                message: match message.strip_suffix(" (request)") {
                    Some(m) => format!("{m} ({name})"),
                    None => message,
                },
                details,
                file: Some(name.to_string()),
            },
            other => other,
        }
    }

    /// Prints the failure on stderr; the exit code.
    pub(crate) fn print(&self) -> ExitCode {
        for line in self.lines() {
            crate::output::errln!("{line}");
        }
        ExitCode::from(1)
    }

    /// The lines that [`Failure::print`] prints.
    pub(crate) fn lines(&self) -> Vec<String> {
        match self {
            Failure::Api {
                status,
                message,
                details,
                file,
            } => {
                let mut lines = vec![format!("error: {message}")];
                if let Value::Array(items) = details {
                    lines.extend(items.iter().map(|i| detail_line(i, file.as_deref())));
                }
                if matches!(*status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                    lines.push("hint: pass --token or set HARMONIA_TOKEN".to_string());
                }
                lines
            }
            Failure::Unreachable { server, cause } => vec![format!(
                "error: cannot reach the Harmonia server at {server}: {cause}; start it with 'harmonia serve' or pass --server"
            )],
            Failure::Local(message) => vec![format!("error: {message}")],
        }
    }
}

/// One item of an error's `details`, as a line.
fn detail_line(item: &Value, file: Option<&str>) -> String {
    let Value::Object(o) = item else {
        return match item {
            Value::String(s) => format!("  - {s}"),
            other => format!("  - {other}"),
        };
    };
    let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
    let Some(message) = o.get("message").and_then(Value::as_str) else {
        return format!("  - {item}");
    };
    let path = text("path");
    let position = (
        o.get("line").and_then(Value::as_u64),
        o.get("column").and_then(Value::as_u64),
    );
    match (file, position) {
        (Some(file), (Some(line), Some(column))) => {
            let severity = match text("severity") {
                "" => "error",
                s => s,
            };
            if path.is_empty() {
                format!("{file}:{line}:{column}: {severity}: {message}")
            } else {
                format!("{file}:{line}:{column}: {severity}: {path}: {message}")
            }
        }
        _ if path.is_empty() => format!("  - {message}"),
        _ => format!("  - {path}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(status: StatusCode, details: Value, file: Option<&str>) -> Failure {
        Failure::Api {
            status,
            message: "it went wrong".into(),
            details,
            file: file.map(str::to_string),
        }
    }

    #[test]
    fn the_message_names_the_file_instead_of_the_request() {
        let f = Failure::Api {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "the definition has 2 problems (request)".into(),
            details: Value::Null,
            file: None,
        }
        .in_file("flows/etl.yaml");
        assert_eq!(
            f.lines(),
            ["error: the definition has 2 problems (flows/etl.yaml)"]
        );
    }

    #[test]
    fn diagnostics_point_into_the_file_that_was_sent() {
        let details = json!([
            {"severity": "error", "path": "workflow.tasks.a.type", "message": "unknown task type", "line": 4, "column": 11},
            {"severity": "warning", "path": "", "message": "odd", "line": 1, "column": 1},
        ]);
        let lines = api(StatusCode::UNPROCESSABLE_ENTITY, details, Some("t.yaml")).lines();
        assert_eq!(
            lines,
            [
                "error: it went wrong",
                "t.yaml:4:11: error: workflow.tasks.a.type: unknown task type",
                "t.yaml:1:1: warning: odd",
            ]
        );
    }

    #[test]
    fn violations_and_diagnostics_without_a_file_are_listed() {
        let details = json!([
            {"path": "/url", "keyword": "pattern", "message": "does not match"},
            {"path": "", "keyword": "required", "message": "`url` is required"},
            {"path": "workflow", "message": "bad", "line": 2, "column": 3},
            "plain",
            {"name": "etl", "version": 2},
        ]);
        let lines = api(StatusCode::UNPROCESSABLE_ENTITY, details, None).lines();
        assert_eq!(
            lines,
            [
                "error: it went wrong",
                "  - /url: does not match",
                "  - `url` is required",
                "  - workflow: bad",
                "  - plain",
                r#"  - {"name":"etl","version":2}"#,
            ]
        );
    }

    #[test]
    fn auth_failures_get_a_hint_and_object_details_are_not_listed() {
        for status in [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN] {
            let lines = api(status, json!({"role": "viewer"}), None).lines();
            assert_eq!(
                lines,
                [
                    "error: it went wrong",
                    "hint: pass --token or set HARMONIA_TOKEN"
                ]
            );
        }
    }

    #[test]
    fn an_unreachable_server_says_how_to_start_one() {
        let f = Failure::Unreachable {
            server: "http://127.0.0.1:1".into(),
            cause: "Connection refused (os error 111)".into(),
        };
        assert_eq!(
            f.lines(),
            [
                "error: cannot reach the Harmonia server at http://127.0.0.1:1: Connection refused (os error 111); start it with 'harmonia serve' or pass --server"
            ]
        );
    }
}
