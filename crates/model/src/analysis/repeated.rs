//! `repeated_expression`: the same `${ }` expression written in at least
//! [`MIN_TASKS`] tasks, which a `set` task could compute once for all of them.
//!
//! Expressions compare by their text with whitespace collapsed outside jq string
//! literals (`$inputs.a|length` and `$inputs.a | length` are the same). Left out, since
//! computing them once is no gain or not possible:
//! - plain reads and literals (`$item`, `$inputs.x`, `$tasks.a.output.body`, `"x"`, `3`);
//! - expressions that read what only one task has (`$item`, `$index`, `$output`,
//!   `$event`) or that must not be stored in an output (`$secrets`).

use std::collections::BTreeMap;

use harmonia_expr::Var;
use serde_json::json;

use super::subjects::Context;
use super::{Finding, FindingKind, Level, Ranked};

/// How many tasks must hold an expression for it to count as repeated.
const MIN_TASKS: usize = 3;

/// Variables whose value belongs to one task or must stay out of outputs.
const LOCAL_VARS: [Var; 7] = [
    Var::Item,
    Var::Index,
    Var::Output,
    Var::Event,
    Var::Secrets,
    Var::Request,
    Var::Trigger,
];

/// `code` with whitespace outside string literals collapsed: runs become one space
/// when `compact` is false; when it is true, whitespace is dropped except between two
/// word characters (`$a | length` and `$a|length` compare equal, `. and .x` keeps its
/// spaces).
fn normalize(code: &str, compact: bool) -> String {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '$' | '.' | '@');
    let mut out = String::with_capacity(code.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut space = false;
    for c in code.trim().chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && (!compact || (out.chars().next_back().is_some_and(word) && word(c))) {
            out.push(' ');
        }
        space = false;
        out.push(c);
        in_string = c == '"';
    }
    out
}

/// Whether `code` (normalized) only reads a variable's path, or is a literal.
fn is_trivial(code: &str) -> bool {
    let literal = code.parse::<f64>().is_ok()
        || matches!(code, "true" | "false" | "null" | ".")
        || (code.len() >= 2
            && code.starts_with('"')
            && code.ends_with('"')
            && !code[1..code.len() - 1].contains('"'));
    literal || is_path(code)
}

/// `$name` followed by `.key`, `."key"`, `[n]` or `["key"]` steps.
fn is_path(code: &str) -> bool {
    let ident = |s: &str| -> usize {
        s.char_indices()
            .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map_or(s.len(), |(i, _)| i)
    };
    let Some(rest) = code.strip_prefix('$') else {
        return false;
    };
    let n = ident(rest);
    if n == 0 {
        return false;
    }
    let mut rest = rest[n..].trim_start();
    while !rest.is_empty() {
        if let Some(r) = rest
            .strip_prefix(".\"")
            .or_else(|| rest.strip_prefix("[\""))
        {
            let Some(end) = r.find('"') else { return false };
            rest = &r[end + 1..];
            rest = rest.strip_prefix(']').unwrap_or(rest);
        } else if let Some(r) = rest.strip_prefix('.') {
            let n = ident(r);
            if n == 0 {
                return false;
            }
            rest = &r[n..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return false };
            if r[..end].trim().parse::<i64>().is_err() {
                return false;
            }
            rest = &r[end + 1..];
        } else {
            return false;
        }
        rest = rest.trim_start();
    }
    true
}

/// One place an expression is written.
struct Place {
    rank: usize,
    /// The expression as written there, whitespace collapsed.
    shown: String,
    task: String,
    path: String,
}

