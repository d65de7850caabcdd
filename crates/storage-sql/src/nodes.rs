//! The nodes role on SQL: [`Nodes`] for [`SqlStore`], every dialect.
//!
//! Claims are one `UPDATE ... RETURNING` each on the writer, atomic on their own (a
//! claim of orphans reads first whether there is any, and writes only then): a
//! concurrent conditional commit of the former owner either lands before the claim
//! (and its fence matched) or after it (and is fenced). Two nodes claiming the same
//! orphan at once both run the `UPDATE`; the database orders them (PostgreSQL's row
//! lock, SQLite's write lock), and the second one's condition is then evaluated on the
//! row the first one wrote: its owner is the first, live node, so it is not claimed
//! twice (without `steal`).
//!
//! Liveness is judged with the `now` of the node that asks (its clock), against the
//! `expires_at` the owner wrote with its own: nodes' clocks must agree to well within a
//! lease (what NTP gives).
//!
//! The unfinished statuses are written as text in the statements, as in the partial
//! index `executions_unfinished_by_owner` (`0012_nodes.sql`), so that the index is
//! used.

use async_trait::async_trait;
use harmonia_storage::{Error, ExecutionId, LockRecord, NodeRecord, Nodes, Result, Timestamp};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::rows::Columns;
use crate::sql::Sql;
use crate::store::SqlStore;

/// The condition on an execution's row that its status is unfinished, as the partial
/// index says it.
const UNFINISHED: &str = "status IN ('pending', 'running', 'paused')";

/// Pushes the condition that the row's owner is not live at `now` (no owner, or no
/// live row in `nodes` for it).
fn push_orphaned<D: Dialect>(sql: &mut Sql<D>, now: Timestamp) {
    sql.push(
        "(owner IS NULL OR NOT EXISTS (SELECT 1 FROM nodes \
         WHERE nodes.id = executions.owner AND nodes.expires_at > ",
    );
    sql.bind(now.0);
    sql.push("))");
}

/// Pushes the condition that an execution's row may be claimed by `owner` at `now`:
/// unfinished, and orphaned (or, with `own`, already `owner`'s).
fn push_claimable<D: Dialect>(sql: &mut Sql<D>, owner: &str, now: Timestamp, own: bool) {
    sql.push(UNFINISHED).push(" AND (");
    if own {
        sql.push("owner = ").bind(owner).push(" OR ");
        push_orphaned(sql, now);
    } else {
        // Its own rows are skipped even when its own lease has lapsed: the node
        // holds them, and bumping their fences would fence its own commits.
        sql.push("(owner IS NULL OR owner <> ")
            .bind(owner)
            .push(") AND ");
        push_orphaned(sql, now);
    }
    sql.push(")");
}

/// Reads the `(id, fence)` rows a claim returned, oldest first.
fn claimed<D: Dialect>(rows: &[crate::dialect::Row<D>]) -> Result<Vec<(ExecutionId, u64)>> {
    let mut claimed = rows
        .iter()
        .map(|row| {
            let c = Columns::<D>::new(row, "executions");
            Ok((ExecutionId(c.uuid("id")?), c.u64("fence")?))
        })
        .collect::<Result<Vec<_>>>()?;
    // `RETURNING` has no order.
    claimed.sort();
    Ok(claimed)
}

fn node<D: Dialect>(row: &crate::dialect::Row<D>) -> Result<NodeRecord> {
    let c = Columns::<D>::new(row, "nodes");
    Ok(NodeRecord {
        id: c.string("id")?,
        incarnation: c.string("incarnation")?,
        address: c.opt_string("address")?,
        version: c.string("version")?,
        started_at: c.time("started_at")?,
        renewed_at: c.time("renewed_at")?,
        expires_at: c.time("expires_at")?,
        owned: c.u64("owned")?,
    })
}

fn lock<D: Dialect>(row: &crate::dialect::Row<D>) -> Result<LockRecord> {
    let c = Columns::<D>::new(row, "locks");
    Ok(LockRecord {
        name: c.string("name")?,
        holder: c.string("holder")?,
        expires_at: c.time("expires_at")?,
        note: c.string("note")?,
    })
}

