//! Signatures made the way each sender makes them, then tampered with.

use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};

use super::*;

const NOW: i64 = 1_764_500_000;

fn sign256(secret: &str, text: &str) -> String {
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    m.update(text.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn run(
    scheme: &Scheme,
    secret: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Result<(), Refused> {
    let map: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let lookup = |name: &str| map.get(&name.to_ascii_lowercase()).map(String::as_str);
    verify(
        scheme,
        secret.as_bytes(),
        &Request {
            header: &lookup,
            body: body.as_bytes(),
            now: NOW,
            tolerance: 300,
        },
    )
}

#[test]
fn github_signs_the_body_with_sha256() {
    // The example of GitHub's documentation on validating webhook deliveries.
    let secret = "It's a Secret to Everybody";
    let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let h = |v: &str| vec![("X-Hub-Signature-256", v.to_string())];
    assert_eq!(
        run(&Scheme::GitHub, secret, &h(good), "Hello, World!"),
        Ok(())
    );
    assert!(run(&Scheme::GitHub, secret, &h(good), "Hello, World?").is_err());
    assert!(run(&Scheme::GitHub, "another", &h(good), "Hello, World!").is_err());
    let e = run(&Scheme::GitHub, secret, &[], "Hello, World!").expect_err("missing");
    assert!(e.0.contains("x-hub-signature-256"), "{e}");
    let e = run(&Scheme::GitHub, secret, &h("sha1=abc"), "x").expect_err("prefix");
    assert!(e.0.contains("sha256="), "{e}");
    let e = run(&Scheme::GitHub, secret, &h("sha256=zz"), "x").expect_err("hex");
    assert!(e.0.contains("hexadecimal"), "{e}");
    assert!(!e.0.contains(secret));
}

#[test]
fn stripe_signs_the_timestamp_and_the_body_and_may_send_several_signatures() {
    let secret = "whsec_test";
    let body = r#"{"id":"evt_1","type":"charge.succeeded"}"#;
    let sig = sign256(secret, &format!("{NOW}.{body}"));
    let h = |v: String| vec![("Stripe-Signature", v)];
    assert_eq!(
        run(
            &Scheme::Stripe,
            secret,
            &h(format!("t={NOW},v1={sig}")),
            body
        ),
        Ok(())
    );
    // A rolled secret: the old signature first, the new one matches.
    let old = sign256("whsec_old", &format!("{NOW}.{body}"));
    assert_eq!(
        run(
            &Scheme::Stripe,
            secret,
            &h(format!("t={NOW},v1={old},v1={sig},v0=ignored")),
            body
        ),
        Ok(())
    );
    assert!(
        run(
            &Scheme::Stripe,
            secret,
            &h(format!("t={NOW},v1={sig}")),
            "{}"
        )
        .is_err()
    );
    // The same signature with another timestamp does not match.
    let later = NOW + 10;
    assert!(
        run(
            &Scheme::Stripe,
            secret,
            &h(format!("t={later},v1={sig}")),
            body
        )
        .is_err()
    );
    // A replay ten minutes later.
    let stale = NOW - 600;
    let old_sig = sign256(secret, &format!("{stale}.{body}"));
    let e = run(
        &Scheme::Stripe,
        secret,
        &h(format!("t={stale},v1={old_sig}")),
        body,
    )
    .expect_err("stale");
    assert!(e.0.contains("600s"), "{e}");
    assert!(run(&Scheme::Stripe, secret, &h(format!("v1={sig}")), body).is_err());
    assert!(run(&Scheme::Stripe, secret, &h(format!("t={NOW}")), body).is_err());
}

#[test]
fn slack_signs_version_timestamp_and_body() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let body = "token=x&team_id=T1&command=%2Fdeploy&text=now";
    let sig = sign256(secret, &format!("v0:{NOW}:{body}"));
    let h = |t: i64, s: &str| {
        vec![
            ("X-Slack-Request-Timestamp", t.to_string()),
            ("X-Slack-Signature", format!("v0={s}")),
        ]
    };
    assert_eq!(run(&Scheme::Slack, secret, &h(NOW, &sig), body), Ok(()));
    assert!(run(&Scheme::Slack, secret, &h(NOW, &sig), "token=y").is_err());
    assert!(run(&Scheme::Slack, secret, &h(NOW + 1, &sig), body).is_err());
    let future = NOW + 3600;
    let sig = sign256(secret, &format!("v0:{future}:{body}"));
    assert!(run(&Scheme::Slack, secret, &h(future, &sig), body).is_err());
}

#[test]
fn gitlab_sends_the_token_itself() {
    let h = |v: &str| vec![("X-Gitlab-Token", v.to_string())];
    assert_eq!(run(&Scheme::GitLab, "s3cret", &h("s3cret"), "{}"), Ok(()));
    assert!(run(&Scheme::GitLab, "s3cret", &h("s3cre"), "{}").is_err());
    assert!(run(&Scheme::GitLab, "s3cret", &h("s3cret "), "{}").is_err());
    assert!(run(&Scheme::GitLab, "s3cret", &[], "{}").is_err());
}

#[test]
fn the_generic_hmac_takes_its_header_hash_prefix_encoding_and_timestamp() {
    let secret = "k";
    let body = "payload";
    let mut m = <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(b"k").expect("key");
    m.update(body.as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
    let scheme = Scheme::Hmac {
        header: "X-Signature".into(),
        algorithm: Algorithm::Sha512,
        prefix: "sha512=".into(),
        encoding: Encoding::Base64,
        timestamp_header: None,
    };
    let h = |v: String| vec![("x-signature", v)];
    assert_eq!(
        run(&scheme, secret, &h(format!("sha512={b64}")), body),
        Ok(())
    );
    assert!(run(&scheme, secret, &h(b64.clone()), body).is_err());
    assert!(run(&scheme, secret, &h(format!("sha512={b64}")), "payloaD").is_err());

    let mut m = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(b"k").expect("key");
    m.update(format!("{NOW}.{body}").as_bytes());
    let hex = hex::encode(m.finalize().into_bytes());
    let timed = Scheme::Hmac {
        header: "X-Sig".into(),
        algorithm: Algorithm::Sha1,
        prefix: String::new(),
        encoding: Encoding::Hex,
        timestamp_header: Some("X-Time".into()),
    };
    let h = |t: i64| vec![("X-Sig", hex.clone()), ("X-Time", t.to_string())];
    assert_eq!(run(&timed, secret, &h(NOW), body), Ok(()));
    assert!(run(&timed, secret, &h(NOW - 1000), body).is_err());
    assert!(run(&timed, secret, &[("X-Sig", hex.clone())], body).is_err());
    assert_eq!(run(&Scheme::None, secret, &[], body), Ok(()));
}
