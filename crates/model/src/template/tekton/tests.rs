//! Unit tests of the private pieces: the translation of Jinja expressions, the splitting
//! of Jinja strings, and the naming of tasks. Whole files are converted, and compared
//! with snapshots, by the `tekton` tests of the crate's integration tests
//! (`tests/model/tekton.rs`).

use super::expr::{Scope, convert_expr, jq_key};
use super::jinja::{Piece, split_jinja};
use super::tasks::task_name;

fn scope() -> Scope {
    Scope {
        params: ["bug_report", "cov"]
            .into_iter()
            .map(String::from)
            .collect(),
        inputs: ["standards"].into_iter().map(String::from).collect(),
        tasks: [("investigate", "investigate"), ("fix-it", "fix_it")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

fn conv(e: &str) -> Result<String, String> {
    convert_expr(e, &scope()).map(|(jq, _)| jq)
}

#[test]
fn jinja_expressions_become_jq() {
    assert_eq!(conv(" bug_report ").as_deref(), Ok("$params.bug_report"));
    assert_eq!(conv("standards").as_deref(), Ok("$inputs.standards"));
    assert_eq!(
        conv("investigate.output.root_cause").as_deref(),
        Ok("$tasks.investigate.output.root_cause")
    );
    assert_eq!(
        conv("fix-it.output").ok(),
        None,
        "`-` is not part of a name"
    );
    assert_eq!(
        conv("tasks.investigate.output.items[0]").as_deref(),
        Ok("$tasks.investigate.output.items[0]")
    );
    assert_eq!(
        conv("cov | default(80)").as_deref(),
        Ok("$params.cov // 80")
    );
    assert_eq!(
        conv("cov | default('high')").as_deref(),
        Ok("$params.cov // \"high\"")
    );
    assert_eq!(conv("params.x").as_deref(), Ok("$params.x"));
    assert!(conv("cov | upper").is_err());
    assert!(conv("unknown_thing").is_err());
    assert!(conv("a + b").is_err());
}

#[test]
fn strings_split_into_text_and_jinja() {
    assert_eq!(
        split_jinja("a {{ x }} b {% if y %}c{% endif %} {{ '}}' }}"),
        vec![
            Piece::Text("a ".into()),
            Piece::Expr(" x ".into()),
            Piece::Text(" b ".into()),
            Piece::Block("{% if y %}".into()),
            Piece::Text("c".into()),
            Piece::Block("{% endif %}".into()),
            Piece::Text(" ".into()),
            Piece::Expr(" '}}' ".into()),
        ]
    );
    assert_eq!(split_jinja("{ {x} }"), vec![Piece::Text("{ {x} }".into())]);
    assert_eq!(split_jinja("{{ open"), vec![Piece::Text("{{ open".into())]);
}

#[test]
fn task_names_become_identifiers() {
    assert_eq!(task_name("fix-it"), "fix_it");
    assert_eq!(task_name("1st"), "t1st");
    assert_eq!(jq_key("a b"), "[\"a b\"]");
}
