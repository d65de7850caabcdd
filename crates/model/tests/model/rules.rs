//! One test per validation rule, on the smallest definition that breaks it, plus the
//! shape of the plan a valid definition compiles to.

use std::time::Duration;

use harmonia_model::{
    Backoff, Condition, ErrorClass, ForEach, Format, Join, Severity, Source, load,
};

/// Every problem as `LINE:COL PATH: MESSAGE`.
fn problems(yaml: &str) -> Vec<String> {
    let source = Source::new("t.yaml", yaml, Format::Yaml);
    match load(&source, &super::types::builtin()) {
        Ok(l) => l
            .warnings
            .iter()
            .map(|d| format!("{} {}: {}", d.position, d.path, d.message))
            .collect(),
        Err(e) => e
            .diagnostics()
            .iter()
            .map(|d| format!("{} {}: {}", d.position, d.path, d.message))
            .collect(),
    }
}

fn assert_one(yaml: &str, expected: &str) {
    let p = problems(yaml);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].contains(expected),
        "{:?} does not contain {expected:?}",
        p[0]
    );
}

fn plan(yaml: &str) -> harmonia_model::Plan {
    match load(
        &Source::new("t.yaml", yaml, Format::Yaml),
        &super::types::builtin(),
    ) {
        Ok(l) => l.plan,
        Err(e) => panic!("{:#?}", e.diagnostics()),
    }
}

#[test]
fn a_valid_definition_has_no_problems() {
    assert!(problems("name: ok\ntasks:\n  a: {type: set}\n").is_empty());
}

#[test]
fn rule_name_format() {
    assert_one(
        "name: Bad_Name\ntasks:\n  a: {type: set}\n",
        "1:7 name: invalid workflow name `Bad_Name`",
    );
}

#[test]
fn rule_required_fields() {
    let p = problems("description: x\n");
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("missing required field `name`"));
    assert!(p[1].contains("missing required field `tasks`"));
    assert_one(
        "name: x\ntasks:\n  a: {with: {}}\n",
        "missing required field `type` in task `a`",
    );
}

#[test]
fn rule_unknown_fields_suggest_or_translate() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, retires: {}}\n",
        "3:18 tasks.a.retires: unknown field `retires` in task `a` (did you mean `retry`?)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\n  b: {type: set, depends_on: [a]}\n",
        "Harmonia calls this `needs`",
    );
    assert_one(
        "name: x\njobs: {}\ntasks:\n  a: {type: set}\n",
        "2:1 jobs: unknown field `jobs` in the workflow; Harmonia calls this `tasks`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, retry: {max_attemps: 2}}\n",
        "(did you mean `max_attempts`?)",
    );
    assert_one(
        "name: x\ndefaults: {timeot: 1s}\ntasks:\n  a: {type: set}\n",
        "(did you mean `timeout`?)",
    );
}

#[test]
fn rule_duplicate_task_names_and_fields() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\n  a: {type: set}\n",
        "4:3 tasks.a: duplicate task name `a` (first defined at 3:3)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, type: http}\n",
        "duplicate field `type` (first set at 3:7)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, with: {k: 1, k: 2}}\n",
        "duplicate key `k`",
    );
}

#[test]
fn rule_task_names_are_identifiers() {
    assert_one(
        "name: x\ntasks:\n  my-task: {type: set}\n",
        "invalid task name `my-task`",
    );
}

#[test]
fn rule_unknown_task_type() {
    assert_one(
        "name: x\ntasks:\n  a: {type: sett}\n",
        "3:13 tasks.a.type: unknown task type `sett` (did you mean `set`?)",
    );
}

#[test]
fn rule_unknown_needs() {
    assert_one(
        "name: x\ntasks:\n  load: {type: set}\n  b: {type: set, needs: [lod]}\n",
        "4:26 tasks.b.needs[0]: unknown task `lod` in `needs` (did you mean `load`?)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, needs: a}\n",
        "cannot need itself",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\n  b: {type: set, needs: [a, a]}\n",
        "`a` is listed twice",
    );
}

