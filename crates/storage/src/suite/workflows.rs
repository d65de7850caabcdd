//! The suite of the workflows role by its names ([`Workflows`](crate::Workflows)): what
//! is particular to workflows (versions compared by source and format), through the
//! methods callers use. The versioning rules themselves are `suite::catalog`'s.

use super::expect;
use crate::prelude::*;
use crate::records::NewWorkflowVersion;
use crate::{Timestamp, WorkflowId};

/// Versions of a workflow: new content makes a new version, identical content does not.
pub async fn workflow_versions(store: &dyn Store) {
    let new = |source: &str| NewWorkflowVersion {
        name: "etl".into(),
        description: Some("d".into()),
        source: source.into(),
        format: "yaml".into(),
        created_at: Timestamp(7),
    };
    let v1 = expect(store.put_workflow(&new("a: 1")).await, "v1");
    assert_eq!(v1.version, 1);
    let same = expect(store.put_workflow(&new("a: 1")).await, "same");
    assert_eq!(same, v1);
    let v2 = expect(store.put_workflow(&new("a: 2")).await, "v2");
    assert_eq!((v2.version, v2.id), (2, v1.id));
    assert_eq!(
        expect(store.workflow("etl", None).await, "latest"),
        Some(v2.clone())
    );
    assert_eq!(
        expect(store.workflow("etl", Some(1)).await, "v1"),
        Some(v1.clone())
    );
    assert_eq!(expect(store.workflow("etl", Some(3)).await, "v3"), None);
    assert_eq!(expect(store.workflow("nope", None).await, "none"), None);
    let other = NewWorkflowVersion {
        name: "other".into(),
        ..new("b: 1")
    };
    let o1 = expect(store.put_workflow(&other).await, "other");
    assert_ne!(o1.id, v1.id);
    let latest: Vec<(String, u32)> = expect(store.workflows().await, "workflows")
        .into_iter()
        .map(|w| (w.name, w.version))
        .collect();
    assert_eq!(latest, vec![("etl".into(), 2), ("other".into(), 1)]);
    let versions: Vec<u32> = expect(store.workflow_versions("etl").await, "versions")
        .iter()
        .map(|w| w.version)
        .collect();
    assert_eq!(versions, [1, 2]);
}

fn version(name: &str, source: &str) -> NewWorkflowVersion {
    NewWorkflowVersion {
        name: name.into(),
        description: None,
        source: source.into(),
        format: "yaml".into(),
        created_at: Timestamp(1),
    }
}

/// A deleted workflow is gone from listings and latest lookups, its versions stay
/// readable by number, and storing it again brings it back with a new version.
pub async fn deleted_workflows(store: &dyn Store) {
    let v1 = expect(store.put_workflow(&version("gone", "a: 1")).await, "v1");
    expect(store.put_workflow(&version("kept", "b: 1")).await, "other");
    assert!(expect(store.delete_workflow("gone").await, "delete"));
    assert!(!expect(store.delete_workflow("gone").await, "again"));
    assert!(!expect(store.delete_workflow("never").await, "unknown"));
    assert_eq!(expect(store.workflow("gone", None).await, "latest"), None);
    assert_eq!(
        expect(store.workflow("gone", Some(1)).await, "pinned"),
        Some(v1.clone())
    );
    assert_eq!(
        expect(store.workflow_by_id(v1.id, None).await, "by id"),
        None
    );
    assert!(expect(store.workflow_versions("gone").await, "versions").is_empty());
    let names: Vec<String> = expect(store.workflows().await, "list")
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["kept".to_string()]);
    let back = expect(store.put_workflow(&version("gone", "a: 2")).await, "back");
    assert_eq!((back.id, back.version), (v1.id, 2));
    assert_eq!(
        expect(store.workflow("gone", None).await, "latest"),
        Some(back)
    );
}

/// Workflows can be found by id, at any version.
pub async fn workflows_by_id(store: &dyn Store) {
    let v1 = expect(store.put_workflow(&version("w", "a: 1")).await, "v1");
    let v2 = expect(store.put_workflow(&version("w", "a: 2")).await, "v2");
    assert_eq!(
        expect(store.workflow_by_id(v1.id, None).await, "latest"),
        Some(v2)
    );
    assert_eq!(
        expect(store.workflow_by_id(v1.id, Some(1)).await, "v1"),
        Some(v1)
    );
    assert_eq!(
        expect(
            store.workflow_by_id(WorkflowId::new(), None).await,
            "unknown"
        ),
        None
    );
}

/// Workflow versions differ by source or by format: the same text declared in another
/// format is a new version.
pub async fn a_new_format_is_a_new_version(store: &dyn Store) {
    let yaml = expect(store.put_workflow(&version("w", "{}")).await, "yaml");
    let json = NewWorkflowVersion {
        format: "json".into(),
        ..version("w", "{}")
    };
    let v2 = expect(store.put_workflow(&json).await, "json");
    assert_eq!(
        (v2.id, v2.version, v2.format.as_str()),
        (yaml.id, 2, "json")
    );
    assert_eq!(expect(store.put_workflow(&json).await, "again"), v2);
}
