//! A queue that takes turns between keys: one item of each key that has any, in the
//! order the keys first came, then round again.
//!
//! The scheduler queues the pure attempts of all executions in one of these, by
//! execution, so that the 20,000 tasks of one execution do not stand in front of the
//! two of another: each gets one in turn.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A round-robin queue of `T`s by key `K`.
#[derive(Debug)]
pub(super) struct Fair<K, T> {
    /// Keys with items, in the order they take turns.
    order: VecDeque<K>,
    items: HashMap<K, VecDeque<T>>,
}

impl<K, T> Default for Fair<K, T> {
    fn default() -> Self {
        Fair {
            order: VecDeque::new(),
            items: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Copy, T> Fair<K, T> {
    /// Adds an item for `key`, after its others.
    pub(super) fn push(&mut self, key: K, item: T) {
        let queue = self.items.entry(key).or_default();
        if queue.is_empty() {
            self.order.push_back(key);
        }
        queue.push_back(item);
    }

    /// The next item: the first of the key whose turn it is.
    pub(super) fn pop(&mut self) -> Option<(K, T)> {
        let key = self.order.pop_front()?;
        let queue = self.items.get_mut(&key)?;
        let item = queue.pop_front()?;
        if queue.is_empty() {
            self.items.remove(&key);
        } else {
            self.order.push_back(key);
        }
        Some((key, item))
    }

    /// Drops every item of `key`.
    pub(super) fn remove(&mut self, key: K) {
        if self.items.remove(&key).is_some() {
            self.order.retain(|k| *k != key);
        }
    }

    /// Whether no item is queued.
    pub(super) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_take_turns() {
        let mut q = Fair::default();
        for i in 0..4 {
            q.push('a', i);
        }
        q.push('b', 10);
        q.push('b', 11);
        let mut out = Vec::new();
        while let Some(x) = q.pop() {
            out.push(x);
            if x == ('a', 1) {
                q.push('c', 20);
            }
        }
        assert_eq!(
            out,
            vec![
                ('a', 0),
                ('b', 10),
                ('a', 1),
                ('b', 11),
                ('a', 2),
                ('c', 20),
                ('a', 3)
            ]
        );
        assert!(q.is_empty());
    }
}
