//! `SqliteStore` on real files: the shared storage suite, then what only a durable
//! store has to show (reopening, a killed writer, WAL mode, corrupt rows).
//!
//! Each test has its own database in a temporary directory that lives as long as the
//! store (see [`TestStore`]). The crash test runs this very binary again as a child
//! process (the ignored test `child_commits_until_killed`) and kills it with SIGKILL.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use harmonia_storage::json::RawJson;
use harmonia_storage::prelude::*;
use harmonia_storage::{
    CommitBatch, Error, EventRecord, ExecutionId, ExecutionQuery, ExecutionRecord, ExecutionStatus,
    IdempotencyRecord, NewTemplateVersion, NewWorkflowVersion, OnConflict, ParentLink, PutOutcome,
    Received, Store, TaskRunRecord, TaskStatus, TemplateQuery, TimerRecord, Timestamp, WorkflowId,
};
use harmonia_storage_sql::{SqliteOptions, SqliteStore, Synchronous};
use serde_json::json;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tempfile::TempDir;

/// A store on a fresh file, and the directory holding it, removed after the store
/// (fields drop in order).
struct TestStore {
    store: SqliteStore,
    dir: TempDir,
}

impl TestStore {
    async fn new() -> TestStore {
        TestStore::with(SqliteOptions::default()).await
    }

    async fn with(options: SqliteOptions) -> TestStore {
        let dir = TempDir::new().expect("a temporary directory");
        let store = SqliteStore::open(&db_path(&dir), options)
            .await
            .expect("open");
        TestStore { store, dir }
    }
}

impl std::ops::Deref for TestStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

impl harmonia_storage::suite::SuiteStore for TestStore {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("harmonia.db")
}

harmonia_storage::storage_suite!(TestStore::new());

/// The whole suite again with no reader connections, as a local run opens the store:
/// reads take the writer's one connection in turn with the writes, and none of them
/// may wait for the other (a deadlock would fail here by the pool's timeout).
mod reads_on_the_writer {
    use super::*;

    harmonia_storage::storage_suite!(TestStore::with(SqliteOptions {
        readers: 0,
        acquire_timeout: Duration::from_secs(5),
        ..SqliteOptions::default()
    }));
}

fn event(execution: ExecutionId, seq: u64) -> EventRecord {
    EventRecord {
        execution,
        seq,
        at: Timestamp(1_000 + seq as i64),
        kind: "attempt_succeeded".into(),
        data: harmonia_storage::json::RawJson::from(
            &json!({"task": "fan", "item": seq, "output": {"n": seq}}),
        ),
    }
}

fn execution(id: ExecutionId, status: ExecutionStatus) -> ExecutionRecord {
    ExecutionRecord {
        id,
        workflow_id: WorkflowId(uuid::Uuid::from_u128(1)),
        workflow: "w".into(),
        version: 1,
        status,
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
        owner: None,
        fence: 1,
        parked: false,
    }
}

fn task_run(execution: ExecutionId, item: Option<u32>) -> TaskRunRecord {
    TaskRunRecord {
        execution,
        task: "fan".into(),
        item,
        status: TaskStatus::Succeeded,
        attempts: 1,
        output: Some(json!({"n": item})),
        error: None,
        skip_reason: None,
        started_at: Some(Timestamp(2)),
        ended_at: Some(Timestamp(3)),
        wait: None,
        wait_for: None,
        wait_key: None,
    }
}

/// One execution's batch: its row, `events` events and `tasks` fan-out item rows.
fn batch(id: ExecutionId, events: u64, tasks: u32) -> CommitBatch {
    CommitBatch {
        events: (1..=events).map(|s| event(id, s)).collect(),
        executions: vec![execution(id, ExecutionStatus::Running)],
        task_runs: (0..tasks).map(|i| task_run(id, Some(i))).collect(),
        ..CommitBatch::default()
    }
}

/// The `n`th step of a sequential workflow after [`batch`]`(id, 1, 1)`: the step's result
/// and the next one's start, as the engine commits it.
fn step(id: ExecutionId, n: u64) -> CommitBatch {
    CommitBatch {
        events: (0..3).map(|k| event(id, 2 + n * 3 + k)).collect(),
        executions: vec![execution(id, ExecutionStatus::Running)],
        task_runs: vec![
            task_run(id, Some(n as u32)),
            task_run(id, Some(n as u32 + 1)),
        ],
        fences: vec![(id, 1)],
        ..CommitBatch::default()
    }
}

/// A raw connection to the file, for what the `Store` API does not show.
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(false),
    )
    .await
    .expect("raw connection")
}

