//! [`Nodes`] for the [`MemoryStore`]: the nodes' rows in a map, claims under the
//! store's lock (so each claim is atomic, as the contract asks).

use std::collections::HashMap;

use async_trait::async_trait;

use super::{Inner, MemoryStore};
use crate::records::ExecutionRecord;
use crate::{Error, ExecutionId, LockRecord, NodeRecord, Nodes, Result, Timestamp};

impl Inner {
    /// Whether execution `x` may be claimed by `owner` at `now` (see `nodes.rs`).
    fn claimable(&self, x: &ExecutionRecord, owner: &str, now: Timestamp, own: bool) -> bool {
        if x.status.is_terminal() {
            return false;
        }
        match x.owner.as_deref() {
            None => true,
            Some(o) if o == owner => own,
            Some(o) => !self.nodes.get(o).is_some_and(|n| n.is_live(now)),
        }
    }
}

#[async_trait]
impl Nodes for MemoryStore {
    async fn join(&self, node: &NodeRecord) -> Result<()> {
        let mut inner = self.lock()?;
        if let Some(held) = inner.nodes.get(&node.id)
            && held.incarnation != node.incarnation
            && held.is_live(node.started_at)
        {
            return Err(Error::Conflict(format!(
                "node id `{}` is held by a live node (its lease expires at {})",
                node.id, held.expires_at
            )));
        }
        let mut row = node.clone();
        row.owned = 0;
        inner.nodes.insert(node.id.clone(), row);
        Ok(())
    }

    async fn renew(
        &self,
        id: &str,
        incarnation: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let mut inner = self.lock()?;
        match inner.nodes.get_mut(id) {
            Some(n) if n.incarnation == incarnation => {
                n.renewed_at = now;
                n.expires_at = expires_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn leave(&self, id: &str, incarnation: &str) -> Result<()> {
        let mut inner = self.lock()?;
        if inner
            .nodes
            .get(id)
            .is_some_and(|n| n.incarnation == incarnation)
        {
            inner.nodes.remove(id);
            for x in inner.executions.values_mut() {
                if !x.status.is_terminal() && x.owner.as_deref() == Some(id) {
                    x.owner = None;
                }
            }
        }
        Ok(())
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>> {
        let inner = self.lock()?;
        let mut owned: HashMap<&str, u64> = HashMap::new();
        for x in inner.executions.values() {
            if let Some(o) = x.owner.as_deref()
                && !x.status.is_terminal()
            {
                *owned.entry(o).or_default() += 1;
            }
        }
        Ok(inner
            .nodes
            .values()
            .map(|n| NodeRecord {
                owned: owned.get(n.id.as_str()).copied().unwrap_or(0),
                ..n.clone()
            })
            .collect())
    }

    async fn prune(&self, expired_before: Timestamp) -> Result<u64> {
        let mut inner = self.lock()?;
        let before = inner.nodes.len();
        inner.nodes.retain(|_, n| n.expires_at >= expired_before);
        Ok((before - inner.nodes.len()) as u64)
    }

    async fn try_lock(
        &self,
        name: &str,
        holder: &str,
        note: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let mut inner = self.lock()?;
        let free = inner
            .locks
            .get(name)
            .is_none_or(|l| l.holder == holder || l.expires_at <= now);
        if free {
            inner.locks.insert(
                name.to_owned(),
                LockRecord {
                    name: name.to_owned(),
                    holder: holder.to_owned(),
                    expires_at: until,
                    note: note.to_owned(),
                },
            );
        }
        Ok(free)
    }

    async fn swap_lock(
        &self,
        name: &str,
        holder: &str,
        expected: &str,
        note: &str,
        until: Timestamp,
    ) -> Result<bool> {
        let mut inner = self.lock()?;
        match inner.locks.get_mut(name) {
            Some(l) if l.holder == holder && l.note == expected => {
                note.clone_into(&mut l.note);
                l.expires_at = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<()> {
        let mut inner = self.lock()?;
        if inner.locks.get(name).is_some_and(|l| l.holder == holder) {
            inner.locks.remove(name);
        }
        Ok(())
    }

    async fn locks(&self, prefix: &str) -> Result<Vec<LockRecord>> {
        let inner = self.lock()?;
        Ok(inner
            .locks
            .range(prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(_, l)| l.clone())
            .collect())
    }

    async fn lock_held_by(&self, holder: &str) -> Result<Option<LockRecord>> {
        let inner = self.lock()?;
        Ok(inner.locks.values().find(|l| l.holder == holder).cloned())
    }

    async fn claim_orphans(
        &self,
        owner: &str,
        now: Timestamp,
        own: bool,
    ) -> Result<Vec<(ExecutionId, u64)>> {
        let mut inner = self.lock()?;
        let ids: Vec<ExecutionId> = inner
            .executions
            .values()
            .filter(|x| inner.claimable(x, owner, now, own))
            .map(|x| x.id)
            .collect();
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(x) = inner.executions.get_mut(&id) {
                x.owner = Some(owner.to_owned());
                x.fence = x.fence.saturating_add(1);
                claimed.push((id, x.fence));
            }
        }
        Ok(claimed)
    }

    async fn claim(
        &self,
        id: ExecutionId,
        owner: &str,
        now: Timestamp,
        steal: bool,
    ) -> Result<Option<u64>> {
        let mut inner = self.lock()?;
        let Some(x) = inner.executions.get(&id) else {
            return Ok(None);
        };
        let ok = !x.status.is_terminal() && (steal || inner.claimable(x, owner, now, true));
        if !ok {
            return Ok(None);
        }
        let Some(x) = inner.executions.get_mut(&id) else {
            return Ok(None);
        };
        x.owner = Some(owner.to_owned());
        x.fence = x.fence.saturating_add(1);
        Ok(Some(x.fence))
    }
}
