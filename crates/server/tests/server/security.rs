//! What keeps the API closed: auth that never falls back to open, tokens refused as
//! soon as they are deleted, web pages of other origins and rebound host names kept
//! out, and bodies read only with a JSON or YAML content type.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use harmonia_server::{Access, ApiConfig, Role};
use serde_json::json;

use super::{HELLO, Server, assert_error, server, server_with};

/// A request with `headers`, and a body with its content type when `body` is given.
async fn send(
    s: &Server,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> super::Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some((content_type, text)) => {
            req = req.header("content-type", content_type);
            Body::from(text.to_string())
        }
        None => Body::empty(),
    };
    s.send(req.body(body).expect("request")).await
}

/// Creates a token; returns it and its id.
async fn token(s: &Server, role: Role) -> (String, String) {
    let (token, record) = harmonia_server::create_token(s.store.as_ref(), "t", role)
        .await
        .expect("token");
    (token, record.id)
}

fn message(e: &serde_json::Value) -> &str {
    e["message"].as_str().unwrap_or("")
}

fn access(access: Access) -> ApiConfig {
    ApiConfig {
        access,
        ..ApiConfig::default()
    }
}

async fn create(s: &Server) -> super::Reply {
    s.call(
        Method::POST,
        "/api/workflows",
        Some("application/yaml"),
        HELLO,
        None,
    )
    .await
}

