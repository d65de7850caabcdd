//! The suite of the catalog ([`Catalog`]), generic over the kind of document and run for
//! every kind: numbering, what is the same, listings by name, deletion, lookups by id,
//! imports. What is particular to a kind (what "the same" means, a kind's listing
//! filters) is in `suite::workflows` and `suite::templates`.

use crate::catalog::{Catalog, Document, TemplateDoc, WorkflowDoc};
use crate::records::{NewTemplateVersion, NewWorkflowVersion, OnConflict, PutOutcome};
use crate::{Error, Timestamp};

use super::expect;

/// A kind of document the suite can make versions of.
pub trait Sample: Document {
    /// A version of `name` whose content is `content` (versions with the same content
    /// are the same), created at `at`.
    fn sample(name: &str, content: &str, at: Timestamp) -> Self::New;
    /// When a stored version was created.
    fn created_at(record: &Self::Record) -> Timestamp;
}

impl Sample for WorkflowDoc {
    fn sample(name: &str, content: &str, at: Timestamp) -> NewWorkflowVersion {
        NewWorkflowVersion {
            name: name.into(),
            description: Some(format!("about {name}")),
            source: content.into(),
            format: "yaml".into(),
            created_at: at,
        }
    }

    fn created_at(record: &Self::Record) -> Timestamp {
        record.created_at
    }
}

impl Sample for TemplateDoc {
    fn sample(name: &str, content: &str, at: Timestamp) -> NewTemplateVersion {
        NewTemplateVersion {
            name: name.into(),
            description: Some(format!("about {name}")),
            tags: vec!["demo".into()],
            category: None,
            note: None,
            content: content.into(),
            source: format!("# as written\n{content}"),
            format: "yaml".into(),
            created_at: at,
        }
    }

    fn created_at(record: &Self::Record) -> Timestamp {
        record.created_at
    }
}

fn new<D: Sample>(name: &str, content: &str) -> D::New {
    D::sample(name, content, Timestamp(1_000))
}

fn numbers<D: Document>(records: &[D::Record]) -> Vec<u32> {
    records.iter().map(D::version).collect()
}

fn names<D: Document>(records: &[D::Record]) -> Vec<&str> {
    records.iter().map(D::name).collect()
}

async fn put<D: Sample>(
    store: &dyn Catalog<D>,
    name: &str,
    content: &str,
) -> (PutOutcome, D::Record) {
    let p = expect(store.put(&new::<D>(name, content)).await, "put");
    (p.outcome, p.record)
}

/// New content makes version `latest + 1` under the same id; the same as the latest
/// makes nothing; reverting to older content is a new version; other names have other
/// ids.
pub async fn versions_are_numbered_and_the_same_is_not_stored<D: Sample>(store: &dyn Catalog<D>) {
    let (outcome, v1) = put(store, "doc", "a: 1").await;
    assert_eq!(
        (outcome, D::version(&v1), D::name(&v1)),
        (PutOutcome::Created, 1, "doc")
    );
    assert_eq!(
        put(store, "doc", "a: 1").await,
        (PutOutcome::Unchanged, v1.clone())
    );
    let (outcome, v2) = put(store, "doc", "a: 2").await;
    assert_eq!((outcome, D::version(&v2)), (PutOutcome::Created, 2));
    assert_eq!(D::id(&v2), D::id(&v1));
    let (outcome, v3) = put(store, "doc", "a: 1").await;
    assert_eq!((outcome, D::version(&v3)), (PutOutcome::Created, 3));

    assert_eq!(
        expect(store.get("doc", None).await, "latest"),
        Some(v3.clone())
    );
    assert_eq!(
        expect(store.get("doc", Some(2)).await, "v2"),
        Some(v2.clone())
    );
    assert_eq!(expect(store.get("doc", Some(4)).await, "v4"), None);
    assert_eq!(expect(store.get("nope", None).await, "unknown"), None);
    assert_eq!(expect(store.get("nope", Some(1)).await, "unknown v1"), None);
    let all = expect(store.versions("doc").await, "versions");
    assert_eq!(all, [v1.clone(), v2, v3]);
    assert!(expect(store.versions("nope").await, "none").is_empty());

    let (_, other) = put(store, "other", "a: 1").await;
    assert_eq!(D::version(&other), 1);
    assert_ne!(D::id(&other), D::id(&v1));
}

