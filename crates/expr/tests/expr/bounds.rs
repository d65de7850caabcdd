//! Every evaluation ends within its deadline and memory budget, and nothing an
//! expression builds or a program's shape can exhaust the stack: each case here took a
//! whole process down (stack overflow, an allocation failure) or ran for many seconds
//! before these bounds existed.

use std::time::{Duration, Instant};

use harmonia_expr::{
    Context, Error, Limits, MAX_DEPTH, Program, Template, Val, VarSet, memory_is_measured,
};
use serde_json::{Value, json};

fn limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(2),
        max_memory_bytes: 32 << 20,
        ..Limits::default()
    }
}

fn run(src: &str, limits: &Limits) -> (Result<Value, Error>, Duration) {
    let p = Program::compile(src, VarSet::ALL).expect("compiles");
    let start = Instant::now();
    let r = p
        .eval_one(&Context::new(), &Val::null(), limits)
        .and_then(|v| v.to_json(limits.max_output_bytes));
    (r, start.elapsed())
}

/// Evaluates on a thread with an ordinary 2 MiB stack, as a tokio worker has.
fn run_on_small_stack(src: &'static str, limits: Limits) -> Result<Value, Error> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run(src, &limits).0)
        .expect("spawns")
        .join()
        .expect("does not panic")
}

#[test]
fn the_allocator_counts_memory_in_these_tests() {
    assert!(memory_is_measured());
}

#[test]
fn building_a_deep_value_is_an_error_not_a_crash() {
    // Regression: this overflowed the stack when the value was dropped, aborting the
    // whole server (and again at every restart while its execution was unfinished).
    let r = run_on_small_stack("reduce range(100000) as $i (0; [.]) | length", limits());
    assert_eq!(r, Err(Error::TooDeep { limit: MAX_DEPTH }));
    let r = run_on_small_stack("reduce range(100000) as $i (0; {a: .})", limits());
    assert_eq!(r, Err(Error::TooDeep { limit: MAX_DEPTH }));
    // Up to the limit is fine, and round-trips.
    let src = format!("reduce range({}) as $i (0; [.])", MAX_DEPTH);
    let (r, _) = run(&src, &limits());
    let v = r.expect("at the limit");
    assert!(!harmonia_expr::json_deeper_than(&v, MAX_DEPTH));
    assert!(harmonia_expr::json_deeper_than(&v, MAX_DEPTH - 1));
}

