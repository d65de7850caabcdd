//! A new SQLite database file, made whole from the schema image.
//!
//! `build.rs` runs every migration into a database file at build time (the image,
//! with sqlx's record of the migrations); a new database is that file, written in one
//! go. Running the migrations' statements on each new file took about 3 ms, a quarter
//! of a short `harmonia run`, and turning a new file into WAL mode took four disk
//! flushes; the image is already in WAL mode.
//!
//! Invariants:
//! - The image is used only when it holds exactly the program's migrations (version,
//!   description and checksum, in order, each run inside a transaction); otherwise a
//!   new file is created empty and gets the schema by SQL (`sqlite_schema.rs`).
//! - The file appears whole or not at all: the image goes to a temporary file beside
//!   it (mode 0600), is synced, and is hard-linked to the database's name, which fails
//!   if the name exists (another process made it first: that one is used). A crash
//!   leaves at most a stray `.NAME.*.new` file.
//! - The name is made durable by SQLite, not here: a connection's first sync of the
//!   `-wal` file, which sits in the same directory, syncs the directory too, and no
//!   commit survives a power loss before the WAL has been synced (with `synchronous`
//!   FULL a commit syncs it; with NORMAL only a checkpoint does, before it copies
//!   anything into the file). A power loss before then loses a new file that holds no
//!   commit that could have survived; the next open makes it again. Syncing the
//!   directory here as well cost a disk flush for each new database.
//! - A file this makes is readable and writable by its owner only (mode 0600).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use harmonia_storage::{Error, Result};
use sqlx::migrate::Migrator;

include!(concat!(env!("OUT_DIR"), "/schema_image.rs"));

/// What [`create`] found or made at the database's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Made {
    /// A new file from the image: the schema is current.
    Image,
    /// A new, empty file: the schema is still to be made.
    Empty,
    /// The file was there.
    Existing,
}

/// Whether the image holds exactly `migrator`'s migrations.
pub(crate) fn matches(migrator: &Migrator) -> bool {
    let ours: Vec<(i64, &str, &[u8])> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, &*m.description, &*m.checksum))
        .collect();
    !migrator.iter().any(|m| m.no_tx) && ours == MIGRATIONS
}

/// Makes the database file at `path` unless it exists: from the image when it
/// [`matches`] `migrator`, else empty. Its directory must exist.
pub(crate) async fn create(path: &Path, migrator: &'static Migrator) -> Result<Made> {
    let path = path.to_owned();
    let image = matches(migrator);
    tokio::task::spawn_blocking(move || {
        if image && let Some(made) = from_image(&path)? {
            return Ok(made);
        }
        create_empty(&path)
    })
    .await
    .map_err(|e| Error::Backend(Box::new(e)))?
}

/// The image at `path`, unless the file exists; `None` when the file system cannot
/// link (the caller creates the file empty instead).
fn from_image(path: &Path) -> Result<Option<Made>> {
    if path.symlink_metadata().is_ok() {
        return Ok(Some(Made::Existing));
    }
    let backend = |e: std::io::Error| Error::Backend(Box::new(e));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.new", uuid::Uuid::now_v7().simple()));
    let written = (|| {
        let mut file = private(&temp)?;
        file.write_all(IMAGE)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(backend(e));
    }
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        // The name is synced with the WAL's (see the module doc).
        Ok(()) => Ok(Some(Made::Image)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Some(Made::Existing)),
        Err(e) => {
            tracing::debug!(error = %e, "cannot link the schema image; creating the database empty");
            Ok(None)
        }
    }
}

/// Creates `path` as an empty file with mode 0600 unless it exists (SQLite takes an
/// empty file for a new database).
fn create_empty(path: &Path) -> Result<Made> {
    match private(path) {
        Ok(_) => Ok(Made::Empty),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Made::Existing),
        Err(e) => Err(Error::Backend(Box::new(e))),
    }
}

/// A new file at `path`, for its owner only; fails if it exists.
fn private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_holds_the_programs_migrations() {
        use crate::dialect::Dialect as _;
        assert!(
            matches(crate::sqlite::SqliteDialect::migrator()),
            "the image does not hold the program's migrations"
        );
        assert_eq!(&IMAGE[..16], b"SQLite format 3\0");
        // WAL mode: the file format's read and write versions are 2.
        assert_eq!((IMAGE[18], IMAGE[19]), (2, 2));
    }

    fn schema(path: &Path) -> Vec<(String, String, Option<String>)> {
        let conn = rusqlite::Connection::open(path).expect("open");
        let mut q = conn
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
            .expect("prepare");
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    /// The fallback (an empty file, the schema in one transaction) ends where the
    /// image starts.
    #[tokio::test]
    async fn the_image_and_the_schema_by_sql_are_the_same() {
        use crate::dialect::Dialect as _;
        let dir = tempfile::TempDir::new().expect("dir");
        let (image, by_sql) = (dir.path().join("image.db"), dir.path().join("sql.db"));
        let migrator = crate::sqlite::SqliteDialect::migrator();
        assert_eq!(create(&image, migrator).await.expect("image"), Made::Image);
        assert_eq!(
            create(&image, migrator).await.expect("again"),
            Made::Existing
        );
        assert_eq!(create_empty(&by_sql).expect("empty"), Made::Empty);
        let mut conn = rusqlite::Connection::open(&by_sql).expect("open");
        crate::sqlite_schema::create(&mut conn, migrator);
        drop(conn);
        let made = schema(&image);
        assert!(made.iter().any(|(_, n, _)| n == "events"), "{made:?}");
        assert_eq!(made, schema(&by_sql));
    }
}
