//! The template queries of [`SqliteStore`](crate::SqliteStore): versions, listing,
//! deletion, and imports.
//!
//! Writes run on the writer inside `BEGIN IMMEDIATE` transactions (the write lock is
//! taken before the latest versions are read, so that another process cannot add the
//! same version number in between); an import is one such transaction, whatever its
//! size, and decides what to write with `harmonia_storage::import::plan`, the same
//! function every backend uses. Reads use the readers.
//!
//! Invariants: a version row and its tag rows are written together; a template's
//! `deleted_at` is cleared by any write under its name; listings read the latest
//! version (`MAX(version)`) of templates not deleted.

use std::collections::HashMap;

use harmonia_storage::import::{self, Step};
use harmonia_storage::{
    DEFAULT_LIMIT, Error, NewTemplateVersion, OnConflict, PutOutcome, Result, TemplateId,
    TemplatePut, TemplateQuery, TemplateRecord, Timestamp,
};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{QueryBuilder, Sqlite};

use crate::error::{backend, backend_msg, corrupt};
use crate::rows::{self, template_columns};
use crate::sqlite::{Named, named_id};

/// Stores a version unless its content is the latest's.
pub(crate) async fn put(writer: &SqlitePool, new: &NewTemplateVersion) -> Result<TemplatePut> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(backend)?;
    undelete(&mut tx, &new.name).await?;
    let latest = latest(&mut *tx, &new.name).await?;
    if let Some(latest) = latest.as_ref()
        && latest.content == new.content
    {
        // The undelete (if any) is the only write: keep it.
        tx.commit().await.map_err(backend)?;
        return Ok(TemplatePut {
            outcome: PutOutcome::Unchanged,
            record: latest.clone(),
        });
    }
    let (id, version) = match latest {
        Some(l) => (
            l.id,
            l.version.checked_add(1).ok_or_else(|| {
                backend_msg(format!(
                    "template `{}` has no version numbers left",
                    new.name
                ))
            })?,
        ),
        None => (template_id(&mut tx, &new.name).await?, 1),
    };
    let record = insert(&mut tx, id, version, new).await?;
    tx.commit().await.map_err(backend)?;
    Ok(TemplatePut {
        outcome: PutOutcome::Created,
        record,
    })
}

