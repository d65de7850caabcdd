//! `harmonia template show NAME`: one version of a template (the latest by default),
//! or with `--versions` the list of its versions.
//!
//! `--format yaml` (the default) and `json` render the template the server sent (its
//! `template` value) with the model's deterministic writer, so the text reads back as
//! the same template (`harmonia_model::template::read`); `source` prints the text as it
//! was stored. On a terminal, YAML gets a first comment line naming the version; piped
//! output is only the template.

use crate::output::{out, outln};
use std::io::IsTerminal;

use harmonia_model::Format;
use harmonia_model::template::Template;
use serde::Deserialize;
use serde_json::Value;

use crate::commands::remote::client::{Client, Failure};
use crate::commands::remote::table;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The template's name (or id).
    #[arg(value_name = "NAME")]
    name: String,
    /// This version rather than the latest.
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    /// How to print it: rendered as YAML or JSON, or the source text as stored.
    #[arg(long, value_enum, default_value_t = ShowFormat::Yaml)]
    format: ShowFormat,
    /// List the template's versions (VERSION CREATED NOTE) instead.
    #[arg(long, conflicts_with_all = ["version", "format"])]
    versions: bool,
}

/// How `show` prints a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ShowFormat {
    /// Rendered as YAML.
    Yaml,
    /// Rendered as JSON.
    Json,
    /// The text as stored on the server.
    Source,
}

/// The parts of a template version that `show` prints.
#[derive(Debug, Deserialize)]
struct Detail {
    name: String,
    version: u64,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    note: Option<String>,
    template: Value,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// A template's versions.
#[derive(Debug, Deserialize)]
struct Versions {
    versions: Vec<VersionInfo>,
}

#[derive(Debug, Deserialize)]
struct VersionInfo {
    version: u64,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    if args.versions {
        let list: Versions = client
            .json(client.get(&["api", "templates", &args.name, "versions"]))
            .await?;
        out!("{}", versions_table(&list.versions));
        return Ok(());
    }
    let mut request = client.get(&["api", "templates", &args.name]);
    if let Some(v) = args.version {
        request = request.query(&[("version", v)]);
    }
    let detail: Detail = client.json(request).await?;
    let (text, yaml) = match args.format {
        ShowFormat::Yaml => (render(&detail, Format::Yaml)?, true),
        ShowFormat::Json => (render(&detail, Format::Json)?, false),
        ShowFormat::Source => {
            let source = detail.source.clone().ok_or_else(|| {
                Failure::Local("the server sent no source text for this template".into())
            })?;
            (source, detail.format.as_deref() != Some("json"))
        }
    };
    if yaml && std::io::stdout().is_terminal() {
        outln!("{}", header(&detail));
    }
    out!("{text}");
    if !text.ends_with('\n') {
        outln!();
    }
    Ok(())
}

/// The template the server sent, as text.
fn render(detail: &Detail, format: Format) -> Result<String, Failure> {
    let content =
        serde_json::to_string(&detail.template).map_err(|e| Failure::Local(e.to_string()))?;
    let template = Template::from_content(&content).map_err(|e| {
        Failure::Local(format!(
            "the server sent a template this client cannot read ({e}); try --format source"
        ))
    })?;
    Ok(template.render(format))
}

/// The comment line above YAML on a terminal.
fn header(detail: &Detail) -> String {
    let mut line = format!("# template {} v{}", detail.name, detail.version);
    if let Some(at) = &detail.created_at {
        line.push_str(&format!(", created {at}"));
    }
    if let Some(note) = detail.note.as_deref().filter(|n| !n.is_empty()) {
        line.push_str(&format!(
            ": {}",
            note.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    line
}

fn versions_table(versions: &[VersionInfo]) -> String {
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            vec![
                v.version.to_string(),
                v.created_at.clone().unwrap_or_else(|| "-".into()),
                v.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::render(&["VERSION", "CREATED", "NOTE"], &rows, table::WIDTH)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn detail() -> Detail {
        serde_json::from_value(json!({
            "id": "x", "name": "greeter", "version": 3, "description": "Greet",
            "tags": ["demo"], "category": null, "note": "louder\nnow",
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
            "parameters": {"type": "object", "properties": {"who": {"type": "string"}}},
            "template": {
                "name": "greeter", "description": "Greet", "tags": ["demo"],
                "parameters": {"type": "object", "properties": {"who": {"type": "string"}}},
                "workflow": {"tasks": {"greet": {"type": "set", "with": {"msg": "hi ${ $params.who }"}}}}
            },
            "source": "name: greeter\n", "format": "yaml"
        }))
        .expect("a detail")
    }

    #[test]
    fn yaml_is_the_template_and_reads_back_as_one() {
        let text = render(&detail(), Format::Yaml).expect("renders");
        assert!(text.starts_with("name: greeter\n"), "{text}");
        assert!(text.contains("workflow:\n"), "{text}");
        let source = harmonia_model::Source::new("t.yaml", text, Format::Yaml);
        let read =
            harmonia_model::template::read(&source, &harmonia_engine::kinds::builtin_types())
                .expect("valid");
        assert_eq!(read.template.name, "greeter");
    }

    #[test]
    fn the_header_names_the_version_on_one_line() {
        assert_eq!(
            header(&detail()),
            "# template greeter v3, created 2026-01-01T00:00:00.000Z: louder now"
        );
    }

    #[test]
    fn versions_are_a_table() {
        let v: Versions = serde_json::from_value(json!({"name": "etl", "versions": [
            {"version": 1, "note": null, "created_at": "2026-01-01T00:00:00.000Z"},
            {"version": 2, "note": "faster", "created_at": "2026-01-02T00:00:00.000Z"},
        ]}))
        .expect("versions");
        assert_eq!(
            versions_table(&v.versions),
            "VERSION  CREATED                   NOTE\n\
             1        2026-01-01T00:00:00.000Z\n\
             2        2026-01-02T00:00:00.000Z  faster\n"
        );
    }
}
