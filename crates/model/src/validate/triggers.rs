//! A workflow's triggers, compiled: an `event` trigger's `filter` is one expression and
//! its `inputs` a value whose strings may hold expressions, both over `$event` (and
//! `$params`); a `webhook` trigger's `dedup` and `inputs` are the same over `$request`.
//! Nothing else is available there, since the execution does not exist yet: a
//! reference to anything else is an error saying what is available.
//!
//! A workflow's `concurrency.key` is compiled here too: like a trigger's mapping, it
//! runs before the execution exists, over `$inputs` and `$params` only.
//!
//! A schedule's `cron` must parse (5 or 6 fields) and name a time that exists, its
//! `timezone` must be an IANA name, and its `inputs` read `$trigger` (and `$params`).
//!
//! A webhook's name follows the rule of workflow names and is unique in its workflow;
//! its secret is written `${ $secrets.NAME }` and nothing else, so that a secret never
//! sits in a definition.

use serde_json::Value;

use super::Validator;
use super::expressions::Place;
use std::collections::HashMap;
use std::time::Duration;

use super::names::name_problem;
use crate::definition::{ScheduleTrigger, Trigger, WebhookTrigger};
use crate::diagnostic::FieldPath;
use crate::plan::{EventPlan, PlanTrigger, WebhookPlan};
use crate::schedule::{SchedulePlan, parse_cron, parse_timezone};

/// How far a signed timestamp may be from now, unless `tolerance` says.
const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

impl Validator<'_, '_> {
    /// Every trigger compiled, or `None` when one has a problem (reported).
    pub(super) fn triggers(&mut self) -> Option<Vec<PlanTrigger>> {
        let mut out = Vec::with_capacity(self.wf.triggers.len());
        let mut ok = true;
        let mut hooks: HashMap<&str, usize> = HashMap::new();
        for (index, trigger) in self.wf.triggers.iter().enumerate() {
            match trigger {
                Trigger::Webhook(w) => {
                    let path = FieldPath::root()
                        .key("triggers")
                        .index(index)
                        .key("webhook");
                    match self.webhook(index, w, &path, &mut hooks) {
                        Some(plan) => out.push(PlanTrigger::Webhook(plan)),
                        None => ok = false,
                    }
                }
                Trigger::Schedule(t) => {
                    let path = FieldPath::root()
                        .key("triggers")
                        .index(index)
                        .key("schedule");
                    match self.schedule(index, t, &path) {
                        Some(plan) => out.push(PlanTrigger::Schedule(plan)),
                        None => ok = false,
                    }
                }
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

    /// The concurrency policy compiled (its `key` over `$inputs` and `$params`).
    pub(super) fn concurrency(&mut self) -> Option<crate::plan::ConcurrencyPlan> {
        let c = self.wf.concurrency.clone()?;
        let key = match &c.key {
            None => None,
            Some(text) => {
                let path = FieldPath::root().key("concurrency").key("key");
                Some(self.single(text, &path, Place::Concurrency, None)?)
            }
        };
        Some(crate::plan::ConcurrencyPlan {
            key,
            limit: c.limit.unwrap_or(1),
            on_conflict: c.on_conflict.unwrap_or_default(),
        })
    }

    fn schedule(
        &mut self,
        index: usize,
        t: &ScheduleTrigger,
        path: &FieldPath,
    ) -> Option<SchedulePlan> {
        let cron_path = path.key("cron");
        let cron = parse_cron(&t.cron)
            .map_err(|m| {
                let offset = self.locs.value(&cron_path);
                self.error(&cron_path, offset, m);
            })
            .ok();
        let zone = t.timezone.as_deref().unwrap_or("UTC");
        let tz_path = path.key("timezone");
        let timezone = parse_timezone(zone)
            .map_err(|m| {
                let offset = self.locs.value(&tz_path);
                self.error(&tz_path, offset, m);
            })
            .ok();
        let inputs = Value::Object(
            t.inputs
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let inputs = self.value(&inputs, &path.key("inputs"), Place::Schedule, None);
        let plan = SchedulePlan {
            index,
            pattern: t.cron.clone(),
            cron: cron?,
            timezone_name: zone.to_string(),
            timezone: timezone?,
            overlap: t.overlap.unwrap_or_default(),
            catchup: t.catchup.unwrap_or_default(),
            inputs: inputs?,
        };
        if plan.next_after(0).is_none()
            && plan
                .next_after(jiff::Timestamp::now().as_millisecond())
                .is_none()
        {
            let offset = self.locs.value(&cron_path);
            self.error(&cron_path, offset, format!("the pattern `{}` names no time that exists (such as February 30th): it would never fire", harmonia_expr::clip(&t.cron)));
            return None;
        }
        Some(plan)
    }

    fn webhook<'w>(
        &mut self,
        index: usize,
        w: &'w WebhookTrigger,
        path: &FieldPath,
        hooks: &mut HashMap<&'w str, usize>,
    ) -> Option<WebhookPlan> {
        let mut ok = true;
        let name_path = path.key("name");
        if let Some(message) = name_problem("webhook", &w.name) {
            let offset = self.locs.value(&name_path);
            self.error(&name_path, offset, message);
            ok = false;
        } else if let Some(first) = hooks.insert(&w.name, index) {
            let offset = self.locs.value(&name_path);
            self.error(
                &name_path,
                offset,
                format!("the webhook `{}` is also trigger {first} of this workflow: a name routes to one trigger", w.name),
            );
            ok = false;
        }
        let secret = match &w.verify.secret {
            None => None,
            Some(text) => match secret_name(text) {
                Some(name) => Some(name.to_string()),
                None => {
                    let p = path.key("verify").key("secret");
                    let offset = self.locs.value(&p);
                    self.error(
                        &p,
                        offset,
                        "write the secret as `${ $secrets.NAME }` (set `HARMONIA_SECRET_NAME` where the server runs): a secret is never written in a definition",
                    );
                    ok = false;
                    None
                }
            },
        };
        let dedup = match &w.dedup {
            None => None,
            Some(text) => {
                let compiled = self.single(text, &path.key("dedup"), Place::Webhook, None);
                ok &= compiled.is_some();
                compiled
            }
        };
        let inputs = Value::Object(
            w.inputs
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let inputs = self.value(&inputs, &path.key("inputs"), Place::Webhook, None);
        Some(WebhookPlan {
            index,
            name: w.name.clone(),
            verify: w.verify.clone(),
            secret,
            tolerance: w.verify.tolerance.map_or(DEFAULT_TOLERANCE, |d| d.get()),
            dedup,
            inputs: inputs.filter(|_| ok)?,
        })
    }
}

/// The `NAME` of a secret written `${ $secrets.NAME }`.
fn secret_name(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${")?.strip_suffix('}')?.trim();
    let name = inner.strip_prefix("$secrets.")?;
    let valid = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_is_named_and_nothing_else() {
        assert_eq!(super::secret_name("${ $secrets.GH_HOOK }"), Some("GH_HOOK"));
        assert_eq!(super::secret_name("${$secrets.a1}"), Some("a1"));
        for bad in [
            "hunter2",
            "${ $secrets }",
            "${ $secrets.A + 1 }",
            "x${ $secrets.A }",
            "${ $secrets.1A }",
        ] {
            assert_eq!(super::secret_name(bad), None, "{bad}");
        }
    }
}
