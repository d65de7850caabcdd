//! A workflow's triggers, compiled: an `event` trigger's `filter` is one expression and
//! its `inputs` a value whose strings may hold expressions, both over `$event` (and
//! `$params`); nothing else is available there, since the execution does not exist
//! yet. A reference to anything else is an error saying what is available.

use serde_json::Value;

use super::Validator;
use super::expressions::Place;
use crate::definition::Trigger;
use crate::diagnostic::FieldPath;
use crate::plan::{EventPlan, PlanTrigger};

impl Validator<'_, '_> {
    /// Every trigger compiled, or `None` when one has a problem (reported).
    pub(super) fn triggers(&mut self) -> Option<Vec<PlanTrigger>> {
        let mut out = Vec::with_capacity(self.wf.triggers.len());
        let mut ok = true;
        for (index, trigger) in self.wf.triggers.iter().enumerate() {
            match trigger {
                Trigger::Event(e) => {
                    let path = FieldPath::root().key("triggers").index(index).key("event");
                    let filter = match &e.filter {
                        None => None,
                        Some(text) => {
                            let compiled =
                                self.single(text, &path.key("filter"), Place::Trigger, None);
                            ok &= compiled.is_some();
                            compiled
                        }
                    };
                    let inputs = Value::Object(
                        e.inputs
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    );
                    let inputs = self.value(&inputs, &path.key("inputs"), Place::Trigger, None);
                    match inputs {
                        Some(inputs) => out.push(PlanTrigger::Event(EventPlan {
                            index,
                            ty: e.ty.clone(),
                            source: e.source.clone(),
                            filter,
                            inputs,
                        })),
                        None => ok = false,
                    }
                }
            }
        }
        ok.then_some(out)
    }
}
