//! The configuration reference of `harmonia serve`, generated from the code so that it
//! cannot go stale. `docs/operating.md` holds it between `<!-- config-reference:begin -->`
//! and `<!-- config-reference:end -->`; the test `the_operating_guide_holds_the_reference`
//! fails when the two differ, and `HARMONIA_UPDATE_DOCS=1 cargo test -p harmonia-cli
//! config_reference` rewrites that part of the file.
//!
//! Where the rows come from:
//! - every flag `harmonia serve` takes (its own, from `serve::Args`, and the global ones),
//!   read from clap: long name, value name, environment variable, default (clap's own,
//!   else the `[default: ...]` that ends its help) and help. Its `harmonia.toml` key is
//!   its field name when the config file (`serve::FileConfig`) has a field of that name;
//! - the keys that are not flags (`[hermes]`, `[[components]]`), from [`file_only`] here.
//!
//! Invariants, each checked by a test below: the keys of the table are exactly the fields
//! of the config file and of its `[hermes]` and `[[components]]` tables (their names read
//! from serde's derive itself, so a field added without a flag or a row fails); each of
//! those tables refuses unknown keys, and a file setting every key of [`file_only`] parses
//! through the real parsing; every flag has a `HARMONIA_*` variable and states its
//! default; every variable of [`file_only`] is read by the code that says it is.
//!
//! This module exists for tests only (`#[cfg(test)]` in `commands`).

use clap::{ArgAction, CommandFactory as _};
use harmonia_app::components::{DEFAULT_MCP_PREFIX, DEFAULT_TTL};
use serde::de::{self, Visitor};

use super::integration::{ComponentConfig, HermesConfig};
use super::serve::FileConfig;

/// The table of the config file a key sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// The top level of `harmonia.toml`.
    Top,
    /// `[hermes]`.
    Hermes,
    /// Each `[[components]]` entry.
    Components,
    /// `[llm]`: the language model.
    Llm,
}

impl Section {
    /// How the table is written in the file.
    fn header(self) -> &'static str {
        match self {
            Section::Top => "",
            Section::Hermes => "[hermes]",
            Section::Components => "[[components]]",
            Section::Llm => "[llm]",
        }
    }
}

/// One setting: one line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    /// Its key in `harmonia.toml`, if it has one.
    key: Option<(Section, &'static str)>,
    /// Its environment variable, if it has one.
    env: Option<String>,
    /// Its flag as typed (`--port <PORT>`), if it has one.
    flag: Option<String>,
    /// Its default, in words.
    default: String,
    /// What it does.
    what: String,
}

/// A key of `[hermes]`, `[[components]]` or `[llm]` that no flag sets.
struct FileOnly {
    section: Section,
    key: &'static str,
    /// The variable that overrides it, if any.
    env: Option<&'static str>,
    default: String,
    what: &'static str,
    /// A value, as TOML, that the real parsing accepts for it.
    example: &'static str,
}

/// The heartbeat interval when nothing sets it (in `integration::settings`; checked
/// against it by a test).
const HEARTBEAT_DEFAULT: std::time::Duration = std::time::Duration::from_secs(30);

