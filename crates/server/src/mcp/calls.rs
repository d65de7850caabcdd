//! What each tool does: read its arguments, call one use case of `harmonia_app` (the
//! same as its REST route), and render the value with the REST API's view, so that a
//! tool's result has its route's shape.
//!
//! Two tools do a little more than their route: `create_workflow` stores a new
//! version when the name exists (as `PUT` would; its `outcome` says which), and
//! `execute_workflow` may wait for the end (`wait_seconds`), woken by the execution's
//! own events.

use std::sync::Arc;
use std::time::Duration;

use harmonia_app::executions::{ExecutionFilter, Executions};
use harmonia_app::templates::{Instantiate, TemplateFilter};
use harmonia_app::workflows::WorkflowFilter;
use harmonia_engine::LoggedEvent;
use harmonia_model::{Format, Source};
use harmonia_storage::{ExecutionId, ExecutionStatus, Origin, OriginKind};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::args::Args;
use super::tools::MAX_WAIT_SECONDS;
use crate::error::ApiError;
use crate::extract::execution_id;
use crate::state::AppState;
use crate::views::integration::ComponentList;
use crate::views::templates::{Instantiated, TemplateDetail, TemplateList};
use crate::views::{
    ControlResponse, ExecutionDetail, ExecutionList, RetryRequest, RetryResponse, Started,
    WorkflowDetail, WorkflowList, WorkflowSaved,
};

type Result<T, E = ApiError> = std::result::Result<T, E>;

fn value(view: impl Serialize) -> Result<Value> {
    serde_json::to_value(view).map_err(ApiError::internal)
}

/// Calls tool `name` (one of the table's) with `args` for `caller` (the name of the
/// token checked, if any: what a start records as its origin); its result as JSON.
pub(crate) async fn call(
    state: &AppState,
    name: &str,
    args: &Args,
    caller: Option<&str>,
) -> Result<Value> {
    let app = state.app();
    match name {
        "list_workflows" => {
            let filter = WorkflowFilter {
                search: args.opt_string("q")?,
                cursor: args.opt_string("cursor")?,
                limit: args.opt_u32("limit", 1, 1000)?,
            };
            value(WorkflowList::from_page(
                &app.workflows().list(filter).await?,
            ))
        }
        "get_workflow" => {
            let detail = app
                .workflows()
                .get(&args.string("name")?, version(args)?)
                .await?;
            value(WorkflowDetail::from_detail(detail))
        }
        "validate_workflow" => validate(state, &args.string("definition")?).await,
        "create_workflow" => create(state, &args.string("definition")?).await,
        "execute_workflow" => execute(state, args, caller).await,
        "list_executions" => {
            let statuses = args
                .opt_string("status")?
                .map(|s| s.parse::<ExecutionStatus>())
                .transpose()
                .map_err(|m| ApiError::bad_request(format!("`status`: {m}")))?
                .into_iter()
                .collect();
            let origins = args
                .opt_string("origin")?
                .map(|s| s.parse::<OriginKind>())
                .transpose()
                .map_err(|m| ApiError::bad_request(format!("`origin`: {m}")))?
                .into_iter()
                .collect();
            let filter = ExecutionFilter {
                workflow: args.opt_string("workflow")?,
                statuses,
                id_prefix: None,
                origins,
                trigger: args.opt_string("trigger")?,
                input: args.opt_string("input")?,
                since: None,
                until: None,
                cursor: args.opt_string("cursor")?,
                limit: args.opt_u32("limit", 1, 500)?,
            };
            value(ExecutionList::from_page(
                &app.executions().list(filter).await?,
            ))
        }
        "get_execution" => {
            let x = app.executions().get(id(args)?).await?;
            value(ExecutionDetail::from_execution(&x))
        }
        "cancel_execution" => {
            let reason = args.opt_string("reason")?;
            let x = id(args)?;
            let status = app.executions().cancel(x, reason).await?;
            value(ControlResponse::new(&x.to_string(), status))
        }
        "pause_execution" => {
            let x = id(args)?;
            value(ControlResponse::new(
                &x.to_string(),
                app.executions().pause(x).await?,
            ))
        }
        "resume_execution" => {
            let x = id(args)?;
            value(ControlResponse::new(
                &x.to_string(),
                app.executions().resume(x).await?,
            ))
        }
        "retry_execution" => {
            let x = id(args)?;
            let request = RetryRequest {
                from: args.opt_string("from")?,
                latest_version: args.flag("latest_version")?,
                preview: args.flag("preview")?,
            };
            let (options, mode) = request.into_options();
            let retried = app.executions().retry(x, &options, mode).await?;
            value(RetryResponse::from_retried(retried))
        }
        "list_templates" => {
            let filter = TemplateFilter {
                tag: args.opt_string("tag")?,
                category: args.opt_string("category")?,
                search: args.opt_string("q")?,
                cursor: args.opt_string("cursor")?,
                limit: args.opt_u32("limit", 1, 500)?,
            };
            value(TemplateList::from_page(
                &app.templates().list(filter).await?,
            ))
        }
        "get_template" => {
            let detail = app
                .templates()
                .get(&args.string("name")?, version(args)?)
                .await?;
            value(TemplateDetail::from_detail(detail))
        }
        "instantiate_template" => {
            let request = Instantiate {
                version: version(args)?,
                name: args.opt_string("workflow_name")?,
                params: args.object("params")?,
                execute: if args.flag("execute")? {
                    Some(args.object("inputs")?)
                } else {
                    None
                },
            };
            let done = app
                .templates()
                .instantiate(&args.string("name")?, request)
                .await?;
            value(Instantiated::from_instantiated(done))
        }
        "list_components" => value(ComponentList::from_listing(&app.components().list().await)),
        other => Err(ApiError::internal(format!(
            "the MCP tool `{other}` is in the table but has no call"
        ))),
    }
}

