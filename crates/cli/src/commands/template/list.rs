//! `harmonia template list`: every template the server has (filtered by tag, category
//! or a search), latest versions, as a table or as JSON.
//!
//! The listing is paged by the server; this follows `next_cursor` until it is null, so
//! the output is always the whole list. `--json` prints one JSON array of the
//! summaries exactly as the server sent them.

use crate::output::{out, outln};
use serde::Deserialize;
use serde_json::Value;

use crate::commands::remote::client::{Client, Failure};
use crate::commands::remote::table;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only templates with this tag.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Only templates in this category.
    #[arg(long, value_name = "CATEGORY")]
    category: Option<String>,
    /// Only templates whose name contains this text (ignoring case).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Print the summaries as one JSON array.
    #[arg(long)]
    json: bool,
}

/// One page of the listing.
#[derive(Debug, Deserialize)]
struct Page {
    templates: Vec<Value>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// What the table shows of a template.
#[derive(Debug, Deserialize)]
struct Summary {
    name: String,
    version: u64,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    category: Option<String>,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let templates = all(client, args).await?;
    if args.json {
        let text = serde_json::to_string_pretty(&Value::Array(templates))
            .map_err(|e| Failure::Local(e.to_string()))?;
        outln!("{text}");
        return Ok(());
    }
    let summaries = templates
        .into_iter()
        .map(serde_json::from_value::<Summary>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Failure::Local(format!(
                "the server listed a template this client does not understand: {e}"
            ))
        })?;
    if summaries.is_empty() {
        crate::output::errln!("no templates");
        return Ok(());
    }
    out!("{}", render(&summaries));
    Ok(())
}

/// Every page of the listing, in order.
async fn all(client: &Client, args: &Args) -> Result<Vec<Value>, Failure> {
    let mut query: Vec<(&str, String)> = Vec::new();
    let filters = [
        ("tag", &args.tag),
        ("category", &args.category),
        ("q", &args.search),
    ];
    for (key, value) in filters {
        if let Some(v) = value {
            query.push((key, v.clone()));
        }
    }
    let mut templates = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = query.clone();
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page: Page = client
            .json(client.get(&["api", "templates"]).query(&q))
            .await?;
        templates.extend(page.templates);
        match page.next_cursor {
            // A server that hands back the cursor it was given would loop forever.
            Some(next) if cursor.as_ref() != Some(&next) => cursor = Some(next),
            Some(_) => {
                return Err(Failure::Local(
                    "the server returned the same page cursor twice".into(),
                ));
            }
            None => return Ok(templates),
        }
    }
}

/// The table of summaries.
fn render(summaries: &[Summary]) -> String {
    let rows: Vec<Vec<String>> = summaries
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.version.to_string(),
                s.category.clone().unwrap_or_else(|| "-".into()),
                if s.tags.is_empty() {
                    "-".into()
                } else {
                    s.tags.join(",")
                },
                s.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::render(
        &["NAME", "VERSION", "CATEGORY", "TAGS", "DESCRIPTION"],
        &rows,
        table::WIDTH,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn summaries_make_a_table_of_at_most_100_columns() {
        let summaries: Vec<Summary> = serde_json::from_value(json!([
            {"id": "1", "name": "etl", "version": 2, "description": "Extract, transform and load: ".repeat(5),
             "tags": ["data", "http"], "category": "data", "note": null,
             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"},
            {"id": "2", "name": "bare", "version": 1, "description": null, "tags": [], "category": null},
        ]))
        .expect("summaries");
        let text = render(&summaries);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME  VERSION  CATEGORY  TAGS       DESCRIPTION");
        assert!(lines[1].starts_with("etl   2        data      data,http  Extract, transform"));
        assert!(lines[1].ends_with('…'));
        assert!(lines.iter().all(|l| l.chars().count() <= 100));
        assert_eq!(lines[2], "bare  1        -         -");
    }
}
