//! Where `execution list|get|events` read from: a running server (the default), or a
//! local SQLite database with `--db PATH` (what `harmonia run --db` wrote), read
//! without starting an engine, so reading never resumes or changes anything.
//!
//! Invariant: both answer with the same JSON (the server's views, built here from the
//! store for a local file), so one printer serves both and `-o json` is the same
//! document either way. Short ids resolve the same way too: a unique prefix names an
//! execution; none or several is an error that says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harmonia_app::executions::Execution;
use harmonia_server::views::{EventList, ExecutionDetail, ExecutionSummary};
use harmonia_storage::{
    ExecutionId, ExecutionQuery, ExecutionStatus, OriginKind, Store, Timestamp,
};
use serde_json::Value;

use crate::commands::remote::{Client, Failure, ids};

/// The `--db` option of the read commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DbArg {
    /// Read a local database (written by `harmonia run --db`) instead of a server.
    #[arg(long, value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
}

/// A server or a local database.
pub(crate) enum Reader<'a> {
    Server(&'a Client),
    File { store: Arc<dyn Store>, path: String },
}

/// A listing's filters, as the server takes them.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub(crate) statuses: Vec<String>,
    pub(crate) workflow: Option<String>,
    /// RFC 3339.
    pub(crate) since: Option<String>,
    /// Origin kinds (`schedule`, `api`, ...).
    pub(crate) origins: Vec<String>,
    /// A trigger's id.
    pub(crate) trigger: Option<String>,
    /// Text the inputs' JSON contains.
    pub(crate) input: Option<String>,
}

