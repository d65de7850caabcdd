//! The resources: `harmonia://workflows/{name}`, a workflow's latest definition as it
//! was written (`application/yaml` or `application/json`, as stored), and
//! `harmonia://executions/{id}/history`, an execution's event log (`application/json`,
//! the shape of `GET /api/executions/{id}/events`).
//!
//! Listing names the workflows only (the first [`LISTED`] by name): executions are
//! too many to list, and are reached through the template. Reading either needs
//! `viewer`, which every caller that reaches `/mcp` has.

use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};

use crate::error::ApiError;
use crate::extract::execution_id;
use crate::state::AppState;
use crate::views::EventList;

/// How many workflows are listed as resources, at most.
pub(crate) const LISTED: u32 = 100;

const WORKFLOWS: &str = "harmonia://workflows/";
const EXECUTIONS: &str = "harmonia://executions/";
const HISTORY: &str = "/history";

fn mime(format: &str) -> &'static str {
    if format == "json" {
        "application/json"
    } else {
        "application/yaml"
    }
}

/// The workflows' resources (their latest definitions).
pub(crate) async fn list(state: &AppState) -> Result<Vec<Resource>, ApiError> {
    let filter = harmonia_app::workflows::WorkflowFilter {
        limit: Some(LISTED),
        ..Default::default()
    };
    let page = state.app().workflows().list(filter).await?;
    Ok(page
        .items
        .iter()
        .map(|w| {
            let mut r = Resource::new(format!("{WORKFLOWS}{}", w.name), w.name.clone())
                .with_title(format!("workflow {} (version {})", w.name, w.version))
                .with_mime_type(mime(&w.format))
                .with_size(w.source.len() as u64);
            if let Some(d) = &w.description {
                r = r.with_description(d.clone());
            }
            r
        })
        .collect())
}

/// The URI templates of both kinds of resource.
pub(crate) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{WORKFLOWS}{{name}}"), "workflow")
            .with_title("A workflow's definition")
            .with_description(
                "The latest version of a workflow's definition, as it was written (YAML or JSON).",
            )
            .with_mime_type("application/yaml"),
        ResourceTemplate::new(format!("{EXECUTIONS}{{id}}{HISTORY}"), "execution-history")
            .with_title("An execution's history")
            .with_description(
                "An execution's event log, in order: {execution_id, events: [{seq, at, kind, event}]}.",
            )
            .with_mime_type("application/json"),
    ]
}

/// What a resource URI names.
#[derive(Debug, PartialEq, Eq)]
enum Named<'a> {
    Workflow(&'a str),
    History(&'a str),
}

fn parse(uri: &str) -> Option<Named<'_>> {
    if let Some(name) = uri.strip_prefix(WORKFLOWS) {
        return (!name.is_empty() && !name.contains('/')).then_some(Named::Workflow(name));
    }
    let id = uri.strip_prefix(EXECUTIONS)?.strip_suffix(HISTORY)?;
    (!id.is_empty() && !id.contains('/')).then_some(Named::History(id))
}

/// Reads the resource at `uri`; `None` when the URI is not one of Harmonia's.
pub(crate) async fn read(
    state: &AppState,
    uri: &str,
) -> Option<Result<ReadResourceResult, ApiError>> {
    let named = parse(uri)?;
    Some(match named {
        Named::Workflow(name) => state
            .app()
            .workflows()
            .record(name, None)
            .await
            .map_err(ApiError::from)
            .map(|w| {
                let text = ResourceContents::text(w.source, uri).with_mime_type(mime(&w.format));
                ReadResourceResult::new(vec![text])
            }),
        Named::History(id) => history(state, id, uri).await,
    })
}

async fn history(state: &AppState, id: &str, uri: &str) -> Result<ReadResourceResult, ApiError> {
    let id = execution_id(id)?;
    let events = state.app().executions().history(id).await?;
    let text = serde_json::to_string(&EventList::new(id, events)).map_err(ApiError::internal)?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_workflows_and_histories() {
        assert_eq!(
            parse("harmonia://workflows/etl"),
            Some(Named::Workflow("etl"))
        );
        assert_eq!(
            parse("harmonia://executions/0190/history"),
            Some(Named::History("0190"))
        );
        for other in [
            "harmonia://workflows/",
            "harmonia://workflows/a/b",
            "harmonia://executions/0190",
            "harmonia://executions//history",
            "file:///etc/passwd",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }
}
