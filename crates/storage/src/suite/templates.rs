//! The suite of the templates role by its names ([`Templates`](crate::Templates)): what
//! is particular to templates (versions compared by content, not source; notes;
//! listing by tag, category and search; imports), through the methods callers use.

use super::expect;
use crate::prelude::*;
use crate::records::{NewTemplateVersion, OnConflict, PutOutcome, TemplateQuery, TemplateRecord};
use crate::{Error, TemplateId, Timestamp};

fn template(name: &str, content: &str, note: Option<&str>) -> NewTemplateVersion {
    NewTemplateVersion {
        name: name.into(),
        description: Some(format!("about {name}")),
        tags: vec!["demo".into()],
        category: Some("examples".into()),
        note: note.map(str::to_string),
        content: content.into(),
        source: format!("# as written\n{content}"),
        format: "yaml".into(),
        created_at: Timestamp(1_000),
    }
}

fn numbers(records: &[TemplateRecord]) -> Vec<u32> {
    records.iter().map(|r| r.version).collect()
}

/// Template versions: new content makes a new version (with its note), the same
/// content as the latest does not (whatever the source text), reverting does.
pub async fn template_versions(store: &dyn Store) {
    let v1 = expect(
        store
            .put_template(&template("greeter", "{\"a\":1}", Some("first")))
            .await,
        "v1",
    );
    assert_eq!(v1.outcome, PutOutcome::Created);
    assert_eq!(v1.record.version, 1);
    assert_eq!(v1.record.note.as_deref(), Some("first"));
    assert_eq!(v1.record.tags, ["demo"]);
    let mut same = template("greeter", "{\"a\":1}", Some("again"));
    same.source = "other text, same content".into();
    let again = expect(store.put_template(&same).await, "same");
    assert_eq!(again.outcome, PutOutcome::Unchanged);
    assert_eq!(again.record, v1.record);
    let v2 = expect(
        store
            .put_template(&template("greeter", "{\"a\":2}", Some("second")))
            .await,
        "v2",
    );
    assert_eq!(v2.outcome, PutOutcome::Created);
    assert_eq!((v2.record.id, v2.record.version), (v1.record.id, 2));
    let v3 = expect(
        store
            .put_template(&template("greeter", "{\"a\":1}", Some("revert")))
            .await,
        "revert",
    );
    assert_eq!((v3.outcome, v3.record.version), (PutOutcome::Created, 3));
    assert_eq!(
        expect(store.template("greeter", None).await, "latest"),
        Some(v3.record.clone())
    );
    assert_eq!(
        expect(store.template("greeter", Some(2)).await, "v2"),
        Some(v2.record.clone())
    );
    assert_eq!(expect(store.template("greeter", Some(4)).await, "v4"), None);
    assert_eq!(expect(store.template("nope", None).await, "none"), None);
    let all = expect(store.template_versions("greeter").await, "versions");
    assert_eq!(numbers(&all), [1, 2, 3]);
    assert_eq!(all[0], v1.record);
    assert_eq!(all[0].source, "# as written\n{\"a\":1}");
}