/// `latest` gives the latest version of each document, by name in bytewise order
/// (upper case before lower, `-` before `_`), whatever the order of the puts.
pub async fn latest_lists_by_name_bytewise<D: Sample>(store: &dyn Catalog<D>) {
    for (name, content) in [
        ("a_b", "1"),
        ("a-b", "1"),
        ("B", "1"),
        ("a", "1"),
        ("a", "2"),
    ] {
        put(store, name, content).await;
    }
    let latest = expect(store.latest(&D::Query::default()).await, "latest");
    assert_eq!(names::<D>(&latest), ["B", "a", "a-b", "a_b"]);
    assert_eq!(numbers::<D>(&latest), [1, 2, 1, 1]);
}

/// A deleted document is gone from listings, latest lookups and `versions`, its
/// versions stay readable by number, and a put or an import under its name brings it
/// back, even one that stores nothing new.
pub async fn deleted_documents_keep_their_versions<D: Sample>(store: &dyn Catalog<D>) {
    let (_, v1) = put(store, "gone", "1").await;
    put(store, "kept", "1").await;
    assert!(expect(store.delete("gone").await, "delete"));
    assert!(!expect(store.delete("gone").await, "again"));
    assert!(!expect(store.delete("never").await, "unknown"));
    assert_eq!(expect(store.get("gone", None).await, "latest"), None);
    assert_eq!(
        expect(store.get("gone", Some(1)).await, "pinned"),
        Some(v1.clone())
    );
    assert_eq!(
        expect(store.get_by_id(D::id(&v1), None).await, "by id"),
        None
    );
    assert_eq!(
        expect(store.get_by_id(D::id(&v1), Some(1)).await, "by id, pinned"),
        Some(v1.clone())
    );
    assert!(expect(store.versions("gone").await, "versions").is_empty());
    let latest = expect(store.latest(&D::Query::default()).await, "latest");
    assert_eq!(names::<D>(&latest), ["kept"]);

    // The same content as the latest: nothing new, but it is back.
    assert_eq!(
        put(store, "gone", "1").await,
        (PutOutcome::Unchanged, v1.clone())
    );
    assert_eq!(
        expect(store.get("gone", None).await, "back"),
        Some(v1.clone())
    );
    assert_eq!(
        numbers::<D>(&expect(store.versions("gone").await, "versions")),
        [1]
    );

    assert!(expect(store.delete("gone").await, "delete again"));
    let (outcome, v2) = put(store, "gone", "2").await;
    assert_eq!(outcome, PutOutcome::Created);
    assert_eq!((D::id(&v2), D::version(&v2)), (D::id(&v1), 2));
    assert_eq!(
        expect(store.get("gone", None).await, "latest"),
        Some(v2.clone())
    );

    assert!(expect(store.delete("gone").await, "a third time"));
    let done = expect(
        store
            .import(&[new::<D>("gone", "2")], OnConflict::Fail)
            .await,
        "import",
    );
    assert_eq!(done[0].outcome, PutOutcome::Unchanged);
    assert_eq!(
        expect(store.get("gone", None).await, "imported back"),
        Some(v2)
    );
    let latest = expect(store.latest(&D::Query::default()).await, "latest");
    assert_eq!(names::<D>(&latest), ["gone", "kept"]);
}

/// Documents can be found by id, at any version.
pub async fn found_by_id<D: Sample>(store: &dyn Catalog<D>) {
    let (_, v1) = put(store, "doc", "1").await;
    let (_, v2) = put(store, "doc", "2").await;
    assert_eq!(
        expect(store.get_by_id(D::id(&v1), None).await, "latest"),
        Some(v2)
    );
    assert_eq!(
        expect(store.get_by_id(D::id(&v1), Some(1)).await, "v1"),
        Some(v1.clone())
    );
    assert_eq!(
        expect(store.get_by_id(D::id(&v1), Some(3)).await, "v3"),
        None
    );
    let unknown = D::Id::from(uuid::Uuid::now_v7());
    assert_eq!(
        expect(store.get_by_id(unknown, None).await, "unknown"),
        None
    );
}

