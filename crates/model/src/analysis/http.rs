//! `http_without_timeout` and `http_without_retry`: `http` tasks (in `tasks`, handlers,
//! fallbacks and compensations) that nothing bounds in time, or that are tried once.
//!
//! An `http` task has no time limit of its own: without `timeout` (its own or
//! `defaults.timeout`), a server that never answers holds it for ever. That is a
//! warning, unless the workflow's `timeout` bounds it (tasks and fallbacks only:
//! handlers and compensations run after the tasks); then it is information, since a
//! hung request still fails the whole execution instead of one attempt that a retry
//! would repeat.
//!
//! A task is "tried once" when its resolved `max_attempts` is 1 and nobody wrote
//! `max_attempts` (a written `max_attempts: 1` is a decision, not an omission). The
//! suggestion warns that `POST` and `PATCH` are not idempotent.

use serde_json::{Value, json};

use super::subjects::{Context, Subject};
use super::{Finding, FindingKind, Level, Ranked};
use crate::plan::Phase;

/// The retry policy suggested to a task that has none.
const RETRY: &str = "retry: {max_attempts: 3, backoff: exponential, retry_on: [timeout, connection, http_429, http_5xx]}";

/// The `http_without_timeout` and `http_without_retry` findings.
pub(super) fn check(cx: &Context<'_>) -> Vec<Ranked> {
    let mut out = Vec::new();
    for s in cx.all().filter(|s| s.def.kind == "http") {
        out.extend(timeout(cx, s));
        out.extend(retry(cx, s));
    }
    out
}

/// The request's method, upper-cased: `GET` when unset, `None` when computed.
fn method(s: &Subject<'_>) -> Option<String> {
    match s.def.with.get("method") {
        None | Some(Value::Null) => Some("GET".into()),
        Some(Value::String(m)) if !harmonia_expr::Template::has_expressions(m) => {
            Some(m.trim().to_ascii_uppercase())
        }
        Some(_) => None,
    }
}

fn timeout(cx: &Context<'_>, s: &Subject<'_>) -> Option<Ranked> {
    if s.def.timeout.or(cx.wf.defaults.timeout).is_some() {
        return None;
    }
    let name = s.name();
    let whole = cx
        .wf
        .timeout
        .filter(|_| s.plan.phase == Phase::Main)
        .map(|d| d.to_string());
    let (severity, message) = match &whole {
        Some(limit) => (
            Level::Info,
            format!(
                "`{name}` makes an HTTP request with no `timeout`, its own or in `defaults`: only the workflow's `timeout: {limit}` bounds it, so a request that hangs holds the execution for up to {limit} and then fails all of it, where a task timeout would fail one attempt that a retry can repeat."
            ),
        ),
        None => (
            Level::Warning,
            format!(
                "`{name}` makes an HTTP request with no `timeout`, its own or in `defaults`, and an `http` task has no time limit of its own: a server that accepts the connection and never answers holds `{name}` for ever."
            ),
        ),
    };
    Some(Ranked {
        rank: s.rank,
        finding: Finding {
            kind: FindingKind::HttpWithoutTimeout,
            severity,
            path: s.path.key("timeout").to_string(),
            tasks: vec![name.to_string()],
            message,
            suggestion: format!(
                "Add `timeout: 30s` to `{name}` (a little above its slowest normal response), or `timeout: 30s` under `defaults` for every task."
            ),
            evidence: json!({
                "method": method(s),
                "workflow_timeout": whole,
            }),
        },
    })
}

fn retry(cx: &Context<'_>, s: &Subject<'_>) -> Option<Ranked> {
    let own = s.def.retry.as_ref();
    let defaults = cx.wf.defaults.retry.as_ref();
    let written = [own, defaults]
        .into_iter()
        .flatten()
        .any(|r| r.max_attempts.is_some());
    if s.plan.retry.max_attempts > 1 || written {
        return None;
    }
    let name = s.name();
    let method = method(s);
    let why = match (own, defaults) {
        (None, None) => format!("`{name}` has no `retry`, nor does `defaults`"),
        (Some(_), _) => format!("the `retry` of `{name}` sets no `max_attempts`, which is 1"),
        (None, Some(_)) => "`defaults.retry` sets no `max_attempts`, which is 1".to_string(),
    };
    let message = format!(
        "{why}: `{name}` is tried once, so a dropped connection, a timeout or a 5xx answer fails it for good, though another try would likely pass."
    );
    let change = match own {
        None => format!("add `{RETRY}` to `{name}`"),
        Some(_) => format!("add `max_attempts: 3` to the `retry` of `{name}`"),
    };
    let idempotent = method.as_deref().map(|m| !matches!(m, "POST" | "PATCH"));
    let suggestion = match (idempotent, method.as_deref()) {
        (Some(true), _) => format!("{}{}.", first_upper(&change), defaults_note(own, defaults)),
        (Some(false), Some(m)) => format!(
            "`{m}` is not idempotent: if the endpoint takes a repeat safely (an idempotency key, an upsert), {change}{}.",
            defaults_note(own, defaults)
        ),
        _ => format!(
            "If the request is safe to repeat (its method is computed), {change}{}.",
            defaults_note(own, defaults)
        ),
    };
    Some(Ranked {
        rank: s.rank,
        finding: Finding {
            kind: FindingKind::HttpWithoutRetry,
            severity: Level::Info,
            path: s.path.key("retry").to_string(),
            tasks: vec![name.to_string()],
            message,
            suggestion,
            evidence: json!({
                "method": method,
                "idempotent": idempotent,
                "max_attempts": s.plan.retry.max_attempts,
            }),
        },
    })
}

