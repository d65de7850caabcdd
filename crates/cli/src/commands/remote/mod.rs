//! What the commands that are clients of a running server share (`harmonia template`,
//! `harmonia trigger`): `client.rs` speaks HTTP (where the server is, the token,
//! timeouts) and turns every way a request fails into a [`Failure`] (`failure.rs`),
//! printed in one place; `table.rs` prints aligned columns.
//!
//! Invariant: these commands never open a database; everything goes through the server
//! named by `--server` (`HARMONIA_SERVER`).

pub(crate) mod client;
pub(crate) mod failure;
pub(crate) mod table;

pub(crate) use client::{Client, Connection};
pub(crate) use failure::Failure;
