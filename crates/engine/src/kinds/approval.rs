//! `approval`: a person approves or rejects, with a form.
//!
//! Parameters:
//! - `prompt` (required): what is asked, shown to the approvers;
//! - `approvers: {role}`: the least role that may answer (`operator` or `admin`; the
//!   route itself already needs `operator`). Without auth there are no roles, and
//!   whoever reaches the loopback-only server may answer;
//! - `form`: a JSON Schema (an object) of the inputs an answer carries; an answer whose
//!   inputs break it is refused with every violation, and changes nothing;
//! - `timeout`: how long to wait (none: for ever). Not the task's `timeout:`, which
//!   bounds running work, so that `defaults.timeout` does not end every approval;
//! - `on_timeout`: `fail` (default: the attempt fails with `wait_timeout`), `reject` or
//!   `approve` (the decision is made, `by: null`);
//! - `on_reject`: `fail` (default: a rejection fails the task with class `rejected`, so
//!   nothing after it runs by accident) or `continue` (the task succeeds with
//!   `decision: rejected`, for workflows that branch on it).
//!
//! Output: `{decision: approved | rejected, by, at, inputs}` (`by`: who answered, or
//! `null` on a timeout; `at`: when; `inputs`: the form's values, defaults filled in).
//! A rejection that fails the task carries the same object in the error's `details`.
//!
//! The answer arrives as the signal `approval` with the payload
//! `{decision: approve | reject, inputs}` (`POST /api/executions/{id}/tasks/{task}/approve`).

use harmonia_model::{Dur, ErrorClass, InputSchema, ParamProblem};
use harmonia_storage::Timestamp;
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{
    Actor, Answer, Begin, Description, Refusal, Run, Signal, TaskKind, Waiter, Waiting,
};
use super::params::invalid;
use crate::event::TaskError;

/// The signal an answer arrives as.
pub const SIGNAL: &str = "approval";

/// Roles, from the least.
const ROLES: [&str; 3] = ["viewer", "operator", "admin"];

/// The `approval` kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Approval;

impl TaskKind for Approval {
    fn name(&self) -> &'static str {
        "approval"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Waits for a person to approve or reject, with inputs checked against `form`.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["prompt"],
                "properties": {
                    "prompt": {"type": "string", "minLength": 1, "description": "What is asked."},
                    "approvers": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "role": {"enum": ["operator", "admin"], "description": "The least role that may answer."}
                        }
                    },
                    "form": {"type": "object", "description": "A JSON Schema of the inputs an answer carries."},
                    "timeout": {"type": "string", "description": "How long to wait, such as `24h`."},
                    "on_timeout": {"enum": ["fail", "reject", "approve"], "default": "fail"},
                    "on_reject": {"enum": ["fail", "continue"], "default": "fail"}
                }
            }),
            output: json!({
                "type": "object",
                "properties": {
                    "decision": {"enum": ["approved", "rejected"]},
                    "by": {"type": ["string", "null"], "description": "Who answered; null on a timeout."},
                    "at": {"type": "string", "description": "When (RFC 3339)."},
                    "inputs": {"type": "object", "description": "The form's values, defaults filled in."}
                }
            }),
            check: Some(check),
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Waiting(self)
    }
}

