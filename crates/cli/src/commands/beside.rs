//! Sub-workflows of a local run found as files beside the parent definition.
//!
//! `workflow: notify` looks for `notify.yaml`, `notify.yml`, then `notify.json` in the
//! directory of the file being run, after the database (see `harmonia_engine::Plans`).
//! Only names that are valid workflow names are looked up, so a name cannot reach
//! outside that directory. `harmonia validate` looks in the same places
//! ([`Beside::candidates`]), so that it warns about exactly the sub-workflows that
//! `run` would not find.

use std::path::PathBuf;

use async_trait::async_trait;
use harmonia_engine::DefinitionSource;
use harmonia_model::{Format, Source};

/// Looks for definitions in one directory.
pub(crate) struct Beside {
    pub(crate) dir: PathBuf,
}

impl Beside {
    /// The files that may hold workflow `name`, in the order they are tried; none for
    /// a name that is not a valid workflow name.
    pub(crate) fn candidates(&self, name: &str) -> Vec<PathBuf> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            return Vec::new();
        }
        ["yaml", "yml", "json"]
            .iter()
            .map(|ext| self.dir.join(format!("{name}.{ext}")))
            .collect()
    }
}

#[async_trait]
impl DefinitionSource for Beside {
    async fn find(&self, name: &str) -> Option<Source> {
        for path in self.candidates(name) {
            if let Ok(text) = tokio::fs::read_to_string(&path).await {
                let shown = path.display().to_string();
                return Some(Source::new(shown.clone(), text, Format::from_path(&shown)));
            }
        }
        None
    }
}
