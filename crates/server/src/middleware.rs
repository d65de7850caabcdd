//! Request guards in front of every route: browsers first, then tokens and roles.
//!
//! [`browsers`] keeps other web pages out, whatever the auth mode:
//! - a request with an `Origin` header is refused (`403 forbidden_origin`) unless that
//!   origin is the server's own (its scheme's host and port are the `Host`'s) or one
//!   that `--cors-origin` allows; `Origin: null` is never allowed;
//! - an API or WebSocket request without an allowed `Origin` but with
//!   `Sec-Fetch-Site: cross-site` (a browser says another site sent it) is refused the
//!   same way. Navigating to `/docs` from another site still works;
//! - while the API is open (no token needed, see `auth`) and the server listens on
//!   loopback, a request whose `Host` is not a loopback name (`localhost`,
//!   `127.0.0.0/8`, `[::1]`, with or without a port) is refused (`403
//!   forbidden_host`): that is how a page on another site reaches a loopback server
//!   after rebinding its own name to 127.0.0.1. A request without a `Host` is not a
//!   browser's and passes.
//!
//! WebSocket upgrades are requests like the others: a cross-origin upgrade is refused
//! before it is accepted.
//!
//! [`authorize`]: public routes pass. Other routes, when a token is needed, need a
//! valid one whose role covers the route (see `auth::Need`): `401 unauthorized`
//! without a valid token (saying how to create one when none exists), `403 forbidden`
//! with a token whose role is too low.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{Access, Caller, Need, Role};
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The token of a request: `Authorization: Bearer <token>` (the scheme in any case,
/// any run of spaces after it), or `?token=` on a WebSocket route.
fn token_of(req: &Request) -> Option<String> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        return value.to_str().ok().and_then(bearer).map(str::to_string);
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

/// The credentials of a `Bearer` authorization value (RFC 9110: the scheme is
/// case-insensitive, and one or more spaces follow it).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once([' ', '\t'])?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What a 401 says: how to send a token, and how to make one when none exists.
async fn unauthorized(state: &AppState, problem: &str) -> Response {
    match state.0.auth.any_token().await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(true) => ApiError::new(
            Code::Unauthorized,
            format!("{problem}: send `Authorization: Bearer <token>`"),
        )
        .into_response(),
        Ok(false) => ApiError::new(
            Code::Unauthorized,
            format!(
                "{problem}: this server needs an API token and has none; create one on its \
                 database with `harmonia token create --role admin --name NAME --db PATH`, \
                 then send `Authorization: Bearer <token>`"
            ),
        )
        .into_response(),
    }
}

/// Checks the caller's token against what the route needs.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let need = Need::of(req.method(), req.uri().path());
    let Some(role) = need.role() else {
        return next.run(req).await;
    };
    match state.0.auth.required().await {
        Ok(false) => return next.run(req).await,
        Ok(true) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    let Some(token) = token_of(&req) else {
        return unauthorized(&state, "missing API token").await;
    };
    match state.0.auth.check(&token).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(None) => unauthorized(&state, "invalid API token").await,
        Ok(Some((have, name))) if !have.satisfies(need) => ApiError::new(
            Code::Forbidden,
            match need {
                Need::Work => format!(
                    "this is a worker's call: it needs a `worker`, `operator` or `admin` token; the token `{name}` has `{}`",
                    have.as_str()
                ),
                _ if have == Role::Worker => format!(
                    "the token `{name}` has the `worker` role, which may only poll and report work (`/api/workers/...`); this needs `{}`",
                    role.as_str()
                ),
                _ => format!(
                    "this needs the `{}` role; the token `{name}` has `{}`",
                    role.as_str(),
                    have.as_str()
                ),
            },
        )
        .into_response(),
        Ok(Some((role, name))) => {
            // Who answered an approval, for its record and its `approvers` check.
            req.extensions_mut().insert(Caller { name, role });
            next.run(req).await
        }
    }
}

