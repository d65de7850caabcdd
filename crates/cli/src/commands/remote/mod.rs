//! What the commands that are clients of a running server share (`harmonia workflow`,
//! `submit`, `execution`, `template`, `trigger`): `client.rs` speaks HTTP (where the
//! server is, the token, timeouts, paged listings) and turns every way a request fails
//! into a [`Failure`] (`failure.rs`), printed in one place; `ids.rs` resolves short
//! execution ids; `table.rs` prints aligned columns, `print.rs` JSON and YAML, and
//! `when.rs` times.
//!
//! Invariant: these commands never open a database; everything goes through the server
//! named by `--server` (`HARMONIA_SERVER`).

pub(crate) mod client;
pub(crate) mod failure;
pub(crate) mod ids;
pub(crate) mod print;
pub(crate) mod table;
pub(crate) mod when;

pub(crate) use client::{Client, Connection};
pub(crate) use failure::Failure;
