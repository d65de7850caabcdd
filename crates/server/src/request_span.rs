//! The tracing span of each request (`RUST_LOG=tower_http=debug`): method, URI and
//! version, with credentials in the query redacted.
//!
//! A browser cannot set headers on a WebSocket, so `/ws/...` takes its token as
//! `?token=`; the URI as received would put that token in the logs. Invariant: a query
//! parameter whose name says it carries a credential (token, key, secret, password,
//! signature, auth) is logged as `[redacted]`, whatever the route.

use axum::http::{Request, Uri};

/// What a credential's value is logged as.
const REDACTED: &str = "[redacted]";

/// Parts of parameter names that carry credentials.
const SECRET_NAMES: &[&str] = &["token", "key", "secret", "password", "signature", "auth"];

/// The span of a request.
pub(crate) fn make<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %redacted(request.uri()),
        version = ?request.version(),
    )
}

/// The URI with the values of credential parameters replaced.
pub(crate) fn redacted(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let lower = name.to_ascii_lowercase();
            if SECRET_NAMES.iter().any(|s| lower.contains(s)) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a WebSocket's `?token=` was logged as part of the URI.
    #[test]
    fn credentials_in_the_query_are_not_logged() {
        let uri: Uri = "/ws/executions/01a2?token=hm_abc123&since=4"
            .parse()
            .expect("a URI");
        assert_eq!(
            redacted(&uri),
            "/ws/executions/01a2?token=[redacted]&since=4"
        );
        let uri: Uri = "/api/x?API_KEY=1&Access_Token=2&q=token"
            .parse()
            .expect("a URI");
        assert_eq!(
            redacted(&uri),
            "/api/x?API_KEY=[redacted]&Access_Token=[redacted]&q=token"
        );
        let uri: Uri = "/api/executions".parse().expect("a URI");
        assert_eq!(redacted(&uri), "/api/executions");
    }
}
