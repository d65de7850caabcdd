//! The suite of the tokens role ([`Tokens`](crate::Tokens)).

use super::expect;
use crate::prelude::*;
use crate::records::TokenRecord;
use crate::{Error, Timestamp};

/// Tokens are stored by hash, listed, found and deleted.
pub async fn tokens(store: &dyn Store) {
    let token = |id: &str, hash: &str| TokenRecord {
        id: id.into(),
        name: format!("name-{id}"),
        role: "viewer".into(),
        hash: hash.into(),
        created_at: Timestamp(5),
    };
    expect(store.put_token(&token("t1", "h1")).await, "put");
    expect(store.put_token(&token("t2", "h2")).await, "put");
    assert!(matches!(
        store.put_token(&token("t3", "h1")).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        expect(store.token_by_hash("h2").await, "find"),
        Some(token("t2", "h2"))
    );
    assert_eq!(expect(store.token_by_hash("nope").await, "find"), None);
    assert_eq!(expect(store.tokens().await, "list").len(), 2);
    assert!(expect(store.delete_token("t1").await, "delete"));
    assert!(!expect(store.delete_token("t1").await, "again"));
    assert_eq!(expect(store.token_by_hash("h1").await, "gone"), None);
}

/// A store remembers that it has had a token, once every token is deleted too (the
/// server's auth must never fall back to open).
pub async fn having_had_tokens_is_forever(store: &dyn Store) {
    assert!(!expect(store.had_tokens().await, "fresh"));
    let token = TokenRecord {
        id: "t1".into(),
        name: "admin".into(),
        role: "admin".into(),
        hash: "h1".into(),
        created_at: Timestamp(5),
    };
    expect(store.put_token(&token).await, "put");
    assert!(expect(store.had_tokens().await, "after put"));
    assert!(expect(store.delete_token("t1").await, "delete"));
    assert!(expect(store.tokens().await, "list").is_empty());
    assert!(expect(store.had_tokens().await, "after delete"));
}
