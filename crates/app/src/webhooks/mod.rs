//! Webhooks: requests from other systems that start workflows, verified by signature.
//!
//! `verify` checks a request's signature under a scheme (a generic HMAC and the
//! presets of GitHub, GitLab, Stripe and Slack).

pub mod verify;
