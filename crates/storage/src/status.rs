//! Statuses of executions and tasks, with their spellings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every status, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used in APIs and storage.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let all: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("unknown status `{s}`; expected one of: {}", all.join(", "))
                    })
            }
        }
    };
}

status_enum!(
    /// Where an execution is.
    ExecutionStatus {
        /// Created, not started yet.
        Pending => "pending",
        /// Running.
        Running => "running",
        /// Paused: no new task starts.
        Paused => "paused",
        /// Ended well.
        Succeeded => "succeeded",
        /// Ended with an error.
        Failed => "failed",
        /// Stopped by a user.
        Cancelled => "cancelled",
    }
);

impl ExecutionStatus {
    /// Whether the execution has ended.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

status_enum!(
    /// Where a task (or one item of a fan-out) is.
    TaskStatus {
        /// Waiting for its dependencies.
        Pending => "pending",
        /// Ready, waiting for a free slot.
        Queued => "queued",
        /// An attempt is running (or waiting on a timer, a child or an event).
        Running => "running",
        /// Failed, waiting to be tried again.
        Retrying => "retrying",
        /// Failed under `on_error: pause`: waits for a person to retry, skip or fail it.
        Held => "held",
        /// Ended well.
        Succeeded => "succeeded",
        /// Ended with an error.
        Failed => "failed",
        /// Did not run: its condition was false or its dependencies did not allow it.
        Skipped => "skipped",
        /// Did not finish: the execution stopped first.
        Cancelled => "cancelled",
    }
);

impl TaskStatus {
    /// Whether the task has ended.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Skipped | Self::Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in ExecutionStatus::ALL {
            assert_eq!(s.as_str().parse::<ExecutionStatus>().ok(), Some(*s));
        }
        for s in TaskStatus::ALL {
            assert_eq!(s.as_str().parse::<TaskStatus>().ok(), Some(*s));
        }
        assert!(
            "done"
                .parse::<TaskStatus>()
                .is_err_and(|e| e.contains("expected one of"))
        );
        assert!(ExecutionStatus::Cancelled.is_terminal() && !ExecutionStatus::Paused.is_terminal());
    }
}
