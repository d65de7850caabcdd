//! A tool's arguments, read one by one by name and type, so that a bad one is a tool
//! error naming it (`invalid_request: `limit` must be a whole number from 1 to 500,
//! found 0`), as the REST API names a bad query parameter or body field.
//!
//! `null` is the same as absent. An argument the tool's schema does not declare is
//! refused, with the ones it does, as the REST bodies refuse unknown fields.

use harmonia_expr::kind_of as kind;
use rmcp::model::JsonObject;
use serde_json::{Map, Value};

use super::tools::ToolSpec;
use crate::error::ApiError;

/// The arguments of one call.
#[derive(Debug)]
pub(crate) struct Args(JsonObject);

impl Args {
    /// The arguments sent to `tool`, refused when one is not the tool's.
    pub(crate) fn new(tool: &ToolSpec, arguments: Option<JsonObject>) -> Result<Args, ApiError> {
        let arguments = arguments.unwrap_or_default();
        let known = tool.arguments();
        if let Some(unknown) = arguments.keys().find(|k| !known.contains(k)) {
            let expected = if known.is_empty() {
                "it takes none".to_string()
            } else {
                format!("expected {}", known.join(", "))
            };
            return Err(ApiError::bad_request(format!(
                "`{}` takes no argument `{}`; {expected}",
                tool.name,
                harmonia_expr::clip(unknown)
            )));
        }
        Ok(Args(arguments))
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn wrong(name: &str, expected: &str, found: &Value) -> ApiError {
        ApiError::bad_request(format!(
            "`{name}` must be {expected}, found {}",
            kind(found)
        ))
    }

    /// A string argument, if given.
    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Args::wrong(name, "a string", other)),
        }
    }

    /// A string argument that must be given.
    pub(crate) fn string(&self, name: &str) -> Result<String, ApiError> {
        self.opt_string(name)?
            .ok_or_else(|| ApiError::bad_request(format!("`{name}` is required (a string)")))
    }

    /// A whole number from `min` to `max`, if given (`3.0` counts, as in JSON Schema).
    pub(crate) fn opt_u32(&self, name: &str, min: u32, max: u32) -> Result<Option<u32>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let expected = format!("a whole number from {min} to {max}");
        let Some(f) = value.as_f64() else {
            return Err(Args::wrong(name, &expected, value));
        };
        if f.fract() == 0.0 && (f64::from(min)..=f64::from(max)).contains(&f) {
            Ok(Some(f as u32))
        } else {
            Err(ApiError::bad_request(format!(
                "`{name}` must be {expected}, found {value}"
            )))
        }
    }

    /// A boolean argument (`false` when absent).
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(Args::wrong(name, "a boolean", other)),
        }
    }

    /// An object argument (empty when absent).
    pub(crate) fn object(&self, name: &str) -> Result<Map<String, Value>, ApiError> {
        match self.get(name) {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(other) => Err(Args::wrong(name, "an object", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mcp::tools;

    fn args(tool: &str, value: Value) -> Result<Args, ApiError> {
        let Value::Object(map) = value else {
            panic!("an object")
        };
        Args::new(tools::find(tool).expect("a tool"), Some(map))
    }

    #[test]
    fn bad_arguments_are_named() {
        let e = args("list_executions", json!({"limt": 3})).expect_err("unknown");
        assert!(e.message.contains("no argument `limt`"), "{}", e.message);
        let a = args("list_executions", json!({"limit": 0, "status": 3})).expect("known");
        let e = a.opt_u32("limit", 1, 500).expect_err("out of range");
        assert_eq!(
            e.message,
            "`limit` must be a whole number from 1 to 500, found 0"
        );
        let e = a.opt_string("status").expect_err("not a string");
        assert_eq!(e.message, "`status` must be a string, found a number");
        let a = args("get_execution", json!({})).expect("known");
        assert_eq!(
            a.string("id").expect_err("missing").message,
            "`id` is required (a string)"
        );
        let a = args(
            "execute_workflow",
            json!({"name": "x", "wait_seconds": 2.0, "inputs": null}),
        )
        .expect("known");
        assert_eq!(a.opt_u32("wait_seconds", 0, 60).ok(), Some(Some(2)));
        assert_eq!(a.object("inputs").ok(), Some(Map::new()));
    }
}
