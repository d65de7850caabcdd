//! SQLite's own `unix` VFS, with a commit's WAL frames written in one system call: the
//! VFS the log writer's connection opens the database with (`sqlite_log.rs`).
//!
//! SQLite writes each WAL frame as two `pwrite`s, its 24-byte header and then its page.
//! A step of a sequential workflow commits two frames, so four writes, each costing the
//! kernel about as much as the others whatever its size; one write of the same bytes
//! costs about a third of the four (measured on the development machine: 9.6 µs
//! against 2.9 µs a commit). This VFS is the `unix` one with every call passed through,
//! except that writes to a WAL file are held in a buffer while they follow each other,
//! and written in one call when one of these comes first:
//!
//! - the page of a commit frame (a frame header whose commit field is not zero): the
//!   commit's frames are in the OS before SQLite goes on to publish them in the shared
//!   WAL index, as they would be without the buffer;
//! - a write that does not follow the held bytes, or would make them more than [`HELD`];
//! - any other call on the WAL file (read, size, sync, truncate, file control, close);
//! - a release of a shared-memory lock, or a memory barrier, on the database file of
//!   the same connection: the frames of a transaction that rolled back after its pages
//!   spilled into the WAL (no commit frame) are written before the WAL's write lock is
//!   released, as SQLite would have written them, and never later over another
//!   connection's frames.
//!
//! So what another connection or process can see, and what a crash leaves, is what the
//! `unix` VFS gives: nothing held is ever published, and nothing published is held.
//!
//! Invariants:
//! - The only `unsafe` code of the project. Every file this VFS opens is a [`File`]
//!   followed, in the same allocation SQLite makes of [`ffi::sqlite3_vfs::szOsFile`]
//!   bytes, by the `unix` VFS's own file; every call reaches that file through the
//!   `unix` VFS's methods.
//! - A connection's WAL file finds its database file's [`Held`] by the database's name
//!   as SQLite passed it (`sqlite3_filename_database` of the WAL's name is that very
//!   pointer); a WAL without one (which SQLite never opens) passes its writes through.
//! - Registration happens once per process; if it fails, connections use the default
//!   VFS and everything works as before, one write per header and per page.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use rusqlite::ffi;

/// The name connections open this VFS by.
const NAME: &CStr = c"unix-held-wal";

/// The most bytes held before they are written: 29 frames of 4 KiB pages. A step's
/// commit is two to five frames; a big batch is written 120 KiB at a time. The `unix`
/// VFS writes at most 128 KiB less a byte in one call (it masks a write's length to 17
/// bits: a longer write would be cut short and fail as a full disk).
const HELD: usize = 120 << 10;

/// A WAL frame's header, before its page (SQLite's `WAL_FRAME_HDRSIZE`).
const FRAME_HEADER: usize = 24;

/// The VFS's name for [`rusqlite::Connection::open_with_flags_and_vfs`], once it is
/// registered; `None` if it could not be (then the default VFS serves).
pub(crate) fn name() -> Option<&'static CStr> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    REGISTERED.get_or_init(register).then_some(NAME)
}

/// The `unix` VFS this one passes its calls to (set once, by [`register`]).
static BASE: OnceLock<Base> = OnceLock::new();

struct Base(*mut ffi::sqlite3_vfs);

// SAFETY: SQLite's VFS objects are immutable once registered and safe to use from any
// thread (SQLite is built thread-safe); the pointer is only read.
unsafe impl Send for Base {}
// SAFETY: as above.
unsafe impl Sync for Base {}

/// Where the `unix` VFS's file lies in a [`File`]'s allocation.
const INNER_AT: usize = std::mem::size_of::<File>().next_multiple_of(8);

