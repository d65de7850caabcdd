//! The subcommands, one module each, and what they share: reading definition files.

pub(crate) mod assist;
pub(crate) mod bench;
mod beside;
pub(crate) mod completions;
#[cfg(test)]
mod config_reference;
mod database;
pub(crate) mod durability;
pub(crate) mod execution;
pub(crate) mod graph;
pub(crate) mod history;
mod integration;
mod llm;
mod local;
pub(crate) mod migrate;
mod progress;
pub(crate) mod remote;
mod report;
pub(crate) mod resume;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod schema;
pub(crate) mod serve;
pub(crate) mod submit;
pub(crate) mod template;
pub(crate) mod token;
pub(crate) mod trigger;
pub(crate) mod validate;
pub(crate) mod workflow;

use std::path::{Path, PathBuf};

use harmonia_model::{Format, Source};

/// Reads a definition file into a [`Source`] named by its path as given.
pub(crate) fn read_source(path: &Path) -> std::io::Result<Source> {
    let text = std::fs::read_to_string(path)?;
    let name = path.display().to_string();
    Ok(Source::new(name.clone(), text, Format::from_path(&name)))
}

/// Expands directories into the definition files they hold (`*.yaml`, `*.yml`,
/// `*.json`, sorted); files are kept as given.
pub(crate) fn expand(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && f.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