/// The keys that are not flags, with what the code does with them (`integration`).
fn file_only() -> Vec<FileOnly> {
    let dur = |d: std::time::Duration| harmonia_model::Dur(d).to_string();
    vec![
        FileOnly {
            section: Section::Hermes,
            key: "url",
            env: Some("HERMES_URL"),
            default: "none (no Hermes)".into(),
            what: "The Hermes registry: the server registers there, heart-beats, \
                   unregisters when it stops, and finds components through it.",
            example: r#""http://127.0.0.1:8001""#,
        },
        FileOnly {
            section: Section::Hermes,
            key: "heartbeat_interval",
            env: Some("HARMONIA_HERMES_HEARTBEAT"),
            default: dur(HEARTBEAT_DEFAULT),
            what: "How often the server tells Hermes it is alive.",
            example: r#""30s""#,
        },
        FileOnly {
            section: Section::Hermes,
            key: "public_url",
            env: Some("HARMONIA_PUBLIC_URL"),
            default: "http://BIND:PORT (127.0.0.1 when bound to all addresses)".into(),
            what: "The URL Hermes gives other components for this server: set it when \
                   they reach the server through another address.",
            example: r#""http://10.0.0.5:8007""#,
        },
        FileOnly {
            section: Section::Hermes,
            key: "discovery_ttl",
            env: None,
            default: dur(DEFAULT_TTL),
            what: "How long the list of components fetched from Hermes is cached.",
            example: r#""60s""#,
        },
        FileOnly {
            section: Section::Components,
            key: "name",
            env: None,
            default: "required".into(),
            what: "The name `component` tasks call the component by; unique.",
            example: r#""rhetor""#,
        },
        FileOnly {
            section: Section::Components,
            key: "endpoint",
            env: None,
            default: "required".into(),
            what: "The component's base URL (http or https).",
            example: r#""http://127.0.0.1:8003""#,
        },
        FileOnly {
            section: Section::Components,
            key: "mcp_prefix",
            env: None,
            default: DEFAULT_MCP_PREFIX.into(),
            what: "The path of the component's MCP endpoint, under `endpoint`.",
            example: r#""/api/mcp/v2""#,
        },
        FileOnly {
            section: Section::Components,
            key: "token_secret",
            env: None,
            default: "none (no token sent)".into(),
            what: "The name of a secret sent to the component as a bearer token; its \
                   value comes from `HARMONIA_SECRET_<NAME>`, and the server refuses to \
                   start when that variable is not set.",
            example: r#""RHETOR_TOKEN""#,
        },
        FileOnly {
            section: Section::Llm,
            key: "provider",
            env: Some("HARMONIA_LLM_PROVIDER"),
            default: "openai".into(),
            what: "The model's wire format: `openai` (OpenAI and compatible servers: \
                   llama.cpp, vLLM, LM Studio), `anthropic`, `ollama` or `rhetor`. Without \
                   `[llm]` and these variables there is no model: the assistant answers \
                   what it can without one, and `llm` tasks are refused at start.",
            example: r#""openai""#,
        },
        FileOnly {
            section: Section::Llm,
            key: "base_url",
            env: Some("HARMONIA_LLM_BASE_URL"),
            default: "the provider's (Rhetor: `RHETOR_URL`, else http://localhost:8003)".into(),
            what: "Where the provider is.",
            example: r#""http://127.0.0.1:8080""#,
        },
        FileOnly {
            section: Section::Llm,
            key: "model",
            env: Some("HARMONIA_LLM_MODEL"),
            default: "required (but for Rhetor, which then chooses)".into(),
            what: "The model to ask.",
            example: r#""qwen2.5-7b-instruct""#,
        },
        FileOnly {
            section: Section::Llm,
            key: "api_key_env",
            env: None,
            default: "none (`HARMONIA_LLM_API_KEY` when set)".into(),
            what: "The environment variable that holds the API key. A key written in the \
                   file (`api_key`) is refused.",
            example: r#""OPENAI_API_KEY""#,
        },
        FileOnly {
            section: Section::Llm,
            key: "timeout_secs",
            env: Some("HARMONIA_LLM_TIMEOUT_SECS"),
            default: harmonia_llm::DEFAULT_TIMEOUT.as_secs().to_string(),
            what: "How long one request may take, in seconds, the answer included.",
            example: "120",
        },
        FileOnly {
            section: Section::Llm,
            key: "connect_timeout_secs",
            env: None,
            default: harmonia_llm::DEFAULT_CONNECT_TIMEOUT.as_secs().to_string(),
            what: "How long connecting may take, in seconds.",
            example: "10",
        },
        FileOnly {
            section: Section::Llm,
            key: "max_retries",
            env: None,
            default: harmonia_llm::DEFAULT_MAX_RETRIES.to_string(),
            what: "How many times a 429, a 5xx or a failed connection is retried \
                   (honouring `Retry-After`).",
            example: "2",
        },
        FileOnly {
            section: Section::Llm,
            key: "max_tokens_cap",
            env: None,
            default: harmonia_llm::DEFAULT_MAX_TOKENS_CAP.to_string(),
            what: "The most tokens one answer may take; a request asking for more is \
                   clamped.",
            example: "4096",
        },
        FileOnly {
            section: Section::Components,
            key: "capabilities",
            env: None,
            default: "[]".into(),
            what: "Labels for what the component offers, listed by `GET /api/components`.",
            example: r#"["llm"]"#,
        },
    ]
}

/// `harmonia serve` as the binary parses it, global flags included.
fn serve_command() -> clap::Command {
    let mut cli = crate::Cli::command();
    cli.build();
    cli.find_subcommand("serve")
        .cloned()
        // The binary without `serve`: no rows, which the tests report.
        .unwrap_or_else(|| clap::Command::new("serve"))
}

/// Splits a help text into what it says and the `[default: ...]` that ends it.
fn split_default(help: &str) -> (String, Option<String>) {
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(start) = help.rfind("[default: ")
        && help.ends_with(']')
    {
        let default = help[start + "[default: ".len()..help.len() - 1].to_string();
        return (help[..start].trim_end().to_string(), Some(default));
    }
    (help, None)
}

