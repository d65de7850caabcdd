//! The fsync floor: the latency of one durable small write on the filesystem of the
//! children's databases (the temporary directory), measured in the same run before each
//! `--durability fsync` table. Each write appends 4 KiB to a file, as a fresh database's
//! write-ahead log grows, then calls `fdatasync` (`File::sync_data`); the figure is the
//! median of [`WRITES`] writes. A step that waits for its own commit cannot be faster, so
//! `per step / fsync` near 1 means the engine adds little to the disk's flush.

use std::fs::File;
use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;

use super::report::median;

/// The durable writes measured.
pub(super) const WRITES: usize = 200;

/// The bytes of each write.
const BYTES: usize = 4096;

/// The median latency, in ms, of appending 4 KiB to a file in the temporary directory
/// and syncing its data.
pub(super) fn floor_ms() -> anyhow::Result<f64> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let path = dir.path().join("fsync-floor");
    let mut file =
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let block = [0x5a_u8; BYTES];
    let mut latencies = Vec::with_capacity(WRITES);
    for _ in 0..WRITES {
        let started = Instant::now();
        file.write_all(&block)
            .and_then(|()| file.sync_data())
            .with_context(|| format!("cannot write and sync {}", path.display()))?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    median(latencies).context("no write was measured")
}
