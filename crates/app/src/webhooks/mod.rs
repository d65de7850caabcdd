//! Webhooks: requests from other systems (`POST /hooks/{name}`) that start workflows,
//! verified by signature rather than by token.
//!
//! [`Webhooks::receive`] finds the `webhook` trigger of that name among the latest
//! versions of the workflows, refuses a paused one, verifies the request under the
//! trigger's scheme (`verify`) with its secret (`$secrets.NAME`), evaluates `dedup`
//! and `inputs` over `$request`, and starts the workflow. With `dedup`, the start
//! carries an idempotency key of the hook's name and the dedup value: a repeated
//! delivery answers the first execution and starts nothing (for seven days).
//!
//! `$request` is `{method, headers, query, body, raw}`: header names lower-cased (a
//! repeated header's values joined with `, `), the query as an object, the body parsed
//! by its content type (JSON; form fields as an object; other text as a string; bytes
//! as null), and `raw`, the body as text (lossy for bytes).
//!
//! Every delivery to a hook that exists is stored with its verdict (`deliveries.rs`):
//! [`Webhooks::deliveries`] lists a trigger's, [`Webhooks::replay`] maps a stored one
//! again and starts anew.
//!
//! Invariants: nothing is started, and no expression is evaluated, before the
//! signature verifies; a hook with `preset: none` is served only when the caller says
//! the server listens on loopback; a name that two workflows claim is refused
//! (`Conflict`) rather than routed to either.

mod deliveries;
pub mod verify;

use std::collections::BTreeMap;

use harmonia_engine::Workflow;
use harmonia_expr::{Context, Limits, Val, Var};
use harmonia_model::{HmacAlgorithm, PlanTrigger, Preset, SignatureEncoding, WebhookPlan};
use harmonia_storage::prelude::*;
use harmonia_storage::{Origin, OriginKind};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{Ctx, Error, Result};

/// How long a delivery's dedup value holds.
const DEDUP_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Webhooks (see the module doc).
#[derive(Clone)]
pub struct Webhooks(pub(crate) Ctx);

/// A request to a hook, as the HTTP adapter read it.
#[derive(Debug, Clone)]
pub struct HookRequest {
    /// The hook's name.
    pub name: String,
    /// The HTTP method.
    pub method: String,
    /// The headers, in order (names as received).
    pub headers: Vec<(String, String)>,
    /// The query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The body, as received.
    pub body: Vec<u8>,
    /// Whether the server listens on loopback only (`preset: none` is served then).
    pub loopback: bool,
}

/// What a delivery did.
#[derive(Debug, Clone)]
pub struct HookReceipt {
    /// The workflow started.
    pub workflow: String,
    /// The trigger's id (`workflow.position`).
    pub trigger: String,
    /// The execution started (or, for a repeated delivery, the first one).
    pub execution: harmonia_storage::ExecutionId,
    /// Whether this delivery repeats one seen before (by `dedup`).
    pub duplicate: bool,
    /// The stored delivery (`None` only when storing it failed, which is logged).
    pub delivery: Option<u64>,
}

impl Webhooks {
    /// Verifies and runs a delivery (see the module doc), and records it with its
    /// verdict.
    pub async fn receive(&self, request: HookRequest) -> Result<HookReceipt> {
        let (workflow, plan) = self.find(&request.name).await?;
        let trigger = crate::triggers::trigger_id(&workflow.record.name, plan.index);
        let received_at = harmonia_storage::Timestamp::now();
        // Verification comes first, whatever else refuses the delivery: what is stored
        // says whether it proved its sender, and only then may it be replayed (a
        // delivery refused while its trigger was paused is worth replaying once it
        // resumes, if it was genuine).
        let verified = self.verify(&plan, &request);
        let passed = verified.is_ok();
        let outcome = async {
            verified?;
            self.refuse_paused(&trigger, &request.name).await?;
            self.start(workflow, &plan, &trigger, &request, true).await
        }
        .await;
        deliveries::record(
            &self.0,
            &plan,
            &trigger,
            &request,
            received_at,
            outcome,
            deliveries::Origin {
                verified: passed,
                replay_of: None,
            },
        )
        .await
    }