/// Refuses requests from other web pages (see the module doc).
pub(crate) async fn browsers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = host_of(&req);
    let api = Need::of(req.method(), req.uri().path()) != Need::Public;
    if let Err(e) = check_origin(
        req.headers(),
        host.as_ref(),
        &state.0.config.cors_origins,
        api,
    ) {
        return e.into_response();
    }
    if state.0.auth.access() == Access::Loopback
        && let Some(host) = &host
        && !is_loopback_host(host)
    {
        match state.0.auth.required().await {
            Err(e) => return ApiError::from(e).into_response(),
            Ok(true) => {}
            Ok(false) => {
                // As sent: an unreadable Host is shown as it is.
                let sent = req
                    .headers()
                    .get(HOST)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_else(|| host.to_string());
                return ApiError::new(
                    Code::ForbiddenHost,
                    format!(
                        "this server answers requests for localhost only while it has no API \
                         token, not for `{sent}`: use http://localhost or http://127.0.0.1, \
                         or create a token (`harmonia token create`)"
                    ),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// The host a request is for: its `Host` header, or the authority of its URI (HTTP/2).
fn host_of(req: &Request) -> Option<Authority> {
    match req.headers().get(HOST) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|h| h.parse::<Authority>().ok())
            // An unreadable Host names nothing local: refused like a foreign one.
            .or_else(|| Some(Authority::from_static("unreadable.invalid"))),
        None => req.uri().authority().cloned(),
    }
}

/// Whether `host` names this machine's loopback interface.
fn is_loopback_host(host: &Authority) -> bool {
    let name = host.host().trim_end_matches('.');
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Refuses a request from another origin (see the module doc); `api`: the request is
/// for the API or a WebSocket (not a public page).
fn check_origin(
    headers: &HeaderMap,
    host: Option<&Authority>,
    allowed: &[String],
    api: bool,
) -> Result<(), ApiError> {
    match headers.get(ORIGIN) {
        Some(origin) => {
            let origin = origin.to_str().unwrap_or("");
            if allowed.iter().any(|a| a.trim_end_matches('/') == origin)
                || host.is_some_and(|h| same_origin(origin, h))
            {
                Ok(())
            } else {
                Err(ApiError::new(
                    Code::ForbiddenOrigin,
                    format!(
                        "requests from the web page at `{origin}` are refused: it is not this \
                         server's origin; allow it with `--cors-origin {origin}`"
                    ),
                ))
            }
        }
        None => {
            let cross_site = headers
                .get("sec-fetch-site")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
            if api && cross_site {
                Err(ApiError::new(
                    Code::ForbiddenOrigin,
                    "requests sent by another site's web page are refused",
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) is the origin of a server reached as
/// `host`: the same host, and the same port (the scheme's default when either leaves
/// it out, since a proxy in front may terminate TLS).
fn same_origin(origin: &str, host: &Authority) -> bool {
    let Ok(uri) = origin.parse::<Uri>() else {
        return false;
    };
    let default = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") => 80,
        Some(s) if s.eq_ignore_ascii_case("https") => 443,
        _ => return false,
    };
    let (Some(authority), "" | "/") = (uri.authority(), uri.path()) else {
        return false;
    };
    authority.host().eq_ignore_ascii_case(host.host())
        && authority.port_u16().unwrap_or(default) == host.port_u16().unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in [
            "Bearer hm_x",
            "bearer hm_x",
            "BEARER hm_x",
            "Bearer   hm_x",
            "bEaReR\thm_x ",
        ] {
            assert_eq!(bearer(value), Some("hm_x"), "{value:?}");
        }
        for value in ["Basic hm_x", "Bearer", "Bearer ", "Bearerhm_x", "hm_x"] {
            assert_eq!(bearer(value), None, "{value:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST:8007",
            "localhost.",
            "127.0.0.1",
            "127.0.0.1:8007",
            "127.1.2.3:1",
            "[::1]",
            "[::1]:8007",
            "[::ffff:127.0.0.1]:80",
        ] {
            let a: Authority = host.parse().expect("an authority");
            assert!(is_loopback_host(&a), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8007",
            "localhost.evil.example",
            "10.0.0.1:8007",
            "0.0.0.0",
            "[::]:8007",
            "127.0.0.1.evil.example",
        ] {
            let a: Authority = host.parse().expect("an authority");
            assert!(!is_loopback_host(&a), "{host}");
        }
    }

    #[test]
    fn an_origin_is_the_servers_own_when_host_and_port_match() {
        let host: Authority = "127.0.0.1:8007".parse().expect("host");
        assert!(same_origin("http://127.0.0.1:8007", &host));
        assert!(!same_origin("http://127.0.0.1:8008", &host));
        assert!(!same_origin("http://localhost:8007", &host));
        assert!(!same_origin("null", &host));
        assert!(!same_origin("ftp://127.0.0.1:8007", &host));
        assert!(!same_origin("http://127.0.0.1:8007/page", &host));
        let proxied: Authority = "harmonia.example".parse().expect("host");
        assert!(same_origin("https://harmonia.example", &proxied));
        assert!(same_origin("http://Harmonia.Example:80", &proxied));
        assert!(!same_origin("https://harmonia.example:8443", &proxied));
    }
}
