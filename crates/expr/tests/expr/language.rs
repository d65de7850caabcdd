//! Behaviour of the expression language as a user sees it: compile, evaluate, fail well.

use std::time::{Duration, Instant};

use harmonia_expr::{Context, Error, Limits, Program, Template, Val, ValueTemplate, Var, VarSet};
use serde_json::{Value, json};

fn ctx() -> Context {
    Context::new()
        .with(
            Var::Inputs,
            Val::from(json!({"cities": ["Oslo", "Rome"], "n": 3, "who": "Ada"})),
        )
        .with(
            Var::Tasks,
            Val::from(json!({"fetch": {"output": {"temp": 31}, "status": "succeeded"}})),
        )
        .with(Var::Params, Val::from(json!({"greeting": "hi"})))
        .with(Var::Item, Val::from(json!({"id": 7})))
        .with(Var::Index, Val::from(json!(2)))
        .with(Var::Execution, Val::from(json!({"id": "e1"})))
        .with(Var::Secrets, Val::from(json!({"token": "s3cret"})))
        .with(Var::Output, Val::from(json!({"body": [1, 2]})))
}

fn eval(src: &str) -> Result<Value, Error> {
    let t = Template::compile(src, VarSet::ALL).map_err(|mut e| e.remove(0))?;
    t.eval(&ctx(), &Limits::default())?.to_json(usize::MAX)
}

fn compile_errors(src: &str, vars: VarSet) -> Vec<Error> {
    Template::compile(src, vars).expect_err("should not compile")
}

#[test]
fn whole_value_expressions_keep_their_type() {
    assert_eq!(
        eval("${ $inputs.cities }").ok(),
        Some(json!(["Oslo", "Rome"]))
    );
    assert_eq!(eval("  ${ $inputs.n + 1 }  ").ok(), Some(json!(4)));
    assert_eq!(
        eval("${ $tasks.fetch.output.temp > 30 }").ok(),
        Some(json!(true))
    );
    assert_eq!(eval("${ null }").ok(), Some(json!(null)));
}

#[test]
fn every_variable_is_bound_to_its_own_value() {
    let got = eval(
        "${ [$inputs.who, $tasks.fetch.status, $params.greeting, $item.id, $index, $execution.id, $secrets.token, $output.body] }",
    );
    assert_eq!(
        got.ok(),
        Some(json!([
            "Ada",
            "succeeded",
            "hi",
            7,
            2,
            "e1",
            "s3cret",
            [1, 2]
        ]))
    );
    // The same holds when only some variables are compiled in.
    let p = Program::compile(
        "[$index, $inputs.n]",
        VarSet::of(&[Var::Inputs, Var::Index]),
    )
    .expect("compiles");
    let v = p
        .eval_one(&ctx(), &Val::null(), &Limits::default())
        .expect("runs");
    assert_eq!(v.to_json(1000).ok(), Some(json!([2, 3])));
}