/// Stores an export document's versions in one transaction.
pub(crate) async fn import(
    writer: &SqlitePool,
    versions: &[NewTemplateVersion],
    on_conflict: OnConflict,
) -> Result<Vec<TemplatePut>> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(backend)?;
    let mut stored: HashMap<String, Vec<(u32, String)>> = HashMap::new();
    for v in versions {
        if stored.contains_key(&v.name) {
            continue;
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT v.version, v.content FROM templates t \
             JOIN template_versions v ON v.template_id = t.id \
             WHERE t.name = $1 ORDER BY v.version",
        )
        .bind(v.name.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        let list = rows
            .into_iter()
            .map(|(n, c)| {
                u32::try_from(n).map(|n| (n, c)).map_err(|_| {
                    corrupt(
                        "template_versions",
                        "version",
                        format!("{n} is out of range"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        stored.insert(v.name.clone(), list);
    }
    // A conflict returns here: dropping the transaction rolls it back (nothing was
    // written yet anyway).
    let steps = import::plan(versions, &stored, on_conflict)?;
    let mut ids: HashMap<String, TemplateId> = HashMap::new();
    let mut out = Vec::with_capacity(versions.len());
    for (new, step) in versions.iter().zip(steps) {
        if !ids.contains_key(&new.name) {
            undelete(&mut tx, &new.name).await?;
            let id = template_id(&mut tx, &new.name).await?;
            ids.insert(new.name.clone(), id);
        }
        let id = ids
            .get(&new.name)
            .copied()
            .ok_or_else(|| backend_msg("template id lost during an import".into()))?;
        out.push(match step {
            Step::Create { version } => TemplatePut {
                outcome: PutOutcome::Created,
                record: insert(&mut tx, id, version, new).await?,
            },
            Step::Unchanged { version } => TemplatePut {
                outcome: PutOutcome::Unchanged,
                record: by_number(&mut *tx, &new.name, version)
                    .await?
                    .ok_or_else(|| {
                        backend_msg(format!(
                            "template `{}` version {version} vanished",
                            new.name
                        ))
                    })?,
            },
        });
    }
    tx.commit().await.map_err(backend)?;
    Ok(out)
}

/// Version `version` of template `name`, or the latest of a template not deleted.
pub(crate) async fn get(
    readers: &SqlitePool,
    name: &str,
    version: Option<u32>,
) -> Result<Option<TemplateRecord>> {
    match version {
        None => latest(readers, name).await,
        Some(v) => by_number(readers, name, v).await,
    }
}

/// The name of the template with this id.
pub(crate) async fn name_of(readers: &SqlitePool, id: TemplateId) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM templates WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(readers)
        .await
        .map_err(backend)
}

/// The latest versions of the templates matching `q`, by name.
pub(crate) async fn list(readers: &SqlitePool, q: &TemplateQuery) -> Result<Vec<TemplateRecord>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(concat!(
        "SELECT ",
        template_columns!(),
        " FROM templates t JOIN template_versions v ON v.template_id = t.id \
         WHERE t.deleted_at IS NULL AND v.version = \
         (SELECT MAX(version) FROM template_versions WHERE template_id = t.id)"
    ));
    if let Some(tag) = &q.tag {
        sql.push(
            " AND EXISTS (SELECT 1 FROM template_tags g WHERE g.template_id = v.template_id \
             AND g.version = v.version AND g.tag = ",
        )
        .push_bind(tag.as_str())
        .push(")");
    }
    if let Some(category) = &q.category {
        sql.push(" AND v.category = ").push_bind(category.as_str());
    }
    if let Some(search) = &q.search {
        sql.push(" AND LOWER(t.name) LIKE ")
            .push_bind(like_pattern(search))
            .push(" ESCAPE '\\'");
    }
    if let Some(after) = &q.after {
        sql.push(" AND t.name > ").push_bind(after.as_str());
    }
    let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
    sql.push(" ORDER BY t.name LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let rows = sql.build().fetch_all(readers).await.map_err(backend)?;
    rows::all(&rows, rows::template)
}

/// Every version of a template not deleted, oldest first.
pub(crate) async fn versions(readers: &SqlitePool, name: &str) -> Result<Vec<TemplateRecord>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        template_columns!(),
        " FROM templates t JOIN template_versions v ON v.template_id = t.id \
         WHERE t.name = $1 AND t.deleted_at IS NULL ORDER BY v.version"
    ))
    .bind(name)
    .fetch_all(readers)
    .await
    .map_err(backend)?;
    rows::all(&rows, rows::template)
}

/// Marks a template deleted; whether it existed (and was not deleted).
pub(crate) async fn delete(writer: &SqlitePool, name: &str) -> Result<bool> {
    let done =
        sqlx::query("UPDATE templates SET deleted_at = $2 WHERE name = $1 AND deleted_at IS NULL")
            .bind(name)
            .bind(Timestamp::now().0)
            .execute(writer)
            .await
            .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// `%search%` for `LIKE ... ESCAPE '\'`, lower-cased, with `%`, `_` and `\` taken
/// literally.
fn like_pattern(search: &str) -> String {
    let mut p = String::with_capacity(search.len() + 2);
    p.push('%');
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

async fn undelete(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    sqlx::query(
        "UPDATE templates SET deleted_at = NULL WHERE name = $1 AND deleted_at IS NOT NULL",
    )
    .bind(name)
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The latest version of a template not deleted, on `conn`.
async fn latest<'c, E>(conn: E, name: &str) -> Result<Option<TemplateRecord>>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        template_columns!(),
        " FROM templates t JOIN template_versions v ON v.template_id = t.id \
         WHERE t.name = $1 AND t.deleted_at IS NULL ORDER BY v.version DESC LIMIT 1"
    ))
    .bind(name)
    .fetch_optional(conn)
    .await
    .map_err(backend)?;
    row.as_ref().map(rows::template).transpose()
}

/// Version `version` of a template, deleted or not.
async fn by_number<'c, E>(conn: E, name: &str, version: u32) -> Result<Option<TemplateRecord>>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        template_columns!(),
        " FROM templates t JOIN template_versions v ON v.template_id = t.id \
         WHERE t.name = $1 AND v.version = $2"
    ))
    .bind(name)
    .bind(i64::from(version))
    .fetch_optional(conn)
    .await
    .map_err(backend)?;
    row.as_ref().map(rows::template).transpose()
}

/// The id of template `name`, created if it has none.
async fn template_id(conn: &mut SqliteConnection, name: &str) -> Result<TemplateId> {
    named_id(conn, Named::Templates, name).await.map(TemplateId)
}

/// Inserts a version and its tags.
async fn insert(
    conn: &mut SqliteConnection,
    id: TemplateId,
    version: u32,
    new: &NewTemplateVersion,
) -> Result<TemplateRecord> {
    let tags = serde_json::to_string(&new.tags).map_err(|e| Error::Backend(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO template_versions \
         (template_id, version, description, tags, category, note, content, source, format, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.to_string())
    .bind(i64::from(version))
    .bind(new.description.as_deref())
    .bind(tags)
    .bind(new.category.as_deref())
    .bind(new.note.as_deref())
    .bind(new.content.as_str())
    .bind(new.source.as_str())
    .bind(new.format.as_str())
    .bind(new.created_at.0)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let mut seen: Vec<&str> = Vec::new();
    for tag in &new.tags {
        if seen.contains(&tag.as_str()) {
            continue;
        }
        seen.push(tag);
        sqlx::query("INSERT INTO template_tags (template_id, version, tag) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(i64::from(version))
            .bind(tag.as_str())
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(new.record(id, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
