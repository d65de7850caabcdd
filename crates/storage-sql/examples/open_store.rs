//! What opening a SQLite store costs, new file and existing: the start-up share of a
//! `harmonia run`. Medians of 21 opens each, in milliseconds.
//!
//! `cargo run --release -p harmonia-storage-sql --example open_store`

use std::time::Instant;

use harmonia_storage_sql::{SqliteOptions, SqliteStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut new = Vec::new();
    let mut existing = Vec::new();
    for i in 0..21 {
        let path = dir.path().join(format!("s{i}.db"));
        let t = Instant::now();
        let store = SqliteStore::open(&path, SqliteOptions::default()).await?;
        new.push(t.elapsed().as_secs_f64() * 1e3);
        store.close().await;
        let t = Instant::now();
        let store = SqliteStore::open(&path, SqliteOptions::default()).await?;
        existing.push(t.elapsed().as_secs_f64() * 1e3);
        store.close().await;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "open: new file {:.2} ms, existing file {:.2} ms (medians of 21)",
        median(&mut new),
        median(&mut existing)
    );
    Ok(())
}