/// Listing gives the latest version of each template by name, filtered by tag,
/// category and a case-insensitive name search (with no wildcards), after a cursor.
pub async fn template_listing(store: &dyn Store) {
    let put = |name: &str, tags: &[&str], category: Option<&str>, content: &str| {
        let mut t = template(name, content, None);
        t.tags = tags.iter().map(|t| t.to_string()).collect();
        t.category = category.map(str::to_string);
        t
    };
    for t in [
        put("etl", &["data", "http"], Some("data"), "1"),
        put("http-fan-out", &["http"], Some("integration"), "1"),
        put("data_pipeline", &["data"], Some("data"), "1"),
        put("report", &[], None, "1"),
        // A new version of `report` changes its tags: the latest counts.
        put("report", &["old"], Some("reporting"), "2"),
        put("report", &["reporting"], Some("reporting"), "3"),
    ] {
        expect(store.put_template(&t).await, "put");
    }
    let names = |records: Vec<TemplateRecord>| -> Vec<String> {
        records.into_iter().map(|r| r.name).collect()
    };
    let list = |q: TemplateQuery| async move { expect(store.templates(&q).await, "list") };
    assert_eq!(
        names(list(TemplateQuery::default()).await),
        ["data_pipeline", "etl", "http-fan-out", "report"]
    );
    let all = list(TemplateQuery::default()).await;
    assert_eq!(all[3].version, 3);
    assert_eq!(all[3].tags, ["reporting"]);
    let tag = |t: &str| TemplateQuery {
        tag: Some(t.into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(tag("http")).await), ["etl", "http-fan-out"]);
    assert_eq!(names(list(tag("data")).await), ["data_pipeline", "etl"]);
    assert!(list(tag("old")).await.is_empty());
    assert!(list(tag("htt")).await.is_empty());
    let category = TemplateQuery {
        category: Some("data".into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(category).await), ["data_pipeline", "etl"]);
    let search = |s: &str| TemplateQuery {
        search: Some(s.into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(search("FAN")).await), ["http-fan-out"]);
    assert_eq!(names(list(search("a_p")).await), ["data_pipeline"]);
    assert!(list(search("%")).await.is_empty());
    assert_eq!(names(list(search("t")).await).len(), 4);
    let page1 = list(TemplateQuery {
        limit: 2,
        ..TemplateQuery::default()
    })
    .await;
    assert_eq!(names(page1.clone()), ["data_pipeline", "etl"]);
    let page2 = list(TemplateQuery {
        limit: 2,
        after: page1.last().map(|r| r.name.clone()),
        ..TemplateQuery::default()
    })
    .await;
    assert_eq!(names(page2), ["http-fan-out", "report"]);
    let both = TemplateQuery {
        tag: Some("data".into()),
        search: Some("etl".into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(both).await), ["etl"]);
}

