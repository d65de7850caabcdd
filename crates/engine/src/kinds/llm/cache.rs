//! The response cache: identical requests answered from memory.
//!
//! A request's key is the SHA-256 of the canonical JSON (object keys sorted) of what
//! decides the answer: the provider, the model, the messages, the schema, `max_tokens`
//! and `temperature`. The cache keeps at most its capacity of entries and forgets the
//! least recently used first.
//!
//! Invariants: only a usable answer is kept (an output that passed the task's
//! `schema`), so a cached answer yields the same output as the request did; the lock
//! is held only to look up or insert, never across an `await`.

use std::sync::Mutex;

use indexmap::IndexMap;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// How many answers the engine keeps by default.
pub(super) const DEFAULT_ENTRIES: usize = 1_000;

/// A bounded LRU map from request keys to outputs.
#[derive(Debug)]
pub(super) struct Cache {
    capacity: usize,
    /// In use order: the least recently used first.
    entries: Mutex<IndexMap<[u8; 32], Value>>,
}

impl Cache {
    /// A cache of at most `capacity` answers.
    pub(super) fn new(capacity: usize) -> Cache {
        Cache {
            capacity,
            entries: Mutex::new(IndexMap::new()),
        }
    }

    /// The output kept for `key`, now the most recently used.
    pub(super) fn get(&self, key: &[u8; 32]) -> Option<Value> {
        let mut entries = self.entries.lock().ok()?;
        let value = entries.shift_remove(key)?;
        entries.insert(*key, value.clone());
        Some(value)
    }

    /// Keeps `value` for `key`, forgetting the least recently used beyond capacity.
    pub(super) fn put(&self, key: [u8; 32], value: Value) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            entries.shift_remove(&key);
            entries.insert(key, value);
            while entries.len() > self.capacity {
                entries.shift_remove_index(0);
            }
        }
    }
}

/// The key of a request: SHA-256 of its canonical JSON.
pub(super) fn key(request: &Value) -> [u8; 32] {
    let text = canonical(request).to_string();
    Sha256::digest(text.as_bytes()).into()
}

/// `v` with every object's keys in sorted order.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let sorted: Map<String, Value> = keys
                .into_iter()
                .map(|k| (k.clone(), canonical(&map[k])))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_ignore_the_order_of_object_keys() {
        assert_eq!(
            key(&json!({"a": 1, "b": [{"x": 1, "y": 2}]})),
            key(&json!({"b": [{"y": 2, "x": 1}], "a": 1}))
        );
        assert_ne!(key(&json!({"a": 1})), key(&json!({"a": 2})));
    }

    #[test]
    fn forgets_the_least_recently_used() {
        let c = Cache::new(2);
        c.put([1; 32], json!(1));
        c.put([2; 32], json!(2));
        assert_eq!(c.get(&[1; 32]), Some(json!(1)));
        c.put([3; 32], json!(3));
        assert_eq!(c.get(&[2; 32]), None);
        assert_eq!(c.get(&[1; 32]), Some(json!(1)));
        assert_eq!(c.get(&[3; 32]), Some(json!(3)));
    }
}
