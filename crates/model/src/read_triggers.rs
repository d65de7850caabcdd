//! Reading `triggers:`: a list, each item a mapping whose one key is the trigger's kind
//! (`- event: {type: order.created, ...}`).
//!
//! Every problem is reported with its place, as the rest of the reader does: a list
//! expected, an item with no kind or several, an unknown kind ("did you mean"), a kind
//! of the format that this version does not run yet (none now; such a kind is an
//! error, so that nothing a user writes is silently ignored), and each kind's fields.
//! Expressions are kept as text here and compiled by `validate`. When an item has a
//! problem, no trigger is kept (the definition is invalid anyway), so that the
//! positions `validate` reports always match the list as written.

use indexmap::IndexMap;
use serde_json::Value;

use harmonia_expr::clip;

use crate::definition::{
    Catchup, EventTrigger, HmacAlgorithm, Overlap, Preset, ScheduleTrigger, SignatureEncoding,
    Trigger, Verify, WebhookTrigger,
};
use crate::diagnostic::FieldPath;
use crate::node::{Kind, Node};
use crate::read::Reader;

impl Reader<'_, '_> {
    /// The triggers of a workflow.
    pub(crate) fn triggers(&mut self, node: &Node, path: &FieldPath) -> Vec<Trigger> {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                path,
                node.offset,
                format!(
                    "expected a list of triggers (`- event: {{type: ...}}`), found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        self.locs.set_value(path, node.offset);
        let read: Vec<Option<Trigger>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.trigger(item, &path.index(i)))
            .collect();
        // All or none: validation names a trigger by its position in the list, which
        // dropping one would shift (the problems of the others are reported above).
        read.into_iter()
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default()
    }