impl<'a> Reader<'a> {
    /// The server, or the database at `db` when given (which must exist).
    pub(crate) async fn open(client: &'a Client, db: &DbArg) -> Result<Reader<'a>, Failure> {
        let Some(path) = &db.db else {
            return Ok(Reader::Server(client));
        };
        Ok(Reader::File {
            store: open(path).await?,
            path: path.display().to_string(),
        })
    }

    /// Executions, newest first, at most `max` (all when `None`).
    pub(crate) async fn executions(
        &self,
        filter: &Filter,
        max: Option<usize>,
    ) -> Result<Vec<Value>, Failure> {
        match self {
            Reader::Server(client) => {
                let mut query = Vec::new();
                if !filter.statuses.is_empty() {
                    query.push(("status", filter.statuses.join(",")));
                }
                if let Some(w) = &filter.workflow {
                    query.push(("workflow", w.clone()));
                }
                if let Some(s) = &filter.since {
                    query.push(("since", s.clone()));
                }
                if !filter.origins.is_empty() {
                    query.push(("origin", filter.origins.join(",")));
                }
                if let Some(t) = &filter.trigger {
                    query.push(("trigger", t.clone()));
                }
                if let Some(i) = &filter.input {
                    query.push(("input", i.clone()));
                }
                client
                    .all_pages(&["api", "executions"], &query, "executions", max)
                    .await
            }
            Reader::File { store, .. } => {
                let statuses = filter
                    .statuses
                    .iter()
                    .map(|s| {
                        s.parse::<ExecutionStatus>().map_err(|_| {
                            Failure::Local(format!(
                                "--status: `{s}` is not one of pending, running, paused, succeeded, failed, cancelled"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let origins = filter
                    .origins
                    .iter()
                    .map(|s| {
                        s.parse::<OriginKind>()
                            .map_err(|e| Failure::Local(format!("--origin: {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // What the server allows (`harmonia_app::executions::ExecutionFilter`).
                let max_input = harmonia_app::executions::MAX_INPUT_FILTER_CHARS;
                if let Some(i) = &filter.input
                    && i.chars().count() > max_input
                {
                    return Err(Failure::Local(format!(
                        "--input: at most {max_input} characters"
                    )));
                }
                let query = ExecutionQuery {
                    workflow: filter.workflow.clone(),
                    statuses,
                    origins,
                    trigger: filter.trigger.clone(),
                    input: filter.input.clone(),
                    since: filter.since.as_deref().and_then(Timestamp::parse),
                    limit: max.unwrap_or(usize::MAX >> 1),
                    ..ExecutionQuery::default()
                };
                let found = store.executions(&query).await.map_err(local)?;
                found
                    .iter()
                    .map(|x| serde_json::to_value(ExecutionSummary::from_record(x)).map_err(local))
                    .collect()
            }
        }
    }

    /// The whole id of the execution `given` names (an id or a unique prefix).
    pub(crate) async fn resolve(&self, given: &str) -> Result<String, Failure> {
        match self {
            Reader::Server(client) => ids::execution(client, given).await,
            Reader::File { store, path } => {
                if let Ok(id) = given.trim().parse::<ExecutionId>() {
                    return Ok(id.to_string());
                }
                let given = ids::check(given)?;
                let query = ExecutionQuery {
                    id_prefix: Some(given.to_ascii_lowercase()),
                    limit: ids::SHOWN + 1,
                    ..ExecutionQuery::default()
                };
                let found = store.executions(&query).await.map_err(local)?;
                let found: Vec<Value> = found
                    .iter()
                    .filter_map(|x| serde_json::to_value(ExecutionSummary::from_record(x)).ok())
                    .collect();
                ids::pick(&given, &found).map_err(|f| match f {
                    Failure::Local(m) if found.is_empty() => {
                        Failure::Local(format!("{m} (in {path})"))
                    }
                    other => other,
                })
            }
        }
    }

    /// The execution with its tasks (`GET /api/executions/{id}`).
    pub(crate) async fn execution(&self, id: &str) -> Result<Value, Failure> {
        match self {
            Reader::Server(client) => client.json(client.get(&["api", "executions", id])).await,
            Reader::File { store, path } => {
                let id = parse(id)?;
                let record = store
                    .execution(id)
                    .await
                    .map_err(local)?
                    .ok_or_else(|| Failure::Local(format!("no execution {id} in {path}")))?;
                let plans = harmonia_engine::Plans::new(
                    store.clone(),
                    harmonia_engine::kinds::builtin_types(),
                    None,
                );
                let workflow = plans
                    .get(&record.workflow, Some(record.version))
                    .await
                    .map_err(local)?;
                let runs = store.task_runs(id).await.map_err(local)?;
                let x = Execution {
                    record,
                    plan: workflow.plan,
                    runs,
                };
                serde_json::to_value(ExecutionDetail::from_execution(&x)).map_err(local)
            }
        }
    }

    /// The execution's event log (`GET /api/executions/{id}/events`).
    pub(crate) async fn events(&self, id: &str) -> Result<Value, Failure> {
        match self {
            Reader::Server(client) => {
                client
                    .json(client.get(&["api", "executions", id, "events"]))
                    .await
            }
            Reader::File { store, path } => {
                let id = parse(id)?;
                let events = harmonia_app::executions::history(store.as_ref(), id)
                    .await
                    .map_err(|e| match e {
                        harmonia_app::Error::NotFound(_) => {
                            Failure::Local(format!("no execution {id} in {path}"))
                        }
                        other => local(other),
                    })?;
                serde_json::to_value(EventList::new(id, events)).map_err(local)
            }
        }
    }
}

/// Opens an existing database; a missing file is an error, not a new database.
async fn open(path: &Path) -> Result<Arc<dyn Store>, Failure> {
    if !path.is_file() {
        return Err(Failure::Local(format!("no database at {}", path.display())));
    }
    let store = harmonia_storage_sql::SqliteStore::open(path, Default::default())
        .await
        .map_err(|e| Failure::Local(format!("cannot open the database {}: {e}", path.display())))?;
    Ok(Arc::new(store))
}

fn parse(id: &str) -> Result<ExecutionId, Failure> {
    id.parse::<ExecutionId>()
        .map_err(|_| Failure::Local(format!("`{id}` is not an execution id")))
}

fn local(e: impl std::fmt::Display) -> Failure {
    Failure::Local(e.to_string())
}