#[tokio::test]
async fn reopening_keeps_everything_and_migrations_run_once() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let id = ExecutionId::new();
    let mut x = execution(id, ExecutionStatus::Paused);
    x.parent = Some(ParentLink {
        execution: ExecutionId::new(),
        task: "sub".into(),
        item: None,
    });
    x.retry_of = Some(ExecutionId::new());
    x.origin = Some(harmonia_storage::Origin::by(
        harmonia_storage::OriginKind::Webhook,
        "etl.1",
    ));
    x.outputs = Some(json!(null));
    let mut b = batch(id, 3, 2);
    b.executions = vec![x.clone()];
    b.task_runs.push(task_run(id, None));
    let workflow = NewWorkflowVersion {
        name: "etl".into(),
        description: None,
        source: "name: etl".into(),
        format: "yaml".into(),
        created_at: Timestamp(5),
    };

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    store.commit(&b).await.unwrap();
    let v1 = store.put_workflow(&workflow).await.unwrap();
    store.close().await;

    for _ in 0..2 {
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert_eq!(store.events(id).await.unwrap(), b.events);
        assert_eq!(store.execution(id).await.unwrap(), Some(x.clone()));
        assert_eq!(store.task_runs(id).await.unwrap().len(), 3);
        assert_eq!(store.unfinished().await.unwrap(), vec![x.clone()]);
        assert_eq!(store.workflow("etl", None).await.unwrap(), Some(v1.clone()));
        // Identical source after a reopen: still version 1, same id.
        assert_eq!(store.put_workflow(&workflow).await.unwrap(), v1);
        store.close().await;
        // The last connection out checkpointed everything and removed the WAL.
        assert!(!dir.path().join("harmonia.db-wal").exists());
    }

    let mut conn = raw(&path).await;
    let migrations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count() as i64;
    assert_eq!(migrations, files, "each migration ran once");
}

/// The schema and the migrator's rows in the file, as text, in a stable order.
async fn schema_of(path: &Path) -> Vec<String> {
    let mut conn = raw(path).await;
    let mut out: Vec<String> = sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("reads the schema")
    .into_iter()
    .map(|(t, n, sql)| format!("{t} {n}: {}", sql.unwrap_or_default()))
    .collect();
    let applied: Vec<(i64, String, bool, Vec<u8>)> = sqlx::query_as(
        "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .expect("reads the schema");
    out.extend(applied.into_iter().map(|m| format!("{m:?}")));
    out
}

/// A new file gets its schema in one transaction; an existing empty file goes through
/// the migrator step by step. Both end the same, and the migrator finds nothing to do
/// on reopening the first.
#[tokio::test]
async fn a_new_file_gets_the_schema_the_migrations_make() {
    let dir = TempDir::new().unwrap();
    let fresh = dir.path().join("fresh.db");
    let stepwise = dir.path().join("stepwise.db");
    std::fs::File::create(&stepwise).unwrap();
    for path in [&fresh, &stepwise] {
        let store = SqliteStore::open(path, SqliteOptions::default())
            .await
            .unwrap();
        store
            .commit(&batch(ExecutionId::new(), 2, 1))
            .await
            .unwrap();
        store.close().await;
    }
    // Made in one transaction (the rows say 0 ns; the migrator writes what each took).
    let mut conn = raw(&fresh).await;
    let timed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE execution_time <> 0")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(timed, 0, "the new file's schema was made step by step");
    drop(conn);
    let made = schema_of(&fresh).await;
    assert!(
        made.iter().any(|l| l.starts_with("table events:")),
        "{made:#?}"
    );
    assert_eq!(made, schema_of(&stepwise).await);
    let store = SqliteStore::open(&fresh, SqliteOptions::default())
        .await
        .unwrap();
    store.close().await;
    assert_eq!(schema_of(&fresh).await, made);
}

/// A new file is the schema image: its record of the migrations is dated when it was
/// made, not when the image was built.
#[tokio::test]
async fn a_new_file_records_when_its_migrations_were_installed() {
    let store = TestStore::new().await;
    let mut conn = raw(&db_path(&store.dir)).await;
    let dated: Vec<(String, i64)> = sqlx::query_as(
        "SELECT installed_on, CAST(strftime('%s', 'now') - strftime('%s', installed_on) AS INTEGER) FROM _sqlx_migrations",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(!dated.is_empty());
    for (on, age) in dated {
        assert!((0..60).contains(&age), "installed on {on}, {age} s ago");
    }
}

/// Many stores opening one new path at once (as several processes would): one makes
/// the file, every one opens it, the data of each is there, and no temporary file is
/// left beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_opening_one_new_path_at_once_share_one_file() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let path = path.clone();
        opening.spawn(async move {
            let store = SqliteStore::open(&path, SqliteOptions::default())
                .await
                .expect("open");
            let id = ExecutionId::new();
            store.commit(&batch(id, 2, 1)).await.expect("commit");
            store.close().await;
            id
        });
    }
    let mut ids = Vec::new();
    while let Some(id) = opening.join_next().await {
        ids.push(id.unwrap());
    }
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    for id in ids {
        assert_eq!(store.events(id).await.unwrap().len(), 2, "{id}");
    }
    store.close().await;
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("harmonia.db")),
        "{names:?}"
    );
}

/// The log's commits (its writer thread) and the writer connection's writes (tokens
/// here), many at once from several threads: the write gate orders them, and every
/// one lands once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn log_commits_and_other_writes_at_once_all_land() {
    let store = std::sync::Arc::new(TestStore::new().await);
    let mut writes = tokio::task::JoinSet::new();
    let mut ids = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        if i % 2 == 0 {
            let id = ExecutionId::new();
            ids.push(id);
            writes.spawn(async move { store.commit(&batch(id, 3, 1)).await.map(|_| ()) });
        } else {
            writes.spawn(async move {
                store
                    .put_token(&harmonia_storage::TokenRecord {
                        id: format!("t{i}"),
                        name: format!("token {i}"),
                        role: "admin".into(),
                        hash: format!("h{i}"),
                        created_at: Timestamp(i),
                    })
                    .await
            });
        }
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap().unwrap();
    }
    for id in ids {
        assert_eq!(store.events(id).await.unwrap().len(), 3, "{id}");
    }
    assert_eq!(store.tokens().await.unwrap().len(), 30);
}