/// A deleted template is gone from listings and latest lookups, its versions stay
/// readable by number, and putting it again brings it back with a new version.
pub async fn deleted_templates(store: &dyn Store) {
    let v1 = expect(store.put_template(&template("gone", "1", None)).await, "v1").record;
    expect(
        store.put_template(&template("kept", "1", None)).await,
        "other",
    );
    assert!(expect(store.delete_template("gone").await, "delete"));
    assert!(!expect(store.delete_template("gone").await, "again"));
    assert!(!expect(store.delete_template("never").await, "unknown"));
    assert_eq!(expect(store.template("gone", None).await, "latest"), None);
    assert_eq!(
        expect(store.template("gone", Some(1)).await, "pinned"),
        Some(v1.clone())
    );
    assert_eq!(
        expect(store.template_by_id(v1.id, None).await, "by id"),
        None
    );
    assert!(expect(store.template_versions("gone").await, "versions").is_empty());
    let names: Vec<String> = expect(store.templates(&TemplateQuery::default()).await, "list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["kept"]);
    let back = expect(
        store.put_template(&template("gone", "2", None)).await,
        "back",
    );
    assert_eq!((back.record.id, back.record.version), (v1.id, 2));
    assert_eq!(
        expect(store.template("gone", None).await, "latest"),
        Some(back.record)
    );
    // Importing a deleted template brings it back too, even when nothing is new.
    assert!(expect(store.delete_template("gone").await, "delete again"));
    let done = expect(
        store
            .import_templates(&[template("gone", "2", None)], OnConflict::Fail)
            .await,
        "import",
    );
    assert_eq!(done[0].outcome, PutOutcome::Unchanged);
    assert_eq!(
        expect(store.template("gone", None).await, "latest").map(|r| r.version),
        Some(2)
    );
}

/// Templates can be found by id, at any version.
pub async fn templates_by_id(store: &dyn Store) {
    let v1 = expect(store.put_template(&template("t", "1", None)).await, "v1").record;
    let v2 = expect(store.put_template(&template("t", "2", None)).await, "v2").record;
    assert_eq!(
        expect(store.template_by_id(v1.id, None).await, "latest"),
        Some(v2)
    );
    assert_eq!(
        expect(store.template_by_id(v1.id, Some(1)).await, "v1"),
        Some(v1)
    );
    assert_eq!(
        expect(
            store.template_by_id(TemplateId::new(), None).await,
            "unknown"
        ),
        None
    );
}

/// An import into an empty store recreates numbers, notes and times; the same import
/// again changes nothing; new content becomes new versions.
pub async fn template_import(store: &dyn Store) {
    let history = |name: &str, contents: &[&str]| -> Vec<NewTemplateVersion> {
        contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut t = template(name, c, Some(&format!("note {}", i + 1)));
                t.created_at = Timestamp(10_000 + i as i64);
                t
            })
            .collect()
    };
    let mut doc = history("a", &["1", "2", "1"]);
    doc.extend(history("b", &["x"]));
    let first = expect(
        store.import_templates(&doc, OnConflict::Fail).await,
        "import",
    );
    let outcomes: Vec<(String, u32, PutOutcome)> = first
        .iter()
        .map(|p| (p.record.name.clone(), p.record.version, p.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("a".to_string(), 1, PutOutcome::Created),
            ("a".into(), 2, PutOutcome::Created),
            ("a".into(), 3, PutOutcome::Created),
            ("b".into(), 1, PutOutcome::Created),
        ]
    );
    let a = expect(store.template_versions("a").await, "versions");
    assert_eq!(numbers(&a), [1, 2, 3]);
    assert_eq!(a[2].note.as_deref(), Some("note 3"));
    assert_eq!(a[2].created_at, Timestamp(10_002));
    assert_eq!(a[1].content, "2");
    assert_eq!(
        expect(store.template("b", None).await, "b"),
        Some(first[3].record.clone())
    );

    let again = expect(
        store.import_templates(&doc, OnConflict::Fail).await,
        "again",
    );
    assert!(again.iter().all(|p| p.outcome == PutOutcome::Unchanged));
    assert_eq!(
        again.iter().map(|p| p.record.clone()).collect::<Vec<_>>(),
        first.iter().map(|p| p.record.clone()).collect::<Vec<_>>()
    );

    let mut more = history("a", &["1", "2", "1", "4"]);
    more.extend(history("c", &["new"]));
    let grown = expect(
        store.import_templates(&more, OnConflict::NewVersion).await,
        "grown",
    );
    let got: Vec<(u32, PutOutcome)> = grown
        .iter()
        .map(|p| (p.record.version, p.outcome))
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
        expect(store.template("a", None).await, "latest").map(|r| r.note),
        Some(Some("note 4".to_string()))
    );
}

/// A strict import that meets new content for a stored template fails as a conflict
/// and writes nothing, not even the templates that were fine.
pub async fn strict_import_writes_nothing(store: &dyn Store) {
    expect(store.put_template(&template("a", "1", None)).await, "a");
    let doc = [
        template("fresh", "f", None),
        template("a", "1", None),
        template("a", "2", None),
    ];
    match store.import_templates(&doc, OnConflict::Fail).await {
        Err(Error::Conflict(m)) => assert!(m.contains("template `a`"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(expect(store.template("fresh", None).await, "fresh"), None);
    assert_eq!(
        numbers(&expect(store.template_versions("a").await, "a")),
        [1]
    );
    let done = expect(
        store.import_templates(&doc, OnConflict::NewVersion).await,
        "lenient",
    );
    assert_eq!(
        done.iter().map(|p| p.outcome).collect::<Vec<_>>(),
        [
            PutOutcome::Created,
            PutOutcome::Unchanged,
            PutOutcome::Created
        ]
    );
}