/// Where else the fix could go.
fn defaults_note(
    own: Option<&crate::definition::RetryPolicy>,
    defaults: Option<&crate::definition::RetryPolicy>,
) -> &'static str {
    match (own, defaults) {
        (None, None) => " (or under `defaults`, for every task)",
        (None, Some(_)) => " (or `max_attempts: 3` to `defaults.retry`)",
        (Some(_), _) => "",
    }
}

fn first_upper(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{analyze_yaml, of_kind};
    use super::*;

    fn found(text: &str, kind: FindingKind) -> Vec<(Level, String)> {
        of_kind(&analyze_yaml(text, &[]), kind)
            .into_iter()
            .map(|f| (f.severity, f.path.clone()))
            .collect()
    }

    #[test]
    fn an_unbounded_request_is_a_warning() {
        let text = "name: w
tasks:
  a: {type: http, with: {url: 'http://x'}, fallback: {type: http, with: {url: 'http://y'}}}
  b: {type: http, timeout: 5s, with: {url: 'http://x'}}
  c: {type: set, with: 1}
on_failure:
  alert: {type: http, with: {url: 'http://x', method: POST}}
";
        assert_eq!(
            found(text, FindingKind::HttpWithoutTimeout),
            vec![
                (Level::Warning, "tasks.a.timeout".to_string()),
                (Level::Warning, "tasks.a.fallback.timeout".to_string()),
                (Level::Warning, "on_failure.alert.timeout".to_string()),
            ]
        );
        let a = analyze_yaml(text, &[]);
        let f = &of_kind(&a, FindingKind::HttpWithoutTimeout)[0];
        assert!(f.suggestion.contains("`timeout: 30s`"), "{}", f.suggestion);
        assert!(f.message.contains("for ever"), "{}", f.message);
    }

    #[test]
    fn defaults_silence_it_and_a_workflow_timeout_softens_it() {
        let text = "name: w
defaults: {timeout: 10s}
tasks:
  a: {type: http, with: {url: 'http://x'}}
";
        assert_eq!(found(text, FindingKind::HttpWithoutTimeout), vec![]);
        let text = "name: w
timeout: 15m
tasks:
  a: {type: http, with: {url: 'http://x'}}
finally:
  z: {type: http, with: {url: 'http://x'}}
";
        assert_eq!(
            found(text, FindingKind::HttpWithoutTimeout),
            vec![
                (Level::Warning, "finally.z.timeout".to_string()),
                (Level::Info, "tasks.a.timeout".to_string()),
            ]
        );
        let a = analyze_yaml(text, &[]);
        let f = of_kind(&a, FindingKind::HttpWithoutTimeout);
        assert!(f[1].message.contains("`timeout: 15m`"), "{}", f[1].message);
        assert_eq!(f[1].evidence["workflow_timeout"], "15m");
    }

    #[test]
    fn a_request_tried_once_is_found() {
        let text = "name: w
tasks:
  get: {type: http, with: {url: 'http://x'}}
  post: {type: http, with: {url: 'http://x', method: post}}
  computed: {type: http, with: {url: 'http://x', method: '${ $inputs.m }'}}
  partial: {type: http, retry: {initial_delay: 1s}, with: {url: 'http://x'}}
";
        let a = analyze_yaml(text, &[]);
        let f = of_kind(&a, FindingKind::HttpWithoutRetry);
        let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "tasks.get.retry",
                "tasks.post.retry",
                "tasks.computed.retry",
                "tasks.partial.retry"
            ]
        );
        assert!(
            f[0].suggestion.starts_with(&format!("Add `{RETRY}`")),
            "{}",
            f[0].suggestion
        );
        assert!(
            f[0].suggestion
                .contains("retry_on: [timeout, connection, http_429, http_5xx]")
        );
        assert!(
            f[1].suggestion.starts_with("`POST` is not idempotent"),
            "{}",
            f[1].suggestion
        );
        assert_eq!(f[1].evidence["idempotent"], false);
        assert!(
            f[2].suggestion.contains("method is computed"),
            "{}",
            f[2].suggestion
        );
        assert!(
            f[3].message.contains("sets no `max_attempts`"),
            "{}",
            f[3].message
        );
        assert!(
            f[3].suggestion
                .starts_with("Add `max_attempts: 3` to the `retry` of `partial`")
        );
    }

    #[test]
    fn retries_anywhere_or_a_written_single_attempt_silence_it() {
        for text in [
            "name: w\ntasks:\n  a: {type: http, retry: {max_attempts: 4}, with: {url: 'http://x'}}\n",
            "name: w\ndefaults: {retry: {max_attempts: 2}}\ntasks:\n  a: {type: http, with: {url: 'http://x'}}\n",
            "name: w\ntasks:\n  a: {type: http, retry: {max_attempts: 1}, with: {url: 'http://x'}}\n",
            "name: w\ntasks:\n  a: {type: set, with: 1}\n",
        ] {
            assert_eq!(found(text, FindingKind::HttpWithoutRetry), vec![], "{text}");
        }
    }
}
