//! `PostgresStore` on a real server: the shared storage suite, then what only a store
//! on a database server has to show (failing to connect clearly, migrations that run
//! once however many nodes start, two nodes writing the same rows at once).
//!
//! Each test has its own database, `harmonia_test_<random hex>`, made through the admin
//! URL in `HARMONIA_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! with an ICU `en-US` default collation where the server has ICU (so that bytewise
//! order comes from the schema, not the server), and dropped, with whatever sessions are left on it, when the test's store is dropped
//! (see [`TestDb`]). A server that cannot be reached fails the test, saying so: these
//! tests never pass by skipping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use harmonia_storage::json::RawJson;
use harmonia_storage::prelude::*;
use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, IdempotencyRecord,
    NewWorkflowVersion, Received, Store, Timestamp, WorkflowId,
};
use harmonia_storage_sql::{PostgresOptions, PostgresStore};
use serde_json::json;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

/// The admin URL the tests make their databases through.
fn admin_url() -> String {
    std::env::var("HARMONIA_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database replaced by `database` (its query kept).
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{database}{query}")
}

/// A database of its own for one test, dropped (with `WITH (FORCE)`, which ends the
/// sessions still on it) when this is dropped.
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn new() -> TestDb {
        let admin = admin_url();
        let mut conn = admin_connection(&admin).await;
        let name = format!("harmonia_test_{}", uuid::Uuid::now_v7().simple());
        // A locale whose order is not bytewise ('a' < 'B'), where the server has one:
        // listings and cursors must order bytewise all the same, by the schema's
        // `COLLATE "C"`, whatever the database's default.
        let icu = format!(
            "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        );
        if let Err(e) = sqlx::query(AssertSqlSafe(icu)).execute(&mut conn).await {
            eprintln!("no ICU locale on the test server ({e}); the server's default it is");
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        }
        let _ = conn.close().await;
        let url = with_database(&admin, &name);
        TestDb { admin, name, url }
    }
}

/// A connection to the admin database, or a failed test that says how to get one.
async fn admin_connection(admin: &str) -> PgConnection {
    let connect = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(admin));
    match connect.await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "cannot connect to the PostgreSQL server for the tests ({e}): start PostgreSQL, \
             or set HARMONIA_TEST_PG_URL to the URL of a database on a server where this \
             user may create databases"
        ),
        Err(_) => panic!(
            "the PostgreSQL server for the tests did not answer within 10 s: start \
             PostgreSQL, or set HARMONIA_TEST_PG_URL to the URL of a database on a server \
             where this user may create databases"
        ),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of
        // its own, with a runtime of its own, drops the database, and is waited for so
        // that no database outlives the test.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("dropping test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping test database {}: the thread panicked", self.name),
        }
    }
}

/// A store on a fresh database, which is dropped after the store (fields drop in
/// order).
struct TestStore {
    store: PostgresStore,
    db: TestDb,
}

impl TestStore {
    async fn new() -> TestStore {
        let db = TestDb::new().await;
        let store = PostgresStore::connect(&db.url, PostgresOptions::default())
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", db.name));
        TestStore { store, db }
    }
}

impl std::ops::Deref for TestStore {
    type Target = PostgresStore;
    fn deref(&self) -> &PostgresStore {
        &self.store
    }
}

impl harmonia_storage::suite::SuiteStore for TestStore {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

harmonia_storage::storage_suite!(TestStore::new());

fn execution(id: ExecutionId, fence: u64, owner: &str) -> ExecutionRecord {
    ExecutionRecord {
        id,
        workflow_id: WorkflowId(uuid::Uuid::from_u128(1)),
        workflow: "w".into(),
        version: 1,
        status: ExecutionStatus::Running,
        inputs: json!({"n": 1}).into(),
        outputs: None,
        error: None,
        parent: None,
        retry_of: None,
        origin: None,
        created_at: Timestamp(1),
        started_at: None,
        ended_at: None,
        updated_at: Timestamp(1),
        owner: Some(owner.into()),
        fence,
        parked: false,
    }
}

fn event(execution: ExecutionId, seq: u64, by: &str) -> EventRecord {
    EventRecord {
        execution,
        seq,
        at: Timestamp(1_000 + seq as i64),
        kind: "attempt_succeeded".into(),
        data: RawJson::from(&json!({"task": "t", "by": by})),
    }
}

/// Every error in the chain of `e`, as text.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(" / ");
        out.push_str(&s.to_string());
        out.push_str(&format!(" {s:?}"));
        source = s.source();
    }
    out
}

#[tokio::test]
async fn an_unreachable_server_fails_fast_naming_it_without_the_password() {
    let started = Instant::now();
    let e = PostgresStore::connect(
        "postgres://harmonia:hunter2-s3cret@127.0.0.1:1/harmonia",
        PostgresOptions::default(),
    )
    .await
    .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = e.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.contains("could not reach"), "{message}");
    let all = format!("{} {e:?}", chain(&e));
    assert!(!all.contains("hunter2-s3cret"), "{all}");
}

