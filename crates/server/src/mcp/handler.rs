//! The SDK's `ServerHandler` for Harmonia: lists and calls the tools of `tools`,
//! lists and reads the resources of `resources`, and checks each call's role.
//!
//! Who calls: the auth middleware puts the token's `Caller` on the HTTP request, whose
//! parts the transport hands to every request's context. No `Caller` means no token was
//! needed when the middleware ran; the handler asks again (a token may have been
//! created since), so it never lets a call through that a token would not.

use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;

use super::args::Args;
use super::{calls, resources, tools};
use crate::auth::{Caller, Need};
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Harmonia's MCP server, over the server's state (one per request: it is stateless).
pub(crate) struct Mcp {
    state: AppState,
}

impl Mcp {
    /// The server over `state`.
    pub(crate) fn new(state: AppState) -> Mcp {
        Mcp { state }
    }

    /// Refuses a caller whose role is below `need` (`what` names what is refused).
    async fn allow(
        &self,
        need: Need,
        what: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<(), ApiError> {
        let caller = context
            .extensions
            .get::<Parts>()
            .and_then(|p| p.extensions.get::<Caller>());
        match caller {
            Some(c) if c.role.satisfies(need) => Ok(()),
            Some(c) => Err(ApiError::new(
                Code::Forbidden,
                format!(
                    "{what} needs the `{}` role; the token `{}` has `{}`",
                    need.role().map_or("", |r| r.as_str()),
                    c.name,
                    c.role.as_str()
                ),
            )),
            None if self.state.0.auth.required().await? => Err(ApiError::new(
                Code::Unauthorized,
                "missing API token: send `Authorization: Bearer <token>`",
            )),
            None => Ok(()),
        }
    }
}

/// A use case's (or an argument's) error as a tool error: `code: message`, then the
/// details when there are any; the API's error body as structured content.
fn tool_error(e: ApiError) -> CallToolResult {
    let mut text = format!("{}: {}", e.code.as_str(), e.message);
    if !e.details.is_null() {
        text.push('\n');
        text.push_str(&e.details.to_string());
    }
    let body = serde_json::to_value(e.body()).unwrap_or(Value::Null);
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(body);
    result
}

/// An error reading a resource as a JSON-RPC error (`not_found` as MCP's resource not
/// found), the API's error body as its data.
fn resource_error(e: ApiError) -> McpError {
    let message = format!("{}: {}", e.code.as_str(), e.message);
    let code = e.code;
    let data = serde_json::to_value(e.body()).ok();
    match code {
        Code::NotFound => McpError::resource_not_found(message, data),
        c if c.status().is_server_error() => McpError::internal_error(message, data),
        _ => McpError::invalid_params(message, data),
    }
}

impl ServerHandler for Mcp {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("harmonia", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Harmonia runs workflows: DAGs of tasks defined in YAML or JSON. Use \
                 validate_workflow and create_workflow to store a definition, \
                 execute_workflow (with wait_seconds to wait for the end) to run it, and \
                 get_execution to follow it. Resources: harmonia://workflows/{name} (a \
                 definition) and harmonia://executions/{id}/history (an event log).",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::find(name).map(tools::ToolSpec::tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(tool) = tools::find(&request.name) else {
            return Err(McpError::invalid_params(
                format!("no tool `{}`", harmonia_expr::clip(&request.name)),
                None,
            ));
        };
        let what = format!("`{}`", tool.name);
        let done = async {
            self.allow(tool.need(), &what, &context).await?;
            let args = Args::new(tool, request.arguments)?;
            let caller = context
                .extensions
                .get::<Parts>()
                .and_then(|p| p.extensions.get::<Caller>())
                .map(|c| c.name.as_str());
            calls::call(&self.state, tool.name, &args, caller).await
        };
        Ok(match done.await {
            Ok(value) => CallToolResult::structured(value),
            Err(e) => tool_error(e),
        }
        .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.allow(Need::Read, "listing resources", &context)
            .await
            .map_err(resource_error)?;
        let listed = resources::list(&self.state).await.map_err(resource_error)?;
        Ok(ListResourcesResult::with_all_items(listed))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        self.allow(Need::Read, "reading resources", &context)
            .await
            .map_err(resource_error)?;
        match resources::read(&self.state, &request.uri).await {
            None => Err(McpError::resource_not_found(
                format!(
                    "no resource `{}`: Harmonia's are harmonia://workflows/{{name}} and \
                     harmonia://executions/{{id}}/history",
                    harmonia_expr::clip(&request.uri)
                ),
                None,
            )),
            Some(read) => Ok(read.map_err(resource_error)?.into()),
        }
    }
}