fn version(args: &Args) -> Result<Option<u32>> {
    args.opt_u32("version", 1, u32::MAX)
}

fn id(args: &Args) -> Result<ExecutionId> {
    execution_id(&args.string("id")?)
}

/// A definition's text as a source: JSON when it is a JSON object, YAML otherwise (a
/// YAML flow mapping such as `{name: x, ...}` is not JSON).
fn source(text: &str) -> Source {
    let json = text.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    let format = if json { Format::Json } else { Format::Yaml };
    Source::new("definition", text, format)
}

/// `{valid, diagnostics}`: the warnings of a valid definition, every problem of an
/// invalid one.
async fn validate(state: &AppState, text: &str) -> Result<Value> {
    match state.app().workflows().check(&source(text)).await {
        Ok(checked) => Ok(json!({"valid": true, "diagnostics": checked.warnings})),
        Err(harmonia_app::Error::InvalidDefinition { diagnostics, .. }) => {
            Ok(json!({"valid": false, "diagnostics": diagnostics}))
        }
        Err(e) => Err(e.into()),
    }
}

/// Stores a definition: a new workflow, or a new version of the one of its name.
async fn create(state: &AppState, text: &str) -> Result<Value> {
    let workflows = state.app().workflows();
    let source = source(text);
    // The name, to tell a new workflow from a new version. A text that does not read
    // goes to `create`, which answers every problem.
    let existing = match harmonia_model::read(&source) {
        Ok(w) => match workflows.record(&w.name, None).await {
            Ok(latest) => Some(latest),
            Err(harmonia_app::Error::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let (saved, before) = match existing {
        None => match workflows.create(&source).await {
            Ok(saved) => (saved, None),
            // Created by someone else meanwhile: a new version of theirs.
            Err(harmonia_app::Error::Exists { name, .. }) => {
                let latest = workflows.record(&name, None).await?;
                (workflows.update(&name, &source).await?, Some(latest))
            }
            Err(e) => return Err(e.into()),
        },
        Some(latest) => (workflows.update(&latest.name, &source).await?, Some(latest)),
    };
    let outcome = match before {
        None => "created",
        Some(b) if b.version == saved.record.version => "unchanged",
        Some(_) => "updated",
    };
    let mut view = value(WorkflowSaved::from_saved(&saved))?;
    if let Value::Object(map) = &mut view {
        map.insert("outcome".into(), Value::from(outcome));
    }
    Ok(view)
}

/// Starts a workflow; with `wait_seconds`, answers the execution once it ended or the
/// wait is over.
async fn execute(state: &AppState, args: &Args, caller: Option<&str>) -> Result<Value> {
    let name = args.string("name")?;
    let inputs = args.object("inputs")?;
    let wait = args
        .opt_u32("wait_seconds", 0, MAX_WAIT_SECONDS)?
        .unwrap_or(0);
    let executions = state.app().executions();
    // Subscribed before the start, so that no event of the execution is missed.
    let events = (wait > 0).then(|| executions.subscribe());
    let origin = Origin::new(OriginKind::Mcp, caller.map(str::to_owned));
    let started = executions
        .start(&name, version(args)?, inputs, None, origin)
        .await?;
    let Some(events) = events else {
        return value(Started::from_started(&started));
    };
    let within = Duration::from_secs(u64::from(wait));
    wait_for_end(executions, started.execution, events, within).await?;
    let x = executions.get(started.execution).await?;
    value(ExecutionDetail::from_execution(&x))
}

/// Waits until execution `id` has ended, `within` has passed, or the engine stops.
async fn wait_for_end(
    executions: &Executions,
    id: ExecutionId,
    mut events: broadcast::Receiver<Arc<LoggedEvent>>,
    within: Duration,
) -> Result<()> {
    let until = tokio::time::Instant::now() + within;
    loop {
        if executions.record(id).await?.status.is_terminal() {
            return Ok(());
        }
        // The next event of this execution (or a gap, after which the status is read
        // again).
        let next = async {
            loop {
                match events.recv().await {
                    Ok(e) if e.execution == id => return true,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                }
            }
        };
        match tokio::time::timeout_at(until, next).await {
            Ok(true) => {}
            // Over, or the engine stopped: the execution as it is.
            Ok(false) | Err(_) => return Ok(()),
        }
    }
}