/// An import into an empty store recreates numbers and times; the same import again
/// changes nothing; new content becomes new versions after the cursor.
pub async fn imports_recreate_numbers_and_times<D: Sample>(store: &dyn Catalog<D>) {
    let history = |name: &str, contents: &[&str]| -> Vec<D::New> {
        contents
            .iter()
            .enumerate()
            .map(|(i, c)| D::sample(name, c, Timestamp(10_000 + i as i64)))
            .collect()
    };
    let mut doc = history("a", &["1", "2", "1"]);
    doc.extend(history("b", &["x"]));
    let first = expect(store.import(&doc, OnConflict::Fail).await, "import");
    let outcomes: Vec<(&str, u32, PutOutcome)> = first
        .iter()
        .map(|p| (D::name(&p.record), D::version(&p.record), p.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("a", 1, PutOutcome::Created),
            ("a", 2, PutOutcome::Created),
            ("a", 3, PutOutcome::Created),
            ("b", 1, PutOutcome::Created),
        ]
    );
    let a = expect(store.versions("a").await, "versions");
    assert_eq!(numbers::<D>(&a), [1, 2, 3]);
    assert_eq!(
        a.iter().map(D::created_at).collect::<Vec<_>>(),
        [Timestamp(10_000), Timestamp(10_001), Timestamp(10_002)]
    );
    assert_eq!(D::id(&a[0]), D::id(&first[0].record));
    assert_eq!(
        expect(store.get("b", None).await, "b"),
        Some(first[3].record.clone())
    );

    let again = expect(store.import(&doc, OnConflict::Fail).await, "again");
    assert!(again.iter().all(|p| p.outcome == PutOutcome::Unchanged));
    assert_eq!(
        again.iter().map(|p| &p.record).collect::<Vec<_>>(),
        first.iter().map(|p| &p.record).collect::<Vec<_>>()
    );

    let mut more = history("a", &["1", "2", "1", "4"]);
    more.extend(history("c", &["new"]));
    let grown = expect(store.import(&more, OnConflict::NewVersion).await, "grown");
    let got: Vec<(u32, PutOutcome)> = grown
        .iter()
        .map(|p| (D::version(&p.record), p.outcome))
        .collect();
    assert_eq!(
        got,
        [
            (1, PutOutcome::Unchanged),
            (2, PutOutcome::Unchanged),
            (3, PutOutcome::Unchanged),
            (4, PutOutcome::Created),
            (1, PutOutcome::Created),
        ]
    );
    assert_eq!(
        expect(store.get("a", None).await, "latest").map(|r| D::created_at(&r)),
        Some(Timestamp(10_003))
    );
    // Nothing of an empty import.
    assert!(expect(store.import(&[], OnConflict::Fail).await, "empty").is_empty());
}

/// A strict import that meets new content for a stored document fails as a conflict
/// that names it, and writes nothing, not even the documents that were fine; a lenient
/// one stores it.
pub async fn a_strict_import_writes_nothing<D: Sample>(store: &dyn Catalog<D>) {
    put(store, "a", "1").await;
    let doc = [
        new::<D>("fresh", "f"),
        new::<D>("a", "1"),
        new::<D>("a", "2"),
    ];
    match store.import(&doc, OnConflict::Fail).await {
        Err(Error::Conflict(m)) => assert!(m.contains(&format!("{} `a`", D::KIND)), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(expect(store.get("fresh", None).await, "fresh"), None);
    assert_eq!(numbers::<D>(&expect(store.versions("a").await, "a")), [1]);
    let done = expect(store.import(&doc, OnConflict::NewVersion).await, "lenient");
    assert_eq!(
        done.iter().map(|p| p.outcome).collect::<Vec<_>>(),
        [
            PutOutcome::Created,
            PutOutcome::Unchanged,
            PutOutcome::Created
        ]
    );
    assert_eq!(
        numbers::<D>(&expect(store.versions("a").await, "a")),
        [1, 2]
    );
}

/// Puts under one name from concurrent callers each get their own version number,
/// consecutive from 1, under one id; none is lost. (The same content put twice is
/// stored again only if another version came between.)
pub async fn concurrent_puts_number_versions_once<D: Sample>(store: &dyn Catalog<D>) {
    let contents: Vec<String> = (0..8).map(|i| format!("n: {i}")).collect();
    let puts = contents
        .iter()
        .chain(std::iter::once(&contents[0]))
        .map(|c| async move { store.put(&new::<D>("busy", c)).await });
    let done: Vec<_> = futures::future::join_all(puts)
        .await
        .into_iter()
        .map(|r| expect(r, "concurrent put"))
        .collect();
    let created = done
        .iter()
        .filter(|p| p.outcome == PutOutcome::Created)
        .count();
    let versions = expect(store.versions("busy").await, "versions");
    assert_eq!(
        numbers::<D>(&versions),
        (1..=created as u32).collect::<Vec<_>>()
    );
    assert!((8..=9).contains(&created), "{created} created");
    let ids: std::collections::HashSet<_> = versions.iter().map(D::id).collect();
    assert_eq!(ids.len(), 1);
}
