//! The catalog on SQL: [`Catalog<K>`] for [`SqlStore`], once for every dialect and every
//! kind of document.
//!
//! A kind is kept in two tables ([`Tables`], implemented for each kind in `tables.rs`):
//! one row per name (`id`, `name` unique, `deleted_at`), and its versions, keyed by the
//! name's id and the version number. Deleting sets `deleted_at`; the versions stay.
//!
//! Writes (`put`, `import`) are one transaction each on the writer, started with
//! [`Dialect::BEGIN_WRITE`]. For each name it touches, a write first makes sure the
//! name's row exists, locked, with `deleted_at` cleared (any write under a name brings
//! it back): an insert that brings a deleted row back on conflict and returns the id
//! (one statement for a new name), then, for a name in use, a read of the row locked
//! ([`Dialect::LOCK_ROW`]); only then does it read the stored versions, decide, and
//! insert. So two writers of one name never both
//! read "latest is 3" and both write 4: on SQLite the whole database is locked from the
//! first statement, on a database with row locks the name's row is. An import locks its
//! names in sorted order, so that two imports cannot deadlock.
//!
//! Reads use the readers; listings read the latest version (`MAX(version)`) of names
//! not deleted, in the order of `name` (bytewise: see the dialect's notes on
//! collation).

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use harmonia_storage::catalog::{Catalog, Document, Put, next_version};
use harmonia_storage::import::{self, Step};
use harmonia_storage::{OnConflict, PutOutcome, Result, Timestamp};
use uuid::Uuid;

use crate::dialect::{Connection, Dialect, Row};
use crate::error::{backend, backend_msg};
use crate::sql::Sql;
use crate::store::SqlStore;

/// How a kind of document is kept in SQL.
pub(crate) trait Tables: Document {
    /// The table of names: `id` (uuid text), `name` (unique), `deleted_at`.
    const NAMES: &'static str;
    /// The table of versions, keyed by (`KEY`, `version`).
    const VERSIONS: &'static str;
    /// The column of `VERSIONS` that holds the name's id.
    const KEY: &'static str;
    /// What a `SELECT` reads for [`Tables::decode`], from the name's row (`n`) joined
    /// with a version (`v`).
    const COLUMNS: &'static str;

    /// A row of [`Tables::COLUMNS`] as a record.
    fn decode<D: Dialect>(row: &Row<D>) -> Result<Self::Record>;

    /// The statements that store `new` as `version` under `id`.
    fn insert<D: Dialect>(id: Self::Id, version: u32, new: &Self::New) -> Result<Vec<Sql<D>>>;

    /// Appends the conditions of a listing's filters (other than its cursor and limit)
    /// to a `WHERE`.
    fn filter<D: Dialect>(query: &Self::Query, sql: &mut Sql<D>);
}

/// `SELECT` of every version, joined with its name: add a `WHERE`.
fn select<K: Tables>() -> String {
    format!(
        "SELECT {} FROM {} n JOIN {} v ON v.{} = n.id",
        K::COLUMNS,
        K::NAMES,
        K::VERSIONS,
        K::KEY
    )
}

/// How a lookup finds its document.
#[derive(Clone, Copy)]
enum By<'a, Id> {
    Name(&'a str),
    Id(Id),
}

/// A version of one document: the latest of one not deleted when `version` is `None`.
async fn one<D: Dialect, K: Tables>(
    conn: &mut Connection<D>,
    by: By<'_, K::Id>,
    version: Option<u32>,
) -> Result<Option<K::Record>> {
    let (column, key) = match by {
        By::Name(name) => ("n.name", name.to_owned()),
        By::Id(id) => ("n.id", Into::<Uuid>::into(id).to_string()),
    };
    let sql = match version {
        None => Sql::<D>::new(format!(
            "{} WHERE {column} = $1 AND n.deleted_at IS NULL ORDER BY v.version DESC LIMIT 1",
            select::<K>()
        ))
        .arg(key),
        Some(v) => Sql::<D>::new(format!(
            "{} WHERE {column} = $1 AND v.version = $2",
            select::<K>()
        ))
        .arg(key)
        .arg(v),
    };
    let row = sql.fetch_optional(conn).await.map_err(backend)?;
    row.as_ref().map(K::decode::<D>).transpose()
}

/// Every version under `name`, oldest first; those of a deleted name only if
/// `deleted`.
async fn all<D: Dialect, K: Tables>(
    conn: &mut Connection<D>,
    name: &str,
    deleted: bool,
) -> Result<Vec<K::Record>> {
    let live = if deleted {
        ""
    } else {
        " AND n.deleted_at IS NULL"
    };
    let rows = Sql::<D>::new(format!(
        "{} WHERE n.name = $1{live} ORDER BY v.version",
        select::<K>()
    ))
    .arg(name)
    .fetch_all(conn)
    .await
    .map_err(backend)?;
    rows.iter().map(K::decode::<D>).collect()
}

