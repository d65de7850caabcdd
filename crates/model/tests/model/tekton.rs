//! The Tekton Harmonia template files under `tests/tekton/` convert, validate, and
//! instantiate; their converted form and report are snapshot-tested.

use harmonia_model::template::{self, tekton};
use harmonia_model::{Format, Source, load};
use serde_json::{Value, json};

fn source(path: &std::path::Path) -> Source {
    let text = std::fs::read_to_string(path).expect("readable fixture");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    Source::new(name.clone(), text, Format::from_path(&name))
}

fn fixture(name: &str) -> tekton::Conversion {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tekton")
        .join(name);
    let src = source(&path);
    assert!(tekton::is_tekton(&src));
    tekton::convert(&src).expect("converts")
}

#[test]
fn every_tekton_fixture_converts_validates_and_matches_its_snapshot() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "tekton/*.json",
        |path| {
            let conversion = tekton::convert(&source(path)).expect("converts");
            let converted = conversion.source();
            if let Err(e) = template::read(&converted, &super::types::builtin()) {
                let lines: Vec<String> = e
                    .diagnostics()
                    .iter()
                    .map(|d| d.render(converted.name()))
                    .collect();
                panic!("{}\n{}", converted.text(), lines.join("\n"));
            }
            let report: Vec<String> = conversion.report.iter().map(ToString::to_string).collect();
            insta::assert_snapshot!(format!(
                "{}\n# report\n{}\n",
                converted.text(),
                report.join("\n")
            ));
        }
    );
}

#[test]
fn there_are_three_chains() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tekton");
    let n = std::fs::read_dir(dir).expect("fixtures").count();
    assert!(n >= 3, "{n}");
}

/// Instantiates a converted fixture with `params` and loads the instance.
fn instance(name: &str, params: Value) -> harmonia_model::Plan {
    let conversion = fixture(name);
    let t = template::read(&conversion.source(), &super::types::builtin())
        .expect("valid")
        .template;
    let i = template::instantiate(&t, 1, None, params).expect("parameters are valid");
    load(&i.source(Format::Yaml), &super::types::builtin())
        .expect("the instance is valid")
        .plan
}

#[test]
fn the_bug_fix_chain_converts_to_component_calls() {
    let c = fixture("bug_fix.json");
    let t = &c.template;
    assert_eq!(t.name, "bug-fix");
    assert_eq!(t.category.as_deref(), Some("maintenance"));
    let names: Vec<&str> = t.workflow.tasks.keys().map(String::as_str).collect();
    assert_eq!(names, ["investigate", "fix", "verify"]);
    let fix = &t.workflow.tasks["fix"];
    assert_eq!(fix.kind, "component");
    assert_eq!(fix.needs, ["investigate"]);
    assert_eq!(
        (&fix.with["component"], &fix.with["action"]),
        (&json!("numa"), &json!("fix"))
    );
    assert_eq!(
        fix.with["params"],
        json!({
            "root_cause": "${ $tasks.investigate.output.root_cause }",
            "strategy": "${ $tasks.investigate.output.recommended_fix // \"minimal change\" }",
            "branch": "fix/${ $params.ticket_id }",
        })
    );
    assert_eq!(fix.timeout.map(|d| d.to_string()).as_deref(), Some("1h"));
    let params = t.parameters.as_ref().expect("parameters");
    assert_eq!(
        params["properties"]["priority"],
        json!({"type": "string", "description": "How urgent", "enum": ["low", "medium", "high", "critical"], "default": "medium"})
    );
    assert!(
        params["properties"].get("component_urls").is_none(),
        "components are found by name, not by URL parameters"
    );
    // `| upper` has no conversion: the text stays, and the report says so.
    assert_eq!(
        t.workflow.tasks["verify"].with["params"]["summary"],
        "{{ fix.output.title | upper }}"
    );
    assert!(c.report.iter().any(
        |i| i.path == "/workflow_definition/tasks/2/parameters/summary"
            && i.message.contains("the filter `upper`")
    ));
    let plan = instance(
        "bug_fix.json",
        json!({"bug_report": "login fails", "reproduction_steps": "log in", "ticket_id": "BUG-7"}),
    );
    let params = plan.workflow.params.clone().expect("params");
    assert_eq!(params["priority"], "medium");
}

#[test]
fn the_feature_chain_keeps_types_and_interpolates_text() {
    let c = fixture("feature_development.json");
    let t = &c.template;
    let implement = &t.workflow.tasks["implement"].with["params"];
    assert_eq!(
        implement["instructions"],
        "Implement ${ $params.feature_name } in ${ $params.language }, following ${ $inputs.coding_standards }"
    );
    let test = &t.workflow.tasks["test"].with["params"];
    assert_eq!(test["coverage_target"], "${ $params.test_coverage // 80 }");
    assert!(
        c.report
            .iter()
            .any(|i| i.message.contains("{% if include_docs %}"))
    );
    assert_eq!(
        t.workflow.outputs.keys().collect::<Vec<_>>(),
        ["review"],
        "the last task's result is the output"
    );
    let plan = instance(
        "feature_development.json",
        json!({"feature_name": "search", "requirements": "find things"}),
    );
    assert_eq!(plan.tasks.len(), 4);
}

#[test]
fn the_refactoring_chain_reports_what_it_could_not_convert() {
    let c = fixture("code_refactoring.json");
    let t = &c.template;
    let names: Vec<&str> = t.workflow.tasks.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["analyze", "plan_changes", "refactor", "lint", "report"]
    );
    // Reads `lint` without depending on it: added, and reported.
    assert_eq!(t.workflow.tasks["refactor"].needs, ["plan_changes", "lint"]);
    // No component: a `set` task; `${` in plain text stays literal.
    assert_eq!(t.workflow.tasks["report"].kind, "set");
    assert_eq!(
        t.workflow.tasks["report"].with["price"],
        "$${ not an expression }"
    );
    let report = c
        .report
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for expected in [
        "dropped: /workflow_definition/tasks/plan-changes/retry",
        "dropped: /workflow_definition/tasks/refactor/dependencies/1: task `refactor` depends on \"cleanup\"",
        "adjusted: /workflow_definition/tasks/plan-changes: the task `plan-changes` is `plan_changes` here",
        "dropped: /parameters/baseline/parameter_type: the parameter type `file`",
        "dropped: /parameters/max_changes/placeholder",
        "dropped: /workflow_definition/input/attachments/type",
        "dropped: /workflow_definition/output/refactored",
        "dropped: /usage_count",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
    // Components are found by name when the tasks run: no URL to give.
    let plan = instance("code_refactoring.json", json!({"code_path": "src"}));
    let lint = plan.tasks.iter().find(|t| t.name == "lint").expect("lint");
    assert_eq!(lint.kind, "component");
}

#[test]
fn files_that_are_not_tekton_templates_are_refused_with_a_place() {
    let src = Source::new("x.json", "{\"name\": \"x\", \"tasks\": []}", Format::Json);
    assert!(!tekton::is_tekton(&src));
    let e = tekton::convert(&src).expect_err("not tekton");
    assert!(e.diagnostics()[0].message.contains("workflow_definition"));
    let src = Source::new(
        "x.json",
        "{\"workflow_definition\": {\"tasks\": 3}}",
        Format::Json,
    );
    let e = tekton::convert(&src).expect_err("bad tasks");
    assert_eq!(e.diagnostics()[0].path, "workflow_definition.tasks");
}
