//! The OpenAPI 3.1 description, generated from the handlers and types.
//!
//! Every route of `/api` (also served under `/api/v1`, Tekton's convention, which the
//! description mentions but does not repeat), the WebSockets, and the operations routes
//! are described with their parameters, bodies, responses and examples.
//! `/openapi.json` serves it and `/docs` shows it with Swagger UI, whose files are in
//! the binary (no network needed).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Harmonia API",
        description = "Workflows, executions and their events, and templates. Every route under `/api` is also served under `/api/v1`. Errors always have the shape `{\"error\": {\"code\", \"message\", \"details\"}}`. With auth on, send `Authorization: Bearer <token>`; roles: admin (everything), operator (execute, cancel, pause, resume, retry, read, and a worker's calls), viewer (read, and `POST /api/workflows/validate`, which stores nothing), worker (only `/api/workers/...` calls: poll, heartbeat, complete, fail). Auth is on once the server's database has had a token (for good, even after every token is deleted), and always on a server listening beyond loopback. Any route answers `403 forbidden_origin` to a request from a web page of another origin (an `Origin` that is neither the server's own nor allowed by `--cors-origin`; or, on the API, `Sec-Fetch-Site: cross-site`), and, while auth is off, `403 forbidden_host` to a request whose `Host` is not a loopback name. Bodies must be sent as `application/json` (or `...+json`) or YAML (`application/yaml`, `application/x-yaml`, `text/yaml`, `text/x-yaml`): any other content type, and a non-empty body without one, is `415 unsupported_media_type`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "workflows", description = "Workflow definitions and their versions"),
        (name = "task-types", description = "The task types a definition may use, with the JSON Schemas of their parameters and outputs"),
        (name = "assist", description = "The assistant: a workflow from plain language, failure diagnosis with a validated patch, optimization findings, a chat about an execution"),
        (name = "executions", description = "Executions, their history and their control"),
        (name = "templates", description = "Parameterized, versioned workflows: instantiate, diff, export and import"),
        (name = "events", description = "CloudEvents received: kept once each, delivered to the tasks that wait for them and to the event triggers they match"),
        (name = "triggers", description = "What starts workflows without a person: listed, paused and resumed"),
        (name = "webhooks", description = "Deliveries from other systems, authenticated by their signature rather than a token"),
        (name = "components", description = "Tekton components that `component` tasks call, declared in the config or registered with Hermes"),
        (name = "workers", description = "External workers in any language: long-poll a queue for leases of `worker` tasks, heartbeat, complete or fail"),
        (name = "websockets", description = "Live updates"),
        (name = "analytics", description = "What fails most and what is slow, over a window of executions; and what the server uses"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorInfo)),
    modifiers(&Bearer),
    security(("bearer" = []), ()),
)]
pub(crate) struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (`harmonia token create`)"))
                    .build(),
            ),
        );
    }
}