    async fn refuse_paused(&self, trigger: &str, hook: &str) -> Result<()> {
        if self
            .0
            .store()
            .paused_triggers()
            .await?
            .iter()
            .any(|(id, _)| id == trigger)
        {
            return Err(Error::Conflict(format!(
                "the trigger `{trigger}` of hook `{hook}` is paused: resume it to start runs"
            )));
        }
        Ok(())
    }

    /// Maps a verified request to inputs and starts the workflow (once per `dedup`
    /// value when `dedup` is on).
    async fn start(
        &self,
        workflow: Workflow,
        plan: &WebhookPlan,
        trigger: &str,
        request: &HookRequest,
        dedup_on: bool,
    ) -> Result<HookReceipt> {
        let value = request_value(request);
        let (dedup, inputs) = {
            let plan = plan.clone();
            let params = workflow.plan.workflow.params.clone().unwrap_or(Value::Null);
            tokio::task::spawn_blocking(move || evaluate(&plan, &value, &params))
                .await
                .map_err(|e| Error::Internal(format!("evaluating a webhook's mapping: {e}")))??
        };
        let idempotency = dedup.filter(|_| dedup_on).map(|d| {
            let key = hex::encode(Sha256::digest(format!("{}\0{d}", request.name)));
            harmonia_engine::Idempotency {
                key: format!("hook-{key}"),
                body_hash: key,
                ttl: DEDUP_TTL,
            }
        });
        let name = workflow.record.name.clone();
        let started = crate::Executions(self.0.clone())
            .start_request(
                workflow,
                inputs,
                idempotency,
                Origin::by(OriginKind::Webhook, trigger),
            )
            .await?;
        Ok(HookReceipt {
            workflow: name,
            trigger: trigger.to_string(),
            execution: started.execution,
            duplicate: started.replayed,
            delivery: None,
        })
    }

