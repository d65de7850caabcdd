//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the
//! files of `migrations/` at compile time, and a proc macro cannot watch a directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
