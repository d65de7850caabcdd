//! `harmonia template export [NAME...]`: the server's export document (the named
//! templates, or all of them, with every version, note and time) to stdout or a file.
//!
//! Invariant: the bytes written are exactly the bytes the server sent, so exporting
//! from one server, importing into an empty one and exporting again gives the same
//! file. The format is `--format`, else `json` when `-o` names a `.json` file, else
//! `yaml`.

use std::path::{Path, PathBuf};

use crate::commands::remote::client::{Client, Failure};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The templates to export (names or ids) [default: all of them].
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// The document's format [default: json for a .json output file, else yaml].
    #[arg(long, value_enum)]
    format: Option<DocumentFormat>,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The format of an export document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DocumentFormat {
    /// YAML (`application/yaml`).
    Yaml,
    /// JSON (`application/json`).
    Json,
}

impl DocumentFormat {
    fn as_str(self) -> &'static str {
        match self {
            DocumentFormat::Yaml => "yaml",
            DocumentFormat::Json => "json",
        }
    }
}

/// The format asked for, or the one the output file's name suggests.
fn format(args: &Args) -> DocumentFormat {
    args.format.unwrap_or_else(|| {
        let json = args
            .output
            .as_deref()
            .and_then(Path::extension)
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            DocumentFormat::Json
        } else {
            DocumentFormat::Yaml
        }
    })
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let mut query: Vec<(&str, &str)> = args.names.iter().map(|n| ("name", n.as_str())).collect();
    query.push(("format", format(args).as_str()));
    let body = client
        .bytes(client.get(&["api", "templates", "export"]).query(&query))
        .await?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &body)
                .map_err(|e| Failure::Local(format!("cannot write {}: {e}", path.display())))?;
            crate::output::errln!("exported to {} ({} bytes)", path.display(), body.len());
        }
        None => crate::output::write_bytes(&body),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(format: Option<DocumentFormat>, output: Option<&str>) -> Args {
        Args {
            names: vec![],
            format,
            output: output.map(PathBuf::from),
        }
    }

    #[test]
    fn the_format_is_given_or_follows_the_file_name() {
        assert_eq!(format(&args(None, None)), DocumentFormat::Yaml);
        assert_eq!(format(&args(None, Some("t.yaml"))), DocumentFormat::Yaml);
        assert_eq!(format(&args(None, Some("t.JSON"))), DocumentFormat::Json);
        assert_eq!(
            format(&args(Some(DocumentFormat::Yaml), Some("t.json"))),
            DocumentFormat::Yaml
        );
    }
}