#[tokio::test]
async fn a_server_that_does_not_answer_fails_within_the_connect_timeout() {
    // A listener that accepts and never speaks.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let e = PostgresStore::connect(
        &format!("postgres://u:pw-secret@127.0.0.1:{port}/d?sslmode=disable"),
        PostgresOptions {
            connect_timeout: Duration::from_millis(300),
            ..PostgresOptions::default()
        },
    )
    .await
    .expect_err("the server never answers");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = e.to_string();
    assert!(
        message.contains(&format!("127.0.0.1:{port}")) && message.contains("no answer"),
        "{message}"
    );
    assert!(!format!("{} {e:?}", chain(&e)).contains("pw-secret"));
    hold.abort();
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let missing = format!("harmonia_test_missing_{}", uuid::Uuid::now_v7().simple());
    let e = PostgresStore::connect(
        &with_database(&admin_url(), &missing),
        PostgresOptions::default(),
    )
    .await
    .expect_err("the database does not exist");
    let message = e.to_string();
    assert!(
        message.contains(&missing) && message.contains("has no database"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_url_is_refused_without_its_password() {
    let e = PostgresStore::connect(
        "postgres://u:pw-secret@127.0.0.1:5432/d?sslmode=sometimes",
        PostgresOptions::default(),
    )
    .await
    .expect_err("not a valid ssl mode");
    let message = e.to_string();
    assert!(message.contains("invalid PostgreSQL URL"), "{message}");
    assert!(!format!("{} {e:?}", chain(&e)).contains("pw-secret"));
}

/// Nodes starting at once on a new database, then again: the schema is made once,
/// and each migration is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_however_many_connect() {
    let db = TestDb::new().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&db.url, PostgresOptions::default()),
        PostgresStore::connect(&db.url, PostgresOptions::default()),
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    let id = ExecutionId::new();
    a.commit(&CommitBatch {
        events: vec![event(id, 1, "a")],
        executions: vec![execution(id, 1, "a")],
        ..CommitBatch::default()
    })
    .await
    .expect("commit");
    a.close().await;
    b.close().await;
    let again = PostgresStore::connect(&db.url, PostgresOptions::default())
        .await
        .expect("again");
    assert_eq!(again.events(id).await.expect("events").len(), 1);
    again.close().await;

    let mut conn = PgConnection::connect(&db.url).await.expect("connect");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("migrations")
        .count() as i64;
    assert_eq!(applied, files, "each migration ran once");
    let _ = conn.close().await;
}

/// Two stores on one database (two nodes) taking over the same execution at once,
/// each commit conditioned on the fence it read: exactly one lands, the others are
/// reported fenced and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_conditional_commits_on_two_stores_land_once() {
    let test = TestStore::new().await;
    let other = Arc::new(
        PostgresStore::connect(&test.db.url, PostgresOptions::default())
            .await
            .expect("second store"),
    );
    let id = ExecutionId::new();
    test.commit(&CommitBatch {
        events: vec![event(id, 1, "start")],
        executions: vec![execution(id, 1, "start")],
        ..CommitBatch::default()
    })
    .await
    .expect("first commit");

    let stores: [Arc<PostgresStore>; 2] = [
        Arc::new(
            PostgresStore::connect(&test.db.url, PostgresOptions::default())
                .await
                .expect("first store"),
        ),
        other,
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        tasks.spawn(async move {
            let node = format!("node-{i}");
            let batch = CommitBatch {
                events: vec![event(id, 2, &node)],
                executions: vec![execution(id, 2, &node)],
                fences: vec![(id, 1)],
                ..CommitBatch::default()
            };
            (node, store.commit(&batch).await)
        });
    }
    let mut landed = Vec::new();
    let mut fenced = 0;
    while let Some(r) = tasks.join_next().await {
        let (node, report) = r.expect("task");
        let report = report.unwrap_or_else(|e| panic!("{node}: {e}"));
        assert!(report.duplicates.is_empty());
        match report.fenced.as_slice() {
            [] => landed.push(node),
            [x] if *x == id => fenced += 1,
            more => panic!("{more:?}"),
        }
    }
    assert_eq!(landed.len(), 1, "{landed:?}");
    assert_eq!(fenced, 15);
    let stored = test.execution(id).await.expect("read").expect("a row");
    assert_eq!(stored.owner.as_deref(), Some(landed[0].as_str()));
    assert_eq!(stored.fence, 2);
    let events = test.events(id).await.expect("events");
    assert_eq!(
        events,
        vec![event(id, 1, "start"), event(id, 2, &landed[0])]
    );
    for store in stores {
        store.close().await;
    }
    test.close().await;
}