impl Waiting for Approval {
    fn begin(&self, call: &Call) -> Result<Begin, TaskError> {
        let p = &call.params;
        let prompt = p
            .get("prompt")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("`prompt` must be a text"))?;
        let form = p.get("form").cloned().unwrap_or(Value::Null);
        if !form.is_null() {
            InputSchema::compile(&form).map_err(|problems| {
                let text: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {}", pointer_or(&p.pointer, "form"), p.message))
                    .collect();
                invalid(format!("`form` is not a valid schema: {}", text.join("; ")))
            })?;
        }
        let timeout = match p.get("timeout") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                Dur::parse(t.as_str().unwrap_or_default())
                    .map_err(|m| invalid(format!("`timeout`: {m}")))?,
            ),
        };
        let spec = json!({
            "prompt": prompt,
            "approvers": p.get("approvers").cloned().unwrap_or(Value::Null),
            "form": form,
            "timeout": timeout.map(|d| d.to_string()),
            "on_timeout": p.get("on_timeout").and_then(Value::as_str).unwrap_or("fail"),
            "on_reject": p.get("on_reject").and_then(Value::as_str).unwrap_or("fail"),
        });
        Ok(Begin::Signal {
            name: SIGNAL.into(),
            key: None,
            spec,
            until: timeout.map(|d| Timestamp::now().plus(d.get())),
        })
    }

    fn signal(&self, w: &Waiter<'_>, signal: &Signal) -> Answer {
        if signal.name != SIGNAL {
            return Answer::Ignored;
        }
        let approve = match signal.payload.get("decision").and_then(Value::as_str) {
            Some("approve") => true,
            Some("reject") => false,
            _ => {
                return Answer::Refused(Refusal::new("`decision` must be `approve` or `reject`"));
            }
        };
        if let Some(refusal) = check_approver(w.spec, signal.by.as_ref()) {
            return Answer::Refused(refusal);
        }
        let inputs = signal.payload.get("inputs").cloned().unwrap_or(Value::Null);
        let inputs = match checked_inputs(w.spec, inputs) {
            Ok(v) => v,
            Err(refusal) => return Answer::Refused(refusal),
        };
        let by = signal.by.as_ref().map(|a| a.name.clone());
        Answer::Done(decide(w, approve, by, inputs))
    }

    fn expire(&self, w: &Waiter<'_>) -> Result<Value, TaskError> {
        let timeout = w.spec.get("timeout").and_then(Value::as_str).unwrap_or("?");
        match w.spec.get("on_timeout").and_then(Value::as_str) {
            Some("approve") => decide(w, true, None, json!({})),
            Some("reject") => decide(w, false, None, json!({})),
            _ => Err(TaskError::new(
                ErrorClass::WaitTimeout,
                format!("no one approved or rejected `{}` within {timeout}", w.task),
            )),
        }
    }
}

/// The attempt's result for a decision.
fn decide(
    w: &Waiter<'_>,
    approve: bool,
    by: Option<String>,
    inputs: Value,
) -> Result<Value, TaskError> {
    let out = json!({
        "decision": if approve { "approved" } else { "rejected" },
        "by": by,
        "at": w.now.to_string(),
        "inputs": inputs,
    });
    let fails = w.spec.get("on_reject").and_then(Value::as_str) != Some("continue");
    if approve || !fails {
        return Ok(out);
    }
    let who = by.map_or_else(|| "at its timeout".to_string(), |b| format!("by `{b}`"));
    Err(TaskError::new(
        ErrorClass::Rejected,
        format!("`{}` was rejected {who}", w.task),
    )
    .with_details(out))
}

/// Refuses an answer from someone below `approvers.role`.
fn check_approver(spec: &Value, by: Option<&Actor>) -> Option<Refusal> {
    let needed = spec.pointer("/approvers/role").and_then(Value::as_str)?;
    // Without auth there are no roles: the server is loopback-only.
    let role = by.and_then(|a| a.role.as_deref())?;
    let rank = |r: &str| ROLES.iter().position(|x| *x == r);
    if rank(role) >= rank(needed) {
        return None;
    }
    Some(Refusal::forbidden(format!(
        "this approval needs the `{needed}` role (or above) to answer it; your token has `{role}`"
    )))
}

/// The inputs checked against the form, or every violation.
fn checked_inputs(spec: &Value, inputs: Value) -> Result<Value, Refusal> {
    let form = spec.get("form").unwrap_or(&Value::Null);
    if form.is_null() {
        return match inputs {
            Value::Null => Ok(json!({})),
            Value::Object(_) => Ok(inputs),
            _ => Err(Refusal::new("`inputs` must be an object")),
        };
    }
    let schema = InputSchema::compile(form)
        .map_err(|_| Refusal::new("the task's `form` is not a valid schema"))?;
    schema.check(inputs, "field").map_err(|violations| {
        let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
        Refusal::new(format!(
            "the inputs do not match the form: {}",
            text.join("; ")
        ))
        .with_details(json!(violations))
    })
}

fn pointer_or<'a>(pointer: &'a str, whole: &'a str) -> &'a str {
    if pointer.is_empty() { whole } else { pointer }
}

