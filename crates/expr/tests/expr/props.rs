//! Property: compiling and evaluating never panics and always ends within its limits,
//! whatever the expression and the input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use harmonia_expr::{Context, Limits, Program, Template, Val, Var, VarSet};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Fragments of jq, combined into mostly-valid and sometimes-broken programs.
fn jq_expr() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just(".".to_string()),
        Just("..".to_string()),
        Just("$inputs".to_string()),
        Just("$tasks.a.output".to_string()),
        Just("$item".to_string()),
        Just("$index".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"s\"".to_string()),
        (0i32..20).prop_map(|n| n.to_string()),
        "[a-c]".prop_map(|k| format!(".{k}")),
        Just("$nope".to_string()),
        Just("(".to_string()),
        Just("}".to_string()),
    ];
    atom.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} | {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} * {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}, {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} // {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("if {a} then {b} else . end")),
            inner.clone().prop_map(|a| format!("[{a}]")),
            inner.clone().prop_map(|a| format!("{{k: {a}}}")),
            inner.clone().prop_map(|a| format!("({a})[]?")),
            inner.clone().prop_map(|a| format!("try ({a}) catch .")),
            inner.clone().prop_map(|a| format!("map({a})")),
            inner.clone().prop_map(|a| format!("select({a})")),
            inner.clone().prop_map(|a| format!("{a} | tostring")),
            inner.clone().prop_map(|a| format!("{a} | length")),
            inner.clone().prop_map(|a| format!("{a} | keys")),
            inner.clone().prop_map(|a| format!("repeat({a})")),
            inner.clone().prop_map(|a| format!("last(range({a}))")),
            inner
                .clone()
                .prop_map(|a| format!("reduce ({a}) as $x (0; . + 1)")),
            inner.prop_map(|a| format!("\"x\\({a})y\"")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn programs_never_panic(code in jq_expr(), input in json_value(), item in json_value()) {
        let limits = Limits { timeout: Duration::from_millis(50), max_output_bytes: 1 << 20, ..Limits::default() };
        let ctx = Context::new()
            .with(Var::Inputs, Val::from(&input))
            .with(Var::Item, Val::from(&item))
            .with(Var::Tasks, Val::from(serde_json::json!({"a": {"output": input}})));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let start = Instant::now();
            if let Ok(p) = Program::compile(&code, VarSet::ALL) {
                let _ = p.eval_all(&ctx, &Val::from(&input), &limits, 100);
                let _ = p.eval_one(&ctx, &Val::null(), &limits).map(|v| v.to_json(limits.max_output_bytes));
            }
            start.elapsed()
        }));
        let elapsed = outcome.map_err(|_| TestCaseError::fail(format!("panicked on {code:?}")))?;
        // Two evaluations of 50 ms each, plus compilation, with room for a busy machine.
        prop_assert!(elapsed < Duration::from_secs(3), "{code:?} took {elapsed:?}");
    }

    #[test]
    fn templates_never_panic(text in "\\PC{0,40}", input in json_value()) {
        let ctx = Context::new().with(Var::Inputs, Val::from(&input));
        let limits = Limits { timeout: Duration::from_millis(50), max_output_bytes: 1 << 20, ..Limits::default() };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(t) = Template::compile(&text, VarSet::ALL) {
                let _ = t.eval(&ctx, &limits);
            }
        }));
        prop_assert!(outcome.is_ok(), "panicked on {text:?}");
    }

    #[test]
    fn template_text_round_trips(text in "[^$]{0,40}") {
        // Text without `$` is a literal, whatever it contains.
        let t = Template::compile(&text, VarSet::EMPTY).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let v = t.eval(&Context::new(), &Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(v.to_json(usize::MAX).ok(), Some(Value::String(text)));
    }
}
