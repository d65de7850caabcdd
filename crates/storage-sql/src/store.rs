//! [`SqlStore`]: the store on a SQL database of dialect `D`, and what its roles share.
//!
//! Connections: a writer pool and a reader pool. Every write goes through the writer;
//! reads use the readers. On SQLite the writer is exactly one connection, and readers
//! never wait for it (WAL mode), unless there are none and reads share the writer's
//! connection (a local run); on PostgreSQL one pool is both.
//!
//! On SQLite, writes are serialized in this process, without SQLite's busy-waiting,
//! by the write gate: an async lock that the writer connection is taken under
//! ([`SqlStore::writer`], [`SqlStore::begin`], [`SqlStore::begin_write`]) and that the
//! execution log's writer thread commits under. The log's commits hold the gate alone:
//! taking and returning a pooled connection costs a task and a trip to its thread
//! (sqlx pings a connection coming back), about five context switches a commit, which
//! was a third of a step's cost.
//!
//! The roles are implemented in their own modules, once for every dialect: `log.rs`
//! ([`ExecutionLog`](harmonia_storage::ExecutionLog)), `queries.rs`
//! ([`ExecutionQueries`](harmonia_storage::ExecutionQueries)), `catalog.rs`
//! ([`Catalog`](harmonia_storage::catalog::Catalog) for every document kind),
//! `tokens.rs` ([`Tokens`](harmonia_storage::Tokens)), `timers.rs`
//! ([`Timers`](harmonia_storage::Timers)), `inbox.rs` ([`Inbox`](harmonia_storage::Inbox)),
//! `idempotency.rs` ([`Idempotency`](harmonia_storage::Idempotency)); so an `SqlStore` is
//! a [`Store`](harmonia_storage::Store).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use harmonia_storage::{Error, Result};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::dialect::Dialect;
use crate::error::backend;

/// A store on a SQL database; see [`SqliteStore`](crate::SqliteStore) for SQLite and
/// [`PostgresStore`](crate::PostgresStore) for PostgreSQL.
#[derive(Debug)]
pub struct SqlStore<D: Dialect> {
    pub(crate) writer: Pool<D::Db>,
    pub(crate) readers: Pool<D::Db>,
    pub(crate) dialect: D,
    /// The write gate, when [`Dialect::ONE_WRITER`] (see the module doc).
    gate: Option<Arc<Mutex<()>>>,
}

/// A writer connection or transaction, and the write gate held while it lives.
pub(crate) struct Gated<T> {
    // Dropped first: the connection goes back before the gate opens.
    inner: T,
    _held: Option<OwnedMutexGuard<()>>,
}

impl<T> Deref for Gated<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for Gated<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<DB: Database> Gated<Transaction<'static, DB>> {
    /// Commits the transaction, then opens the gate.
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    /// Rolls the transaction back, then opens the gate.
    pub(crate) async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl<D: Dialect> SqlStore<D> {
    /// A store on these pools (after the schema is up to date).
    pub(crate) fn with(writer: Pool<D::Db>, readers: Pool<D::Db>, dialect: D) -> SqlStore<D> {
        SqlStore {
            writer,
            readers,
            dialect,
            gate: D::ONE_WRITER.then(Arc::default),
        }
    }

    /// Waits for the write gate, as long as for a pooled connection at most; `None`
    /// where the database has no gate.
    pub(crate) async fn gate(&self) -> Result<Option<OwnedMutexGuard<()>>> {
        let Some(gate) = &self.gate else {
            return Ok(None);
        };
        let wait = self.writer.options().get_acquire_timeout();
        match tokio::time::timeout(wait, gate.clone().lock_owned()).await {
            Ok(held) => Ok(Some(held)),
            Err(_) => Err(Error::Backend(
                format!("timed out after {wait:?} waiting for the database's writer").into(),
            )),
        }
    }

    /// The write gate if it is free now, without waiting: `Some(None)` where the
    /// database has no gate, `None` while another holds it.
    pub(crate) fn try_gate(&self) -> Option<Option<OwnedMutexGuard<()>>> {
        match &self.gate {
            None => Some(None),
            Some(gate) => gate.clone().try_lock_owned().ok().map(Some),
        }
    }

    /// Closes the connections, waiting for the ones in use to be returned. Operations
    /// after this fail.
    pub async fn close(&self) {
        self.dialect.closing().await;
        self.readers.close().await;
        self.writer.close().await;
    }

    /// A reader connection.
    pub(crate) async fn reader(&self) -> Result<PoolConnection<D::Db>> {
        self.readers.acquire().await.map_err(backend)
    }

    /// The writer connection (outside a transaction: one statement).
    pub(crate) async fn writer(&self) -> Result<Gated<PoolConnection<D::Db>>> {
        let held = self.gate().await?;
        Ok(Gated {
            inner: self.writer.acquire().await.map_err(backend)?,
            _held: held,
        })
    }

    /// A transaction on the writer.
    pub(crate) async fn begin(&self) -> Result<Gated<Transaction<'static, D::Db>>> {
        let held = self.gate().await?;
        Ok(Gated {
            inner: self.writer.begin().await.map_err(backend)?,
            _held: held,
        })
    }

    /// A transaction on the writer that reads, then writes what it read
    /// ([`Dialect::BEGIN_WRITE`]).
    pub(crate) async fn begin_write(&self) -> Result<Gated<Transaction<'static, D::Db>>> {
        let held = self.gate().await?;
        Ok(Gated {
            inner: self
                .writer
                .begin_with(D::BEGIN_WRITE)
                .await
                .map_err(backend)?,
            _held: held,
        })
    }
}

/// Rows of work from which CPU time counts: see [`cpu_bound`].
const CPU_BOUND_ROWS: usize = 10_000;

/// Runs `work`, CPU work over `rows` rows (encoding a batch, decoding a long event
/// log: ~100 ms for 100,000 rows). From [`CPU_BOUND_ROWS`] on, and on a multi-threaded
/// runtime, through `block_in_place`, so that the runtime moves this worker's other
/// tasks to another thread meanwhile instead of stalling them. (A current-thread
/// runtime has no other thread; there the work runs in place.)
pub(crate) fn cpu_bound<T>(rows: usize, work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_thread =
        Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    if rows >= CPU_BOUND_ROWS && multi_thread {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}
