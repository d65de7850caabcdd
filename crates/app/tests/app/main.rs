//! The use cases on a real engine and a real SQLite file: what every adapter (the API,
//! the WebSockets, the CLI) gets when it calls them, errors included, and what is
//! announced on the hub of workflow changes.

use std::sync::Arc;
use std::time::Duration;

use harmonia_app::{App, Change};
use harmonia_engine::Engine;
use harmonia_model::{Format, Source};
use harmonia_storage::{ExecutionStatus, Store};
use tokio::sync::broadcast;

mod assist;
mod concurrency;
mod events;
mod executions;
mod schedules;
mod templates;
mod workflows;

/// An engine on a fresh SQLite file, the use cases over it, and a subscription to
/// the workflow changes taken before anything happened.
struct Env {
    app: App,
    store: Arc<dyn Store>,
    changes: broadcast::Receiver<Change>,
    _engine: Engine,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        harmonia_storage_sql::SqliteStore::open(&dir.path().join("app.db"), Default::default())
            .await
            .expect("store"),
    );
    let engine = Engine::builder(store.clone())
        .spawn()
        .await
        .expect("engine");
    let app = App::new(engine.handle().clone());
    let changes = app.changes().subscribe();
    Env {
        app,
        store,
        changes,
        _engine: engine,
        _dir: dir,
    }
}

impl Env {
    /// The changes announced since the last call.
    fn announced(&mut self) -> Vec<Change> {
        let mut seen = Vec::new();
        while let Ok(c) = self.changes.try_recv() {
            seen.push(c);
        }
        seen
    }

    /// Waits until execution `id` ends.
    async fn ended(&self, id: harmonia_storage::ExecutionId) -> ExecutionStatus {
        for _ in 0..500 {
            let x = self.app.executions().record(id).await.expect("exists");
            if x.status.is_terminal() {
                return x.status;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("execution {id} did not end");
    }
}

fn yaml(text: &str) -> Source {
    Source::new("request", text, Format::Yaml)
}

fn created(name: &str, version: u32) -> Change {
    Change::WorkflowCreated {
        name: name.into(),
        version,
    }
}

fn updated(name: &str, version: u32) -> Change {
    Change::WorkflowUpdated {
        name: name.into(),
        version,
    }
}

/// The origin of a start through the API without a token.
fn api() -> harmonia_storage::Origin {
    harmonia_storage::Origin::new(harmonia_storage::OriginKind::Api, None)
}
