//! Webhook signatures: is this request from who holds the secret, and is it fresh?
//!
//! One generic scheme and the presets of the senders people use most:
//!
//! | scheme | header | signed text | signature |
//! |---|---|---|---|
//! | `hmac` | configured | the raw body, or `TIMESTAMP.BODY` with a timestamp header | HMAC (sha1, sha256, sha512), hex or base64, after an optional prefix |
//! | `github` | `X-Hub-Signature-256` | the raw body | `sha256=` + hex HMAC-SHA256 |
//! | `gitlab` | `X-Gitlab-Token` | (none) | the secret itself |
//! | `stripe` | `Stripe-Signature` | `T.BODY` | `t=T,v1=HEX[,v1=HEX...]`: any `v1` may match (secrets roll) |
//! | `slack` | `X-Slack-Signature` + `X-Slack-Request-Timestamp` | `v0:T:BODY` | `v0=` + hex HMAC-SHA256 |
//! | `none` | | | nothing: only allowed where the server listens on loopback (the caller's rule) |
//!
//! A scheme with a timestamp refuses a request whose timestamp (Unix seconds) is
//! further than the tolerance from now, either way: a captured request cannot be
//! replayed later.
//!
//! Invariants: every comparison of a secret or a signature takes the same time whatever
//! the inputs (`Mac::verify_slice`, `subtle`), so a sender cannot guess a signature
//! byte by byte; a refusal says what was wrong (missing header, malformed signature,
//! stale timestamp, no match) and never includes the secret or the expected signature.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

/// The hash of an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 (older senders).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How a signature is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Lower- or upper-case hexadecimal.
    Hex,
    /// Standard base64, padded or not.
    Base64,
}

/// How a webhook's requests are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// A generic HMAC over the raw body (or `TIMESTAMP.BODY`).
    Hmac {
        /// The header holding the signature (any case).
        header: String,
        /// The hash.
        algorithm: Algorithm,
        /// Text before the signature in the header (`sha256=`), if any.
        prefix: String,
        /// How the signature is written.
        encoding: Encoding,
        /// A header holding the Unix time of the request: then the signed text is
        /// `TIMESTAMP.BODY` and stale requests are refused.
        timestamp_header: Option<String>,
    },
    /// GitHub's `X-Hub-Signature-256`.
    GitHub,
    /// GitLab's `X-Gitlab-Token`.
    GitLab,
    /// Stripe's `Stripe-Signature`.
    Stripe,
    /// Slack's `X-Slack-Signature` and `X-Slack-Request-Timestamp`.
    Slack,
    /// No verification.
    None,
}

/// What a verification needs of a request.
pub struct Request<'a> {
    /// Its headers' values by name, any case; `None` when absent or not text.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// Its body, as received.
    pub body: &'a [u8],
    /// Now, in Unix seconds.
    pub now: i64,
    /// How far a signed timestamp may be from now, in seconds.
    pub tolerance: i64,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Verifies `request` under `scheme` with `secret`.