    /// The workflow whose latest version has the webhook `name`, and its trigger.
    async fn find(&self, name: &str) -> Result<(Workflow, WebhookPlan)> {
        let mut found: Vec<(Workflow, WebhookPlan)> = Vec::new();
        for record in self.0.store().workflows().await? {
            let Ok(workflow) = self.0.plans().get(&record.name, Some(record.version)).await else {
                continue;
            };
            let hook = workflow.plan.triggers.iter().find_map(|t| match t {
                PlanTrigger::Webhook(w) if w.name == name => Some(w.clone()),
                _ => None,
            });
            if let Some(hook) = hook {
                found.push((workflow, hook));
            }
        }
        match found.len() {
            0 => Err(Error::NotFound(format!(
                "no webhook `{}`: no workflow has a `webhook` trigger of that name",
                harmonia_expr::clip(name)
            ))),
            1 => Ok(found.remove(0)),
            _ => Err(Error::Conflict(format!(
                "the webhook `{name}` is defined by several workflows ({}): rename all but one",
                found
                    .iter()
                    .map(|(w, _)| w.record.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn verify(&self, plan: &WebhookPlan, request: &HookRequest) -> Result<()> {
        let v = &plan.verify;
        let scheme = match v.preset {
            Preset::None if request.loopback => return Ok(()),
            Preset::None => {
                return Err(Error::Forbidden(format!(
                    "the webhook `{}` has `preset: none`: it is only served while the server listens on loopback; give it a signature scheme",
                    plan.name
                )));
            }
            Preset::Github => verify::Scheme::GitHub,
            Preset::Gitlab => verify::Scheme::GitLab,
            Preset::Stripe => verify::Scheme::Stripe,
            Preset::Slack => verify::Scheme::Slack,
            Preset::Hmac => verify::Scheme::Hmac {
                header: v.header.clone().unwrap_or_default(),
                algorithm: match v.algorithm.unwrap_or(HmacAlgorithm::Sha256) {
                    HmacAlgorithm::Sha1 => verify::Algorithm::Sha1,
                    HmacAlgorithm::Sha256 => verify::Algorithm::Sha256,
                    HmacAlgorithm::Sha512 => verify::Algorithm::Sha512,
                },
                prefix: v.prefix.clone().unwrap_or_default(),
                encoding: match v.encoding.unwrap_or(SignatureEncoding::Hex) {
                    SignatureEncoding::Hex => verify::Encoding::Hex,
                    SignatureEncoding::Base64 => verify::Encoding::Base64,
                },
                timestamp_header: v.timestamp_header.clone(),
            },
        };
        let name = plan.secret.as_deref().unwrap_or_default();
        let secret = self.0.handle.secret(name).ok_or_else(|| {
            Error::Unrunnable(format!(
                "the webhook `{}` verifies with the secret `{name}`, which is not set: set HARMONIA_SECRET_{name} where the server runs",
                plan.name
            ))
        })?;
        let headers: BTreeMap<String, String> = lowercase(&request.headers);
        let lookup = |h: &str| headers.get(&h.to_ascii_lowercase()).map(String::as_str);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        verify::verify(
            &scheme,
            secret.as_bytes(),
            &verify::Request {
                header: &lookup,
                body: &request.body,
                now,
                tolerance: i64::try_from(plan.tolerance.as_secs()).unwrap_or(i64::MAX),
            },
        )
        .map_err(|r| Error::BadSignature(r.0))
    }
}

/// Header names lower-cased; a repeated header's values joined with `, `.
fn lowercase(headers: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in headers {
        out.entry(k.to_ascii_lowercase())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    out
}

/// `$request` (see the module doc).
fn request_value(r: &HookRequest) -> Value {
    let headers = lowercase(&r.headers);
    let content_type = headers
        .get("content-type")
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let text = std::str::from_utf8(&r.body).ok();
    let body = match (text, content_type.as_str()) {
        (Some(t), _) if t.trim().is_empty() => Value::Null,
        (Some(t), ct) if ct == "application/json" || ct.ends_with("+json") || ct.is_empty() => {
            serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string()))
        }
        (Some(t), "application/x-www-form-urlencoded") => Value::Object(
            serde_urlencoded::from_str::<Vec<(String, String)>>(t)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
        (Some(t), _) => Value::String(t.to_string()),
        (None, _) => Value::Null,
    };
    let query: Map<String, Value> = r
        .query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "method": r.method,
        "headers": headers,
        "query": query,
        "body": body,
        "raw": String::from_utf8_lossy(&r.body),
    })
}

/// The dedup value (as text) and the inputs of a delivery.
fn evaluate(
    plan: &WebhookPlan,
    request: &Value,
    params: &Value,
) -> Result<(Option<String>, Value)> {
    let limits = Limits::default();
    let ctx = Context::new()
        .with(Var::Request, Val::from(request))
        .with(Var::Params, Val::from(params));
    let dedup = match &plan.dedup {
        None => None,
        Some(t) => {
            let v = t
                .eval(&ctx, &limits)
                .and_then(|v| v.to_json(limits.max_output_bytes))
                .map_err(|e| {
                    Error::InvalidRequest(format!("the hook's `dedup` failed on this request: {e}"))
                })?;
            match v {
                Value::Null => None,
                Value::String(s) => Some(s),
                other => Some(other.to_string()),
            }
        }
    };
    let inputs = plan
        .inputs
        .eval(&ctx, &limits)
        .and_then(|v| v.to_json(limits.max_output_bytes))
        .map_err(|e| {
            Error::InvalidRequest(format!("the hook's `inputs` failed on this request: {e}"))
        })?;
    Ok((dedup, inputs))
}