#[tokio::test]
async fn the_file_is_in_wal_mode() {
    let store = TestStore::new().await;
    let mut conn = raw(&db_path(&store.dir)).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(store.dir.path().join("harmonia.db-wal").exists());
}

/// A file that was there in rollback-journal mode (made by another program) opens
/// with its connections side by side, gets the schema, and ends in WAL mode, its own
/// table untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_existing_file_in_rollback_mode_opens_and_turns_to_wal() {
    for round in 0..5 {
        let dir = TempDir::new().unwrap();
        let path = db_path(&dir);
        let mut conn = SqliteConnection::connect_with(
            &SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete),
        )
        .await
        .unwrap();
        sqlx::query("CREATE TABLE theirs (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();

        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let id = ExecutionId::new();
        store.commit(&batch(id, 2, 1)).await.unwrap();
        assert_eq!(store.events(id).await.unwrap().len(), 2, "round {round}");
        store.close().await;

        let mut conn = raw(&path).await;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal", "round {round}");
        let theirs: i64 = sqlx::query_scalar("SELECT count(*) FROM theirs")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(theirs, 0);
    }
}

#[tokio::test]
async fn commits_are_checkpointed_in_the_background() {
    let store = TestStore::new().await;
    let db = db_path(&store.dir);
    let empty = std::fs::metadata(&db).unwrap().len();
    store
        .commit(&batch(ExecutionId::new(), 10_000, 1_000))
        .await
        .unwrap();
    // The commit went to the WAL; the checkpointer copies it into the file soon after.
    let mut waited = Duration::ZERO;
    while std::fs::metadata(&db).unwrap().len() < empty + 1_000_000 {
        assert!(
            waited < Duration::from_secs(10),
            "no checkpoint after {waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
}

/// Closing copies the WAL into the database file itself, on the log writer's
/// connection, not only in the checkpoint SQLite makes when the last connection to the
/// file closes: with another process's connection still open (a command reading the
/// same file), the file alone holds what was committed once the store has closed.
#[tokio::test]
async fn closing_copies_the_wal_into_the_file_with_another_connection_open() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let mut other = raw(&path).await;
    // It has read the file: it holds it open in WAL mode as another process would.
    sqlx::query("SELECT count(*) FROM events")
        .fetch_one(&mut other)
        .await
        .unwrap();
    let id = ExecutionId::new();
    store.commit(&batch(id, 3, 2)).await.unwrap();
    store.close().await;
    // The file as it is, without its WAL.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    drop(other);
    let alone = SqliteStore::open(&copy, SqliteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        alone.events(id).await.unwrap().len(),
        3,
        "the closed store left its commits in the WAL"
    );
}

/// Commits back to back, as a busy node makes them, never leave the background
/// checkpointer a moment when the whole WAL is copied, and SQLite starts the WAL over
/// only then: without checkpoints of the log writer's own, the `-wal` file grew by
/// every commit (63 MB after 2,000 small ones) until the commits paused.
#[tokio::test]
async fn the_wal_stays_small_under_commits_back_to_back() {
    let store = TestStore::new().await;
    let id = ExecutionId::new();
    store.commit(&batch(id, 1, 1)).await.unwrap();
    for n in 0..2_000_u64 {
        store.commit(&step(id, n)).await.unwrap();
    }
    let wal = std::fs::metadata(store.dir.path().join("harmonia.db-wal"))
        .unwrap()
        .len();
    // 2,000 commits of about 7 pages each would be 58 MB of WAL.
    assert!(wal < 8 << 20, "the WAL holds {wal} bytes");
    assert_eq!(store.events(id).await.unwrap().len(), 6_001);
}

/// A raw connection holding a read snapshot: while it lives, the WAL cannot start over,
/// so its frames are all the commits made meanwhile.
async fn holding_a_snapshot(path: &Path) -> SqliteConnection {
    let mut reader = raw(path).await;
    sqlx::query("BEGIN")
        .execute(&mut reader)
        .await
        .expect("BEGIN");
    sqlx::query("SELECT count(*) FROM events")
        .execute(&mut reader)
        .await
        .expect("a read");
    reader
}

/// That a `-wal` file of `wal` bytes has room past the frames SQLite counts in the WAL
/// of the database at `db` (a frame: a 24-byte header and a 4 KiB page).
async fn assert_room_past_the_frames(db: &Path, wal: u64) {
    let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut raw(db).await)
        .await
        .expect("the WAL's frames");
    assert!(frames > 40, "the WAL holds {frames} frames");
    assert!(
        wal >= 32 + (frames as u64 + 8) * (4096 + 24),
        "the WAL file is {wal} bytes for {frames} frames: no room made past them"
    );
}

