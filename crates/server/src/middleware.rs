//! Request guards: authentication and roles, in front of every route.
//!
//! Public routes pass. Other routes, when auth is on, need a valid token whose role
//! covers the route (see `auth::Need`): `401 unauthorized` without a valid token, `403
//! forbidden` with a token whose role is too low.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Need;
use crate::error::{ApiError, Code};
use crate::state::AppState;

fn token_of(req: &Request) -> Option<String> {
    if let Some(value) = req.headers().get(AUTHORIZATION)
        && let Ok(text) = value.to_str()
        && let Some(token) = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
    {
        return Some(token.trim().to_string());
    }
    // Browsers cannot set headers on WebSockets: those may pass `?token=`.
    if req.uri().path().starts_with("/ws/") {
        return req.uri().query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "token")
                .map(|(_, v)| v.to_string())
        });
    }
    None
}

/// Checks the caller's token against what the route needs.
pub(crate) async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let need = Need::of(req.method(), req.uri().path());
    let Some(role) = need.role() else {
        return next.run(req).await;
    };
    match state.0.auth.enabled().await {
        Ok(false) => return next.run(req).await,
        Ok(true) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    let Some(token) = token_of(&req) else {
        return ApiError::new(
            Code::Unauthorized,
            "missing API token: send `Authorization: Bearer <token>`",
        )
        .into_response();
    };
    match state.0.auth.check(&token).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(None) => ApiError::new(Code::Unauthorized, "invalid API token").into_response(),
        Ok(Some((have, name))) if have < role => ApiError::new(
            Code::Forbidden,
            format!(
                "this needs the `{}` role; the token `{name}` has `{}`",
                role.as_str(),
                have.as_str()
            ),
        )
        .into_response(),
        Ok(Some(_)) => next.run(req).await,
    }
}
