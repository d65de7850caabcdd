//! The parameters of a `shell` task, checked: the [`Spec`] an attempt runs.
//!
//! Parameters arrive evaluated, so their types are checked again here (the schema in
//! `describe` only covers what is known before run time), and a wrong one is a
//! `validation` error naming the parameter.
//!
//! Invariants:
//! - a [`Spec`] holds exactly one command: `argv` run directly, or `script` run by
//!   `/bin/sh -c`; the program is never empty, and no word, variable name or value holds
//!   a NUL character (which could not reach the process);
//! - numbers and booleans in `argv` and `env` become their JSON text;
//! - messages describe a wrong value by its type, never by its content (they may name a
//!   parameter or a variable), and a `Spec` has no `Debug`: arguments and variables may
//!   hold secrets.

use std::path::PathBuf;

use serde_json::Value;

use crate::event::TaskError;
use crate::kinds::params::{describe, invalid, scalar_text};

/// The parameters `shell` knows.
const PARAMETERS: [&str; 5] = ["argv", "script", "env", "cwd", "stdin"];

/// The parameters, checked. No `Debug`: arguments and variables may hold secrets.
pub(super) struct Spec {
    pub(super) program: String,
    pub(super) args: Vec<String>,
    /// The program as messages name it.
    pub(super) shown: String,
    pub(super) env: Vec<(String, String)>,
    pub(super) cwd: Option<PathBuf>,
    pub(super) stdin: Option<String>,
}

impl Spec {
    pub(super) fn parse(params: &Value) -> Result<Spec, TaskError> {
        let Some(p) = params.as_object() else {
            return Err(invalid(
                "the parameters of `shell` must be an object with `argv` (a list) or `script`",
            ));
        };
        if let Some(unknown) = p.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
            return Err(invalid(format!(
                "unknown parameter `{unknown}` (expected one of {})",
                PARAMETERS.join(", ")
            )));
        }
        let (program, args, shown) = match (p.get("argv"), p.get("script")) {
            (Some(_), Some(_)) => return Err(invalid("set either `argv` or `script`, not both")),
            (None, None) => {
                return Err(invalid(
                    "missing the command: set `argv` (a list) or `script` (run by `sh -c`)",
                ));
            }
            (Some(Value::Array(items)), None) => {
                let mut words = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let w = scalar_text(item).ok_or_else(|| {
                        invalid(format!(
                            "`argv[{i}]` must be a string, number or boolean, found {}",
                            describe(item)
                        ))
                    })?;
                    if w.contains('\0') {
                        return Err(invalid(format!("`argv[{i}]` contains a NUL character")));
                    }
                    words.push(w);
                }
                let mut words = words.into_iter();
                let Some(program) = words.next().filter(|p| !p.is_empty()) else {
                    return Err(invalid("`argv` must start with the program to run"));
                };
                let shown = program.clone();
                (program, words.collect(), shown)
            }
            (Some(other), None) => {
                return Err(invalid(format!(
                    "`argv` must be a list (the program, then its arguments), found {}",
                    describe(other)
                )));
            }
            (None, Some(Value::String(script))) => {
                if script.contains('\0') {
                    return Err(invalid("`script` contains a NUL character"));
                }
                (
                    "/bin/sh".to_string(),
                    vec!["-c".to_string(), script.clone()],
                    "sh -c".to_string(),
                )
            }
            (None, Some(other)) => {
                return Err(invalid(format!(
                    "`script` must be a string, found {}",
                    describe(other)
                )));
            }
        };

        let mut env = Vec::new();
        match p.get("env") {
            None | Some(Value::Null) => {}
            Some(Value::Object(vars)) => {
                for (k, v) in vars {
                    if k.is_empty() || k.contains('=') || k.contains('\0') {
                        return Err(invalid(format!(
                            "`env`: `{k}` is not a valid variable name"
                        )));
                    }
                    let text = scalar_text(v).ok_or_else(|| {
                        invalid(format!(
                            "`env.{k}` must be a string, number or boolean, found {}",
                            describe(v)
                        ))
                    })?;
                    if text.contains('\0') {
                        return Err(invalid(format!("`env.{k}` contains a NUL character")));
                    }
                    env.push((k.clone(), text));
                }
            }
            Some(other) => {
                return Err(invalid(format!(
                    "`env` must be an object, found {}",
                    describe(other)
                )));
            }
        }

        let cwd = match p.get("cwd") {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) if !c.is_empty() => Some(PathBuf::from(c)),
            Some(other) => {
                return Err(invalid(format!(
                    "`cwd` must be a directory path, found {}",
                    describe(other)
                )));
            }
        };

        let stdin = match p.get("stdin") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(invalid(format!(
                    "`stdin` must be a string, found {}",
                    describe(other)
                )));
            }
        };

        Ok(Spec {
            program,
            args,
            shown,
            env,
            cwd,
            stdin,
        })
    }

    /// A missing `cwd` would make spawning fail with the same error as a missing program;
    /// checking first lets the message say which.
    pub(super) async fn check_cwd(&self) -> Result<(), TaskError> {
        let Some(cwd) = &self.cwd else {
            return Ok(());
        };
        match tokio::fs::metadata(cwd).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(invalid(format!(
                "`cwd` {} is not a directory",
                cwd.display()
            ))),
            Err(e) => Err(invalid(format!(
                "`cwd` {} cannot be used: {e}",
                cwd.display()
            ))),
        }
    }
}
