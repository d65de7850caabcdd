//! The HTTP side of the template commands: where the server is, the token, one
//! `reqwest` client with timeouts, and every way a request fails as a [`Failure`].
//!
//! Invariants: every request carries `Authorization: Bearer TOKEN` when a token was
//! given (and nothing otherwise); URLs are built from segments, each percent-encoded,
//! below the server's base URL (which may have a path prefix); no request waits longer
//! than [`TIMEOUT`]. A response with a success status is returned as is; any other
//! status becomes [`Failure::Api`] with the server's message and details, or a message
//! made from the status when the body is not the API's error shape.

use std::time::Duration;

use anyhow::Context as _;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use super::failure::Failure;

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a whole answer.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Where the server is and how to authenticate: options of every template command.
#[derive(Debug, clap::Args)]
pub(crate) struct Connection {
    /// The Harmonia server's base URL.
    #[arg(
        long,
        global = true,
        env = "HARMONIA_SERVER",
        value_name = "URL",
        default_value = "http://127.0.0.1:8007",
        value_parser = parse_server
    )]
    server: Url,
    /// An API token (see `harmonia token create`), sent as `Authorization: Bearer TOKEN`.
    #[arg(
        long,
        global = true,
        env = "HARMONIA_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
}

/// Checks `--server`: an absolute http(s) URL without query or fragment.
fn parse_server(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL ({e}); try http://HOST:PORT"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the server's URL must start with http:// or https://".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the server's URL cannot have a query or a fragment".into());
    }
    Ok(url)
}

/// A client of one server.
pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Client {
    pub(crate) fn new(connection: &Connection) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .user_agent(concat!("harmonia/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client {
            http,
            base: connection.server.clone(),
            token: connection.token.clone().filter(|t| !t.is_empty()),
        })
    }

    /// The server's base URL as people write it (no trailing slash).
    pub(crate) fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The URL of `segments` below the server's base, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        // Only URLs that cannot be a base (`mailto:`) refuse; `parse_server` lets none in.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// A GET of `segments`, with the token.
    pub(crate) fn get(&self, segments: &[&str]) -> RequestBuilder {
        self.request(Method::GET, segments)
    }

    /// A POST to `segments`, with the token.
    pub(crate) fn post(&self, segments: &[&str]) -> RequestBuilder {
        self.request(Method::POST, segments)
    }

    /// A PUT to `segments`, with the token.
    pub(crate) fn put(&self, segments: &[&str]) -> RequestBuilder {
        self.request(Method::PUT, segments)
    }

    /// A DELETE of `segments`, with the token.
    pub(crate) fn delete(&self, segments: &[&str]) -> RequestBuilder {
        self.request(Method::DELETE, segments)
    }

    /// Every item of a paged listing (`{FIELD: [...], next_cursor}`), following
    /// `next_cursor` until the last page, or until `max` items when given.
    pub(crate) async fn all_pages(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        field: &str,
        max: Option<usize>,
    ) -> Result<Vec<Value>, Failure> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            let want = max.map_or(500, |m| m.saturating_sub(items.len()).clamp(1, 500));
            q.push(("limit", want.to_string()));
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page: Value = self.json(self.get(segments).query(&q)).await?;
            if let Some(Value::Array(found)) = page.get(field) {
                items.extend(found.iter().cloned());
            }
            cursor = page
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_string);
            let full = max.is_some_and(|m| items.len() >= m);
            if cursor.is_none() || full {
                return Ok(items);
            }
        }
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let request = self.http.request(method, self.url(segments));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends a request: the response when its status is a success, else the failure.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, Failure> {
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.map_err(|e| self.transport(&e))?;
        Err(api_failure(status, &text))
    }

    /// The body of a successful response.
    pub(crate) async fn bytes(&self, request: RequestBuilder) -> Result<Vec<u8>, Failure> {
        let response = self.send(request).await?;
        let body = response.bytes().await.map_err(|e| self.transport(&e))?;
        Ok(body.to_vec())
    }

    /// The JSON body of a successful response, read as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, Failure> {
        let body = self.bytes(request).await?;
        serde_json::from_slice(&body).map_err(|e| {
            Failure::Local(format!(
                "the server at {} answered with something this client does not understand: {e}",
                self.server()
            ))
        })
    }

    fn transport(&self, e: &reqwest::Error) -> Failure {
        if e.is_connect() {
            Failure::Unreachable {
                server: self.server().to_string(),
                cause: root_cause(e),
            }
        } else if e.is_timeout() {
            Failure::Local(format!(
                "the Harmonia server at {} did not answer within {} s",
                self.server(),
                TIMEOUT.as_secs()
            ))
        } else {
            Failure::Local(format!(
                "the request to {} failed: {}",
                self.server(),
                root_cause(e)
            ))
        }
    }
}