/// The rows of the flags, in the order `--help` lists them.
fn flag_rows() -> Vec<Row> {
    let keys = fields_of::<FileConfig>();
    let serve = serve_command();
    let mut rows = Vec::new();
    for arg in serve.get_arguments() {
        if matches!(
            arg.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        ) || arg.is_hide_set()
        {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        let id = arg.get_id().as_str();
        let mut flag = format!("--{long}");
        if arg.get_action().takes_values() {
            let name = arg
                .get_value_names()
                .and_then(|n| n.first())
                .map(|n| n.to_string())
                .unwrap_or_else(|| id.to_uppercase());
            flag.push_str(&format!(" <{name}>"));
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let (mut what, stated) = split_default(&help);
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = if defaults.is_empty() {
            stated.unwrap_or_default()
        } else {
            defaults.join(", ")
        };
        if !what.is_empty() && !what.ends_with(['.', '!', '?']) {
            what.push('.');
        }
        if arg.get_action().takes_values() {
            let unsaid: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("`{}`", v.get_name()))
                .filter(|v| !what.contains(v.as_str()))
                .collect();
            if !unsaid.is_empty() {
                what.push_str(&format!(" One of {}.", unsaid.join(", ")));
            }
        }
        rows.push(Row {
            key: keys.iter().find(|k| **k == id).map(|k| (Section::Top, *k)),
            env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
            flag: Some(flag),
            default,
            what,
        });
    }
    rows
}

/// Every row: the flags, then the keys that are not flags.
fn rows() -> Vec<Row> {
    let mut rows = flag_rows();
    rows.extend(file_only().into_iter().map(|f| Row {
        key: Some((f.section, f.key)),
        env: f.env.map(str::to_string),
        flag: None,
        default: f.default,
        what: f.what.split_whitespace().collect::<Vec<_>>().join(" "),
    }));
    rows
}

/// A table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text as code in a cell, or a dash when there is none.
fn code_or_dash(text: Option<&str>) -> String {
    match text {
        Some(t) => format!("`{}`", cell(t)),
        None => "—".to_string(),
    }
}

/// The Markdown table, ending with a newline.
fn render() -> String {
    let mut out = String::from(
        "| `harmonia.toml` | Environment | Flag | Default | What it does |\n\
         |---|---|---|---|---|\n",
    );
    for row in rows() {
        let key = match row.key {
            None => "—".to_string(),
            Some((Section::Top, k)) => format!("`{k}`"),
            Some((s, k)) => format!("`{}` `{k}`", s.header()),
        };
        out.push_str(&format!(
            "| {key} | {} | {} | {} | {} |\n",
            code_or_dash(row.env.as_deref()),
            code_or_dash(row.flag.as_deref()),
            cell(&row.default),
            cell(&row.what),
        ));
    }
    out
}

/// The field names of a struct deserialized by serde's derive, as the derive declares
/// them (renames applied): a deserializer that only records what `deserialize_struct` is
/// given. Empty for anything that is not such a struct.
fn fields_of<'de, T: de::Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    const BEGIN: &str = "<!-- config-reference:begin -->";
    const END: &str = "<!-- config-reference:end -->";

    fn operating_md() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/operating.md")
    }

    #[test]
    fn the_operating_guide_holds_the_reference() {
        let path = operating_md();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
            panic!(
                "{} must hold the configuration reference between `{BEGIN}` and `{END}` \
                 (each once, in that order)",
                path.display()
            );
        };
        assert!(begin < end, "`{BEGIN}` must come before `{END}`");
        let inside = &text[begin + BEGIN.len()..end];
        let wanted = format!("\n{}", render());
        if inside == wanted {
            return;
        }
        if std::env::var_os("HARMONIA_UPDATE_DOCS").is_some_and(|v| v == "1") {
            let updated = format!("{}{wanted}{}", &text[..begin + BEGIN.len()], &text[end..]);
            std::fs::write(&path, updated)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            crate::output::errln!("rewrote the configuration reference in {}", path.display());
            return;
        }
        let differ = inside
            .lines()
            .zip(wanted.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| inside.lines().count().min(wanted.lines().count()));
        panic!(
            "the configuration reference in {} is out of date (first difference at line {} \
             of the reference); run\n\n    HARMONIA_UPDATE_DOCS=1 cargo test -p harmonia-cli \
             config_reference\n\nto rewrite it. It should read:\n{wanted}",
            path.display(),
            differ + 1
        );
    }

    #[test]
    fn every_key_of_the_config_file_is_in_the_reference_and_no_other() {
        let documented: BTreeSet<(String, String)> = rows()
            .iter()
            .filter_map(|r| r.key)
            .map(|(s, k)| (s.header().to_string(), k.to_string()))
            .collect();
        let mut keys = BTreeSet::new();
        for (section, fields) in [
            (Section::Top, fields_of::<FileConfig>()),
            (Section::Hermes, fields_of::<HermesConfig>()),
            (Section::Components, fields_of::<ComponentConfig>()),
            (Section::Llm, fields_of::<harmonia_llm::LlmConfig>()),
        ] {
            assert!(!fields.is_empty(), "no fields read for {section:?}");
            for field in fields {
                // The tables are documented by their keys.
                if section == Section::Top && matches!(*field, "hermes" | "components" | "llm") {
                    continue;
                }
                // Read only to be refused, with a message saying what to do instead.
                if section == Section::Llm && *field == "api_key" {
                    continue;
                }
                keys.insert((section.header().to_string(), field.to_string()));
            }
        }
        let missing: Vec<_> = keys.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "keys of the config file missing from the reference: {missing:?}. A key of \
             `FileConfig` is documented by the `serve` flag of the same field name (give it \
             one), and a key of `[hermes]` or `[[components]]` by a row of `file_only()` in \
             config_reference.rs"
        );
        let unknown: Vec<_> = documented.difference(&keys).collect();
        assert!(
            unknown.is_empty(),
            "the reference documents keys the config file does not have: {unknown:?}"
        );
    }

    #[test]
    fn a_file_with_every_key_that_is_not_a_flag_parses_and_unknown_keys_are_refused() {
        let mut hermes = String::from("[hermes]\n");
        let mut component = String::from("[[components]]\n");
        let mut llm = String::from("[llm]\n");
        for f in file_only() {
            let line = format!("{} = {}\n", f.key, f.example);
            match f.section {
                Section::Hermes => hermes.push_str(&line),
                Section::Components => component.push_str(&line),
                Section::Llm => llm.push_str(&line),
                Section::Top => panic!("`{}`: top-level keys are flags", f.key),
            }
        }
        let file = format!("port = 8007\n{hermes}\n{llm}\n{component}");
        let parsed: Result<FileConfig, _> = toml::from_str(&file);
        assert!(parsed.is_ok(), "{file}\ndoes not parse: {parsed:?}");
        // And each table refuses a key it does not know: a documented key that parses
        // is one the code reads.
        for typo in [
            "prot = 8007\n".to_string(),
            format!("{hermes}uri = \"http://127.0.0.1:1\"\n"),
            format!("{component}endpont = \"http://127.0.0.1:1\"\n"),
            format!("{llm}modle = \"x\"\n"),
            format!("{llm}api_key = \"sk-in-clear\"\n"),
        ] {
            let parsed: Result<FileConfig, _> = toml::from_str(&typo);
            assert!(parsed.is_err(), "accepted an unknown key:\n{typo}");
        }
    }

    #[test]
    fn every_flag_has_a_variable_and_a_default() {
        let flags = flag_rows();
        assert!(
            flags
                .iter()
                .any(|r| r.flag.as_deref() == Some("--port <PORT>")),
            "{flags:?}"
        );
        for row in &flags {
            let flag = row.flag.as_deref().unwrap_or_default();
            let env = row.env.as_deref().unwrap_or_default();
            assert!(
                env.starts_with("HARMONIA_"),
                "`{flag}` has no HARMONIA_* environment variable (`env = ...`)"
            );
            assert!(
                !row.default.is_empty(),
                "`{flag}` states no default: end its help with `[default: ...]`"
            );
            assert!(!row.what.is_empty(), "`{flag}` has no help");
        }
    }

    #[test]
    fn the_variables_of_the_file_only_keys_are_read_where_they_are_documented() {
        for f in file_only() {
            let (file, source) = match f.section {
                Section::Llm => (
                    "crates/llm/src/config.rs",
                    include_str!("../../../llm/src/config.rs"),
                ),
                _ => ("integration.rs", include_str!("integration.rs")),
            };
            if let Some(env) = f.env {
                assert!(
                    source.contains(&format!("\"{env}\"")),
                    "{file} does not read `{env}`, documented for `{}`",
                    f.key
                );
            }
        }
        // The defaults said for the Hermes settings are the ones in effect (unless the
        // environment of this test sets them).
        if std::env::var_os("HARMONIA_HERMES_HEARTBEAT").is_none() {
            let settings = format!("{:?}", super::super::integration::settings(None, None));
            assert!(
                settings.contains(&format!("heartbeat: {HEARTBEAT_DEFAULT:?}")),
                "{settings}"
            );
            assert!(
                settings.contains(&format!("ttl: {DEFAULT_TTL:?}")),
                "{settings}"
            );
        }
    }

    #[test]
    fn help_defaults_are_split_off() {
        assert_eq!(
            split_default("The port\n to listen on [default: 8007]"),
            (
                "The port to listen on".to_string(),
                Some("8007".to_string())
            )
        );
        assert_eq!(
            split_default("No default"),
            ("No default".to_string(), None)
        );
    }
}