/// Once its connection commits steadily, the log writer writes zeros past the WAL's
/// end, so that the next commits write over blocks the file has rather than grow it
/// (with `fsync`, a commit that grows the file also flushes its new size). Before, the
/// `-wal` file was exactly as long as its frames. What lies past the last frame must not change what a
/// crash leaves: a copy of the database and its WAL taken between commits (what a
/// `kill -9` leaves: SQLite rebuilds its index of the WAL from the file) holds every
/// commit.
#[tokio::test]
async fn room_is_made_in_the_wal_and_a_crash_image_keeps_every_commit() {
    let store = TestStore::new().await;
    let path = db_path(&store.dir);
    let id = ExecutionId::new();
    store.commit(&batch(id, 1, 1)).await.unwrap();
    let reader = holding_a_snapshot(&path).await;
    for n in 0..40_u64 {
        store.commit(&step(id, n)).await.unwrap();
    }
    let copy = TempDir::new().unwrap();
    let copied = db_path(&copy);
    std::fs::copy(&path, &copied).unwrap();
    let wal = std::fs::copy(
        store.dir.path().join("harmonia.db-wal"),
        copy.path().join("harmonia.db-wal"),
    )
    .unwrap();
    assert_room_past_the_frames(&path, wal).await;
    drop(reader);
    let recovered = SqliteStore::open(&copied, SqliteOptions::default())
        .await
        .unwrap();
    assert_eq!(recovered.events(id).await.unwrap().len(), 1 + 40 * 3);
    recovered.close().await;
}

/// A database opened through a symbolic link: SQLite keeps its WAL beside the file the
/// link names, and room is made there, not in a file of that name beside the link.
#[tokio::test]
async fn room_is_made_in_the_wal_of_a_database_opened_through_a_link() {
    let dir = TempDir::new().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let target = real.join("harmonia.db");
    SqliteStore::open(&target, SqliteOptions::default())
        .await
        .unwrap()
        .close()
        .await;
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let store = SqliteStore::open(&link, SqliteOptions::default())
        .await
        .unwrap();
    let id = ExecutionId::new();
    store.commit(&batch(id, 1, 1)).await.unwrap();
    let reader = holding_a_snapshot(&target).await;
    for n in 0..40 {
        store.commit(&step(id, n)).await.unwrap();
    }
    let wal = std::fs::metadata(real.join("harmonia.db-wal"))
        .unwrap()
        .len();
    assert_room_past_the_frames(&target, wal).await;
    assert!(!dir.path().join("link.db-wal").exists());
    drop(reader);
    store.close().await;
}

/// Two stores on one file (two processes on one database, as a command beside a
/// server), each making room in the WAL as its commits need, their commits racing:
/// room is made only past the file's end and under SQLite's write lock, so neither
/// writes zeros over the other's frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_making_room_in_one_wal_lose_nothing() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let first = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let second = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let steps = |store: SqliteStore| async move {
        let id = ExecutionId::new();
        store.commit(&batch(id, 1, 1)).await.unwrap();
        for n in 0..150 {
            store.commit(&step(id, n)).await.unwrap();
        }
        (store, id)
    };
    let (first, second) = tokio::join!(tokio::spawn(steps(first)), tokio::spawn(steps(second)));
    let (first, a) = first.unwrap();
    let (second, b) = second.unwrap();
    let mut check = raw(&path).await;
    let (ok,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut check)
        .await
        .unwrap();
    assert_eq!(ok, "ok");
    drop(check);
    for (store, id) in [(&first, a), (&second, b)] {
        assert_eq!(store.events(id).await.unwrap().len(), 1 + 150 * 3);
    }
    first.close().await;
    second.close().await;
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    for id in [a, b] {
        assert_eq!(store.events(id).await.unwrap().len(), 1 + 150 * 3);
    }
    store.close().await;
}

/// Big batches are encoded and decoded with `block_in_place` on this runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_batches_on_a_multi_threaded_runtime() {
    let store = TestStore::new().await;
    let id = ExecutionId::new();
    let b = batch(id, 30_000, 15_000);
    store.commit(&b).await.unwrap();
    assert_eq!(store.events(id).await.unwrap(), b.events);
    assert_eq!(store.task_runs(id).await.unwrap().len(), 15_000);
}

#[tokio::test]
async fn full_synchronous_mode_commits_too() {
    let store = TestStore::with(SqliteOptions {
        synchronous: Synchronous::Full,
        readers: 1,
        ..SqliteOptions::default()
    })
    .await;
    let id = ExecutionId::new();
    store.commit(&batch(id, 10, 10)).await.unwrap();
    assert_eq!(store.events(id).await.unwrap().len(), 10);
}

#[tokio::test]
async fn an_event_twice_in_one_batch_is_a_conflict_that_writes_nothing() {
    let store = TestStore::new().await;
    let id = ExecutionId::new();
    let mut b = batch(id, 3, 1);
    b.events.push(event(id, 2));
    let r = store.commit(&b).await;
    let Err(Error::Conflict(message)) = r else {
        panic!("expected a conflict, got {r:?}");
    };
    assert_eq!(
        message,
        format!("event 2 of execution {id} is in the batch twice")
    );
    assert!(store.events(id).await.unwrap().is_empty());
    assert_eq!(store.execution(id).await.unwrap(), None);
}