#[test]
fn rule_cycles_are_printed() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, needs: [b]}\n  b: {type: set, needs: [c]}\n  c: {type: set, needs: [a]}\n",
        "dependency cycle: a -> b -> c -> a",
    );
}

#[test]
fn rule_durations() {
    assert_one(
        "name: x\ntimeout: 10\ntasks:\n  a: {type: set}\n",
        "expected a duration with a unit, like `10s`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, timeout: 3 hours}\n",
        "unknown unit `hours`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: sleep, with: {duration: 3x}}\n",
        "unknown unit `x`",
    );
}

#[test]
fn rule_retry_policy_fields() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, retry: {backoff: expo}}\n",
        "unknown backoff `expo`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, retry: {retry_on: [http_5xxx]}}\n",
        "(did you mean `http_5xx`?)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, retry: {max_attempts: 0}}\n",
        "from 1 to 1000",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, retry: {initial_delay: 2s, max_delay: 1s}}\n",
        "longer than `max_delay`",
    );
}

#[test]
fn rule_expression_syntax_points_into_the_string() {
    // `1 +` ends too early: the error is at the `}` that closes the expression.
    let p = problems("name: x\ntasks:\n  a: {type: set, with: {v: \"${ 1 + }\"}}\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("3:36 tasks.a.with.v: invalid expression: expected term"),
        "{p:?}"
    );
}

#[test]
fn rule_unknown_variables_and_functions() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, with: {v: \"${ $inptus }\"}}\n",
        "3:32 tasks.a.with.v: unknown variable `$inptus` (did you mean `$inputs`?)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, with: {v: \"${ [] | lenght }\"}}\n",
        "unknown function `lenght/0` (did you mean `length`?)",
    );
}

#[test]
fn rule_variables_only_where_they_exist() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, with: {v: \"${ $item }\"}}\n",
        "`$item` is only available in tasks with `for_each`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, for_each: [1], if: \"${ $index > 0 }\"}\n",
        "`$index` is not available in `if`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\noutputs: {o: \"${ $secrets.k }\"}\n",
        "`$secrets` is only available in `with:`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, with: {v: \"${ $output }\"}}\n",
        "`$output` is only available in a task's `output:`",
    );
    // And where they do exist, they compile.
    assert!(problems("name: x\ntasks:\n  a: {type: set, for_each: [1], with: {v: \"${ $item + $index }\", s: \"${ $secrets.k }\"}, output: \"${ $output.v + $item }\"}\n").is_empty());
}

#[test]
fn rule_task_references_must_be_upstream() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\n  b: {type: set, with: {v: \"${ $tasks.a.output }\"}}\n",
        "`$tasks.a` is read here, but `a` is not upstream of `b`",
    );
    // Transitively upstream is fine.
    assert!(problems("name: x\ntasks:\n  a: {type: set}\n  b: {type: set, needs: [a]}\n  c: {type: set, needs: [b], if: \"${ $tasks.a.status == \\\"succeeded\\\" }\"}\n").is_empty());
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\n  b: {type: set, needs: [a], with: {v: \"${ $tasks.c.output }\"}}\n",
        "`$tasks.c` reads an unknown task",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\n  b: {type: set, needs: [a], with: {v: \"${ $tasks.a.result }\"}}\n",
        "a task result has no field `result`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, output: \"${ $tasks.a.output }\"}\n",
        "cannot read its own result; in `output:`, the raw result is `$output`",
    );
}

#[test]
fn rule_workflow_outputs_may_read_any_task() {
    assert!(problems("name: x\ntasks:\n  a: {type: set}\n  b: {type: set}\noutputs: {both: \"${ [$tasks.a.output, $tasks.b.output] }\"}\n").is_empty());
    assert_one(
        "name: x\ntasks:\n  a: {type: set}\noutputs: {o: \"${ $tasks.z.output }\"}\n",
        "reads an unknown task",
    );
}

#[test]
fn rule_if_output_and_for_each_shapes() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, if: yes}\n",
        "did you mean `${ yes }`?",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, output: \"x ${ 1 }\"}\n",
        "expected exactly one `${ }` expression here",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, for_each: abc}\n",
        "`for_each` must be a list or a `${ }` expression",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: set, concurrency: 2}\n",
        "`concurrency` limits a fan-out",
    );
}