/// Two stores on one database starting executions with the same idempotency key at
/// once: exactly one start lands, every other is a duplicate of it and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_keys_on_two_stores_land_once() {
    let test = TestStore::new().await;
    let stores = two_stores(&test).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        tasks.spawn(async move {
            let id = ExecutionId::new();
            let batch = CommitBatch {
                events: vec![event(id, 1, "start")],
                executions: vec![execution(id, 1, "n")],
                idempotency: vec![IdempotencyRecord {
                    scope: "wf".into(),
                    key: "k".into(),
                    body_hash: "h".into(),
                    execution: id,
                    created_at: Timestamp(10),
                    expires_at: Timestamp(1_000),
                }],
                ..CommitBatch::default()
            };
            (id, store.commit(&batch).await)
        });
    }
    let mut landed = Vec::new();
    let mut refused = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (id, report) = r.expect("task");
        let report = report.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(report.fenced.is_empty());
        match report.duplicates.as_slice() {
            [] => landed.push(id),
            [(dup, holder)] => {
                assert_eq!(*dup, id);
                refused.push((id, holder.execution));
            }
            more => panic!("{more:?}"),
        }
    }
    assert_eq!(landed.len(), 1, "{landed:?}");
    assert_eq!(refused.len(), 15);
    for (id, holder) in refused {
        assert_eq!(holder, landed[0]);
        assert!(test.events(id).await.expect("events").is_empty());
        assert_eq!(test.execution(id).await.expect("execution"), None);
    }
    for store in stores {
        store.close().await;
    }
    test.close().await;
}

/// Two stores on one database storing versions of one workflow at once: every put is
/// a new version, numbered once, with no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_catalog_puts_on_two_stores_number_versions_once() {
    let test = TestStore::new().await;
    let stores = two_stores(&test).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        tasks.spawn(async move {
            store
                .put_workflow(&NewWorkflowVersion {
                    name: "race".into(),
                    description: None,
                    source: format!("name: race\n# {i}"),
                    format: "yaml".into(),
                    created_at: Timestamp(i as i64),
                })
                .await
        });
    }
    let mut versions = Vec::new();
    let mut ids = std::collections::HashSet::new();
    while let Some(r) = tasks.join_next().await {
        let record = r.expect("task").expect("put");
        ids.insert(record.id);
        versions.push(record.version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=16).collect::<Vec<u32>>());
    assert_eq!(ids.len(), 1, "one id per name");
    let stored = test.workflow_versions("race").await.expect("versions");
    assert_eq!(
        stored.iter().map(|r| r.version).collect::<Vec<_>>(),
        (1..=16).collect::<Vec<u32>>()
    );
    for store in stores {
        store.close().await;
    }
    test.close().await;
}

/// The same event received through two stores at once: one receipt is new.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_receipts_on_two_stores_make_one_new_event() {
    let test = TestStore::new().await;
    let other = Arc::new(
        PostgresStore::connect(&test.db.url, PostgresOptions::default())
            .await
            .expect("second store"),
    );
    let first = Arc::new(
        PostgresStore::connect(&test.db.url, PostgresOptions::default())
            .await
            .expect("first store"),
    );
    let stores = [first, other];
    let event = RawJson::from(&json!({"id": "e", "source": "/s", "type": "t"}));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let store = stores[i % 2].clone();
        let event = event.clone();
        tasks.spawn(async move {
            store
                .receive("/s", "e", "t", &event, Timestamp(i as i64))
                .await
        });
    }
    let mut new = Vec::new();
    let mut duplicates = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r.expect("task").expect("receive") {
            Received::New(e) => new.push(e),
            Received::Duplicate(e) => duplicates.push(e),
        }
    }
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(duplicates.len(), 31);
    assert!(duplicates.iter().all(|e| *e == new[0]));
    for store in stores {
        store.close().await;
    }
    test.close().await;
}

/// JSON text comes back byte for byte (the columns are text, not `jsonb`), and the
/// database knows its size.
#[tokio::test]
async fn json_text_reads_back_exactly_and_the_size_is_known() {
    let test = TestStore::new().await;
    let id = ExecutionId::new();
    let data = RawJson::parse(r#"{"z":1,"a":[1.50,"\u00e9"],"m":{"y":null,"b":2}}"#.to_owned())
        .expect("valid JSON");
    let e = EventRecord {
        execution: id,
        seq: 1,
        at: Timestamp(1),
        kind: "k".into(),
        data,
    };
    test.commit(&CommitBatch {
        events: vec![e.clone()],
        ..CommitBatch::default()
    })
    .await
    .expect("commit");
    assert_eq!(test.events(id).await.expect("events"), vec![e]);
    let size = test.database_size().await.expect("size");
    assert!(size.is_some_and(|n| n > 0), "{size:?}");
    test.close().await;
}

/// Two more stores (two pools, as two nodes have) on the test's database.
async fn two_stores(test: &TestStore) -> [Arc<PostgresStore>; 2] {
    let connect = || PostgresStore::connect(&test.db.url, PostgresOptions::default());
    [
        Arc::new(connect().await.expect("first store")),
        Arc::new(connect().await.expect("second store")),
    ]
}