#[tokio::test]
async fn a_conflict_names_the_event_that_exists() {
    let store = TestStore::new().await;
    let id = ExecutionId::new();
    store.commit(&batch(id, 5, 0)).await.unwrap();
    // A second writer that believes the log ends at 3. Spans several statements.
    let other = ExecutionId::new();
    let mut b = batch(other, 5_000, 0);
    b.events.extend((4..=10).map(|s| event(id, s)));
    let r = store.commit(&b).await;
    let Err(Error::Conflict(message)) = r else {
        panic!("expected a conflict, got {r:?}");
    };
    assert_eq!(message, format!("event 4 of execution {id} already exists"));
    assert_eq!(store.events(id).await.unwrap().len(), 5);
    assert!(store.events(other).await.unwrap().is_empty());
    // The writer is usable again.
    store.commit(&batch(other, 1, 1)).await.unwrap();
}

#[tokio::test]
async fn rows_repeated_in_a_batch_keep_the_last() {
    let store = TestStore::new().await;
    let id = ExecutionId::new();
    let mut last = task_run(id, Some(7));
    last.attempts = 3;
    let mut done = execution(id, ExecutionStatus::Succeeded);
    done.ended_at = Some(Timestamp(9));
    let b = CommitBatch {
        events: vec![],
        executions: vec![execution(id, ExecutionStatus::Running), done.clone()],
        task_runs: vec![task_run(id, Some(7)), task_run(id, None), last.clone()],
        ..CommitBatch::default()
    };
    store.commit(&b).await.unwrap();
    assert_eq!(store.execution(id).await.unwrap(), Some(done));
    assert_eq!(
        store.task_runs(id).await.unwrap(),
        vec![task_run(id, None), last]
    );
}

#[tokio::test]
async fn listing_uses_the_cursor_with_filters() {
    let store = TestStore::new().await;
    let ids: Vec<ExecutionId> = (0..5).map(|_| ExecutionId::new()).collect();
    let b = CommitBatch {
        executions: ids
            .iter()
            .map(|id| execution(*id, ExecutionStatus::Failed))
            .collect(),
        ..CommitBatch::default()
    };
    store.commit(&b).await.unwrap();
    let page = store
        .executions(&ExecutionQuery {
            statuses: vec![ExecutionStatus::Failed],
            workflow: Some("w".into()),
            after: Some(ids[3]),
            limit: 2,
            ..ExecutionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
}

/// Writes `value` into `table.column` of every row, behind the store's back.
async fn spoil(path: &Path, table: &str, column: &str, value: &str) {
    let mut conn = raw(path).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET {column} = $1"
    )))
    .bind(value)
    .execute(&mut conn)
    .await
    .expect("spoil a column");
}

fn assert_corrupt<T: std::fmt::Debug>(r: Result<T, Error>, column: &str) {
    match r {
        Err(Error::Corrupt(message)) => {
            assert!(message.starts_with(&format!("{column}: ")), "{message}");
        }
        other => panic!("expected corrupt {column}, got {other:?}"),
    }
}

#[tokio::test]
async fn undecodable_rows_are_corrupt_and_say_where() {
    let store = TestStore::new().await;
    let path = db_path(&store.dir);
    let id = ExecutionId::new();
    store.commit(&batch(id, 1, 1)).await.unwrap();
    store
        .put_workflow(&NewWorkflowVersion {
            name: "w".into(),
            description: None,
            source: "s".into(),
            format: "yaml".into(),
            created_at: Timestamp(1),
        })
        .await
        .unwrap();

    spoil(&path, "events", "data", "{not json").await;
    assert_corrupt(store.events(id).await, "events.data");
    spoil(&path, "task_runs", "status", "done").await;
    assert_corrupt(store.task_runs(id).await, "task_runs.status");
    spoil(&path, "executions", "workflow_id", "not-a-uuid").await;
    assert_corrupt(store.execution(id).await, "executions.workflow_id");
    assert_corrupt(store.unfinished().await, "executions.workflow_id");
    spoil(&path, "executions", "version", "-1").await;
    spoil(
        &path,
        "executions",
        "workflow_id",
        &WorkflowId::new().to_string(),
    )
    .await;
    assert_corrupt(
        store.executions(&ExecutionQuery::default()).await,
        "executions.version",
    );
    spoil(&path, "workflows", "id", "x").await;
    spoil(&path, "workflow_versions", "workflow_id", "x").await;
    assert_corrupt(store.workflows().await, "workflows.id");
}

