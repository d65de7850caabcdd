//! The web console as the server serves it: the page at `/` and at every console
//! route (deep links survive a reload), its assets with their types and caching, the
//! security headers, the API's JSON 404 for API paths, and the Tekton shell's panel.

use axum::http::{Method, Request, StatusCode};

use super::*;

async fn headers(s: &Server, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = Request::builder()
        .uri(uri)
        .header("host", "127.0.0.1:8007")
        .body(Body::empty())
        .expect("request");
    let res = s.app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The first `/assets/...` file `index.html` loads.
fn first_asset(index: &str) -> String {
    let at = index.find("/assets/").expect("index.html loads an asset");
    let rest = &index[at..];
    let end = rest.find('"').expect("a quoted path");
    rest[..end].to_string()
}

#[tokio::test]
async fn the_console_is_served_at_every_route_of_its_own() {
    let s = server().await;
    let (status, h, index) = headers(&s, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert!(index.contains("<div id=\"root\">"), "{index}");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    // A deep link on reload gets the same page; the client's router takes it from there.
    for route in [
        "/executions",
        "/executions/0190c2d4-aaaa",
        "/workflows/city-report",
    ] {
        let (status, _, body) = headers(&s, route).await;
        assert_eq!(status, StatusCode::OK, "{route}");
        assert_eq!(body, index, "{route}");
    }
    // The assets it loads, with their type and cached for good (their names are
    // hashes of their content).
    let asset = first_asset(&index);
    let (status, h, body) = headers(&s, &asset).await;
    assert_eq!(status, StatusCode::OK, "{asset}");
    assert!(!body.is_empty());
    let ty = h["content-type"].to_str().expect("ascii");
    assert!(
        ty.starts_with("text/javascript") || ty.starts_with("application/javascript"),
        "{asset}: {ty}"
    );
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
}

#[tokio::test]
async fn api_paths_and_missing_files_get_the_apis_404_never_the_page() {
    let s = server().await;
    for path in [
        "/api/nope",
        "/api/v1/nope",
        "/ws/nope",
        "/mcp/nope",
        "/hooks",
        "/assets/nope.js",
        "/favicon.ico",
    ] {
        let r = s.get(path).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        assert!(r.text.contains(path), "{path}: {}", r.text);
    }
    let r = s.call(Method::POST, "/executions", None, "", None).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn the_console_needs_no_token_but_the_api_behind_it_does() {
    let s = server_with(ApiConfig {
        access: harmonia_server::Access::Network,
        ..ApiConfig::default()
    })
    .await;
    let (status, _, _) = headers(&s, "/executions").await;
    assert_eq!(status, StatusCode::OK);
    assert_error(
        &s.get("/api/executions").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

#[tokio::test]
async fn tektons_shell_gets_a_panel_that_frames_the_console() {
    let s = server_with(ApiConfig {
        cors_origins: vec!["http://127.0.0.1:8080".into()],
        ..ApiConfig::default()
    })
    .await;
    let (status, h, body) = headers(&s, "/ui/hephaestus/harmonia-component.html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<iframe") && body.contains("src=\"http://127.0.0.1:8007/executions\""),
        "{body}"
    );
    // The shell's origin may frame the console.
    let (_, h2, _) = headers(&s, "/executions").await;
    for h in [h, h2] {
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(
            csp.contains("frame-ancestors 'self' http://127.0.0.1:8080"),
            "{csp}"
        );
    }
}
