//! Short execution ids: any unique prefix of an id names it, like a commit in git.
//!
//! A whole id is used as it is. A prefix is resolved by asking the server for the
//! executions whose id starts with it (`GET /api/executions?id_prefix=`): exactly one
//! is the answer; none or several is an error that says so, listing the candidates.
//! Ids are UUIDv7, whose first characters are the creation time, so executions made
//! close together share a long prefix: the error shows enough of each to tell them
//! apart.

use serde_json::Value;

use super::{Client, Failure};

/// How many candidates an ambiguous prefix lists.
pub(crate) const SHOWN: usize = 5;

/// The whole id of the execution that `given` names (an id or a unique prefix).
pub(crate) async fn execution(client: &Client, given: &str) -> Result<String, Failure> {
    let given = given.trim();
    if given.len() == 36 && given.parse::<harmonia_storage::ExecutionId>().is_ok() {
        return Ok(given.to_ascii_lowercase());
    }
    let given = check(given)?;
    let query = [("id_prefix", given.to_string())];
    let found = client
        .all_pages(
            &["api", "executions"],
            &query,
            "executions",
            Some(SHOWN + 1),
        )
        .await?;
    pick(&given, &found)
}

/// `given` when it can be the start of an id: hex digits and dashes, at most 36.
pub(crate) fn check(given: &str) -> Result<String, Failure> {
    let given = given.trim();
    if given.is_empty()
        || given.len() > 36
        || !given.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    {
        return Err(Failure::Local(format!(
            "`{given}` is not an execution id: ids are hex digits and dashes, such as 01a22e3a-35c8-7202-a0f7-7fe52d1d4d48, or a prefix of one"
        )));
    }
    Ok(given.to_string())
}

/// The one id among the executions found for prefix `given`.
pub(crate) fn pick(given: &str, found: &[Value]) -> Result<String, Failure> {
    let id = |x: &Value| {
        x.get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match found {
        [] => Err(Failure::Local(format!(
            "no execution has an id that starts with `{given}`; `harmonia execution list` shows them"
        ))),
        [one] => Ok(id(one)),
        several => {
            let mut message = format!(
                "`{given}` is the start of {} execution ids; give more of it:",
                if several.len() > SHOWN {
                    format!("more than {SHOWN}")
                } else {
                    several.len().to_string()
                }
            );
            for x in several.iter().take(SHOWN) {
                let workflow = x.get("workflow").and_then(Value::as_str).unwrap_or("");
                let status = x.get("status").and_then(Value::as_str).unwrap_or("");
                message.push_str(&format!("\n  {}  {workflow}  {status}", id(x)));
            }
            Err(Failure::Local(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_match_is_the_answer_and_none_or_several_say_so() {
        let a = json!({"id": "01a22e3a-35c8-7202-a0f7-7fe52d1d4d48", "workflow": "w", "status": "failed"});
        let b = json!({"id": "01a22e3a-35c9-7202-a0f7-7fe52d1d4d49", "workflow": "w", "status": "running"});
        assert_eq!(
            pick("01a2", std::slice::from_ref(&a)).ok().as_deref(),
            Some("01a22e3a-35c8-7202-a0f7-7fe52d1d4d48")
        );
        let none = pick("ff", &[]).err().map(|f| f.lines()).unwrap_or_default();
        assert_eq!(
            none,
            [
                "error: no execution has an id that starts with `ff`; `harmonia execution list` shows them"
            ]
        );
        let two = pick("01a2", &[a, b])
            .err()
            .map(|f| f.lines())
            .unwrap_or_default();
        assert_eq!(
            two,
            [
                "error: `01a2` is the start of 2 execution ids; give more of it:\n  01a22e3a-35c8-7202-a0f7-7fe52d1d4d48  w  failed\n  01a22e3a-35c9-7202-a0f7-7fe52d1d4d49  w  running"
            ]
        );
    }
}
