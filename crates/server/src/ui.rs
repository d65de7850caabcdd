//! The web console: the built assets of `ui/` (React, built by Vite into `ui/dist`,
//! committed, and embedded in the binary at compile time; debug builds read the folder
//! from disk), served at `/` with client-side routes.
//!
//! What the fallback answers, for a path no API route took:
//! - a path of the API, the WebSockets, `/mcp` or `/hooks`: the API's JSON 404, never
//!   a page (a client that mistypes an API path must not get HTML);
//! - `GET`/`HEAD` of an asset that exists: the file, with its type; hashed files under
//!   `/assets/` are cached for good (their name changes when they do), the rest are
//!   revalidated;
//! - `GET`/`HEAD` of any other path without a file extension: `index.html`, so a deep
//!   link (`/executions/ID`) works on reload; a missing file with an extension is a
//!   404.
//!
//! Every page and asset carries a content security policy: scripts and connections
//! to this origin only, framing by this origin and the CORS origins the server allows
//! (the Tekton shell that embeds the console is one of those).
//!
//! `/ui/hephaestus/harmonia-component.html` is the panel Tekton's UI shell loads: a
//! fragment that embeds the console in a frame, addressed by this server's own URL.

use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::{ApiError, Code};
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
struct Assets;

/// Paths that belong to the API side: a miss there is a JSON 404.
fn is_api_path(path: &str) -> bool {
    ["/api", "/ws", "/mcp", "/hooks", "/openapi.json", "/docs"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

fn policy(state: &AppState) -> String {
    let mut ancestors = String::from("'self'");
    for origin in &state.0.config.cors_origins {
        // An origin is scheme://host[:port]; anything else is not put in a header.
        if origin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c))
        {
            ancestors.push(' ');
            ancestors.push_str(origin.trim_end_matches('/'));
        }
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors {ancestors}"
    )
}

fn page(state: &AppState, body: Vec<u8>, mime: &str, cache: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Ok(v) = HeaderValue::from_str(&policy(state)) {
        h.insert(CONTENT_SECURITY_POLICY, v);
    }
    res
}

fn asset(state: &AppState, path: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype().to_string();
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Some(page(state, file.data.into_owned(), &mime, cache))
}

fn index(state: &AppState) -> Response {
    match Assets::get("index.html") {
        Some(file) => page(
            state,
            file.data.into_owned(),
            "text/html; charset=utf-8",
            "no-cache",
        ),
        None => ApiError::new(
            Code::NotFound,
            "this build has no web console (ui/dist was empty when it was compiled); \
             build it with `npm --prefix ui ci && npm --prefix ui run build`"
                .to_string(),
        )
        .into_response(),
    }
}

/// What a path no route took gets (see the module doc).
pub(crate) async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_api_path(path) {
        return ApiError::not_found(format!("no route {path}")).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            Code::MethodNotAllowed,
            format!("{method} is not allowed on {path}: the console's pages are read with GET"),
        )
        .into_response();
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty()
        && let Some(res) = asset(&state, file)
    {
        return res;
    }
    let last = file.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return ApiError::not_found(format!("no file {path}")).into_response();
    }
    index(&state)
}

/// The panel Tekton's UI shell loads (see the module doc).
pub(crate) async fn hephaestus(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(str::to_string)
        .or_else(|| state.0.config.port.map(|p| format!("127.0.0.1:{p}")))
        .unwrap_or_else(|| "127.0.0.1:8007".into());
    let html = format!(
        "<div class=\"harmonia-component\" style=\"display:flex;flex-direction:column;height:100%;min-height:600px\">\n\
         <iframe title=\"Harmonia\" src=\"http://{host}/executions\" \
         style=\"flex:1;border:0;width:100%;min-height:600px\"></iframe>\n</div>\n"
    );
    page(
        &state,
        html.into_bytes(),
        "text/html; charset=utf-8",
        "no-cache",
    )
}
