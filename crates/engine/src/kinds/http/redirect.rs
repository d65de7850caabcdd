//! Following redirects, and what each hop may carry.
//!
//! The client follows no redirect itself: [`Hop::next`] decides. A `301`, `302`, `303`,
//! `307` or `308` with a `Location` is followed (at most `MAX_REDIRECTS` times), unless
//! the task's `expect_status` lists that status (then it is the answer). `303`, and
//! `301`/`302` after anything but `GET` or `HEAD`, go on as `GET` without a body, as
//! browsers do; `307` and `308` keep the method and the body.
//!
//! Invariants: once a hop leaves the origin (scheme, host, port) of the request the task
//! made, no later hop sends `Authorization`, `Cookie`, `Proxy-Authorization`, the
//! task's `auth`, any header the executor holds sensitive by name, or any header whose
//! value contains a text the call got from a secret (`Call::secret_texts`: a token in
//! `X-Api-Key` is no less a credential). No hop sends a `Referer` (the client never
//! does).

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Method, StatusCode, Url};

use super::MAX_REDIRECTS;
use super::redact::is_sensitive_header;
use super::request::Request;

/// Scheme, host and port: what must not change for credentials to go along.
type Origin = (String, Option<String>, Option<u16>);

fn origin(url: &Url) -> Origin {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_ascii_lowercase),
        url.port_or_known_default(),
    )
}

/// One request of a chain of redirects.
pub(super) struct Hop {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<Vec<u8>>,
    /// Whether the task's `auth` goes with it (only to the task's own origin).
    pub(super) credentials: bool,
    origin: Origin,
    expect_status: Option<Vec<u16>>,
    redirects: usize,
}

/// What follows a response.
pub(super) enum Next {
    /// It is the answer.
    Done,
    /// Another request, to where it points.
    Follow(Box<Hop>),
    /// One redirect too many.
    TooMany,
}

impl Hop {
    /// The request the task asked for.
    pub(super) fn first(req: &Request) -> Hop {
        Hop {
            method: req.method.clone(),
            url: req.url.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            credentials: true,
            origin: origin(&req.url),
            expect_status: req.expect_status.clone(),
            redirects: 0,
        }
    }

    /// What follows `resp`, the answer to this hop.
    pub(super) fn next(&self, resp: &reqwest::Response, secret_texts: &[String]) -> Next {
        let status = resp.status();
        let followed = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
        let expected = self
            .expect_status
            .as_ref()
            .is_some_and(|l| l.contains(&status.as_u16()));
        if !followed || expected {
            return Next::Done;
        }
        let Some(url) = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| self.url.join(l).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            return Next::Done;
        };
        if self.redirects >= MAX_REDIRECTS {
            return Next::TooMany;
        }
        let keep_method = matches!(
            status,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        ) || (status != StatusCode::SEE_OTHER
            && matches!(self.method, Method::GET | Method::HEAD));
        let (method, body, mut headers) = if keep_method {
            (self.method.clone(), self.body.clone(), self.headers.clone())
        } else {
            let mut headers = self.headers.clone();
            for h in ["content-type", "content-length", "content-encoding"] {
                headers.remove(h);
            }
            let method = if self.method == Method::HEAD {
                Method::HEAD
            } else {
                Method::GET
            };
            (method, None, headers)
        };
        let same_origin = origin(&url) == self.origin;
        if !same_origin {
            let names: Vec<_> = headers
                .iter()
                .filter(|(name, value)| {
                    is_sensitive_header(name)
                        || matches!(
                            name.as_str(),
                            "authorization" | "cookie" | "proxy-authorization"
                        )
                        || value
                            .to_str()
                            .is_ok_and(|v| secret_texts.iter().any(|s| v.contains(s.as_str())))
                })
                .map(|(name, _)| name.clone())
                .collect();
            for name in names {
                headers.remove(name);
            }
        }
        Next::Follow(Box::new(Hop {
            method,
            url,
            headers,
            body,
            credentials: self.credentials && same_origin,
            origin: self.origin.clone(),
            expect_status: self.expect_status.clone(),
            redirects: self.redirects + 1,
        }))
    }
}