#[test]
fn rule_inputs_schema() {
    assert_one(
        "name: x\ninputs: {type: object, properties: {a: {type: strng}}}\ntasks:\n  a: {type: set}\n",
        "unknown type `strng` (did you mean `string`?)",
    );
    assert_one(
        "name: x\ninputs: {type: object, required: a}\ntasks:\n  a: {type: set}\n",
        "expected array",
    );
    assert_one(
        "name: x\ninputs: [a]\ntasks:\n  a: {type: set}\n",
        "expected a JSON Schema",
    );
}

#[test]
fn rule_parameters_checked_against_the_task_type() {
    assert_one(
        "name: x\ntasks:\n  a: {type: http, with: {method: GET}}\n",
        "missing required parameter `url` for a `http` task",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: http, with: {url: \"http://h/\", methd: GET}}\n",
        "unknown parameter `methd` for a `http` task (did you mean `method`?)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: http, with: {url: \"http://h/\", method: get}}\n",
        "unknown value `get` (did you mean `GET`?)",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: shell, with: {}}\n",
        "set `argv` (a list) or `script`",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: transform, with: {expr: \"map(\"}}\n",
        "invalid jq program",
    );
    assert_one(
        "name: x\ntasks:\n  a: {type: workflow, with: {}}\n",
        "missing required parameter `workflow`",
    );
}

#[test]
fn rule_expression_values_are_not_type_checked_statically() {
    assert!(problems("name: x\ntasks:\n  a: {type: http, with: {url: \"${ $inputs.u }\", headers: \"${ $inputs.h }\", method: \"${ $inputs.m }\"}}\n").is_empty());
}

#[test]
fn rule_recursion_is_rejected() {
    assert_one(
        "name: x\ntasks:\n  a: {type: set, with: {v: \"${ def f: f; f }\"}}\n",
        "recursive function `f`",
    );
}

const INPUTS: &str = "name: x
inputs:
  type: object
  properties:
    customer:
      type: object
      properties: {name: {type: string}, tags: {type: object}}
    rows: {type: array, items: {type: object, properties: {id: {type: integer}}}}
tasks:
";

#[test]
fn rule_reads_of_inputs_the_schema_does_not_declare_are_warnings() {
    // Regression: `$inputs.typo` passed validation without a word.
    let yaml = format!(
        "{INPUTS}  a: {{type: set, with: {{n: '${{ $inputs.custmer }}', m: '${{ $inputs.customer.nmae }}', r: '${{ $inputs.rows[0].di }}'}}}}\n"
    );
    let loaded = load(
        &Source::new("t.yaml", yaml.as_str(), Format::Yaml),
        &super::types::builtin(),
    )
    .expect("warnings do not invalidate");
    let found: Vec<String> = loaded
        .warnings
        .iter()
        .map(|d| format!("{} {} {}: {}", d.severity, d.position, d.path, d.message))
        .collect();
    assert_eq!(
        found,
        vec![
            "warning 10:32 tasks.a.with.n: `$inputs.custmer` reads `custmer`, which the `inputs` schema does not declare (did you mean `$inputs.customer`?)",
            "warning 10:59 tasks.a.with.m: `$inputs.customer.nmae` reads `nmae`, which the `inputs` schema does not declare (did you mean `$inputs.customer.name`?)",
            "warning 10:92 tasks.a.with.r: `$inputs.rows[0].di` reads `di`, which the `inputs` schema does not declare (did you mean `$inputs.rows[0].id`?)",
        ]
    );
}

#[test]
fn rule_declared_inputs_and_undescribed_levels_say_nothing() {
    let yaml = format!(
        "{INPUTS}  a: {{type: set, if: '${{ $inputs.customer.name != null }}', with: '${{ [$inputs.customer.tags.anything, $inputs.rows[1].id, $inputs[$inputs.customer.name]] }}'}}\n"
    );
    assert!(problems(&yaml).is_empty(), "{:#?}", problems(&yaml));
    // No `inputs` schema at all: nothing to compare with.
    assert!(
        problems("name: x\ntasks:\n  a: {type: set, with: '${ $inputs.whatever }'}\n").is_empty()
    );
    // A schema that lists no properties does not say which keys exist.
    assert!(
        problems("name: x\ninputs: {type: object}\ntasks:\n  a: {type: set, with: '${ $inputs.whatever }'}\n")
            .is_empty()
    );
}

#[test]
fn rule_reads_of_inputs_a_closed_schema_does_not_declare_are_errors() {
    let p = problems(
        "name: x
inputs: {type: object, additionalProperties: false, properties: {city: {type: string}}}
tasks:
  a: {type: set, with: '${ $inputs.cty }'}
outputs:
  o: '${ $inputs.zzz }'
",
    );
    assert_eq!(
        p,
        vec![
            "4:28 tasks.a.with: `$inputs.cty` reads `cty`, which the `inputs` schema does not declare, and it allows no other inputs (`additionalProperties: false`): the value is always null (did you mean `$inputs.city`?)",
            "6:10 outputs.o: `$inputs.zzz` reads `zzz`, which the `inputs` schema does not declare, and it allows no other inputs (`additionalProperties: false`): the value is always null",
        ]
    );
}

#[test]
fn warnings_do_not_invalidate() {
    let source = Source::new(
        "t.yaml",
        "name: x\ntasks:\n  a: {type: set, join: any}\n",
        Format::Yaml,
    );
    let loaded = load(&source, &super::types::builtin()).expect("valid with a warning");
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].severity, Severity::Warning);
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(
        "name: X\ntasks:\n  a: {type: nope, neds: []}\n  b: {type: set, needs: [zz], timeout: 5}\n  c: {type: http}\n",
    );
    assert_eq!(p.len(), 6, "{p:#?}");
}