/// A literal `form` must be a valid object schema, a literal `timeout` a duration.
fn check(with: &Value) -> Vec<ParamProblem> {
    let mut out = Vec::new();
    if let Some(form) = with.get("form").filter(|f| f.is_object())
        && let Err(problems) = InputSchema::compile(form)
    {
        out.extend(problems.into_iter().map(|p| ParamProblem {
            pointer: format!("/form{}", p.pointer),
            message: p.message,
            span: None,
        }));
    }
    if let Some(t) = with.get("timeout").and_then(Value::as_str)
        && !harmonia_expr::Template::has_expressions(t)
        && let Err(message) = Dur::parse(t)
    {
        out.push(ParamProblem {
            pointer: "/timeout".into(),
            message,
            span: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use harmonia_expr::{Context, Limits};

    use super::*;

    fn spec(extra: Value) -> Value {
        let mut s = json!({
            "prompt": "Deploy?",
            "approvers": {"role": "admin"},
            "form": {"type": "object", "required": ["reason"], "properties": {
                "reason": {"type": "string", "minLength": 3},
                "ticket": {"type": "integer", "default": 0}
            }},
            "timeout": "1h",
            "on_timeout": "fail",
            "on_reject": "fail",
        });
        if let (Some(s), Some(e)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        s
    }

    fn answer(spec: &Value, payload: Value, role: Option<&str>) -> Answer {
        let ctx = Context::new();
        let w = Waiter {
            task: "go",
            spec,
            ctx: &ctx,
            deferred: &[],
            limits: &Limits::default(),
            now: Timestamp(0),
        };
        let signal = Signal {
            name: SIGNAL.into(),
            payload,
            by: Some(Actor {
                name: "ada".into(),
                role: role.map(str::to_string),
            }),
        };
        Approval.signal(&w, &signal)
    }

    #[test]
    fn an_approval_outputs_the_decision_with_the_inputs_and_their_defaults() {
        let s = spec(json!({}));
        let a = answer(
            &s,
            json!({"decision": "approve", "inputs": {"reason": "ok!"}}),
            Some("admin"),
        );
        let Answer::Done(Ok(out)) = a else {
            panic!("{a:?}")
        };
        assert_eq!(out["decision"], "approved");
        assert_eq!(out["by"], "ada");
        assert_eq!(out["inputs"], json!({"reason": "ok!", "ticket": 0}));
    }

    #[test]
    fn every_form_violation_is_reported_and_nothing_is_decided() {
        let s = spec(json!({}));
        let a = answer(
            &s,
            json!({"decision": "approve", "inputs": {"reason": "x", "ticket": "nine"}}),
            Some("admin"),
        );
        let Answer::Refused(r) = a else {
            panic!("{a:?}")
        };
        assert!(!r.forbidden);
        assert_eq!(r.details.as_array().map(Vec::len), Some(2), "{r:?}");
    }

    #[test]
    fn a_lower_role_is_forbidden_and_no_role_means_no_auth() {
        let s = spec(json!({}));
        let ok = json!({"decision": "approve", "inputs": {"reason": "fine"}});
        let Answer::Refused(r) = answer(&s, ok.clone(), Some("operator")) else {
            panic!("an operator answered an admin's approval")
        };
        assert!(r.forbidden);
        assert!(matches!(answer(&s, ok, None), Answer::Done(Ok(_))));
    }

    #[test]
    fn a_rejection_fails_unless_told_to_continue() {
        let reject = json!({"decision": "reject", "inputs": {"reason": "not now"}});
        let Answer::Done(Err(e)) = answer(&spec(json!({})), reject.clone(), Some("admin")) else {
            panic!("a rejection succeeded")
        };
        assert_eq!(e.class, ErrorClass::Rejected);
        assert_eq!(
            e.details.as_deref().map(|d| d["decision"].clone()),
            Some(json!("rejected"))
        );
        let s = spec(json!({"on_reject": "continue"}));
        let Answer::Done(Ok(out)) = answer(&s, reject, Some("admin")) else {
            panic!("on_reject: continue")
        };
        assert_eq!(out["decision"], "rejected");
        let bad = answer(&s, json!({"decision": "maybe"}), Some("admin"));
        assert!(matches!(bad, Answer::Refused(_)));
    }

    #[test]
    fn forms_and_timeouts_are_checked_at_validation() {
        assert!(check(&json!({"form": {"type": "object"}, "timeout": "1h"})).is_empty());
        let p = check(&json!({"form": {"type": "array"}, "timeout": "soon"}));
        let pointers: Vec<&str> = p.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/form/type", "/timeout"]);
    }
}
