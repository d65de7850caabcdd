//! The integration tests of `harmonia-llm`: each provider against a real HTTP server
//! (axum on 127.0.0.1:0) that checks the exact request and answers in that provider's
//! real format; the transport's retries, timeouts and errors; the configuration.

mod anthropic;
mod config;
mod harness;
mod ollama;
mod openai;
mod rhetor;
mod transport;
