//! Keeping credentials out of messages and details: the URL as messages show it, which
//! headers hold credentials, and the scrubbing of known secret values.
//!
//! Invariants: messages name the method and the URL without credentials or query string
//! (`GET https://api.example.com/v1/items?…`), never an `Authorization` header; the
//! values of credentials and sensitive headers (`MIN_SCRUBBED_LEN` characters or more)
//! are also replaced by `***` in messages and details, in case a lower layer or the
//! server repeats them. Shorter values are not scrubbed: they would scrub ordinary words.

use reqwest::Url;
use reqwest::header::HeaderName;
use serde_json::Value;

/// Credentials shorter than this are not scrubbed from messages (see `Request::parse`).
pub(super) const MIN_SCRUBBED_LEN: usize = 4;

/// Whether a header's value is a credential.
pub(super) fn is_sensitive_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    [
        "auth", "token", "key", "secret", "cookie", "session", "password",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// The URL for messages: no user, no password, no fragment; a query shown as `?…`.
pub(super) fn shown_url(url: &Url) -> String {
    let mut u = url.clone();
    let had_query = u.query().is_some_and(|q| !q.is_empty());
    // Both only fail for URLs that cannot have credentials, which then have none.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    let mut s = u.to_string();
    if had_query {
        s.push_str("?…");
    }
    s
}

/// `%XX` escapes decoded (as a URL's password is written), when the result is UTF-8.
pub(super) fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
}

/// `text` with each of `secrets` replaced by `***`.
pub(super) fn scrub_text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

/// [`scrub_text`] on every string in `v`.
pub(super) fn scrub_value(v: &mut Value, secrets: &[String]) {
    match v {
        Value::String(s) => *s = scrub_text(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_value(i, secrets)),
        Value::Object(m) => m.values_mut().for_each(|i| scrub_value(i, secrets)),
        _ => {}
    }
}