fn register() -> bool {
    // SAFETY: `sqlite3_vfs_find` initializes SQLite and returns a registered VFS or
    // null; the copy is leaked, so it lives as long as the process, as SQLite requires
    // of a registered VFS.
    unsafe {
        let base = ffi::sqlite3_vfs_find(ptr::null());
        if base.is_null() || CStr::from_ptr((*base).zName) != c"unix" || (*base).xOpen.is_none() {
            tracing::debug!("the default SQLite VFS is not `unix`; WAL writes are not held");
            return false;
        }
        let Some(size) = usize::try_from((*base).szOsFile)
            .ok()
            .and_then(|n| n.checked_add(INNER_AT))
            .and_then(|n| c_int::try_from(n).ok())
        else {
            return false;
        };
        if BASE.set(Base(base)).is_err() {
            return false;
        }
        let vfs = Box::leak(Box::new(ffi::sqlite3_vfs {
            szOsFile: size,
            pNext: ptr::null_mut(),
            zName: NAME.as_ptr(),
            xOpen: Some(open),
            ..*base
        }));
        let rc = ffi::sqlite3_vfs_register(vfs, 0);
        if rc != ffi::SQLITE_OK {
            tracing::debug!(rc, "cannot register the SQLite VFS that holds WAL writes");
        }
        rc == ffi::SQLITE_OK
    }
}

/// A connection's held WAL writes, shared by its database file and its WAL file.
#[derive(Default)]
struct Held {
    state: Mutex<State>,
}

struct State {
    /// The `unix` VFS's WAL file, null while the WAL is not open.
    wal: *mut ffi::sqlite3_file,
    /// Where the held bytes go in the WAL.
    start: i64,
    bytes: Vec<u8>,
    /// The last write held was the header of a commit frame: its page ends the commit.
    commit: bool,
}

impl Default for State {
    fn default() -> State {
        State {
            wal: ptr::null_mut(),
            start: 0,
            bytes: Vec::new(),
            commit: false,
        }
    }
}

// SAFETY: the WAL file pointer is used only under the mutex, by the connection that owns
// the file (SQLite calls a connection's files from one thread at a time).
unsafe impl Send for State {}

impl Held {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Writes what is held, in one call, and holds nothing more whatever the outcome.
    ///
    /// # Safety
    /// `self.wal`, when not null, is an open file of the `unix` VFS.
    unsafe fn flush(&mut self) -> c_int {
        self.commit = false;
        if self.bytes.is_empty() || self.wal.is_null() {
            self.bytes.clear();
            return ffi::SQLITE_OK;
        }
        counted_write();
        let rc = match c_int::try_from(self.bytes.len()) {
            // SAFETY: `wal` is open (the caller's promise); the bytes outlive the call.
            Ok(n) => unsafe {
                methods(self.wal)
                    .xWrite
                    .map_or(ffi::SQLITE_IOERR_WRITE, |write| {
                        write(self.wal, self.bytes.as_ptr().cast(), n, self.start)
                    })
            },
            Err(_) => ffi::SQLITE_IOERR_WRITE,
        };
        self.bytes.clear();
        rc
    }
}

#[cfg(test)]
thread_local! {
    /// The writes to WAL files this thread made through this VFS (for the tests).
    static WAL_WRITES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn counted_write() {
    #[cfg(test)]
    WAL_WRITES.with(|n| n.set(n.get() + 1));
}

#[cfg(test)]
thread_local! {
    /// The times this thread found WAL writes still held when a lock was released or
    /// memory ordered (for the tests: only a rolled-back transaction leaves any).
    static LATE_WRITES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn counted_late_write() {
    #[cfg(test)]
    LATE_WRITES.with(|n| n.set(n.get() + 1));
}

/// The connections' database files, by the name pointer SQLite opened each with.
static OPEN: Mutex<Vec<(usize, Arc<Held>)>> = Mutex::new(Vec::new());

fn open_files() -> MutexGuard<'static, Vec<(usize, Arc<Held>)>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Wal,
    Other,
}

/// A file of this VFS: SQLite's base (its methods first), then the `unix` VFS's file
/// at [`INNER_AT`].
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// From `Arc::into_raw`, or null: a main database file's or a WAL file's [`Held`].
    held: *const Held,
    kind: Kind,
    /// A main database file's key in [`OPEN`].
    key: usize,
}

