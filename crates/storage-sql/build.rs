//! Builds the SQLite schema image: a database file made by running every migration of
//! `migrations/sqlite/` in one transaction, in WAL mode, with sqlx's record of each
//! migration (version, description, SHA-384 checksum of its text). `sqlite_image.rs`
//! writes it as a new database file in one write, where running the migrations'
//! statements took most of a short `harmonia run`'s time.
//!
//! Generates `$OUT_DIR/schema.db` and `$OUT_DIR/schema_image.rs` (the migrations the
//! image holds, as the program checks them against its own migrator before using it).
//!
//! It also rebuilds the crate when any migration (SQLite's or PostgreSQL's) is added or
//! changed: `sqlx::migrate!` embeds the files of `migrations/` at compile time, and a
//! proc macro cannot watch a directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha384};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/sqlx_migrations_table.sql");
    let dir = Path::new("migrations/sqlite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();

    // As sqlx names a migration: `<version>_<description>.sql`, `_` read as a space.
    let mut migrations = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("a migration's file name is not UTF-8")?;
        let (version, rest) = name
            .split_once('_')
            .ok_or_else(|| format!("{name}: expected <version>_<description>.sql"))?;
        let version: i64 = version.parse()?;
        let description = rest.trim_end_matches(".sql").replace('_', " ");
        let sql = std::fs::read_to_string(path)?;
        let checksum = Sha384::digest(sql.as_bytes()).to_vec();
        migrations.push((version, description, sql, checksum));
    }

    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let db = out.join("schema.db");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut conn = rusqlite::Connection::open(&db)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if mode != "wal" {
        return Err(format!("the schema image is not in WAL mode: {mode}").into());
    }
    let tx = conn.transaction()?;
    for (_, _, sql, _) in &migrations {
        tx.execute_batch(sql)?;
    }
    // The table sqlx's SQLite migrator keeps, as it creates it.
    tx.execute_batch(include_str!("src/sqlx_migrations_table.sql"))?;
    for (version, description, _, checksum) in &migrations {
        tx.execute(
            // A fixed time, so that the build is reproducible: a database made from
            // the image gets its own creation time when it is opened.
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
             VALUES (?1, ?2, '1970-01-01 00:00:00', TRUE, ?3, 0)",
            rusqlite::params![version, description, checksum],
        )?;
    }
    tx.commit()?;
    // The last connection out copies the WAL into the file and removes it.
    conn.close().map_err(|(_, e)| e)?;

    let mut rs = String::from(
        "/// The migrations the schema image holds: version, description, checksum.\n\
         pub(crate) const MIGRATIONS: &[(i64, &str, &[u8])] = &[\n",
    );
    for (version, description, _, checksum) in &migrations {
        writeln!(rs, "    ({version}, {description:?}, &{checksum:?}),")?;
    }
    rs.push_str(
        "];\n\n/// The image: a database file holding the schema of [`MIGRATIONS`].\n\
         pub(crate) static IMAGE: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/schema.db\"));\n",
    );
    std::fs::write(out.join("schema_image.rs"), rs)?;
    Ok(())
}