/// Templates survive a reopen (an import of the same versions is then a no-op), and a
/// template row that does not decode says which column is wrong.
#[tokio::test]
async fn templates_survive_a_reopen_and_bad_rows_say_where() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let version = |content: &str, note: &str| NewTemplateVersion {
        name: "greeter".into(),
        description: Some("Greets".into()),
        tags: vec!["demo".into(), "demo".into(), "x".into()],
        category: Some("examples".into()),
        note: Some(note.into()),
        content: content.into(),
        source: content.into(),
        format: "json".into(),
        created_at: Timestamp(42),
    };
    let doc = [version("{}", "first"), version("{\"a\":1}", "second")];
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let first = store
        .import_templates(&doc, OnConflict::Fail)
        .await
        .unwrap();
    store.close().await;

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let again = store
        .import_templates(&doc, OnConflict::Fail)
        .await
        .unwrap();
    assert!(again.iter().all(|p| p.outcome == PutOutcome::Unchanged));
    assert_eq!(again[1].record, first[1].record);
    // Repeated tags are stored once as rows, and kept as given in the record.
    let listed = store
        .templates(&TemplateQuery {
            tag: Some("demo".into()),
            ..TemplateQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![first[1].record.clone()]);

    spoil(&path, "template_versions", "tags", "{\"not\": \"a list\"}").await;
    assert_corrupt(
        store.template("greeter", None).await,
        "template_versions.tags",
    );
    spoil(&path, "templates", "id", "nope").await;
    spoil(&path, "template_versions", "template_id", "nope").await;
    spoil(&path, "template_versions", "tags", "[]").await;
    assert_corrupt(store.template_versions("greeter").await, "templates.id");
}

const CHILD_DB: &str = "HARMONIA_STORAGE_SQL_CHILD_DB";
const CHILD_EXECUTION: &str = "HARMONIA_STORAGE_SQL_CHILD_EXECUTION";
const COMMITTED: &str = "child: first batch committed";

/// The child half of `a_batch_survives_its_writer_being_killed`: commits one big batch,
/// says so on stdout, then commits more batches until it is killed.
#[tokio::test]
#[ignore = "run as a child process by a_batch_survives_its_writer_being_killed"]
async fn child_commits_until_killed() {
    let (Ok(path), Ok(id)) = (std::env::var(CHILD_DB), std::env::var(CHILD_EXECUTION)) else {
        return;
    };
    let store = SqliteStore::open(Path::new(&path), SqliteOptions::default())
        .await
        .unwrap();
    let id: ExecutionId = id.parse().unwrap();
    store.commit(&batch(id, 20_000, 10_000)).await.unwrap();
    println!("{COMMITTED}");
    loop {
        store
            .commit(&batch(ExecutionId::new(), 2_000, 1_000))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_batch_survives_its_writer_being_killed() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let id = ExecutionId::new();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_commits_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, &path)
        .env(CHILD_EXECUTION, id.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let said = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.ends_with(COMMITTED))
    });
    let said = tokio::time::timeout(Duration::from_secs(120), said).await;
    if !matches!(said, Ok(Ok(true))) {
        let _ = child.kill();
        panic!("the child did not commit: {said:?}");
    }
    // Let it get well into the batches that follow, then kill it mid-commit.
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let first = batch(id, 20_000, 10_000);
    assert_eq!(store.events(id).await.unwrap(), first.events);
    assert_eq!(store.task_runs(id).await.unwrap().len(), 10_000);
    assert_eq!(
        store.execution(id).await.unwrap().as_ref(),
        first.executions.first()
    );
    // Every later batch is there entirely or not at all.
    let all = store
        .executions(&ExecutionQuery {
            limit: 100_000,
            ..ExecutionQuery::default()
        })
        .await
        .unwrap();
    assert!(!all.is_empty());
    for x in all.iter().filter(|x| x.id != id) {
        assert_eq!(store.events(x.id).await.unwrap().len(), 2_000);
        assert_eq!(store.task_runs(x.id).await.unwrap().len(), 1_000);
    }
    let mut conn = raw(&path).await;
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE execution NOT IN (SELECT id FROM executions)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
}

/// The database and its WAL and shared-memory files are the owner's alone: they hold
/// token hashes, inputs and outputs.
#[tokio::test]
async fn the_files_are_created_for_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let store = TestStore::new().await;
    store
        .commit(&batch(ExecutionId::new(), 2, 1))
        .await
        .unwrap();
    for file in ["harmonia.db", "harmonia.db-wal", "harmonia.db-shm"] {
        let mode = std::fs::metadata(store.dir.path().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {:o}", mode & 0o777);
    }
}

/// Having had a token survives a reopen, and a database that held tokens before the
/// `settings` table existed is marked by its migration.
#[tokio::test]
async fn having_had_tokens_survives_reopening_and_upgrades() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let token = harmonia_storage::TokenRecord {
        id: "t1".into(),
        name: "admin".into(),
        role: "admin".into(),
        hash: "h1".into(),
        created_at: Timestamp(5),
    };
    store.put_token(&token).await.unwrap();
    store.delete_token("t1").await.unwrap();
    store.close().await;
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    assert!(store.had_tokens().await.unwrap(), "after a reopen");
    store.put_token(&token).await.unwrap();
    store.close().await;

    // The database as it was before migration 4, with a token in it.
    let mut conn = raw(&path).await;
    for sql in [
        "DROP TABLE settings",
        "DELETE FROM _sqlx_migrations WHERE version = 4",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    assert!(store.had_tokens().await.unwrap(), "marked by the migration");
    store.close().await;
}