/// The content type to send a file as, by its name: `application/json` for `*.json`,
/// `application/yaml` for anything else.
pub(crate) fn content_type(file: &std::path::Path) -> &'static str {
    let json = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json {
        "application/json"
    } else {
        "application/yaml"
    }
}

/// The innermost error of a chain: `Connection refused (os error 111)` rather than
/// reqwest's `error sending request for url (...)`.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut e = e;
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}

/// The failure for an error status and its body.
fn api_failure(status: StatusCode, body: &str) -> Failure {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ErrorInfo,
    }
    #[derive(Deserialize)]
    struct ErrorInfo {
        message: String,
        #[serde(default)]
        details: Value,
    }
    let (message, details) = match serde_json::from_str::<ErrorBody>(body) {
        Ok(b) => (b.error.message, b.error.details),
        Err(_) => {
            let first: String = body
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            let message = if first.is_empty() {
                format!("the server answered {status}")
            } else {
                format!("the server answered {status}: {first}")
            };
            (message, Value::Null)
        }
    };
    Failure::Api {
        status,
        message,
        details,
        file: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(server: &str) -> Client {
        let connection = Connection {
            server: parse_server(server).expect("a valid URL"),
            token: None,
        };
        Client::new(&connection).expect("a client")
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_segments() {
        let c = client("http://127.0.0.1:8007");
        assert_eq!(c.server(), "http://127.0.0.1:8007");
        assert_eq!(
            c.url(&["api", "templates", "etl"]).as_str(),
            "http://127.0.0.1:8007/api/templates/etl"
        );
        let c = client("https://example.com/harmonia/");
        assert_eq!(c.server(), "https://example.com/harmonia");
        assert_eq!(
            c.url(&["api", "templates", "a/b c"]).as_str(),
            "https://example.com/harmonia/api/templates/a%2Fb%20c"
        );
    }

    #[test]
    fn json_files_are_sent_as_json_and_the_rest_as_yaml() {
        use std::path::Path;
        assert_eq!(content_type(Path::new("a.json")), "application/json");
        assert_eq!(content_type(Path::new("a.JSON")), "application/json");
        assert_eq!(content_type(Path::new("a.yaml")), "application/yaml");
        assert_eq!(content_type(Path::new("a.yml")), "application/yaml");
        assert_eq!(content_type(Path::new("export")), "application/yaml");
    }

    #[test]
    fn only_http_urls_name_a_server() {
        assert!(parse_server("ftp://x").is_err());
        assert!(parse_server("127.0.0.1:8007").is_err());
        assert!(parse_server("http://x/?a=1").is_err());
        assert!(parse_server("http://x:1/").is_ok());
    }

    #[test]
    fn error_bodies_are_read_whatever_they_hold() {
        let f = api_failure(
            StatusCode::NOT_FOUND,
            r#"{"error": {"code": "not_found", "message": "no template `x`", "details": null}}"#,
        );
        assert_eq!(f.lines(), ["error: no template `x`"]);
        let f = api_failure(StatusCode::BAD_GATEWAY, "\n<html>Bad gateway</html>\n");
        assert_eq!(
            f.lines(),
            ["error: the server answered 502 Bad Gateway: <html>Bad gateway</html>"]
        );
        let f = api_failure(StatusCode::BAD_GATEWAY, "");
        assert_eq!(f.lines(), ["error: the server answered 502 Bad Gateway"]);
    }
}
