//! How each kind of document is kept in SQL ([`Tables`]): workflows (migrations
//! `0001_initial.sql`, `0002_tokens_and_deletes.sql`) and templates
//! (`0003_templates.sql`).
//!
//! A template version is also one row per distinct tag in `template_tags`, written with
//! the version, so that listing by tag is a plain join; its `tags` column keeps the
//! list as given (JSON text), order and repeats included.

use harmonia_storage::catalog::{TemplateDoc, WorkflowDoc};
use harmonia_storage::{
    Error, NewTemplateVersion, NewWorkflowVersion, Result, TemplateId, TemplateQuery,
    TemplateRecord, WorkflowId, WorkflowRecord,
};
use uuid::Uuid;

use crate::catalog::Tables;
use crate::dialect::{Dialect, Row};
use crate::rows::Columns;
use crate::sql::Sql;

impl Tables for WorkflowDoc {
    const NAMES: &'static str = "workflows";
    const VERSIONS: &'static str = "workflow_versions";
    const KEY: &'static str = "workflow_id";
    const COLUMNS: &'static str = "n.id AS id, n.name AS name, v.version AS version, \
         v.description AS description, v.source AS source, v.format AS format, \
         v.created_at AS created_at";

    fn decode<D: Dialect>(row: &Row<D>) -> Result<WorkflowRecord> {
        let n = Columns::<D>::new(row, Self::NAMES);
        let v = Columns::<D>::new(row, Self::VERSIONS);
        Ok(WorkflowRecord {
            id: WorkflowId(n.uuid("id")?),
            name: n.string("name")?,
            version: v.u32("version")?,
            description: v.opt_string("description")?,
            source: v.string("source")?,
            format: v.string("format")?,
            created_at: v.time("created_at")?,
        })
    }

    fn insert<D: Dialect>(
        id: WorkflowId,
        version: u32,
        new: &NewWorkflowVersion,
    ) -> Result<Vec<Sql<D>>> {
        Ok(vec![
            Sql::new(
                "INSERT INTO workflow_versions \
                 (workflow_id, version, description, source, format, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .arg(Uuid::from(id).to_string())
            .arg(version)
            .arg(new.description.as_deref())
            .arg(new.source.as_str())
            .arg(new.format.as_str())
            .arg(new.created_at.0),
        ])
    }

    fn filter<D: Dialect>((): &(), _: &mut Sql<D>) {}
}

impl Tables for TemplateDoc {
    const NAMES: &'static str = "templates";
    const VERSIONS: &'static str = "template_versions";
    const KEY: &'static str = "template_id";
    const COLUMNS: &'static str = "n.id AS id, n.name AS name, v.version AS version, \
         v.description AS description, v.tags AS tags, v.category AS category, \
         v.note AS note, v.content AS content, v.source AS source, v.format AS format, \
         v.created_at AS created_at";

    fn decode<D: Dialect>(row: &Row<D>) -> Result<TemplateRecord> {
        let n = Columns::<D>::new(row, Self::NAMES);
        let v = Columns::<D>::new(row, Self::VERSIONS);
        let tags: Vec<String> = serde_json::from_value(v.json("tags")?)
            .map_err(|e| v.corrupt("tags", format!("not a list of strings: {e}")))?;
        Ok(TemplateRecord {
            id: TemplateId(n.uuid("id")?),
            name: n.string("name")?,
            version: v.u32("version")?,
            description: v.opt_string("description")?,
            tags,
            category: v.opt_string("category")?,
            note: v.opt_string("note")?,
            content: v.string("content")?,
            source: v.string("source")?,
            format: v.string("format")?,
            created_at: v.time("created_at")?,
        })
    }

    fn insert<D: Dialect>(
        id: TemplateId,
        version: u32,
        new: &NewTemplateVersion,
    ) -> Result<Vec<Sql<D>>> {
        let tags = serde_json::to_string(&new.tags).map_err(|e| Error::Backend(Box::new(e)))?;
        let id = Uuid::from(id).to_string();
        let mut out = vec![
            Sql::new(
                "INSERT INTO template_versions \
                 (template_id, version, description, tags, category, note, content, source, \
                 format, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .arg(id.as_str())
            .arg(version)
            .arg(new.description.as_deref())
            .arg(tags)
            .arg(new.category.as_deref())
            .arg(new.note.as_deref())
            .arg(new.content.as_str())
            .arg(new.source.as_str())
            .arg(new.format.as_str())
            .arg(new.created_at.0),
        ];
        let mut seen: Vec<&str> = Vec::new();
        for tag in &new.tags {
            if seen.contains(&tag.as_str()) {
                continue;
            }
            seen.push(tag);
            out.push(
                Sql::new(
                    "INSERT INTO template_tags (template_id, version, tag) VALUES ($1, $2, $3)",
                )
                .arg(id.as_str())
                .arg(version)
                .arg(tag.as_str()),
            );
        }
        Ok(out)
    }

    fn filter<D: Dialect>(q: &TemplateQuery, sql: &mut Sql<D>) {
        if let Some(tag) = &q.tag {
            sql.push(
                " AND EXISTS (SELECT 1 FROM template_tags g WHERE g.template_id = v.template_id \
                 AND g.version = v.version AND g.tag = ",
            )
            .bind(tag.as_str())
            .push(")");
        }
        if let Some(category) = &q.category {
            sql.push(" AND v.category = ").bind(category.as_str());
        }
        if let Some(search) = &q.search {
            sql.push(" AND LOWER(n.name) LIKE ")
                .bind(like_pattern(search))
                .push(" ESCAPE '\\'");
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