/// Two stores on one file (two processes, as far as SQLite can tell) receiving the same
/// event at once, from many tasks on several threads: exactly one receipt is new.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_receipts_on_two_stores_of_one_file_make_one_new_event() {
    let dir = TempDir::new().unwrap();
    let mut stores = Vec::new();
    for _ in 0..2 {
        stores.push(std::sync::Arc::new(
            SqliteStore::open(&db_path(&dir), SqliteOptions::default())
                .await
                .unwrap(),
        ));
    }
    let event = RawJson::from(&json!({"id": "e", "source": "/s", "type": "t"}));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
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
        match r.unwrap().unwrap() {
            Received::New(e) => new.push(e),
            Received::Duplicate(e) => duplicates.push(e),
        }
    }
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(duplicates.len(), 63);
    assert!(duplicates.iter().all(|e| *e == new[0]));
    assert_eq!(stores[1].unrouted().await.unwrap(), new);
    for store in stores {
        store.close().await;
    }
}

/// Two stores on one file starting executions with the same idempotency key at once:
/// exactly one start lands, every other is reported a duplicate of it and writes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_with_one_key_on_two_stores_land_once() {
    let dir = TempDir::new().unwrap();
    let stores = [
        std::sync::Arc::new(
            SqliteStore::open(&db_path(&dir), SqliteOptions::default())
                .await
                .unwrap(),
        ),
        std::sync::Arc::new(
            SqliteStore::open(&db_path(&dir), SqliteOptions::default())
                .await
                .unwrap(),
        ),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        tasks.spawn(async move {
            let id = ExecutionId::new();
            let mut b = batch(id, 2, 1);
            b.idempotency.push(IdempotencyRecord {
                scope: "wf".into(),
                key: "k".into(),
                body_hash: "h".into(),
                execution: id,
                created_at: Timestamp(10),
                expires_at: Timestamp(1_000),
            });
            (id, store.commit(&b).await.unwrap())
        });
    }
    let mut landed = Vec::new();
    let mut refused = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (id, report) = r.unwrap();
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
    let store = &stores[0];
    for (id, holder) in refused {
        assert_eq!(holder, landed[0]);
        assert!(store.events(id).await.unwrap().is_empty());
        assert_eq!(store.execution(id).await.unwrap(), None);
    }
    assert_eq!(
        store
            .idempotency("wf", "k", Timestamp(10))
            .await
            .unwrap()
            .map(|r| r.execution),
        Some(landed[0])
    );
    for store in stores {
        store.close().await;
    }
}

/// A database from before migration 6 gets owners, fences (1 for every existing
/// execution), parked flags and waits, and the new tables.
#[tokio::test]
async fn executions_from_before_migration_6_get_fence_1() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let id = ExecutionId::new();
    let mut x = execution(id, ExecutionStatus::Running);
    x.fence = 9;
    x.owner = Some("n".into());
    x.parked = true;
    let mut b = batch(id, 1, 1);
    b.executions = vec![x.clone()];
    store.commit(&b).await.unwrap();
    store.close().await;

    // The database as it was before migration 6.
    let mut conn = raw(&path).await;
    for sql in [
        "DROP TABLE timers",
        "DROP TABLE inbox",
        "DROP TABLE idempotency",
        "DROP INDEX task_runs_by_wait",
        "ALTER TABLE task_runs DROP COLUMN wait",
        "ALTER TABLE task_runs DROP COLUMN wait_for",
        "ALTER TABLE task_runs DROP COLUMN wait_key",
        "DROP INDEX executions_unfinished_by_owner",
        "ALTER TABLE executions DROP COLUMN owner",
        "ALTER TABLE executions DROP COLUMN fence",
        "ALTER TABLE executions DROP COLUMN parked",
        "DELETE FROM _sqlx_migrations WHERE version = 6",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let upgraded = ExecutionRecord {
        owner: None,
        fence: 1,
        parked: false,
        ..x
    };
    assert_eq!(store.execution(id).await.unwrap(), Some(upgraded));
    assert_eq!(store.task_runs(id).await.unwrap(), b.task_runs);
    assert_eq!(
        store.claim_orphans("n", Timestamp(0), false).await.unwrap(),
        vec![(id, 2)]
    );
    assert!(store.timers().await.unwrap().is_empty());
    store.close().await;
}

