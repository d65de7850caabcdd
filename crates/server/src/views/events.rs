//! The bodies of `/api/events`: a received CloudEvent, and lists of them.

use harmonia_app::events::{EventPage, Receipt};
use harmonia_storage::InboxEvent;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A CloudEvent 1.0 in structured JSON, as `POST /api/events` takes it (the schema
/// is for documentation; the route reads any JSON and reports every problem).
pub struct CloudEventBody;

impl utoipa::PartialSchema for CloudEventBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(256))
                .description(Some(description))
        };
        let optional = |description: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(description))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A CloudEvent 1.0, structured mode. Attributes other than these are \
                 extensions, kept as they are.",
            ))
            .property(
                "specversion",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["1.0"])),
            )
            .required("specversion")
            .property(
                "id",
                text("Unique within its source: a second event with the same source and id is a duplicate."),
            )
            .required("id")
            .property("source", text("Who sent it."))
            .required("source")
            .property(
                "type",
                text("What happened, such as `payment.settled`: `wait_event` tasks wait on it."),
            )
            .required("type")
            .property(
                "time",
                optional("When it happened: an RFC 3339 time, such as `2026-11-30T10:00:00Z`.")
                    .pattern(Some(harmonia_app::events::cloudevent::TIME_PATTERN)),
            )
            .property("subject", optional("What it is about, within its source."))
            .property("datacontenttype", optional("The media type of `data`."))
            .property("dataschema", optional("The schema `data` follows."))
            .property(
                "data",
                ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .description(Some("The event's data, any JSON: `$event.data` in a filter.")),
            )
            .property(
                "data_base64",
                optional("Binary data, in base64; kept with the event as it is."),
            )
            .into()
    }
}

impl utoipa::ToSchema for CloudEventBody {}

/// A received event and where it went.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "a1", "source": "shop", "type": "payment.settled", "received_at": "2026-11-30T10:00:00.000Z", "duplicate": false, "routed_at": "2026-11-30T10:00:00.004Z", "delivered_to": [{"execution_id": "01a20b95-3770-719e-8ae1-f9888c382918", "task": "settle", "item": null}], "started": [{"workflow": "fulfil", "trigger": 0, "execution_id": "01a20b95-3771-7a5e-8f0e-2b1f6ad0c001"}]}))]
pub struct EventReceipt {
    /// The event's `id`.
    pub id: String,
    /// Its `source`.
    pub source: String,
    /// Its `type`.
    #[serde(rename = "type")]
    pub ty: String,
    /// When it was received (the first time, for a duplicate).
    #[schema(value_type = String, format = DateTime)]
    pub received_at: String,
    /// Whether an event with this `source` and `id` was received before: then nothing
    /// was stored or delivered again.
    pub duplicate: bool,
    /// When it was delivered to the tasks waiting for it (null until it was).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub routed_at: Option<String>,
    /// The waiting tasks that took it: `{execution_id, task, item}` each (empty when
    /// none waited for it: it is kept all the same).
    pub delivered_to: Vec<Value>,
    /// What the `event` triggers it matched did: `{workflow, trigger, execution_id}`
    /// for each execution started, `{workflow, trigger, error}` for each that could not
    /// start (a filter that failed, inputs the workflow refuses). An event starts a
    /// workflow once per trigger, however often it is posted.
    pub started: Vec<Value>,
    /// The event as received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Value>,
}

impl EventReceipt {
    /// The view of a stored event; with its body when `full`.
    pub fn from_event(e: &InboxEvent, duplicate: bool, full: bool) -> EventReceipt {
        EventReceipt {
            id: e.id.clone(),
            source: e.source.clone(),
            ty: e.ty.clone(),
            received_at: e.received_at.to_string(),
            duplicate,
            routed_at: e.routed_at.map(|t| t.to_string()),
            delivered_to: deliveries(e, "task"),
            started: deliveries(e, "workflow"),
            event: full.then(|| e.event.decode().unwrap_or(Value::Null)),
        }
    }

    /// The view of a receipt.
    pub fn from_receipt(r: &Receipt) -> EventReceipt {
        EventReceipt::from_event(&r.event, r.duplicate, false)
    }
}

/// The recorded deliveries of an event that have the field `kind`.
fn deliveries(e: &InboxEvent, kind: &str) -> Vec<Value> {
    e.deliveries
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d.get(kind).is_some())
        .cloned()
        .collect()
}

/// A page of received events, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventPageView {
    /// The events, with their bodies.
    pub events: Vec<EventReceipt>,
    /// Pass as `cursor` to get the next page (null on the last).
    pub next_cursor: Option<String>,
}

impl EventPageView {
    /// The view of a page.
    pub fn from_page(p: &EventPage) -> EventPageView {
        EventPageView {
            events: p
                .items
                .iter()
                .map(|e| EventReceipt::from_event(e, false, true))
                .collect(),
            next_cursor: p.next_cursor.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn the_cloudevent_schema_says_what_is_required() {
        let schema = serde_json::to_value(CloudEventBody::schema()).expect("json");
        assert_eq!(
            schema["required"],
            serde_json::json!(["specversion", "id", "source", "type"]),
            "{schema}"
        );
    }
}