/// Inside a write transaction: the id of `name`'s row, created if missing, locked,
/// and no longer deleted. A new or deleted name takes one statement: an insert that,
/// on the name's conflict with a deleted row, brings it back instead, and returns the
/// id either way. A name in use (that statement then changes nothing and returns
/// nothing, but has locked its row where rows lock) is read by a second.
async fn claim<D: Dialect, K: Tables>(conn: &mut Connection<D>, name: &str) -> Result<K::Id> {
    let names = K::NAMES;
    let made = Sql::<D>::new(format!(
        "INSERT INTO {names} (id, name) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE \
         SET deleted_at = NULL WHERE {names}.deleted_at IS NOT NULL RETURNING id"
    ))
    .arg(Uuid::now_v7().to_string())
    .arg(name)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let row = match made {
        Some(row) => row,
        None => Sql::<D>::new(format!(
            "SELECT id FROM {names} WHERE name = $1{}",
            D::LOCK_ROW
        ))
        .arg(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| backend_msg(format!("{} `{name}` vanished while stored", K::KIND)))?,
    };
    let id = crate::rows::Columns::<D>::new(&row, names).uuid("id")?;
    Ok(K::Id::from(id))
}

/// Inside a write transaction: stores `new` as `version` under `id`.
async fn insert<D: Dialect, K: Tables>(
    conn: &mut Connection<D>,
    id: K::Id,
    version: u32,
    new: &K::New,
) -> Result<K::Record> {
    for sql in K::insert::<D>(id, version, new)? {
        sql.execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(K::record(new, id, version))
}

#[async_trait]
impl<D: Dialect, K: Tables> Catalog<K> for SqlStore<D> {
    async fn put(&self, new: &K::New) -> Result<Put<K::Record>> {
        let name = K::new_name(new);
        let mut tx = self.begin_write().await?;
        let id = claim::<D, K>(&mut tx, name).await?;
        let latest = one::<D, K>(&mut tx, By::Name(name), None).await?;
        if let Some(latest) = latest.as_ref()
            && K::same(latest, new)
        {
            // Bringing the name back (if it was deleted) is the only write: keep it.
            tx.commit().await.map_err(backend)?;
            return Ok(Put {
                outcome: PutOutcome::Unchanged,
                record: latest.clone(),
            });
        }
        let version = next_version::<K>(name, latest.as_ref().map(K::version))?;
        let record = insert::<D, K>(&mut tx, id, version, new).await?;
        tx.commit().await.map_err(backend)?;
        Ok(Put {
            outcome: PutOutcome::Created,
            record,
        })
    }

    async fn import(
        &self,
        versions: &[K::New],
        on_conflict: OnConflict,
    ) -> Result<Vec<Put<K::Record>>> {
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let names: BTreeSet<&str> = versions.iter().map(K::new_name).collect();
        let mut ids = HashMap::with_capacity(names.len());
        let mut stored: HashMap<&str, Vec<K::Record>> = HashMap::with_capacity(names.len());
        for name in names {
            ids.insert(name, claim::<D, K>(&mut tx, name).await?);
            stored.insert(name, all::<D, K>(&mut tx, name, true).await?);
        }
        // A conflict returns here: dropping the transaction rolls it back.
        let steps = import::plan::<K>(
            versions,
            |name| stored.get(name).map_or(&[][..], Vec::as_slice),
            on_conflict,
        )?;
        let mut out = Vec::with_capacity(versions.len());
        for (new, step) in versions.iter().zip(steps) {
            let name = K::new_name(new);
            let lost = |what: String| backend_msg(format!("{} `{name}`: {what}", K::KIND));
            out.push(match step {
                Step::Create { version } => {
                    let id = *ids
                        .get(name)
                        .ok_or_else(|| lost("its id was lost during an import".into()))?;
                    Put {
                        outcome: PutOutcome::Created,
                        record: insert::<D, K>(&mut tx, id, version, new).await?,
                    }
                }
                Step::Unchanged { version } => Put {
                    outcome: PutOutcome::Unchanged,
                    record: stored
                        .get(name)
                        .and_then(|list| list.iter().find(|r| K::version(r) == version))
                        .cloned()
                        .ok_or_else(|| lost(format!("version {version} vanished")))?,
                },
            });
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    async fn get(&self, name: &str, version: Option<u32>) -> Result<Option<K::Record>> {
        one::<D, K>(&mut *self.reader().await?, By::Name(name), version).await
    }

    async fn get_by_id(&self, id: K::Id, version: Option<u32>) -> Result<Option<K::Record>> {
        one::<D, K>(&mut *self.reader().await?, By::Id(id), version).await
    }

    async fn latest(&self, query: &K::Query) -> Result<Vec<K::Record>> {
        let mut sql = Sql::<D>::new(format!(
            "{} WHERE n.deleted_at IS NULL AND v.version = \
             (SELECT MAX(version) FROM {} WHERE {} = n.id)",
            select::<K>(),
            K::VERSIONS,
            K::KEY
        ));
        K::filter(query, &mut sql);
        if let Some(after) = K::after(query) {
            sql.push(" AND n.name > ").bind(after);
        }
        sql.push(" ORDER BY n.name");
        if let Some(limit) = K::limit(query) {
            sql.push(" LIMIT ")
                .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        }
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        rows.iter().map(K::decode::<D>).collect()
    }

    async fn versions(&self, name: &str) -> Result<Vec<K::Record>> {
        all::<D, K>(&mut *self.reader().await?, name, false).await
    }

    async fn delete(&self, name: &str) -> Result<bool> {
        let done = Sql::<D>::new(format!(
            "UPDATE {} SET deleted_at = $2 WHERE name = $1 AND deleted_at IS NULL",
            K::NAMES
        ))
        .arg(name)
        .arg(Timestamp::now().0)
        .execute(&mut **self.writer().await?)
        .await
        .map_err(backend)?;
        Ok(done > 0)
    }
}