#[test]
fn the_plan_is_ordered_and_resolved() {
    let p = plan(
        "name: p
defaults:
  retry: {max_attempts: 3, backoff: linear, initial_delay: 2s}
  timeout: 10s
tasks:
  notify:
    needs: [hot]
    if: ${ $tasks.hot.output | length > 0 }
    type: set
    retry: {max_attempts: 5, retry_on: [http_5xx]}
  fetch:
    type: set
    for_each: ${ [1, 2, 3] }
    concurrency: 2
    timeout: 1s
    output: ${ $output }
  hot:
    needs: [fetch]
    join: all_done
    type: set
    for_each: [a, b]
",
    );
    let names: Vec<&str> = p.order.iter().map(|&i| p.tasks[i].name.as_str()).collect();
    assert_eq!(names, ["fetch", "hot", "notify"]);
    let notify = &p.tasks[p.task_index("notify").expect("notify")];
    assert!(matches!(notify.condition, Condition::When(_)));
    assert_eq!(notify.retry.max_attempts, 5);
    assert_eq!(notify.retry.backoff, Backoff::Linear);
    assert_eq!(notify.retry.initial_delay, Duration::from_secs(2));
    assert_eq!(notify.retry.retry_on, vec![ErrorClass::Http5xx]);
    assert_eq!(notify.timeout, Some(Duration::from_secs(10)));
    let fetch = &p.tasks[p.task_index("fetch").expect("fetch")];
    assert!(matches!(fetch.for_each, Some(ForEach::Expr(_))));
    assert_eq!(fetch.concurrency, Some(2));
    assert_eq!(fetch.timeout, Some(Duration::from_secs(1)));
    assert_eq!(fetch.dependents, vec![p.task_index("hot").expect("hot")]);
    let hot = &p.tasks[p.task_index("hot").expect("hot")];
    assert_eq!(hot.join, Join::AllDone);
    assert!(matches!(hot.for_each, Some(ForEach::Items(_))));
}

