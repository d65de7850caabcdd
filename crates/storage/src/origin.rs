//! What started an execution: its [`Origin`], a kind and, for most kinds, who or what
//! of that kind.
//!
//! Invariants: an origin is part of an execution's identity, recorded in its first event
//! and written with its first row, never changed afterwards (the `ExecutionLog`
//! contract); executions recorded before origins existed have none. Kinds are a closed
//! set, spelled as [`OriginKind::as_str`] says, in the API and in storage alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What started an execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The kind of starter.
    pub kind: OriginKind,
    /// Which one, by kind: the API token's name (`api`, `mcp`; none when no token was
    /// needed), the trigger's id as the triggers listing shows it, `WORKFLOW.POSITION`
    /// (`schedule`, `webhook`, `event`), the execution retried (`retry`), the parent
    /// execution (`workflow`), the template's name (`template`); none for `cli`.
    #[serde(default)]
    pub by: Option<String>,
}

impl Origin {
    /// An origin of `kind`, by `by`.
    pub fn new(kind: OriginKind, by: Option<String>) -> Origin {
        Origin { kind, by }
    }

    /// An origin of `kind`, by `by`.
    pub fn by(kind: OriginKind, by: impl Into<String>) -> Origin {
        Origin {
            kind,
            by: Some(by.into()),
        }
    }
}

macro_rules! origin_kinds {
    ($($(#[$doc:meta])* $variant:ident => $text:literal),+ $(,)?) => {
        /// The kinds of [`Origin`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum OriginKind {
            $($(#[$doc])* $variant),+
        }

        impl OriginKind {
            /// Every kind, in order.
            pub const ALL: &'static [OriginKind] = &[$(OriginKind::$variant),+];

            /// The spelling used in APIs and storage.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(OriginKind::$variant => $text),+
                }
            }
        }
    };
}

origin_kinds!(
    /// `POST /api/workflows/{id}/execute` (by: the token's name, if one was used).
    Api => "api",
    /// The MCP tool `execute_workflow` (by: the token's name, if one was used).
    Mcp => "mcp",
    /// A local `harmonia run`.
    Cli => "cli",
    /// A `schedule` trigger (by: the trigger's id).
    Schedule => "schedule",
    /// A `webhook` trigger, or a replay of one of its deliveries (by: the trigger's id).
    Webhook => "webhook",
    /// An `event` trigger (by: the trigger's id).
    Event => "event",
    /// A retry from failure (by: the execution retried).
    Retry => "retry",
    /// A `workflow` task: a sub-workflow (by: the parent execution).
    Workflow => "workflow",
    /// Instantiating a template with `execute` (by: the template's name).
    Template => "template",
);

impl OriginKind {
    /// Whether the kind is a trigger's, whose `by` is a trigger id.
    pub const fn is_trigger(self) -> bool {
        matches!(
            self,
            OriginKind::Schedule | OriginKind::Webhook | OriginKind::Event
        )
    }

    /// Every kind, comma-separated (for messages).
    pub fn listed() -> String {
        let all: Vec<&str> = OriginKind::ALL.iter().map(|k| k.as_str()).collect();
        all.join(", ")
    }
}

impl fmt::Display for OriginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OriginKind {
    type Err = String;
    fn from_str(s: &str) -> Result<OriginKind, String> {
        OriginKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown origin `{s}`; expected one of: {}",
                    OriginKind::listed()
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_spelled() {
        for k in OriginKind::ALL {
            assert_eq!(k.as_str().parse::<OriginKind>(), Ok(*k));
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::from(k.as_str()))
            );
        }
        let e = "manual".parse::<OriginKind>().err().unwrap_or_default();
        assert!(e.contains("api, mcp, cli, schedule"), "{e}");
    }

    #[test]
    fn an_origin_is_kind_and_by() {
        let o = Origin::by(OriginKind::Schedule, "nightly.0");
        assert_eq!(
            serde_json::to_value(&o).ok(),
            Some(serde_json::json!({"kind": "schedule", "by": "nightly.0"}))
        );
        let cli: Origin = serde_json::from_value(serde_json::json!({"kind": "cli"}))
            .unwrap_or_else(|_| Origin::new(OriginKind::Api, None));
        assert_eq!(cli, Origin::new(OriginKind::Cli, None));
    }
}
