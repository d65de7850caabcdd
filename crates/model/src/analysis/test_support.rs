//! Test helpers: stand-in task types (the engine's own are a dev-only cycle away, see
//! `Cargo.toml`) that take any parameters, and one-line loading and analysis.

use harmonia_expr::{Var, VarSet};
use serde_json::json;

use super::{Analysis, Finding, FindingKind, Timing, analyze};
use crate::plan::Plan;
use crate::{Format, Source, TaskType, TaskTypes, load};

/// Every kind of the format, taking any `with`; `wait_event` defers `filter` like the
/// engine's.
pub(super) fn types() -> TaskTypes {
    let mut t = TaskTypes::empty();
    let kinds = [
        "set",
        "transform",
        "http",
        "shell",
        "sleep",
        "workflow",
        "approval",
        "wait_event",
        "component",
        "worker",
        "llm",
    ];
    for kind in kinds {
        if let Ok(mut ty) = TaskType::new(kind, "A stand-in.", json!({}), None) {
            if kind == "wait_event" {
                ty = ty.with_deferred("filter", VarSet::of(&[Var::Event]));
            }
            t.register(ty);
        }
    }
    t
}

/// Loads a YAML definition that must be valid.
pub(super) fn load_yaml(text: &str) -> Plan {
    let source = Source::new("test.yaml", text, Format::Yaml);
    match load(&source, &types()) {
        Ok(loaded) => loaded.plan,
        Err(e) => panic!("invalid test workflow: {:#?}", e.diagnostics()),
    }
}

/// Loads and analyzes a YAML definition.
pub(super) fn analyze_yaml(text: &str, timings: &[Timing]) -> Analysis {
    analyze(&load_yaml(text), timings)
}

/// The findings of `kind`.
pub(super) fn of_kind(a: &Analysis, kind: FindingKind) -> Vec<&Finding> {
    a.findings.iter().filter(|f| f.kind == kind).collect()
}

/// A timing of `task`.
pub(super) fn timing(task: &str, samples_ms: &[f64]) -> Timing {
    Timing {
        task: task.to_string(),
        samples_ms: samples_ms.to_vec(),
    }
}