    fn trigger(&mut self, node: &Node, path: &FieldPath) -> Option<Trigger> {
        self.locs.set_value(path, node.offset);
        let Kind::Map(entries) = &node.kind else {
            self.error(
                path,
                node.offset,
                format!(
                    "expected a trigger: a mapping with its kind as key (`event: {{type: ...}}`), found {}",
                    node.describe()
                ),
            );
            return None;
        };
        let [(key, body)] = entries.as_slice() else {
            let kinds: Vec<&str> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
            self.error(
                path,
                node.offset,
                if kinds.is_empty() {
                    "a trigger needs its kind as its one key: `event: {type: ...}`".to_string()
                } else {
                    format!(
                        "a trigger has exactly one kind as its key, found {}: write each as its own item of the list",
                        kinds.iter().map(|k| format!("`{}`", clip(k))).collect::<Vec<_>>().join(", ")
                    )
                },
            );
            return None;
        };
        let p = path.key(&key.name);
        self.locs.set_key(&p, key.offset);
        match key.name.as_str() {
            "event" => self.event_trigger(body, &p).map(Trigger::Event),
            "webhook" => self.webhook_trigger(body, &p).map(Trigger::Webhook),
            "schedule" => self.schedule_trigger(body, &p).map(Trigger::Schedule),
            planned if Trigger::PLANNED.contains(&planned) => {
                self.error(
                    &p,
                    key.offset,
                    format!(
                        "`{planned}` triggers are part of the format but not run by this version of Harmonia yet; \
                         for now a workflow can start from an `event` trigger (or through the API)"
                    ),
                );
                None
            }
            other => {
                let all = Trigger::KINDS.iter().chain(Trigger::PLANNED).copied();
                let hint = harmonia_expr::suggest(other, all)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.error(
                    &p,
                    key.offset,
                    format!(
                        "unknown trigger kind `{}`{hint}; expected one of: {}",
                        clip(other),
                        Trigger::KINDS.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn event_trigger(&mut self, node: &Node, path: &FieldPath) -> Option<EventTrigger> {
        let what = "an `event` trigger";
        let f = self.fields(
            node,
            path,
            what,
            EventTrigger::FIELDS,
            &[
                ("event_type", "type"),
                ("types", "type"),
                ("when", "filter"),
                ("if", "filter"),
            ],
        )?;
        let ty = self
            .required(
                &f,
                path,
                "type",
                what,
                " (the events' `type`, such as `order.created`)",
            )
            .and_then(|n| self.string(n, &path.key("type")));
        if let (Some(t), Some(n)) = (&ty, f.get("type"))
            && t.trim().is_empty()
        {
            self.error(
                &path.key("type"),
                n.offset,
                "the event `type` must not be empty",
            );
        }
        let source = f
            .get("source")
            .and_then(|n| self.string(n, &path.key("source")));
        let filter = f
            .get("filter")
            .and_then(|n| self.string(n, &path.key("filter")));
        let inputs = f
            .get("inputs")
            .map_or_else(IndexMap::new, |n| self.mapping(n, &path.key("inputs")));
        Some(EventTrigger {
            ty: ty.filter(|t| !t.trim().is_empty())?,
            source,
            filter,
            inputs,
        })
    }

    fn schedule_trigger(&mut self, node: &Node, path: &FieldPath) -> Option<ScheduleTrigger> {
        let what = "a `schedule` trigger";
        let f = self.fields(
            node,
            path,
            what,
            ScheduleTrigger::FIELDS,
            &[
                ("schedule", "cron"),
                ("expression", "cron"),
                ("tz", "timezone"),
                ("time_zone", "timezone"),
                ("concurrency", "overlap"),
                ("concurrency_policy", "overlap"),
                ("catch_up", "catchup"),
                ("backfill", "catchup"),
            ],
        )?;
        let cron = self
            .required(
                &f,
                path,
                "cron",
                what,
                " (such as `\"0 9 * * MON-FRI\"`, or with seconds first `\"0 */5 * * * *\"`)",
            )
            .and_then(|n| self.string(n, &path.key("cron")));
        // Checked here, with the rest of the list's problems (a bad pattern must not
        // wait for the other triggers to be fixed to be reported).
        let cron = cron.filter(|c| {
            crate::schedule::parse_cron(c)
                .map_err(|m| {
                    let offset = f.get("cron").map_or(f.offset, |n| n.offset);
                    self.error(&path.key("cron"), offset, m);
                })
                .is_ok()
        });
        let timezone = f.get("timezone").and_then(|n| {
            let zone = self.string(n, &path.key("timezone"))?;
            crate::schedule::parse_timezone(&zone)
                .map_err(|m| self.error(&path.key("timezone"), n.offset, m))
                .ok()?;
            Some(zone)
        });
        let timezone_bad = f.get("timezone").is_some() && timezone.is_none();
        let overlap = f.get("overlap").and_then(|n| {
            self.one_of(
                n,
                &path.key("overlap"),
                "overlap",
                &Overlap::NAMES,
                &Overlap::ALL,
            )
        });
        let catchup = f.get("catchup").and_then(|n| {
            self.one_of(
                n,
                &path.key("catchup"),
                "catchup",
                &Catchup::NAMES,
                &Catchup::ALL,
            )
        });
        let inputs = f
            .get("inputs")
            .map_or_else(IndexMap::new, |n| self.mapping(n, &path.key("inputs")));
        if timezone_bad {
            return None;
        }
        Some(ScheduleTrigger {
            cron: cron?,
            timezone,
            overlap,
            catchup,
            inputs,
        })
    }

    fn webhook_trigger(&mut self, node: &Node, path: &FieldPath) -> Option<WebhookTrigger> {
        let what = "a `webhook` trigger";
        let f = self.fields(
            node,
            path,
            what,
            WebhookTrigger::FIELDS,
            &[
                ("path", "name"),
                ("verification", "verify"),
                ("signature", "verify"),
                ("dedupe", "dedup"),
                ("idempotency_key", "dedup"),
            ],
        )?;
        let name = self
            .required(
                &f,
                path,
                "name",
                what,
                " (requests go to `POST /hooks/NAME`)",
            )
            .and_then(|n| self.string(n, &path.key("name")));
        let verify = self
            .required(
                &f,
                path,
                "verify",
                what,
                " (such as `{preset: github, secret: \"${ $secrets.GH_HOOK }\"}`)",
            )
            .and_then(|n| self.verify(n, &path.key("verify")));
        let dedup = f
            .get("dedup")
            .and_then(|n| self.string(n, &path.key("dedup")));
        let inputs = f
            .get("inputs")
            .map_or_else(IndexMap::new, |n| self.mapping(n, &path.key("inputs")));
        Some(WebhookTrigger {
            name: name?,
            verify: verify?,
            dedup,
            inputs,
        })
    }

    fn verify(&mut self, node: &Node, path: &FieldPath) -> Option<Verify> {
        let what = "`verify`";
        let f = self.fields(
            node,
            path,
            what,
            Verify::FIELDS,
            &[
                ("scheme", "preset"),
                ("type", "preset"),
                ("hash", "algorithm"),
            ],
        )?;
        let preset = self
            .required(
                &f,
                path,
                "preset",
                what,
                " (github, gitlab, stripe, slack, hmac or none)",
            )
            .and_then(|n| {
                self.one_of(
                    n,
                    &path.key("preset"),
                    "preset",
                    &Preset::NAMES,
                    &Preset::ALL,
                )
            })?;
        let text = |r: &mut Self, k: &str| f.get(k).and_then(|n| r.string(n, &path.key(k)));
        let secret = text(self, "secret");
        match (preset, &secret, f.get("secret")) {
            (Preset::None, Some(_), Some(n)) => self.error(
                &path.key("secret"),
                n.offset,
                "`preset: none` verifies nothing: it takes no `secret`",
            ),
            (Preset::None, _, _) => {}
            (_, None, None) => self.error(
                path,
                f.offset,
                "missing required field `secret` in `verify` (as `${ $secrets.NAME }`: a secret is never written in a definition)",
            ),
            _ => {}
        }
        if preset != Preset::Hmac {
            for field in Verify::HMAC_ONLY {
                if let Some(offset) = f.key_offset(field) {
                    self.error(
                        &path.key(field),
                        offset,
                        format!(
                            "`{field}` is only for `preset: hmac`; the `{}` preset knows its own",
                            Preset::NAMES
                                [Preset::ALL.iter().position(|p| *p == preset).unwrap_or(0)]
                        ),
                    );
                }
            }
        } else if f.get("header").is_none() {
            self.error(path, f.offset, "missing required field `header` in `verify` (`preset: hmac` needs the header that holds the signature)");
        }
        let algorithm = f.get("algorithm").and_then(|n| {
            self.one_of(
                n,
                &path.key("algorithm"),
                "algorithm",
                &["sha1", "sha256", "sha512"],
                &[
                    HmacAlgorithm::Sha1,
                    HmacAlgorithm::Sha256,
                    HmacAlgorithm::Sha512,
                ],
            )
        });
        let encoding = f.get("encoding").and_then(|n| {
            self.one_of(
                n,
                &path.key("encoding"),
                "encoding",
                &["hex", "base64"],
                &[SignatureEncoding::Hex, SignatureEncoding::Base64],
            )
        });
        let tolerance = f
            .get("tolerance")
            .and_then(|n| self.duration(n, &path.key("tolerance")));
        Some(Verify {
            preset,
            secret,
            header: text(self, "header"),
            algorithm,
            prefix: text(self, "prefix"),
            encoding,
            timestamp_header: text(self, "timestamp_header"),
            tolerance,
        })
    }

    /// A mapping of names to any values (a trigger's `inputs`).
    fn mapping(&mut self, node: &Node, path: &FieldPath) -> IndexMap<String, Value> {
        match self.json(node, path) {
            Value::Object(m) => m.into_iter().collect(),
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!(
                        "expected a mapping of input names to values, found {}",
                        node.describe()
                    ),
                );
                IndexMap::new()
            }
        }
    }
}