#[test]
fn interpolation_renders_strings_raw_and_the_rest_as_json() {
    assert_eq!(
        eval("city=${ $inputs.cities[0] } n=${ $inputs.n } all=${ $inputs.cities } none=${ null }")
            .ok(),
        Some(json!(r#"city=Oslo n=3 all=["Oslo","Rome"] none=null"#))
    );
    assert_eq!(
        eval("price: $${x} and ${ 1 }").ok(),
        Some(json!("price: ${x} and 1"))
    );
    assert_eq!(eval("no expressions").ok(), Some(json!("no expressions")));
}

#[test]
fn zero_outputs_is_null_and_many_is_an_error() {
    assert_eq!(eval("${ empty }").ok(), Some(json!(null)));
    assert_eq!(eval("${ $inputs.cities[] }"), Err(Error::MultipleOutputs));
    let p = Program::compile("$inputs.cities[]", VarSet::ALL).expect("compiles");
    let all = p
        .eval_all(&ctx(), &Val::null(), &Limits::default(), 10)
        .expect("runs");
    assert_eq!(all.len(), 2);
    assert_eq!(
        p.eval_all(&ctx(), &Val::null(), &Limits::default(), 1)
            .err(),
        Some(Error::TooManyOutputs { limit: 1 })
    );
}

#[test]
fn runtime_errors_carry_jq_messages() {
    assert_eq!(
        eval(r#"${ error("boom") }"#),
        Err(Error::Runtime("boom".into()))
    );
    let e = eval("${ $inputs.n | .[0] }").expect_err("cannot index a number");
    assert!(matches!(e, Error::Runtime(m) if m.contains("index")));
}

#[test]
fn the_input_of_a_program_is_dot() {
    let p = Program::compile("map(. * 2)", VarSet::EMPTY).expect("compiles");
    let out = p
        .eval_one(
            &Context::new(),
            &Val::from(json!([1, 2])),
            &Limits::default(),
        )
        .expect("runs");
    assert_eq!(out.to_json(100).ok(), Some(json!([2, 4])));
}

#[test]
fn syntax_errors_point_into_the_whole_string() {
    let src = "a ${ $inputs.n + } b";
    let errs = compile_errors(src, VarSet::ALL);
    assert_eq!(errs.len(), 1);
    // The expression ends too early: the error points at the closing `}`.
    let span = errs[0].span().expect("span");
    assert_eq!(span.start, src.rfind('}').expect("brace"), "{errs:?}");
    let errs = compile_errors("${ [1, 2 }", VarSet::ALL);
    assert!(errs[0].to_string().contains("expected"), "{errs:?}");
    let src = "${ 1 + + 2 }";
    let errs = compile_errors(src, VarSet::ALL);
    assert_eq!(errs[0].span().map(|s| s.start), Some(7), "{errs:?}");
}

#[test]
fn unknown_variables_are_named_with_a_suggestion() {
    let src = "${ $inptus.x }";
    let errs = compile_errors(src, VarSet::ALL);
    assert_eq!(
        errs[0].to_string(),
        "unknown variable `$inptus` (did you mean `$inputs`?)"
    );
    assert_eq!(&src[errs[0].span().expect("span")], "$inptus");
}

#[test]
fn a_context_variable_outside_its_place_is_reported_as_such() {
    let errs = compile_errors("${ $item.id }", VarSet::of(&[Var::Inputs]));
    assert_eq!(
        errs,
        vec![Error::VariableNotAllowed {
            var: Var::Item,
            span: 3..8
        }]
    );
}

#[test]
fn unknown_functions_are_named_with_a_suggestion() {
    let errs = compile_errors("${ $inputs.cities | lenght }", VarSet::ALL);
    assert_eq!(
        errs[0].to_string(),
        "unknown function `lenght/0` (did you mean `length`?)"
    );
}

#[test]
fn every_expression_of_a_string_is_checked() {
    let errs = compile_errors("${ $nope } and ${ foo(1) }", VarSet::ALL);
    assert_eq!(errs.len(), 2, "{errs:?}");
}

#[test]
fn unclosed_and_empty_expressions_are_errors() {
    assert!(
        matches!(&compile_errors("x ${ .a", VarSet::ALL)[0], Error::Syntax { message, .. } if message.contains("unclosed"))
    );
    assert!(
        matches!(&compile_errors("${ }", VarSet::ALL)[0], Error::Syntax { message, .. } if message.contains("empty"))
    );
}

#[test]
fn a_syntax_error_says_it_is_one() {
    // Regression: the message was only the parser's words (`expected term, found ...`),
    // which did not say that the expression was what could not be read.
    let errs = compile_errors("${ .a | | .b }", VarSet::ALL);
    assert_eq!(
        errs[0].to_string(),
        "invalid expression: expected term, found `|`"
    );
    let errs = compile_errors("x ${ .a", VarSet::ALL);
    assert!(
        errs[0].to_string().starts_with("invalid expression: "),
        "{errs:?}"
    );
}

#[test]
fn recursion_is_rejected_at_compile_time() {
    let errs = compile_errors("${ def f: f; f }", VarSet::ALL);
    assert!(
        matches!(&errs[0], Error::Recursion { name, .. } if name == "f"),
        "{errs:?}"
    );
}

#[test]
fn env_and_halt_cannot_escape_the_sandbox() {
    let e = eval("${ env }").expect_err("env is blocked");
    assert!(e.to_string().contains("not available"), "{e}");
    let e = eval("${ halt }").expect_err("halt is an error");
    assert!(e.to_string().contains("halt(0)"), "{e}");
    assert!(
        compile_errors("${ $ENV }", VarSet::ALL)[0]
            .to_string()
            .contains("$ENV")
    );
    assert!(Template::compile(r#"${ import "x" as x; 1 }"#, VarSet::ALL).is_err());
}

fn assert_times_out(src: &str) {
    let limits = Limits {
        timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let p = Program::compile(src, VarSet::ALL).expect("compiles");
    let start = Instant::now();
    let r = p.eval_one(&ctx(), &Val::null(), &limits);
    assert_eq!(
        r.err(),
        Some(Error::Timeout {
            limit: limits.timeout
        }),
        "{src}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{src} took {:?}",
        start.elapsed()
    );
}

#[test]
fn endless_loops_hit_the_deadline() {
    assert_times_out("last(repeat(1))");
    assert_times_out("[repeat(1)] | length");
    assert_times_out("last(range(1e18))");
    assert_times_out("until(false; .)");
    assert_times_out("[recurse(. + 1)] | length");
    assert_times_out("last(recurse(. + 1; true))");
    assert_times_out("[0 | while(true; .)] | length");
    // A `try` cannot swallow the deadline for long.
    assert_times_out("last(range(1e18) | try (repeat(1) | empty) catch 0)");
}

#[test]
fn endless_output_streams_are_cut() {
    let p = Program::compile("repeat(1)", VarSet::EMPTY).expect("compiles");
    assert_eq!(
        p.eval_one(&Context::new(), &Val::null(), &Limits::default())
            .err(),
        Some(Error::MultipleOutputs)
    );
}

#[test]
fn bounded_generators_still_work_and_do_not_overflow_the_stack() {
    assert_eq!(
        eval("${ [limit(100000; repeat(1))] | length }").ok(),
        Some(json!(100000))
    );
    assert_eq!(eval("${ [range(5)] }").ok(), Some(json!([0, 1, 2, 3, 4])));
    assert_eq!(
        eval("${ [range(0; 10; 3)] }").ok(),
        Some(json!([0, 3, 6, 9]))
    );
    assert_eq!(
        eval("${ [1 | recurse(if . < 3 then . + 1 else empty end)] }").ok(),
        Some(json!([1, 2, 3]))
    );
    assert_eq!(
        eval("${ 1 | until(. > 100; . * 2) }").ok(),
        Some(json!(128))
    );
    assert_eq!(
        eval("${ [1 | while(. < 10; . * 3)] }").ok(),
        Some(json!([1, 3, 9]))
    );
    assert_eq!(
        eval("${ [[1,[2]],[[3]]] | flatten }").ok(),
        Some(json!([1, 2, 3]))
    );
}

#[test]
fn large_results_are_refused() {
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    let t = Template::compile("${ [range(1000)] }", VarSet::EMPTY).expect("compiles");
    let v = t.eval(&Context::new(), &limits).expect("evaluates");
    assert_eq!(
        v.to_json(limits.max_output_bytes),
        Err(Error::OutputTooLarge { limit: 1000 })
    );
    let t = Template::compile("x${ \"y\" * 5000 }", VarSet::EMPTY).expect("compiles");
    assert_eq!(
        t.eval(&Context::new(), &limits).err(),
        Some(Error::OutputTooLarge { limit: 1000 })
    );
}

#[test]
fn value_templates_evaluate_only_their_expressions() {
    let with = json!({
        "method": "GET",
        "url": "http://127.0.0.1/weather?city=${ $inputs.cities[$index - 2] }",
        "headers": {"X-Id": "${ $item.id }", "Accept": "application/json"},
        "list": [1, "${ $inputs.n }", "$${literal}"],
        "const": {"deep": ["$${x}"]}
    });
    let t = ValueTemplate::compile(&with, VarSet::ALL).expect("compiles");
    let out = t.eval(&ctx(), &Limits::default()).expect("evaluates");
    assert_eq!(
        out.to_json(usize::MAX).ok(),
        Some(json!({
            "method": "GET",
            "url": "http://127.0.0.1/weather?city=Oslo",
            "headers": {"X-Id": 7, "Accept": "application/json"},
            "list": [1, 3, "${literal}"],
            "const": {"deep": ["${x}"]}
        }))
    );
}

#[test]
fn value_template_errors_carry_their_path() {
    let with = json!({"a": [1, {"b": "${ $nope }"}]});
    let errs = ValueTemplate::compile(&with, VarSet::ALL).expect_err("errors");
    assert_eq!(errs.len(), 1);
    use harmonia_expr::PathSeg::*;
    assert_eq!(
        errs[0].path,
        vec![Key("a".into()), Index(1), Key("b".into())]
    );
}

#[test]
fn task_references_are_exposed_with_spans() {
    let src = "${ $tasks.fetch.output + 1 }";
    let t = Template::compile(src, VarSet::ALL).expect("compiles");
    let p = t.programs().next().expect("one program");
    let r = &p.task_refs()[0];
    assert_eq!(
        (r.task.as_str(), r.field.as_deref()),
        ("fetch", Some("output"))
    );
    // Spans are relative to the program's own source.
    assert_eq!(&p.source()[r.span.clone()], "$tasks.fetch.output");
}

#[test]
fn compiled_programs_are_shareable_across_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let p = Program::compile("$inputs.n * 2", VarSet::ALL).expect("compiles");
    send_sync(&p);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let p = p.clone();
            std::thread::spawn(move || {
                let ctx = Context::new().with(Var::Inputs, Val::from(json!({"n": i})));
                p.eval_one(&ctx, &Val::null(), &Limits::default())
                    .ok()
                    .and_then(|v| v.to_json(100).ok())
            })
        })
        .collect();
    let outs: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().ok().flatten())
        .collect();
    assert_eq!(
        outs,
        vec![
            Some(json!(0)),
            Some(json!(2)),
            Some(json!(4)),
            Some(json!(6))
        ]
    );
}

#[test]
fn builtins_that_build_on_other_builtins_work() {
    // Compilation keeps only the prelude definitions a program needs; these exercise
    // definitions that depend on other definitions.
    let cases = [
        (
            r#"${ {a: 1} | with_entries(.value += 1) }"#,
            json!({"a": 2}),
        ),
        (r#"${ ["a b", "c"] | @sh }"#, json!("'a b' 'c'")),
        (r#"${ [[1, [2]], 3] | flatten }"#, json!([1, 2, 3])),
        (r#"${ [1, 2] | any(. > 1) }"#, json!(true)),
        (r#"${ [1, 2] | all(. > 1) }"#, json!(false)),
        (
            r#"${ [[1, 2], [3]] | [combinations] }"#,
            json!([[1, 3], [2, 3]]),
        ),
        (
            r#"${ {a: 1, b: {c: 2}} | [paths(type == "number")] }"#,
            json!([["a"], ["b", "c"]]),
        ),
        (r#"${ "a-b-c" | gsub("-"; "+") }"#, json!("a+b+c")),
        (r#"${ "a1b22" | [scan("[0-9]+")] }"#, json!(["1", "22"])),
        (r#"${ "hello" | test("ell") }"#, json!(true)),
        (r#"${ [3, 1, 2] | min_by(.) }"#, json!(1)),
        (
            r#"${ [{k: 1}, {k: 1}, {k: 2}] | unique_by(.k) | length }"#,
            json!(2),
        ),
        (r#"${ ["a", "b"] | join(",") }"#, json!("a,b")),
        (r#"${ "aGk=" | @base64d }"#, json!("hi")),
        (r#"${ {a: [1]} | tojson }"#, json!(r#"{"a":[1]}"#)),
        (r#"${ "12" | tonumber + 1 }"#, json!(13)),
        (r#"${ [1, 2, 3] | add / length }"#, json!(2)),
        (r#"${ {b: 1, a: 2} | keys }"#, json!(["a", "b"])),
        (r#"${ [1, null, 2] | map(values) }"#, json!([1, 2])),
        (r#"${ 0 | todate }"#, json!("1970-01-01T00:00:00Z")),
        (r#"${ def inc(f): f + 1; inc(41) }"#, json!(42)),
    ];
    for (src, expected) in cases {
        assert_eq!(eval(src).ok(), Some(expected), "{src}");
    }
}
