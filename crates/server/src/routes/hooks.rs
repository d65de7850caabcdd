//! `POST /hooks/{name}`: webhook deliveries, authenticated by their signature (the
//! trigger's `verify`), not by a token. An adapter over `harmonia_app::Webhooks`.
//!
//! Answers: `202` with the execution started; `200` with the first execution for a
//! delivery whose `dedup` value was seen (nothing started); `401 invalid_signature`
//! (missing, wrong or stale signature); `404` for an unknown hook; `409` for a paused
//! trigger (or a name two workflows claim); `413` over the body limit; `403` for a
//! `preset: none` hook while the server listens beyond loopback. The body is read as
//! it is, whatever its content type: the signature covers the raw bytes. Every
//! delivery to a hook that exists is stored with its verdict (`routes/deliveries.rs`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use harmonia_app::webhooks::{HookReceipt, HookRequest};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Access;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(deliver))
}

/// What a delivery did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"execution_id": "01a20b95-3770-719e-8ae1-f9888c382918", "workflow": "deploy", "trigger": "deploy.0", "duplicate": false, "delivery": 12}))]
pub(crate) struct HookReceiptView {
    /// The execution started (the first one, for a repeated delivery).
    #[schema(value_type = String, format = Uuid)]
    pub execution_id: String,
    /// The workflow it runs.
    pub workflow: String,
    /// The trigger that took the delivery (`workflow.position`).
    pub trigger: String,
    /// Whether the delivery repeats one seen before (by the trigger's `dedup`).
    pub duplicate: bool,
    /// The stored delivery's number (`GET /api/deliveries/{id}`).
    pub delivery: Option<u64>,
}

impl HookReceiptView {
    /// The view of a receipt.
    pub(crate) fn from_receipt(r: &HookReceipt) -> HookReceiptView {
        HookReceiptView {
            execution_id: r.execution.to_string(),
            workflow: r.workflow.clone(),
            trigger: r.trigger.clone(),
            duplicate: r.duplicate,
            delivery: r.delivery,
        }
    }
}

/// Deliver a webhook: verified by the hook's signature scheme, then mapped to the
/// workflow's inputs, which starts (once per `dedup` value).
#[utoipa::path(
    post,
    path = "/hooks/{name}",
    tag = "webhooks",
    params(("name" = String, Path, description = "The hook's name (a `webhook` trigger's `name`)")),
    request_body(content = serde_json::Value, description = "The sender's payload, of any content type (the signature covers its raw bytes)"),
    security(()),
    responses(
        (status = 200, description = "A repeated delivery: the first execution, nothing started", body = HookReceiptView),
        (status = 202, description = "Verified and started", body = HookReceiptView),
        (status = 400, description = "The hook's `dedup` or `inputs` failed on this request", body = ErrorBody),
        (status = 401, description = "The signature is missing, wrong or stale", body = ErrorBody),
        (status = 403, description = "A hook without verification, on a server that listens beyond loopback", body = ErrorBody),
        (status = 404, description = "No such hook", body = ErrorBody),
        (status = 409, description = "The trigger is paused, or two workflows claim the name", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "The inputs the hook maps do not match the workflow's schema", body = ErrorBody),
    )
)]
async fn deliver(
    State(state): State<AppState>,
    Path(name): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<HookReceiptView>)> {
    let request = HookRequest {
        name,
        method: method.to_string(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        query: query
            .as_deref()
            .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
            .unwrap_or_default(),
        body: body.to_vec(),
        loopback: state.0.config.access == Access::Loopback,
    };
    let receipt = state.app().webhooks().receive(request).await?;
    let status = if receipt.duplicate {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(HookReceiptView::from_receipt(&receipt))))
}