/// A database from before migration 15 (the log and the task runs as rowid tables with
/// an index of their keys) keeps every event and task run through the upgrade, and
/// ends with both stored by their keys, the task runs' own indexes back, and the
/// conflicts that keep two writers apart unchanged.
#[tokio::test]
async fn the_log_and_task_runs_from_before_migration_15_are_kept_clustered() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let ids = [ExecutionId::new(), ExecutionId::new()];
    for (k, id) in ids.iter().enumerate() {
        let mut b = batch(*id, 40 + k as u64, 30 + k as u32);
        b.task_runs[3].status = TaskStatus::Failed;
        b.task_runs[4].wait_for = Some("signal".into());
        b.task_runs[4].wait_key = Some("approve".into());
        store.commit(&b).await.unwrap();
    }
    let before = [
        store.events(ids[0]).await.unwrap(),
        store.events(ids[1]).await.unwrap(),
    ];
    let runs = [
        store.task_runs(ids[0]).await.unwrap(),
        store.task_runs(ids[1]).await.unwrap(),
    ];
    store.close().await;

    // The tables as migration 1 and 6 made them, in another order than their keys'.
    let mut conn = raw(&path).await;
    for sql in [
        "CREATE TABLE old_events (execution TEXT NOT NULL, seq BIGINT NOT NULL, \
         at BIGINT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, \
         PRIMARY KEY (execution, seq))",
        "INSERT INTO old_events SELECT * FROM events ORDER BY seq DESC",
        "DROP TABLE events",
        "ALTER TABLE old_events RENAME TO events",
        "CREATE TABLE old_runs (execution TEXT NOT NULL, task TEXT NOT NULL, \
         item BIGINT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL, \
         output TEXT, error TEXT, skip_reason TEXT, started_at BIGINT, ended_at BIGINT, \
         wait TEXT, wait_for TEXT, wait_key TEXT, PRIMARY KEY (execution, task, item))",
        "INSERT INTO old_runs SELECT * FROM task_runs ORDER BY item DESC",
        "DROP TABLE task_runs",
        "ALTER TABLE old_runs RENAME TO task_runs",
        "CREATE INDEX task_runs_by_wait ON task_runs (wait_for, wait_key) \
         WHERE wait_for IS NOT NULL",
        "CREATE INDEX task_runs_failed ON task_runs (execution) WHERE status = 'failed'",
        "DELETE FROM _sqlx_migrations WHERE version = 15",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    for k in 0..2 {
        assert_eq!(store.events(ids[k]).await.unwrap(), before[k]);
        assert_eq!(store.task_runs(ids[k]).await.unwrap(), runs[k]);
    }
    // An event already in the log is still a conflict, and writes nothing.
    let again = batch(ids[0], 1, 0);
    assert!(store.commit(&again).await.is_err());
    assert_eq!(store.events(ids[0]).await.unwrap(), before[0]);
    store.close().await;

    let schema = schema_of(&path).await;
    for table in ["events", "task_runs"] {
        let line = schema
            .iter()
            .find(|l| l.starts_with(&format!("table {table}:")))
            .unwrap();
        assert!(line.ends_with("WITHOUT ROWID"), "{line}");
    }
    for index in ["task_runs_by_wait", "task_runs_failed"] {
        assert!(
            schema
                .iter()
                .any(|l| l.starts_with(&format!("index {index}:"))),
            "{schema:#?}"
        );
    }
    // The upgraded file's schema is a new file's.
    let fresh = dir.path().join("fresh.db");
    SqliteStore::open(&fresh, SqliteOptions::default())
        .await
        .unwrap()
        .close()
        .await;
    let tables =
        |s: Vec<String>| -> Vec<String> { s.into_iter().filter(|l| !l.starts_with('(')).collect() };
    assert_eq!(tables(schema), tables(schema_of(&fresh).await));
}

/// Rows of the durable tables that do not decode say which column is wrong.
#[tokio::test]
async fn undecodable_durable_rows_are_corrupt_and_say_where() {
    let store = TestStore::new().await;
    let path = db_path(&store.dir);
    let id = ExecutionId::new();
    let mut b = batch(id, 1, 0);
    b.timers_set.push(TimerRecord {
        execution: id,
        key: "t".into(),
        due: Timestamp(5),
    });
    b.idempotency.push(IdempotencyRecord {
        scope: "wf".into(),
        key: "k".into(),
        body_hash: "h".into(),
        execution: id,
        created_at: Timestamp(1),
        expires_at: Timestamp(100),
    });
    store.commit(&b).await.unwrap();
    let event = RawJson::from(&json!({"id": "e"}));
    store
        .receive("/s", "e", "t", &event, Timestamp(1))
        .await
        .unwrap();

    spoil(&path, "executions", "parked", "2").await;
    assert_corrupt(store.execution(id).await, "executions.parked");
    spoil(&path, "executions", "parked", "1").await;
    spoil(&path, "executions", "fence", "-5").await;
    assert_corrupt(
        store.claim_orphans("n", Timestamp(0), false).await,
        "executions.fence",
    );
    spoil(&path, "timers", "execution", "nope").await;
    assert_corrupt(store.timers().await, "timers.execution");
    spoil(&path, "inbox", "event", "{not json").await;
    assert_corrupt(store.unrouted().await, "inbox.event");
    spoil(&path, "idempotency", "execution", "nope").await;
    assert_corrupt(
        store.idempotency("wf", "k", Timestamp(1)).await,
        "idempotency.execution",
    );
}

#[tokio::test]
async fn a_database_from_a_newer_harmonia_is_refused_saying_so() {
    let dir = TempDir::new().expect("a temporary directory");
    let path = db_path(&dir);
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("open");
    store.close().await;
    // A migration this binary does not have, as a newer binary would leave it.
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
        .await
        .expect("connect");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");
    let e = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect_err("a newer schema is refused");
    let message = e.to_string();
    assert!(
        message.contains("newer than this Harmonia's")
            && message.contains("migration 99990101000000")
            && message.contains("run that version"),
        "{message}"
    );
    // Nothing was changed: the future migration is still there, and the file opens
    // again once it is gone (what the newer binary would do).
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
        .await
        .expect("connect");
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 99990101000000")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(n, 1);
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 99990101000000")
        .execute(&mut conn)
        .await
        .expect("delete");
    conn.close().await.expect("close");
    SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("opens again");
}