pub fn verify(scheme: &Scheme, secret: &[u8], request: &Request<'_>) -> Result<(), Refused> {
    match scheme {
        Scheme::None => Ok(()),
        Scheme::GitLab => {
            let token = header(request, "x-gitlab-token")?;
            if bool::from(token.as_bytes().ct_eq(secret)) {
                Ok(())
            } else {
                Err(Refused("`X-Gitlab-Token` does not match the secret".into()))
            }
        }
        Scheme::GitHub => {
            let value = header(request, "x-hub-signature-256")?;
            let hex = value.strip_prefix("sha256=").ok_or_else(|| {
                Refused("`X-Hub-Signature-256` does not start with `sha256=`".into())
            })?;
            let signature = decode(hex, Encoding::Hex, "X-Hub-Signature-256")?;
            check(
                Algorithm::Sha256,
                secret,
                &[request.body],
                &signature,
                "X-Hub-Signature-256",
            )
        }
        Scheme::Stripe => {
            let value = header(request, "stripe-signature")?;
            let mut timestamp = None;
            let mut signatures = Vec::new();
            for part in value.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", t)) => timestamp = Some(t),
                    Some(("v1", s)) => signatures.push(s),
                    _ => {}
                }
            }
            let t = timestamp
                .ok_or_else(|| Refused("`Stripe-Signature` has no `t=` timestamp".into()))?;
            fresh(request, t, "Stripe-Signature")?;
            if signatures.is_empty() {
                return Err(Refused("`Stripe-Signature` has no `v1=` signature".into()));
            }
            let signed: [&[u8]; 3] = [t.as_bytes(), b".", request.body];
            let matched = signatures.iter().any(|s| {
                decode(s, Encoding::Hex, "Stripe-Signature")
                    .and_then(|sig| check(Algorithm::Sha256, secret, &signed, &sig, ""))
                    .is_ok()
            });
            if matched {
                Ok(())
            } else {
                Err(Refused(
                    "no `v1` signature of `Stripe-Signature` matches".into(),
                ))
            }
        }
        Scheme::Slack => {
            let t = header(request, "x-slack-request-timestamp")?;
            fresh(request, t, "X-Slack-Request-Timestamp")?;
            let value = header(request, "x-slack-signature")?;
            let hex = value
                .strip_prefix("v0=")
                .ok_or_else(|| Refused("`X-Slack-Signature` does not start with `v0=`".into()))?;
            let signature = decode(hex, Encoding::Hex, "X-Slack-Signature")?;
            let signed: [&[u8]; 4] = [b"v0:", t.as_bytes(), b":", request.body];
            check(
                Algorithm::Sha256,
                secret,
                &signed,
                &signature,
                "X-Slack-Signature",
            )
        }
        Scheme::Hmac {
            header: name,
            algorithm,
            prefix,
            encoding,
            timestamp_header,
        } => {
            let value = header(request, name)?;
            let text = value
                .strip_prefix(prefix.as_str())
                .ok_or_else(|| Refused(format!("`{name}` does not start with `{prefix}`")))?;
            let signature = decode(text.trim(), *encoding, name)?;
            match timestamp_header {
                None => check(*algorithm, secret, &[request.body], &signature, name),
                Some(th) => {
                    let t = header(request, th)?;
                    fresh(request, t, th)?;
                    let signed: [&[u8]; 3] = [t.as_bytes(), b".", request.body];
                    check(*algorithm, secret, &signed, &signature, name)
                }
            }
        }
    }
}

fn header<'a>(request: &Request<'a>, name: &str) -> Result<&'a str, Refused> {
    (request.header)(name).ok_or_else(|| Refused(format!("the header `{name}` is missing")))
}

/// Refuses a timestamp that is not Unix seconds within the tolerance of now.
fn fresh(request: &Request<'_>, t: &str, name: &str) -> Result<(), Refused> {
    let at: i64 = t
        .trim()
        .parse()
        .map_err(|_| Refused(format!("`{name}`: the timestamp is not Unix seconds")))?;
    if (request.now - at).abs() > request.tolerance {
        return Err(Refused(format!(
            "`{name}`: the timestamp is {}s from now, more than the {}s allowed (a replay, or a clock that is off)",
            (request.now - at).abs(),
            request.tolerance
        )));
    }
    Ok(())
}

fn decode(text: &str, encoding: Encoding, name: &str) -> Result<Vec<u8>, Refused> {
    let decoded = match encoding {
        Encoding::Hex => hex::decode(text).ok(),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok(),
    };
    decoded.ok_or_else(|| {
        Refused(format!(
            "`{name}`: the signature is not {}",
            match encoding {
                Encoding::Hex => "hexadecimal",
                Encoding::Base64 => "base64",
            }
        ))
    })
}

/// Whether `signature` is the HMAC of the concatenated `parts` (in constant time).
fn check(
    algorithm: Algorithm,
    secret: &[u8],
    parts: &[&[u8]],
    signature: &[u8],
    name: &str,
) -> Result<(), Refused> {
    fn mac<M: Mac + KeyInit>(secret: &[u8], parts: &[&[u8]], signature: &[u8]) -> bool {
        let Ok(mut m) = <M as KeyInit>::new_from_slice(secret) else {
            return false;
        };
        for p in parts {
            m.update(p);
        }
        m.verify_slice(signature).is_ok()
    }
    let ok = match algorithm {
        Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(secret, parts, signature),
        Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(secret, parts, signature),
        Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(secret, parts, signature),
    };
    if ok {
        Ok(())
    } else {
        Err(Refused(format!(
            "`{name}`: the signature does not match the body and the secret"
        )))
    }
}

#[cfg(test)]
mod tests;