/// The `repeated_expression` findings.
pub(super) fn check(cx: &Context<'_>) -> Vec<Ranked> {
    let mut seen: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    for s in cx.all() {
        for (path, p) in s.programs() {
            if LOCAL_VARS.iter().any(|&v| p.reads(v)) {
                continue;
            }
            let code = normalize(p.source(), true);
            if code.is_empty() || is_trivial(&code) {
                continue;
            }
            seen.entry(code).or_default().push(Place {
                rank: s.rank,
                shown: normalize(p.source(), false),
                task: s.name().to_string(),
                path: path.to_string(),
            });
        }
    }
    let mut out = Vec::new();
    for (_, mut places) in seen {
        places.sort_by_key(|p| p.rank);
        let mut tasks: Vec<&str> = Vec::new();
        for p in &places {
            if !tasks.contains(&p.task.as_str()) {
                tasks.push(&p.task);
            }
        }
        if tasks.len() < MIN_TASKS {
            continue;
        }
        let shown = harmonia_expr::clip(&places[0].shown).into_owned();
        let names = super::list(&tasks);
        let finding = Finding {
            kind: FindingKind::RepeatedExpression,
            severity: Level::Info,
            path: places[0].path.clone(),
            tasks: tasks.iter().map(|t| t.to_string()).collect(),
            message: format!(
                "`${{ {shown} }}` is written in {} tasks ({names}): each evaluates it again, and the copies must be kept alike by hand when it changes.",
                tasks.len()
            ),
            suggestion: format!(
                "Compute it once in a task of its own, such as `shared: {{type: set, with: \"${{ {shown} }}\"}}` (with the `needs` its `$tasks` reads require), then read `${{ $tasks.shared.output }}` in {names} and add `shared` to their `needs`."
            ),
            evidence: json!({
                "expression": places[0].shown,
                "tasks": tasks.len(),
                "paths": places.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            }),
        };
        out.push(Ranked {
            rank: places[0].rank,
            finding,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{analyze_yaml, of_kind};
    use super::*;

    #[test]
    fn whitespace_collapses_outside_strings_only() {
        assert_eq!(normalize("  $inputs.a|length  ", false), "$inputs.a|length");
        assert_eq!(
            normalize("$inputs.a  |\n length", false),
            "$inputs.a | length"
        );
        assert_eq!(normalize("$inputs.a  |\n length", true), "$inputs.a|length");
        assert_eq!(normalize(". and  .x", true), ". and .x");
        assert_eq!(normalize(".and.x", true), ".and.x");
        assert_eq!(normalize(r#". + "a  b\"  c""#, true), r#".+"a  b\"  c""#);
    }

    #[test]
    fn plain_reads_and_literals_are_trivial() {
        for t in [
            "$item",
            "$inputs.x",
            "$tasks.a.output.body",
            "$inputs[0]",
            "$inputs.\"a b\"",
            "$inputs[\"k\"].v",
            "3",
            "\"x\"",
            "null",
        ] {
            assert!(is_trivial(t), "{t}");
        }
        for t in [
            "$inputs.x | length",
            "$inputs.x + 1",
            "$inputs[$i]",
            "now",
            "$x.a[0:2]",
        ] {
            assert!(!is_trivial(t), "{t}");
        }
    }

    #[test]
    fn an_expression_in_three_tasks_is_found() {
        let text = "name: w
tasks:
  a: {type: set, with: {n: '${ $inputs.xs | length }'}}
  b: {type: set, with: 'n=${ $inputs.xs|length }'}
  c: {type: set, if: '${ $inputs.xs  |  length }', with: 1}
  d: {type: set, with: '${ $inputs.xs | length }'}
";
        let a = analyze_yaml(text, &[]);
        let f = of_kind(&a, FindingKind::RepeatedExpression);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, "tasks.a.with.n");
        assert_eq!(f[0].tasks, ["a", "b", "c", "d"]);
        assert!(
            f[0].message
                .starts_with("`${ $inputs.xs | length }` is written in 4 tasks"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].suggestion.contains("`${ $tasks.shared.output }`"),
            "{}",
            f[0].suggestion
        );
        assert_eq!(f[0].evidence["paths"][2], "tasks.c.if");
    }

    #[test]
    fn twice_trivial_local_or_secret_expressions_are_not_found() {
        for expr in [
            "$inputs.x",
            "$item | ascii_upcase",
            "$secrets.TOKEN | ascii_downcase",
        ] {
            let text = format!(
                "name: w\ntasks:\n  a: {{type: set, for_each: [1], with: '${{ {expr} }}'}}\n  b: {{type: set, for_each: [1], with: '${{ {expr} }}'}}\n  c: {{type: set, for_each: [1], with: '${{ {expr} }}'}}\n"
            );
            let text = if expr.contains("secrets") {
                text.replace("type: set", "type: http")
            } else {
                text
            };
            let a = analyze_yaml(&text, &[]);
            assert!(
                of_kind(&a, FindingKind::RepeatedExpression).is_empty(),
                "{expr}"
            );
        }
        let twice = "name: w
tasks:
  a: {type: set, with: {x: '${ $inputs.a + 1 }', y: '${ $inputs.a + 1 }'}}
  b: {type: set, with: '${ $inputs.a + 1 }'}
";
        assert!(of_kind(&analyze_yaml(twice, &[]), FindingKind::RepeatedExpression).is_empty());
    }
}
