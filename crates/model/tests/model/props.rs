//! Properties of reading and validation, over generated input.

use harmonia_model::{Format, Source, load};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text, as YAML or JSON: no panic, and every position is inside the text.
    #[test]
    fn loading_never_panics(text in "\\PC{0,200}") {
        for format in [Format::Yaml, Format::Json] {
            let source = Source::new("p", text.clone(), format);
            if let Err(e) = load(&source, &super::types::builtin()) {
                let lines = text.lines().count().max(1) + 1;
                for d in e.diagnostics() {
                    prop_assert!(d.position.line >= 1 && d.position.line <= lines, "{:?}", d);
                }
            }
        }
    }

    /// Text close to a real definition, with random edits, never panics either.
    #[test]
    fn mutated_definitions_never_panic(cut in 0usize..400, insert in "[ :\\[\\]{}$\\-a-z0-9\"'\\n]{0,12}") {
        let base = "name: w\ntasks:\n  a: {type: set, with: {x: \"${ $inputs.a }\"}}\n  b:\n    needs: [a]\n    type: http\n    with: {url: \"http://h/${ $tasks.a.output.x }\"}\n    retry: {max_attempts: 3}\n";
        let at = cut.min(base.len());
        let at = (0..=at).rev().find(|i| base.is_char_boundary(*i)).unwrap_or(0);
        let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
        let _ = load(&Source::new("m.yaml", text, Format::Yaml), &super::types::builtin());
    }

    /// Random acyclic graphs validate, and the plan orders every task after its needs.
    #[test]
    fn random_dags_validate_in_order(edges in prop::collection::vec((0usize..12, 0usize..12), 0..30)) {
        let n = 12;
        let mut needs = vec![Vec::new(); n];
        for (a, b) in edges {
            let (lo, hi) = (a.min(b), a.max(b));
            if lo != hi && !needs[hi].contains(&lo) {
                needs[hi].push(lo);
            }
        }
        let mut text = String::from("name: dag\ntasks:\n");
        // Define in reverse to make order non-trivial.
        for i in (0..n).rev() {
            let list: Vec<String> = needs[i].iter().map(|j| format!("t{j}")).collect();
            text.push_str(&format!("  t{i}: {{type: set, needs: [{}]}}\n", list.join(", ")));
        }
        let loaded = load(&Source::new("d.yaml", text, Format::Yaml), &super::types::builtin())
            .map_err(|e| TestCaseError::fail(format!("{:?}", e.diagnostics())))?;
        let plan = loaded.plan;
        let pos: Vec<usize> = {
            let mut p = vec![0; plan.tasks.len()];
            for (k, &i) in plan.order.iter().enumerate() { p[i] = k; }
            p
        };
        prop_assert_eq!(plan.order.len(), n);
        for (i, t) in plan.tasks.iter().enumerate() {
            for &d in &t.needs {
                prop_assert!(pos[d] < pos[i]);
            }
        }
    }
}