/// The `unix` VFS's methods of an open file of its own.
///
/// # Safety
/// `file` is an open file of the `unix` VFS (its methods are set).
unsafe fn methods<'a>(file: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    // SAFETY: the caller's promise.
    unsafe { &*(*file).pMethods }
}

/// # Safety
/// `file` is an open file of this VFS.
unsafe fn this<'a>(file: *mut ffi::sqlite3_file) -> &'a mut File {
    // SAFETY: every file of this VFS is a `File` (SQLite allocated `szOsFile` bytes and
    // `open` wrote one there).
    unsafe { &mut *file.cast::<File>() }
}

/// Writes what `file` (a WAL file) holds. For the calls that must find them written.
///
/// # Safety
/// `file` is an open file of this VFS.
unsafe fn flush_wal(file: &File) -> c_int {
    if file.kind != Kind::Wal || file.held.is_null() {
        return ffi::SQLITE_OK;
    }
    // SAFETY: `held` stays alive as long as the file; the WAL is open.
    unsafe { (*file.held).lock().flush() }
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(Base(base)) = BASE.get() else {
        return ffi::SQLITE_CANTOPEN;
    };
    // SAFETY: SQLite gives `szOsFile` bytes, 8-aligned, at `file`: a `File`, then the
    // `unix` VFS's file at `INNER_AT`. Its methods stay null unless the open succeeds,
    // as SQLite requires.
    unsafe {
        let inner = file.cast::<u8>().add(INNER_AT).cast::<ffi::sqlite3_file>();
        ptr::write(
            file.cast::<File>(),
            File {
                base: ffi::sqlite3_file {
                    pMethods: ptr::null(),
                },
                inner,
                held: ptr::null(),
                kind: Kind::Other,
                key: 0,
            },
        );
        let Some(base_open) = (**base).xOpen else {
            return ffi::SQLITE_CANTOPEN;
        };
        let rc = base_open(*base, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK || (*inner).pMethods.is_null() {
            return if rc == ffi::SQLITE_OK {
                ffi::SQLITE_CANTOPEN
            } else {
                rc
            };
        }
        let me = this(file);
        if !name.is_null() && flags & ffi::SQLITE_OPEN_MAIN_DB != 0 {
            let held = Arc::new(Held::default());
            me.key = name as usize;
            open_files().push((me.key, held.clone()));
            me.kind = Kind::Main;
            me.held = Arc::into_raw(held);
        } else if !name.is_null() && flags & ffi::SQLITE_OPEN_WAL != 0 {
            let db = ffi::sqlite3_filename_database(name) as usize;
            let held = open_files()
                .iter()
                .find(|(key, _)| *key == db)
                .map(|(_, held)| held.clone());
            if let Some(held) = held {
                {
                    let mut state = held.lock();
                    state.wal = inner;
                    state.bytes.clear();
                    state.commit = false;
                }
                me.kind = Kind::Wal;
                me.held = Arc::into_raw(held);
            }
        }
        me.base.pMethods = &METHODS;
        ffi::SQLITE_OK
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// Calls the `unix` VFS's method `$m` of `$file`'s inner file with `$args`, or answers
/// `$missing` if it has none.
macro_rules! pass {
    ($file:expr, $m:ident, $missing:expr $(, $arg:expr)*) => {{
        let inner = $file.inner;
        // SAFETY: `inner` is the `unix` VFS's open file.
        match unsafe { methods(inner) }.$m {
            Some(f) => unsafe { f(inner $(, $arg)*) },
            None => $missing,
        }
    }};
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file of this VFS once.
    let me = unsafe { this(file) };
    let mut rc = ffi::SQLITE_OK;
    if !me.held.is_null() {
        // SAFETY: `held` came from `Arc::into_raw` in `open` and is taken back once.
        let held = unsafe { Arc::from_raw(me.held) };
        me.held = ptr::null();
        match me.kind {
            Kind::Wal => {
                let mut state = held.lock();
                // SAFETY: the WAL is still open.
                rc = unsafe { state.flush() };
                state.wal = ptr::null_mut();
            }
            Kind::Main => open_files().retain(|(key, _)| *key != me.key),
            Kind::Other => {}
        }
    }
    let closed = pass!(me, xClose, ffi::SQLITE_OK);
    if rc == ffi::SQLITE_OK { closed } else { rc }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    // SAFETY: as above.
    let rc = unsafe { flush_wal(me) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    pass!(me, xRead, ffi::SQLITE_IOERR_READ, buf, amount, offset)
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    let size = usize::try_from(amount).unwrap_or(usize::MAX);
    if me.kind != Kind::Wal || me.held.is_null() || data.is_null() || size > HELD {
        // SAFETY: as above.
        let rc = unsafe { flush_wal(me) };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if me.kind == Kind::Wal {
            counted_write();
        }
        return pass!(me, xWrite, ffi::SQLITE_IOERR_WRITE, data, amount, offset);
    }
    // SAFETY: `held` lives as long as the file; SQLite gives `amount` readable bytes.
    let (mut state, bytes) = unsafe {
        (
            (*me.held).lock(),
            std::slice::from_raw_parts(data.cast::<u8>(), size),
        )
    };
    let follows = i64::try_from(state.bytes.len())
        .ok()
        .and_then(|n| state.start.checked_add(n))
        == Some(offset);
    // Read before a flush below forgets it: a commit frame's page that does not fit
    // beside its header still ends the commit.
    let ends_commit = state.commit;
    if state.bytes.is_empty() || !follows || state.bytes.len() + size > HELD {
        // SAFETY: the WAL is open.
        let rc = unsafe { state.flush() };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        state.start = offset;
    }
    state.bytes.extend_from_slice(bytes);
    state.commit = size == FRAME_HEADER && bytes[4..8] != [0, 0, 0, 0];
    if ends_commit {
        // SAFETY: the WAL is open.
        return unsafe { state.flush() };
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    // SAFETY: as above.
    let rc = unsafe { flush_wal(me) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    pass!(me, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, size)
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    // SAFETY: as above.
    let rc = unsafe { flush_wal(me) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    pass!(me, xSync, ffi::SQLITE_IOERR_FSYNC, flags)
}

unsafe extern "C" fn file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    // SAFETY: as above.
    let rc = unsafe { flush_wal(me) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    pass!(me, xFileSize, ffi::SQLITE_IOERR_FSTAT, size)
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(unsafe { this(file) }, xLock, ffi::SQLITE_IOERR_LOCK, level)
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(
        unsafe { this(file) },
        xUnlock,
        ffi::SQLITE_IOERR_UNLOCK,
        level
    )
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(
        unsafe { this(file) },
        xCheckReservedLock,
        ffi::SQLITE_IOERR_CHECKRESERVEDLOCK,
        out
    )
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    // SAFETY: as above.
    let rc = unsafe { flush_wal(me) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    pass!(me, xFileControl, ffi::SQLITE_NOTFOUND, op, arg)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(unsafe { this(file) }, xSectorSize, 4096)
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(unsafe { this(file) }, xDeviceCharacteristics, 0)
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(
        unsafe { this(file) },
        xShmMap,
        ffi::SQLITE_IOERR_SHMMAP,
        page,
        size,
        extend,
        out
    )
}

/// Writes what the connection's WAL holds, before its database file releases a lock
/// or orders its shared memory: what SQLite publishes next must be in the WAL already.
///
/// # Safety
/// `file` is an open file of this VFS.
unsafe fn flush_for(file: &File) -> c_int {
    if file.kind != Kind::Main || file.held.is_null() {
        return ffi::SQLITE_OK;
    }
    // SAFETY: `held` lives as long as the file; its WAL, when set, is open.
    let mut state = unsafe { (*file.held).lock() };
    if !state.bytes.is_empty() {
        counted_late_write();
    }
    // SAFETY: as above.
    unsafe { state.flush() }
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    if flags & ffi::SQLITE_SHM_UNLOCK != 0 {
        // A failed write of frames that no commit frame ends loses nothing (SQLite
        // ignores them); the lock is released all the same.
        // SAFETY: as above.
        let _ = unsafe { flush_for(me) };
    }
    pass!(me, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, offset, n, flags)
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls an open file of this VFS.
    let me = unsafe { this(file) };
    // A commit's frames were written with its commit frame's page; nothing is held here
    // but what no commit frame ended.
    // SAFETY: as above.
    let _ = unsafe { flush_for(me) };
    pass!(me, xShmBarrier, ())
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(unsafe { this(file) }, xShmUnmap, ffi::SQLITE_OK, delete)
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS; `out` is SQLite's to set.
    let me = unsafe { this(file) };
    match unsafe { methods(me.inner) }.xFetch {
        // SAFETY: as above.
        Some(f) => unsafe { f(me.inner, offset, amount, out) },
        None => {
            // SAFETY: `out` is valid for a write (SQLite's contract for xFetch).
            unsafe { *out = ptr::null_mut() };
            ffi::SQLITE_OK
        }
    }
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls an open file of this VFS.
    pass!(
        unsafe { this(file) },
        xUnfetch,
        ffi::SQLITE_OK,
        offset,
        page
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::{Connection, OpenFlags};

    use super::*;

    fn held(path: &Path, synchronous: &str) -> Connection {
        let vfs = name().expect("the VFS registers");
        let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
             PRAGMA wal_autocheckpoint = 0;"
        ))
        .unwrap();
        conn
    }

    fn plain(path: &Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        conn
    }

    /// A new database in a directory of its own (`a.db`): a connection on this VFS
    /// that has run `schema`, and one on the default VFS.
    fn pair(synchronous: &str, schema: &str) -> (tempfile::TempDir, Connection, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let a = held(&path, synchronous);
        a.execute_batch(schema).unwrap();
        let b = plain(&path);
        (dir, a, b)
    }

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    fn writes() -> u64 {
        WAL_WRITES.with(std::cell::Cell::get)
    }

    /// A crash's image: the database and its WAL as the OS has them now, copied to
    /// `to` and opened there (SQLite recovers the WAL's committed frames).
    fn crash_image(from: &Path, to: &Path) -> Connection {
        std::fs::copy(from, to).unwrap();
        let wal = |p: &Path| format!("{}-wal", p.display());
        std::fs::copy(wal(from), wal(to)).unwrap();
        plain(to)
    }

    fn integrity(conn: &Connection) -> String {
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap()
    }

    /// A commit of two pages is one write, and another connection sees it as soon as
    /// the commit returns; so does a crash's image.
    #[test]
    fn a_commit_is_one_write_and_seen_when_it_returns() {
        let (dir, a, b) = pair(
            "NORMAL",
            "CREATE TABLE x (k INTEGER PRIMARY KEY, v TEXT); \
             CREATE TABLE y (k INTEGER PRIMARY KEY, v TEXT);",
        );
        let path = dir.path().join("a.db");
        for n in 1..=200i64 {
            let before = writes();
            a.execute_batch(&format!(
                "BEGIN IMMEDIATE; INSERT INTO x VALUES ({n}, 'x{n}'); \
                 INSERT INTO y VALUES ({n}, 'y{n}'); COMMIT;"
            ))
            .unwrap();
            assert_eq!(writes() - before, 1, "commit {n}");
            assert_eq!(count(&b, "x"), n);
            assert_eq!(count(&b, "y"), n);
        }
        let image = crash_image(&path, &dir.path().join("image.db"));
        assert_eq!(count(&image, "y"), 200);
        assert_eq!(integrity(&image), "ok");
    }

    /// Every commit, of one frame to more than are held at once, is written by its
    /// commit frame's page, whether or not that page fits beside its header: nothing
    /// is left for the lock's release or the memory barrier to write.
    #[test]
    fn every_commit_is_written_by_its_commit_frame() {
        let (_dir, a, b) = pair("NORMAL", "CREATE TABLE x (k INTEGER PRIMARY KEY, v BLOB);");
        let late = || LATE_WRITES.with(std::cell::Cell::get);
        let before = late();
        let mut rows = 0;
        for pages in 1..=70i64 {
            a.execute("BEGIN IMMEDIATE", []).unwrap();
            for _ in 0..pages {
                rows += 1;
                // A row of most of a page: about a page (frame) each.
                a.execute("INSERT INTO x VALUES (?1, zeroblob(3900))", [rows])
                    .unwrap();
            }
            a.execute("COMMIT", []).unwrap();
            assert_eq!(late(), before, "a commit of {pages} rows");
            assert_eq!(count(&b, "x"), rows);
        }
    }

    /// With `synchronous = FULL`, big commits (more than is held at once) and small
    /// ones: every row arrives, the file is whole.
    #[test]
    fn big_and_synced_commits_are_whole() {
        let (dir, a, b) = pair("FULL", "CREATE TABLE x (k INTEGER PRIMARY KEY, v TEXT);");
        let path = dir.path().join("a.db");
        let row = "r".repeat(3000);
        for round in 0..3i64 {
            let before = writes();
            a.execute("BEGIN IMMEDIATE", []).unwrap();
            for k in 0..400i64 {
                a.execute(
                    "INSERT INTO x VALUES (?1, ?2)",
                    (round * 1000 + k, row.as_str()),
                )
                .unwrap();
            }
            a.execute("COMMIT", []).unwrap();
            // About 400 pages: some held writes of 120 KiB, not 800.
            let made = writes() - before;
            assert!((4..40).contains(&made), "{made} writes");
            assert_eq!(count(&b, "x"), (round + 1) * 400);
        }
        let image = crash_image(&path, &dir.path().join("image.db"));
        assert_eq!(count(&image, "x"), 1200);
        assert_eq!(integrity(&image), "ok");
    }

    /// A transaction whose pages spilled into the WAL and that then rolled back: what
    /// it wrote is written before its lock is released, never later over the frames
    /// another connection commits next. Each round starts on an empty WAL, so that the
    /// rollback reads nothing back from it (a read would write what is held first).
    #[test]
    fn a_rolled_back_spill_never_lands_over_another_connections_commit() {
        let (dir, a, b) = pair(
            "NORMAL",
            "PRAGMA cache_size = 10; CREATE TABLE x (k INTEGER PRIMARY KEY, v TEXT);",
        );
        let path = dir.path().join("a.db");
        let row = "s".repeat(2000);
        for round in 0..3i64 {
            a.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
            let before = writes();
            a.execute("BEGIN IMMEDIATE", []).unwrap();
            for k in 0..16i64 {
                a.execute("INSERT INTO x VALUES (?1, ?2)", (-1 - k, row.as_str()))
                    .unwrap();
            }
            let late = LATE_WRITES.with(std::cell::Cell::get);
            a.execute("ROLLBACK", []).unwrap();
            assert!(writes() > before, "nothing spilled");
            // What spilled was still held: the lock's release wrote it.
            assert!(LATE_WRITES.with(std::cell::Cell::get) > late);
            b.execute("INSERT INTO x VALUES (?1, 'b')", [round * 2])
                .unwrap();
            a.execute("INSERT INTO x VALUES (?1, 'a')", [round * 2 + 1])
                .unwrap();
        }
        for conn in [&a, &b] {
            assert_eq!(count(conn, "x"), 6);
            assert_eq!(integrity(conn), "ok");
        }
        let image = crash_image(&path, &dir.path().join("image.db"));
        let rows: Vec<(i64, String)> = image
            .prepare("SELECT k, v FROM x ORDER BY k")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<(i64, String)> = (0..6)
            .map(|k| (k, if k % 2 == 0 { "b" } else { "a" }.to_string()))
            .collect();
        assert_eq!(rows, expected);
        assert_eq!(integrity(&image), "ok");
    }
}
