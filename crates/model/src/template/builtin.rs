//! The built-in template library: templates shipped in the binary, so that a fresh
//! server has useful ones.
//!
//! Each is a YAML file under `crates/model/templates/`, embedded with `include_str!`.
//! Every one validates against the engine's built-in task kinds (a test in
//! `tests/model/templates.rs` checks it), and every
//! one is instantiated and run by the real engine against local HTTP servers in the
//! CLI's integration tests (`crates/cli/tests/cli/templates.rs`): no placeholders.
//!
//! | name | shape |
//! |---|---|
//! | `http-fan-out` | many URLs, 4 requests at a time, retries, responses in order |
//! | `etl` | GET -> jq transform -> POST |
//! | `retry-api-call` | a call retried with backoff; on failure a notification, then fail |
//! | `scheduled-report` | collect numbers from sources, summarize, post (what a schedule runs) |
//! | `data-pipeline` | fetch -> clean -> validate -> enrich -> aggregate -> deliver |

use super::format::{Template, read_shape};
use crate::source::{Format, Source};

/// A template file compiled into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// The file's name (`etl.yaml`).
    pub file: &'static str,
    /// Its text, comments included (what a server may store as the version's source).
    pub text: &'static str,
}

impl Builtin {
    /// The file as a source to read.
    pub fn source(&self) -> Source {
        Source::new(self.file, self.text, Format::Yaml)
    }
}

/// When the built-in templates' versions were made (2026-11-24T00:00:00Z), in
/// milliseconds since the Unix epoch. A server stores them with this time rather than
/// the time it seeded them, so that every server's built-ins are the same versions and
/// an export from one imports into a fresh one as exactly the same bytes.
pub const BUILTIN_CREATED_AT_MS: i64 = 1_795_478_400_000;

/// The built-in template files, by name.
pub const BUILTIN: &[Builtin] = &[
    Builtin {
        file: "data-pipeline.yaml",
        text: include_str!("../../templates/data-pipeline.yaml"),
    },
    Builtin {
        file: "etl.yaml",
        text: include_str!("../../templates/etl.yaml"),
    },
    Builtin {
        file: "http-fan-out.yaml",
        text: include_str!("../../templates/http-fan-out.yaml"),
    },
    Builtin {
        file: "retry-api-call.yaml",
        text: include_str!("../../templates/retry-api-call.yaml"),
    },
    Builtin {
        file: "scheduled-report.yaml",
        text: include_str!("../../templates/scheduled-report.yaml"),
    },
];

/// The built-in templates, sorted by name. (Each file is checked by the tests, so none
/// is left out in practice; one that did not read would be left out, not a panic.)
pub fn builtin() -> Vec<Template> {
    BUILTIN
        .iter()
        .filter_map(|b| read_shape(&b.source()).ok())
        .collect()
}
