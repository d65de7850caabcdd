//! `--durability`: what a commit survives, for every command that writes a database.
//!
//! - `process` (the default): a commit survives the process being killed (a crash, an
//!   OOM kill, SIGKILL). It is in SQLite's write-ahead log, in the operating system's
//!   hands, when the engine acts on it; a power loss or an OS crash may lose the last
//!   commits (the database stays consistent). SQLite's `synchronous = NORMAL`.
//! - `fsync`: a commit also survives a power loss: the log is synced to disk on every
//!   commit, which costs a disk flush per commit (group commit shares it between the
//!   events of one batch). SQLite's `synchronous = FULL`.
//!
//! `harmonia bench --durability fsync` measures the difference on this machine.

use harmonia_storage_sql::{SqliteOptions, Synchronous};
use serde::Deserialize;

/// What a commit survives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Durability {
    /// Commits survive the process being killed, not a power loss (fast).
    #[default]
    Process,
    /// Commits also survive a power loss: synced to disk on every commit (slower).
    Fsync,
}

impl Durability {
    /// The name as written on the command line and in the config file.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Durability::Process => "process",
            Durability::Fsync => "fsync",
        }
    }

    /// SQLite's options for this durability.
    pub(crate) fn sqlite(self) -> SqliteOptions {
        SqliteOptions {
            synchronous: match self {
                Durability::Process => Synchronous::Normal,
                Durability::Fsync => Synchronous::Full,
            },
            ..SqliteOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_maps_to_sqlite() {
        assert_eq!(Durability::default(), Durability::Process);
        assert_eq!(
            Durability::Process.sqlite().synchronous,
            Synchronous::Normal
        );
        assert_eq!(Durability::Fsync.sqlite().synchronous, Synchronous::Full);
        assert_eq!(Durability::Process.sqlite(), SqliteOptions::default());
    }
}