/// The least string greater than every string that starts with `prefix`, when it is
/// easily had (the last character is below U+007F): a range scan of the names' index.
fn past_prefix(prefix: &str) -> Option<String> {
    let last = prefix.chars().last()?;
    if !last.is_ascii() || last == '\x7f' {
        return None;
    }
    let mut upper = prefix[..prefix.len() - 1].to_string();
    upper.push(char::from(last as u8 + 1));
    Some(upper)
}

#[async_trait]
impl<D: Dialect> Nodes for SqlStore<D> {
    async fn join(&self, n: &NodeRecord) -> Result<()> {
        // Inserts the row, or replaces one of the same id that is this incarnation's or
        // whose lease has expired; a live row of another incarnation is left as it is,
        // and nothing comes back.
        let mut sql = Sql::<D>::new(
            "INSERT INTO nodes (id, incarnation, address, version, started_at, renewed_at, \
             expires_at) VALUES (",
        );
        sql.bind(n.id.as_str())
            .push(", ")
            .bind(n.incarnation.as_str())
            .push(", ")
            .bind(n.address.as_deref())
            .push(", ")
            .bind(n.version.as_str())
            .push(", ")
            .bind(n.started_at.0)
            .push(", ")
            .bind(n.renewed_at.0)
            .push(", ")
            .bind(n.expires_at.0)
            .push(
                ") ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation, \
                 address = excluded.address, version = excluded.version, \
                 started_at = excluded.started_at, renewed_at = excluded.renewed_at, \
                 expires_at = excluded.expires_at WHERE nodes.incarnation = excluded.incarnation \
                 OR nodes.expires_at <= ",
            )
            .bind(n.started_at.0)
            .push(" RETURNING id");
        let done = sql
            .fetch_optional(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        if done.is_some() {
            return Ok(());
        }
        let held = Sql::<D>::new("SELECT expires_at FROM nodes WHERE id = $1")
            .arg(n.id.as_str())
            .fetch_optional(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        let until = match held {
            Some(row) => Columns::<D>::new(&row, "nodes")
                .time("expires_at")?
                .to_string(),
            None => "now".to_owned(),
        };
        Err(Error::Conflict(format!(
            "node id `{}` is held by a live node (its lease expires at {until})",
            n.id
        )))
    }

    async fn renew(
        &self,
        id: &str,
        incarnation: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let done = Sql::<D>::new(
            "UPDATE nodes SET renewed_at = $1, expires_at = $2 WHERE id = $3 AND incarnation = $4",
        )
        .arg(now.0)
        .arg(expires_at.0)
        .arg(id)
        .arg(incarnation)
        .execute(&mut **self.writer().await?)
        .await
        .map_err(backend)?;
        Ok(done == 1)
    }

    async fn leave(&self, id: &str, incarnation: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let deleted = Sql::<D>::new("DELETE FROM nodes WHERE id = $1 AND incarnation = $2")
            .arg(id)
            .arg(incarnation)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if deleted == 1 {
            let mut sql = Sql::<D>::new("UPDATE executions SET owner = NULL WHERE owner = ");
            sql.bind(id).push(" AND ").push(UNFINISHED);
            sql.execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>> {
        let mut sql = Sql::<D>::new(
            "SELECT n.id, n.incarnation, n.address, n.version, n.started_at, n.renewed_at, \
             n.expires_at, (SELECT COUNT(*) FROM executions WHERE owner = n.id AND ",
        );
        sql.push(UNFINISHED)
            .push(") AS owned FROM nodes n ORDER BY n.id");
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        rows.iter().map(node::<D>).collect()
    }

    async fn prune(&self, expired_before: Timestamp) -> Result<u64> {
        Sql::<D>::new("DELETE FROM nodes WHERE expires_at < $1")
            .arg(expired_before.0)
            .execute(&mut **self.writer().await?)
            .await
            .map_err(backend)
    }

    async fn try_lock(
        &self,
        name: &str,
        holder: &str,
        note: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        // One statement: a row that is free, expired or the holder's is taken; a held
        // one is left as it is and nothing comes back. Of two takers at once, the
        // second waits for the first's row and then finds it held.
        let taken = Sql::<D>::new(
            "INSERT INTO locks (name, holder, expires_at, note) VALUES ($1, $2, $3, $5) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at, note = excluded.note \
             WHERE locks.holder = excluded.holder OR locks.expires_at <= $4 \
             RETURNING name",
        )
        .arg(name)
        .arg(holder)
        .arg(until.0)
        .arg(now.0)
        .arg(note)
        .fetch_optional(&mut **self.writer().await?)
        .await
        .map_err(backend)?;
        Ok(taken.is_some())
    }

    async fn swap_lock(
        &self,
        name: &str,
        holder: &str,
        expected: &str,
        note: &str,
        until: Timestamp,
    ) -> Result<bool> {
        // One statement: the row is rewritten only while it is as the caller read it;
        // of two swappers from one note, the second waits for the first's row and then
        // finds the note changed.
        let swapped = Sql::<D>::new(
            "UPDATE locks SET note = $4, expires_at = $5 \
             WHERE name = $1 AND holder = $2 AND note = $3 RETURNING name",
        )
        .arg(name)
        .arg(holder)
        .arg(expected)
        .arg(note)
        .arg(until.0)
        .fetch_optional(&mut **self.writer().await?)
        .await
        .map_err(backend)?;
        Ok(swapped.is_some())
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<()> {
        Sql::<D>::new("DELETE FROM locks WHERE name = $1 AND holder = $2")
            .arg(name)
            .arg(holder)
            .execute(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn locks(&self, prefix: &str) -> Result<Vec<LockRecord>> {
        let mut sql =
            Sql::<D>::new("SELECT name, holder, expires_at, note FROM locks WHERE name >= ");
        sql.bind(prefix);
        if let Some(upper) = past_prefix(prefix) {
            sql.push(" AND name < ").bind(upper);
        }
        sql.push(" ORDER BY name");
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        let locks = rows.iter().map(lock::<D>).collect::<Result<Vec<_>>>()?;
        Ok(locks
            .into_iter()
            .filter(|l| l.name.starts_with(prefix))
            .collect())
    }

    async fn lock_held_by(&self, holder: &str) -> Result<Option<LockRecord>> {
        Sql::<D>::new(
            "SELECT name, holder, expires_at, note FROM locks WHERE holder = $1 ORDER BY name LIMIT 1",
        )
        .arg(holder)
        .fetch_optional(&mut *self.reader().await?)
        .await
        .map_err(backend)?
        .as_ref()
        .map(lock::<D>)
        .transpose()
    }

    async fn claim_orphans(
        &self,
        owner: &str,
        now: Timestamp,
        own: bool,
    ) -> Result<Vec<(ExecutionId, u64)>> {
        // A read first: with nothing to claim (a new database, a clean restart, a
        // node's periodic look while every owner is live) no write transaction is
        // taken. What becomes claimable after the read is what the next claim finds,
        // as it would be had it become so just after the update.
        let mut probe = Sql::<D>::new("SELECT 1 FROM executions WHERE ");
        push_claimable(&mut probe, owner, now, own);
        probe.push(" LIMIT 1");
        let any = probe
            .fetch_optional(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::<D>::new("UPDATE executions SET owner = ");
        sql.bind(owner).push(", fence = fence + 1 WHERE ");
        push_claimable(&mut sql, owner, now, own);
        sql.push(" RETURNING id, fence");
        let rows = sql
            .fetch_all(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        claimed::<D>(&rows)
    }

    async fn claim(
        &self,
        id: ExecutionId,
        owner: &str,
        now: Timestamp,
        steal: bool,
    ) -> Result<Option<u64>> {
        let mut sql = Sql::<D>::new("UPDATE executions SET owner = ");
        sql.bind(owner).push(", fence = fence + 1 WHERE id = ");
        sql.bind(id.to_string()).push(" AND ").push(UNFINISHED);
        if !steal {
            sql.push(" AND (owner = ").bind(owner).push(" OR ");
            push_orphaned(&mut sql, now);
            sql.push(")");
        }
        sql.push(" RETURNING id, fence");
        let rows = sql
            .fetch_all(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        Ok(claimed::<D>(&rows)?.first().map(|(_, fence)| *fence))
    }
}