#[test]
fn parsing_deep_json_text_is_refused_before_parsing() {
    let r = run_on_small_stack(r#""[" * 1000000 | fromjson"#, limits());
    assert_eq!(r, Err(Error::TooDeep { limit: MAX_DEPTH }));
    let (r, _) = run(r#""[[1],{\"a\":[2]}]" | fromjson"#, &limits());
    assert_eq!(r.ok(), Some(json!([[1], {"a": [2]}])));
}

#[test]
fn a_long_path_update_is_an_error_not_a_crash() {
    let r = run_on_small_stack(
        r#"{} | setpath([range(1000000) | "a"]; 1) | length"#,
        limits(),
    );
    assert!(r.is_err(), "{r:?}");
    // A long path, read: ends normally (the deadline is generous: this is about the
    // stack, on a machine that may be busy).
    let r = run_on_small_stack(
        r#"[range(100000) | "a"] as $p | {} | getpath($p)"#,
        Limits {
            timeout: Duration::from_secs(60),
            ..limits()
        },
    );
    assert_eq!(r, Ok(Value::Null));
}

#[test]
fn combinations_end_within_the_deadline_and_the_budget() {
    // Regression: 29 s and 5.7 GB before every definition of the standard library and
    // every iteration checked the bounds.
    let limits = Limits {
        timeout: Duration::from_millis(500),
        ..limits()
    };
    let (r, took) = run("[range(30)] | [combinations(5)] | length", &limits);
    assert!(
        matches!(r, Err(Error::Timeout { .. } | Error::MemoryLimit { .. })),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn nested_iteration_ends_within_the_deadline() {
    let limits = Limits {
        timeout: Duration::from_millis(300),
        ..limits()
    };
    let (r, took) = run(
        "[range(1000)] as $r | [$r[] as $a | $r[] as $b | $r[] | 1] | length",
        &limits,
    );
    assert!(
        matches!(r, Err(Error::Timeout { .. } | Error::MemoryLimit { .. })),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn memory_is_bounded_even_within_the_deadline() {
    let limits = Limits {
        timeout: Duration::from_secs(30),
        max_memory_bytes: 8 << 20,
        ..Limits::default()
    };
    let (r, took) = run("[range(1e9)] | length", &limits);
    assert_eq!(r, Err(Error::MemoryLimit { limit: 8 << 20 }));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Doubling a string: each step is one built-in operation.
    let (r, _) = run(r#"reduce range(64) as $i ("x"; . + .) | length"#, &limits);
    assert_eq!(r, Err(Error::MemoryLimit { limit: 8 << 20 }));
}

#[test]
fn string_repetition_is_checked_before_it_allocates() {
    // Regression: a single multiplication asked the allocator for a terabyte, which
    // aborts the process.
    let (r, _) = run(r#""x" * 1e12 | length"#, &limits());
    assert_eq!(r, Err(Error::MemoryLimit { limit: 32 << 20 }));
    let (r, _) = run(r#"1e12 * "xy" | length"#, &limits());
    assert_eq!(r, Err(Error::MemoryLimit { limit: 32 << 20 }));
    // Multiplication keeps its meaning, and jq's order over generators.
    let (r, _) = run(
        r#"["ab" * 3, 3 * "ab", "ab" * 0, 6 * 7, ({a: {b: 1}} * {a: {c: 2}}), [(1,2) * (10,20)]]"#,
        &limits(),
    );
    assert_eq!(
        r.ok(),
        Some(json!(["ababab", "ababab", null, 42, {"a": {"b": 1, "c": 2}}, [10, 20, 20, 40]]))
    );
}

#[test]
fn programs_too_deep_or_too_long_are_syntax_errors_not_crashes() {
    for src in [
        format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
        format!("{}1{}", "{a:".repeat(5000), "}".repeat(5000)),
        "1, ".repeat(5000) + "1",
        "1 + ".repeat(5000) + "1",
        "-".repeat(5000) + "1",
        "try ".repeat(5000) + "1",
        ".a".repeat(5000),
        format!("{}1{}", "if . then ".repeat(3000), " end".repeat(3000)),
    ] {
        let head: String = src.chars().take(20).collect();
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || Program::compile(&src, VarSet::ALL).map(|_| ()))
            .expect("spawns")
            .join()
            .expect("does not panic");
        let errs = r.expect_err(&head);
        assert!(matches!(errs[0], Error::Syntax { .. }), "{errs:?}");
    }
    // Parentheses leave nothing in the tree: deep ones parse (on a large stack).
    let src = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || Program::compile(&src, VarSet::ALL).is_ok())
            .expect("spawns")
            .join()
            .expect("does not panic")
    );
    // Ordinary long programs are fine.
    let src = format!(
        "[{}]",
        (0..400)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (r, _) = run(&src, &limits());
    assert_eq!(r.ok().map(|v| v.as_array().map(Vec::len)), Some(Some(400)));
}

#[test]
fn path_expressions_and_updates_still_work() {
    let cases = [
        (r#"{"a": [1, 2]} | .a[] |= . + 1"#, json!({"a": [2, 3]})),
        (
            r#"{"a": [{"b": 1}]} | [path(.a[].b)]"#,
            json!([["a", 0, "b"]]),
        ),
        (r#"{"a": {"b": 1}} | [paths]"#, json!([["a"], ["a", "b"]])),
        (
            r#"{"a": 1} | to_entries"#,
            json!([{"key": "a", "value": 1}]),
        ),
        (
            r#"[1, [2]] | walk(if type == "number" then . * 10 else . end)"#,
            json!([10, [20]]),
        ),
        (
            r#"{"a": {}} | setpath(["a", "b"]; 1)"#,
            json!({"a": {"b": 1}}),
        ),
        (r#"{"a": 1, "b": 2} | delpaths([["a"]])"#, json!({"b": 2})),
        (r#"[3, 1, 2] | sort_by(.) | first, last"#, json!(null)),
        ("[limit(3; repeat(1))]", json!([1, 1, 1])),
        ("1 | debug | . + 1", json!(2)),
    ];
    for (src, want) in cases {
        let p = Program::compile(src, VarSet::ALL).expect(src);
        let got = p.eval_all(&Context::new(), &Val::null(), &limits(), 10);
        let got: Vec<Value> = got
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .iter()
            .map(|v| v.to_json(1 << 20).expect("json"))
            .collect();
        if want.is_null() {
            assert_eq!(got, vec![json!(1), json!(3)], "{src}");
        } else {
            assert_eq!(got, vec![want], "{src}");
        }
    }
    let t = Template::compile("${ [.[]?] }", VarSet::ALL).expect("compiles");
    assert!(t.eval(&Context::new(), &limits()).is_ok());
}
