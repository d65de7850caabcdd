//! `unbounded_fan_out`: a `for_each` without `concurrency`, whose items may then all
//! start at once.
//!
//! Without `concurrency`, a fan-out is limited only by the server's global limit on
//! attempts running at once (`max_concurrency`, 256 by default, shared by every
//! execution): a long list floods the system it calls and takes the slots other
//! executions wait for. The check skips what cannot flood anything: kinds that run
//! inside the engine or only wait (`set`, `transform`, `sleep`, `approval`,
//! `wait_event`), and a list written in the definition of at most
//! [`SHORT_LIST`] items, whose width is plain to see.

use serde_json::{Value, json};

use super::subjects::{Context, Subject};
use super::{Finding, FindingKind, Level, Ranked};

/// Kinds whose items call nothing outside the engine.
const HARMLESS_KINDS: [&str; 5] = ["set", "transform", "sleep", "approval", "wait_event"];

/// The longest written list that is not flagged.
const SHORT_LIST: usize = 10;

/// The server's default global limit (`max_concurrency`), as the docs state it.
const GLOBAL_DEFAULT: u32 = 256;

/// The limit suggested.
const SUGGESTED: u32 = 10;

/// The `unbounded_fan_out` findings.
pub(super) fn check(cx: &Context<'_>) -> Vec<Ranked> {
    cx.all().filter_map(finding).collect()
}

fn finding(s: &Subject<'_>) -> Option<Ranked> {
    let over = s.def.for_each.as_ref()?;
    if s.def.concurrency.is_some() || HARMLESS_KINDS.contains(&s.def.kind.as_str()) {
        return None;
    }
    let (what, items, expr) = match over {
        Value::Array(items) if items.len() <= SHORT_LIST => return None,
        Value::Array(items) => (
            format!("a list of {} items", items.len()),
            Some(items.len()),
            None,
        ),
        Value::String(e) => (
            format!("`{}`", harmonia_expr::clip(e.trim())),
            None,
            Some(e.trim()),
        ),
        _ => return None,
    };
    let name = s.name();
    Some(Ranked {
        rank: s.rank,
        finding: Finding {
            kind: FindingKind::UnboundedFanOut,
            severity: Level::Warning,
            path: s.path.key("concurrency").to_string(),
            tasks: vec![name.to_string()],
            message: format!(
                "`{name}` (`{}`) fans out over {what} with no `concurrency`: its items may all start at once, bounded only by the server's global limit (`max_concurrency`, {GLOBAL_DEFAULT} attempts by default, shared by every execution), so a long list can flood what it calls and take the slots other executions wait for.",
                s.def.kind
            ),
            suggestion: format!(
                "Add `concurrency: {SUGGESTED}` to `{name}`: as many items at once as what it calls can take."
            ),
            evidence: json!({
                "for_each": expr,
                "items": items,
                "global_default": GLOBAL_DEFAULT,
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{analyze_yaml, of_kind};
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        of_kind(&analyze_yaml(text, &[]), FindingKind::UnboundedFanOut)
            .into_iter()
            .map(|f| f.path.clone())
            .collect()
    }

    #[test]
    fn a_fan_out_without_a_limit_is_found() {
        let text = "name: w
tasks:
  fetch: {type: http, for_each: '${ $inputs.cities }', with: {url: 'http://x/${ $item }'}}
  many: {type: worker, for_each: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], with: {queue: q}}
";
        assert_eq!(
            paths(text),
            ["tasks.fetch.concurrency", "tasks.many.concurrency"]
        );
        let a = analyze_yaml(text, &[]);
        let f = of_kind(&a, FindingKind::UnboundedFanOut);
        assert!(
            f[0].message.contains("`${ $inputs.cities }`"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("256 attempts by default"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].suggestion,
            "Add `concurrency: 10` to `fetch`: as many items at once as what it calls can take."
        );
        assert!(
            f[1].message.contains("a list of 11 items"),
            "{}",
            f[1].message
        );
        assert_eq!(f[1].evidence["items"], 11);
    }

    #[test]
    fn limits_short_lists_and_inline_kinds_are_left_alone() {
        let text = "name: w
tasks:
  limited: {type: http, for_each: '${ $inputs.xs }', concurrency: 5, with: {url: 'http://x'}}
  short: {type: http, for_each: [a, b, c], with: {url: 'http://x/${ $item }'}}
  inline: {type: transform, for_each: '${ $inputs.xs }', with: {input: '${ $item }', expr: .}}
  plain: {type: http, with: {url: 'http://x'}}
";
        assert_eq!(paths(text), Vec::<String>::new());
    }
}