#[test]
fn json_definitions_report_json_positions() {
    let source = Source::new(
        "t.json",
        "{\"name\": \"x\",\n \"tasks\": {\"a\": {\"type\": \"sett\"}}}",
        Format::Json,
    );
    let e = load(&source, &super::types::builtin()).expect_err("unknown type");
    assert_eq!(e.diagnostics()[0].position.to_string(), "2:26");
}

#[test]
fn rule_params_and_template_are_read_and_checked() {
    let p = plan(
        "name: from-template
template: {name: greeter, version: 3}
params: {who: Ada, n: 2}
tasks:
  a: {type: set, with: 'hi ${ $params.who } x${ $params.n }'}
",
    );
    let wf = &p.workflow;
    assert_eq!(
        wf.template,
        Some(harmonia_model::TemplateRef {
            name: "greeter".into(),
            version: 3
        })
    );
    assert_eq!(wf.params, Some(serde_json::json!({"who": "Ada", "n": 2})));
    // `$params` is known without `params` too (it is null then).
    assert!(problems("name: x\ntasks:\n  a: {type: set, with: '${ $params.x }'}\n").is_empty());
    assert_one(
        "name: x\nparams: [1]\ntasks:\n  a: {type: set}\n",
        "2:9 params: expected the parameter values (a mapping of names to values), found a list",
    );
    assert_one(
        "name: x\ntemplate: {name: Bad Name, version: 1}\ntasks:\n  a: {type: set}\n",
        "2:18 template.name: invalid template name `Bad Name`",
    );
    assert_one(
        "name: x\ntemplate: {name: t, version: 0}\ntasks:\n  a: {type: set}\n",
        "2:30 template.version: expected a whole number from 1 to 4294967295, found 0",
    );
    let p = problems("name: x\ntemplate: {name: t, versoin: 1}\ntasks:\n  a: {type: set}\n");
    assert_eq!(
        p,
        [
            "2:11 template: missing required field `version` in `template` (the template's version, from 1)",
            "2:21 template.versoin: unknown field `versoin` in `template` (did you mean `version`?)",
        ]
    );
}

/// Every diagnostic of `text` (YAML or JSON), rendered as `harmonia validate` prints it.
fn rendered(name: &str, text: &str) -> Vec<String> {
    let source = Source::new(name, text, Format::from_path(name));
    let diagnostics = match load(&source, &super::types::builtin()) {
        Ok(l) => l.warnings,
        Err(e) => e.diagnostics().to_vec(),
    };
    diagnostics.iter().map(|d| d.render(name)).collect()
}

