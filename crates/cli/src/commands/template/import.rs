//! `harmonia template import FILE`: send an export document (or one template file) to
//! the server, which stores every version it does not have yet.
//!
//! The file is sent as it is, as `application/json` when its name ends in `.json` and
//! `application/yaml` otherwise. Prints `created NAME vN` or `unchanged NAME vN` for
//! each version. Without `--strict`, a version whose content differs from what the
//! server has becomes a new version; with `--strict` that is a conflict and nothing is
//! stored. Problems in the file come back as diagnostics, printed as
//! `FILE:LINE:COL: error: ...`.

use crate::output::outln;
use std::path::PathBuf;

use serde::Deserialize;

use crate::commands::remote::client::{Client, Failure, content_type};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The export document or template (YAML, or JSON when named *.json).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Fail, storing nothing, when a version differs from the server's.
    #[arg(long)]
    strict: bool,
}

/// What the server did with each version.
#[derive(Debug, Deserialize)]
struct Imported {
    #[serde(default)]
    created: Vec<NameVersion>,
    #[serde(default)]
    unchanged: Vec<NameVersion>,
}

#[derive(Debug, Deserialize)]
struct NameVersion {
    name: String,
    version: u64,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let name = args.file.display().to_string();
    let body = std::fs::read(&args.file)
        .map_err(|e| Failure::Local(format!("cannot read {name}: {e}")))?;
    let request = client
        .post(&["api", "templates", "import"])
        .query(&[("strict", args.strict)])
        .header(reqwest::header::CONTENT_TYPE, content_type(&args.file))
        .body(body);
    let imported: Imported = client.json(request).await.map_err(|f| f.in_file(&name))?;
    for line in lines(&imported) {
        outln!("{line}");
    }
    Ok(())
}

/// One line per version: created ones first, then unchanged ones.
fn lines(imported: &Imported) -> Vec<String> {
    let created = imported
        .created
        .iter()
        .map(|t| format!("created {} v{}", t.name, t.version));
    let unchanged = imported
        .unchanged
        .iter()
        .map(|t| format!("unchanged {} v{}", t.name, t.version));
    created.chain(unchanged).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_version_is_a_line() {
        let imported: Imported = serde_json::from_value(json!({
            "created": [{"name": "a", "version": 2}],
            "unchanged": [{"name": "a", "version": 1}, {"name": "b", "version": 1}],
        }))
        .expect("a result");
        assert_eq!(
            lines(&imported),
            ["created a v2", "unchanged a v1", "unchanged b v1"]
        );
    }
}