/// Regression: deleting the only token opened the API again (auth was "on while a
/// token exists"), for this server after its 2 s cache and for the next one at once.
#[tokio::test]
async fn deleting_every_token_never_opens_the_api_again() {
    let s = server().await;
    assert_eq!(s.get("/api/workflows").await.status, StatusCode::OK);
    let (admin, id) = token(&s, Role::Admin).await;
    assert_error(
        &s.get("/api/workflows").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(s.store.delete_token(&id).await.expect("delete"));

    let e = assert_error(&create(&s).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(message(&e).contains("harmonia token create"), "{e}");
    let r = s
        .call(Method::GET, "/api/workflows", None, "", Some(&admin))
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");

    // The same database after a restart: still closed, and nothing was created.
    let s = s.restart(ApiConfig::default()).await;
    let e = assert_error(&create(&s).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(message(&e).contains("has none"), "{e}");
    let (admin, _) = token(&s, Role::Admin).await;
    let r = s
        .call(Method::GET, "/api/workflows", None, "", Some(&admin))
        .await;
    assert_eq!(r.json()["workflows"], json!([]));
}

/// Regression: a deleted token kept working for up to 2 s (a cache of valid tokens).
#[tokio::test]
async fn a_deleted_token_is_refused_on_the_next_request() {
    let s = server().await;
    let (kept, _) = token(&s, Role::Viewer).await;
    let (gone, id) = token(&s, Role::Admin).await;
    let read = |t: String| {
        let s = &s;
        async move {
            s.call(Method::GET, "/api/workflows", None, "", Some(&t))
                .await
        }
    };
    assert_eq!(read(gone.clone()).await.status, StatusCode::OK);
    assert!(s.store.delete_token(&id).await.expect("delete"));
    let e = assert_error(
        &read(gone.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(message(&e).starts_with("invalid API token"), "{e}");
    assert_eq!(read(kept).await.status, StatusCode::OK);
}

#[tokio::test]
async fn beyond_loopback_every_api_request_needs_a_token_even_with_none() {
    let s = server_with(access(Access::Network)).await;
    let e = assert_error(
        &s.get("/api/workflows").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(message(&e).contains("harmonia token create"), "{e}");
    // Any host name: it is reached over the network.
    let r = send(
        &s,
        Method::GET,
        "/health",
        &[("host", "harmonia.example:8007")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (viewer, _) = token(&s, Role::Viewer).await;
    let r = send(
        &s,
        Method::GET,
        "/api/workflows",
        &[
            ("host", "harmonia.example:8007"),
            ("authorization", &format!("Bearer {viewer}")),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn insecure_is_open_to_any_host_only_until_the_first_token() {
    let s = server_with(access(Access::Insecure)).await;
    let lan = [("host", "192.168.1.5:8007")];
    let r = send(&s, Method::GET, "/api/workflows", &lan, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (_, id) = token(&s, Role::Admin).await;
    s.store.delete_token(&id).await.expect("delete");
    let r = send(&s, Method::GET, "/api/workflows", &lan, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
}

/// Regression: only `Bearer ` and `bearer ` were read.
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let s = server().await;
    let (t, _) = token(&s, Role::Viewer).await;
    for value in [
        format!("Bearer {t}"),
        format!("bearer {t}"),
        format!("BEARER {t}"),
        format!("Bearer   {t}"),
    ] {
        let r = send(
            &s,
            Method::GET,
            "/api/workflows",
            &[("authorization", &value)],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{value}: {}", r.text);
    }
    let r = send(
        &s,
        Method::GET,
        "/api/workflows",
        &[("authorization", &format!("Basic {t}"))],
        None,
    )
    .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
}

/// Regression: a page on any site could create and run workflows on an open loopback
/// server with a `text/plain` POST (no preflight), and read its answers after
/// rebinding its name to 127.0.0.1.
#[tokio::test]
async fn pages_of_other_origins_are_refused_whatever_the_mode() {
    let s = server_with(ApiConfig {
        cors_origins: vec!["http://app.example".into()],
        ..ApiConfig::default()
    })
    .await;
    let local = ("host", "127.0.0.1:8007");
    let create = |origin: &'static str, content_type: &'static str| {
        let s = &s;
        async move {
            send(
                s,
                Method::POST,
                "/api/workflows",
                &[local, ("origin", origin)],
                Some((content_type, HELLO)),
            )
            .await
        }
    };
    for origin in [
        "http://evil.example",
        "http://localhost:8007",
        "http://127.0.0.1:8008",
        "https://127.0.0.1:8007.evil.example",
        "null",
    ] {
        for content_type in ["text/plain", "application/yaml"] {
            let r = create(origin, content_type).await;
            let e = assert_error(&r, StatusCode::FORBIDDEN, "forbidden_origin");
            assert!(message(&e).contains(origin), "{e}");
        }
    }
    assert_error(
        &s.get("/api/workflows/hello").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Executing and reading are refused the same way.
    s.post_json(
        "/api/workflows",
        json!({"name": "w", "tasks": {"a": {"type": "set"}}}),
    )
    .await;
    let evil = ("origin", "http://evil.example");
    let r = send(
        &s,
        Method::POST,
        "/api/workflows/w/execute",
        &[local, evil],
        Some(("application/json", "{}")),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden_origin");
    let r = send(&s, Method::GET, "/api/executions", &[local, evil], None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden_origin");
    assert_eq!(
        s.get("/api/executions").await.json()["executions"],
        json!([])
    );

    // A browser that sends no Origin but says another site sent the request.
    let cross = ("sec-fetch-site", "cross-site");
    let r = send(&s, Method::GET, "/api/workflows", &[local, cross], None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden_origin");
    // Following a link to the docs from another site is fine.
    let r = send(&s, Method::GET, "/docs/", &[local, cross], None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &s,
        Method::GET,
        "/api/workflows",
        &[local, ("sec-fetch-site", "same-origin")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // The server's own origin, and one that --cors-origin allows.
    for origin in ["http://127.0.0.1:8007", "http://app.example"] {
        let r = send(
            &s,
            Method::GET,
            "/api/workflows/w",
            &[local, ("origin", origin), cross],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{origin}: {}", r.text);
    }
    let r = create("http://127.0.0.1:8007", "application/yaml").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // With auth on, a token does not make another origin's request acceptable.
    let (admin, _) = token(&s, Role::Admin).await;
    let bearer = format!("Bearer {admin}");
    let r = send(
        &s,
        Method::GET,
        "/api/workflows",
        &[local, evil, ("authorization", &bearer)],
        None,
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden_origin");
}

/// Regression: with `Host: evil.example` (a page that rebound its own name to
/// 127.0.0.1), an open server answered as if the page were its own.
#[tokio::test]
async fn an_open_server_answers_loopback_host_names_only() {
    let s = server().await;
    for host in [
        "localhost",
        "localhost:8007",
        "127.0.0.1:8007",
        "[::1]:8007",
    ] {
        let r = send(&s, Method::GET, "/api/workflows", &[("host", host)], None).await;
        assert_eq!(r.status, StatusCode::OK, "{host}: {}", r.text);
    }
    let rebound = [
        ("host", "evil.example:8007"),
        ("origin", "http://evil.example:8007"),
    ];
    let r = send(
        &s,
        Method::POST,
        "/api/workflows",
        &rebound,
        Some(("application/yaml", HELLO)),
    )
    .await;
    let e = assert_error(&r, StatusCode::FORBIDDEN, "forbidden_host");
    assert!(message(&e).contains("evil.example:8007"), "{e}");
    for (host, uri) in [
        ("evil.example", "/api/workflows"),
        ("10.1.2.3:8007", "/api/workflows"),
        ("evil.example", "/health"),
        ("", "/api/workflows"),
    ] {
        let r = send(&s, Method::GET, uri, &[("host", host)], None).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_host");
    }
    assert_error(
        &s.get("/api/workflows/hello").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // With auth on, the host name does not matter: a token does.
    let (viewer, _) = token(&s, Role::Viewer).await;
    let r = send(&s, Method::GET, "/api/workflows", &[rebound[0]], None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    let bearer = format!("Bearer {viewer}");
    let r = send(
        &s,
        Method::GET,
        "/api/workflows",
        &[rebound[0], ("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Regression: `text/plain` bodies (which any page can send without a preflight) were
/// read as YAML, and bodies without a content type were guessed.
#[tokio::test]
async fn bodies_need_a_json_or_yaml_content_type() {
    let s = server().await;
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = s
            .call(
                Method::POST,
                "/api/workflows",
                Some(content_type),
                HELLO,
                None,
            )
            .await;
        let e = assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        assert!(message(&e).contains("application/yaml"), "{e}");
    }
    let json_hello = json!({"name": "j", "tasks": {"a": {"type": "set"}}}).to_string();
    for body in [HELLO, json_hello.as_str()] {
        let r = s
            .call(Method::POST, "/api/workflows", None, body, None)
            .await;
        let e = assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        assert!(message(&e).contains("no content type"), "{e}");
    }
    assert_error(
        &s.get("/api/workflows/hello").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Every YAML and JSON media type reads.
    for (i, content_type) in [
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml; charset=utf-8",
    ]
    .iter()
    .enumerate()
    {
        let body = format!("name: y{i}\ntasks:\n  a: {{type: set}}\n");
        let r = s
            .call(
                Method::POST,
                "/api/workflows",
                Some(content_type),
                &body,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{content_type}: {}", r.text);
    }
    let r = s
        .call(
            Method::POST,
            "/api/workflows",
            Some("application/vnd.harmonia+json"),
            &json_hello,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Option bodies: none at all needs no content type; some does.
    let r = s
        .call(Method::POST, "/api/workflows/y0/execute", None, "{}", None)
        .await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let r = s
        .call(
            Method::POST,
            "/api/workflows/y0/execute",
            Some("text/plain"),
            "{}",
            None,
        )
        .await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let r = s
        .call(Method::POST, "/api/workflows/y0/execute", None, "", None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    s.post_yaml(
        "/api/workflows",
        "name: nap\ntasks:\n  a: {type: sleep, with: {duration: 30s}}\n",
    )
    .await;
    let r = s
        .call(Method::POST, "/api/workflows/nap/execute", None, "", None)
        .await;
    let id = r.json()["execution_id"]
        .as_str()
        .expect("an id")
        .to_string();
    let r = s
        .call(
            Method::POST,
            &format!("/api/executions/{id}/cancel"),
            None,
            "",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Regression: a WebSocket upgrade from any origin was accepted.
#[tokio::test]
async fn a_websocket_from_another_origin_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let s = server().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = s.app.clone();
    tokio::spawn(
        async move { harmonia_server::serve(listener, app, std::future::pending()).await },
    );
    let connect = |origin: String| async move {
        let mut req = format!("ws://{addr}/ws/workflows")
            .into_client_request()
            .expect("a request");
        req.headers_mut()
            .insert("origin", origin.parse().expect("a header value"));
        tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(req),
        )
        .await
        .expect("in time")
    };
    match connect("http://evil.example".into()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            let body: serde_json::Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("a JSON body");
            assert_eq!(body["error"]["code"], "forbidden_origin", "{body}");
        }
        Err(other) => panic!("refused, but not with a 403: {other}"),
        Ok(_) => panic!("a cross-origin WebSocket was accepted"),
    }
    let (mut socket, _) = connect(format!("http://{addr}"))
        .await
        .expect("the server's own origin connects");
    socket.close(None).await.ok();
}