#[test]
fn no_diagnostic_echoes_a_huge_value() {
    // Regression: a 1 MB workflow `name` came back whole in its error message. Every
    // place a message quotes what the user wrote goes through one clipping helper.
    let big = "X".repeat(1 << 20);
    let low = "x".repeat(1 << 20);
    // A YAML key is at most 1024 characters (an implicit key, by YAML's rules).
    let key = "k".repeat(1000);
    let yaml = format!(
        "name: {big}
description: ok
{key}: 1
inputs: {{type: object, additionalProperties: false, properties: {{a: {{type: string}}}}}}
defaults: {{timeout: {low}, retry: {{backoff: {low}, retry_on: [{low}]}}}}
tasks:
  {key}: {{type: set}}
  a:
    type: {low}
    needs: [{low}, {low}]
    join: {low}
    {key}: 1
    if: '{low}'
    timeout: '1{low}'
  b:
    type: http
    for_each: '{low}'
    with: {{url: 'http://x', method: {low}, {key}: 1}}
  c:
    type: set
    needs: c
    with: '${{ $inputs.{low} + $tasks.{low}.output + ${low} + {low}(1) + $tasks.a.{low} }}'
  d:
    type: set
    with: {{v: '${{ 1 + }}{low}', w: '${{ def {low}: {low}; {low} }}'}}
outputs:
  o: '${{ $inputs.a | {low}) }}'
"
    );
    let lines = rendered("t.yaml", &yaml);
    assert!(lines.len() >= 20, "{lines:#?}");
    for line in &lines {
        assert!(
            line.chars().count() < 1200,
            "{} characters: {}…",
            line.chars().count(),
            line.chars().take(300).collect::<String>()
        );
    }
    // A workflow made only of a huge name and a huge task name.
    let json = format!(
        r#"{{"name": "{big}", "tasks": {{"{big}": {{"type": "set", "needs": ["{big}"]}}}}, "{big}": [{{"{low}": true}}]}}"#
    );
    for line in rendered("t.json", &json) {
        assert!(
            line.chars().count() < 1200,
            "{}…",
            line.chars().take(300).collect::<String>()
        );
    }
}

#[test]
fn json_is_read_as_json_whatever_the_length_of_a_key() {
    // Regression: a key over 1024 characters was "invalid YAML" (YAML's implicit-key
    // limit applied to JSON).
    let key = "k".repeat(1100);
    let json =
        format!(r#"{{"name": "x", "tasks": {{"a": {{"type": "set", "with": {{"{key}": 1}}}}}}}}"#);
    let loaded = load(
        &Source::new("t.json", json, Format::Json),
        &super::types::builtin(),
    )
    .expect("valid JSON is a valid definition");
    assert_eq!(loaded.plan.workflow.tasks["a"].with[&key], 1);
}

#[test]
fn nesting_too_deep_is_reported_in_the_format_with_the_limit() {
    // Regression: JSON nested too deep was reported as a YAML "budget breached". The
    // position is the bracket that opens the 33rd level.
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let json = format!(
        "{{\"name\": \"x\",\n \"tasks\": {{\"a\": {{\"type\": \"set\", \"with\": {}}}}}}}",
        deep(100)
    );
    assert_eq!(
        rendered("t.json", &json),
        vec![
            "t.json:2:70: error: invalid JSON: nested deeper than 32 levels of objects and arrays, the most a definition may have"
        ]
    );
    // Deeper than serde_json's own limit (128): still ours, still JSON.
    let json = format!(
        r#"{{"name": "x", "tasks": {{"a": {{"type": "set", "with": {}}}}}}}"#,
        deep(300)
    );
    let lines = rendered("t.json", &json);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("invalid JSON: nested deeper than 32 levels"),
        "{lines:?}"
    );
    // Within the limit, fine.
    let json = format!(
        r#"{{"name": "x", "tasks": {{"a": {{"type": "set", "with": {}}}}}}}"#,
        deep(29)
    );
    assert!(rendered("t.json", &json).is_empty());
    // YAML has the same limit, in its own words (and reading stays within a small
    // stack: 60 levels overflowed a test thread's 2 MiB before the limit was lowered).
    let yaml = format!("name: x\ntasks:\n  a: {{type: set, with: {}}}\n", deep(100));
    let lines = rendered("t.yaml", &yaml);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let yaml = format!("name: x\ntasks:\n  a: {{type: set, with: {}}}\n", deep(60));
    let lines = rendered("t.yaml", &yaml);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("invalid YAML: nested deeper than 32 levels of mappings and lists, the most a definition may have"),
        "{lines:?}"
    );
}
