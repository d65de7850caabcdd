//! Durations as people write them: `250ms`, `2s`, `1m`, `1h`, `1d`, and sums like `1m30s`.
//!
//! A bare number is an error: `timeout: 30` could mean seconds or milliseconds, and a
//! wrong guess is worse than a clear message. Values print back in the same notation
//! (`90s` prints as `1m30s`), so a definition survives a round trip.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

/// A duration written as `250ms`, `2s`, `1m`, `1h`, `1d` or a sum of those (`1h30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub Duration);

/// The pattern a duration must match, for the JSON Schema.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]+)?\s*(ms|s|m|h|d)\s*)+$";

const UNITS: [(&str, u128); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl Dur {
    /// Parses `text`, or says what is wrong in a sentence that ends the error message.
    pub fn parse(text: &str) -> Result<Dur, String> {
        let expected = "expected a duration like `250ms`, `30s`, `5m`, `2h` or `1h30m`";
        let shown = harmonia_expr::clip(text);
        let s = text.trim();
        if s.is_empty() {
            return Err(format!("{expected}, found an empty string"));
        }
        let mut total_ms: f64 = 0.0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!("{expected}, found `{shown}`"));
            }
            let number: f64 = rest[..digits]
                .parse()
                .map_err(|_| format!("{expected}, found `{shown}`"))?;
            rest = rest[digits..].trim_start();
            let unit_len = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            let Some((_, ms)) = UNITS.iter().find(|(u, _)| *u == unit) else {
                return Err(if unit.is_empty() {
                    format!("{expected}: `{shown}` has no unit")
                } else {
                    format!(
                        "{expected}: unknown unit `{}` (use ms, s, m, h or d)",
                        harmonia_expr::clip(unit)
                    )
                });
            };
            total_ms += number * (*ms as f64);
            rest = rest[unit_len..].trim_start();
        }
        if !total_ms.is_finite() || total_ms > (u64::MAX / 2) as f64 {
            return Err(format!("the duration `{shown}` is too long"));
        }
        Ok(Dur(Duration::from_micros(
            (total_ms * 1000.0).round() as u64
        )))
    }

    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for Dur {
    fn from(d: Duration) -> Dur {
        Dur(d)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        let micros = self.0.as_micros() % 1000;
        if ms == 0 && micros == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        if micros > 0 {
            // Sub-millisecond remainders are rare; keep them exact in milliseconds.
            write!(f, "{}ms", micros as f64 / 1000.0)?;
        }
        Ok(())
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration: a number and a unit (ms, s, m, h, d), or a sum like `1h30m`.",
            "examples": ["250ms", "30s", "5m", "1h30m"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Result<u128, String> {
        Dur::parse(s).map(|d| d.0.as_millis())
    }

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(ms("250ms"), Ok(250));
        assert_eq!(ms("2s"), Ok(2000));
        assert_eq!(ms("1m"), Ok(60_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert_eq!(ms(" 1h 30m "), Ok(5_400_000));
        assert_eq!(ms("1.5s"), Ok(1500));
        assert_eq!(ms("0s"), Ok(0));
    }

    #[test]
    fn rejects_what_is_ambiguous_or_wrong() {
        assert!(ms("30").unwrap_err().contains("has no unit"));
        assert!(
            ms("5 minutes")
                .unwrap_err()
                .contains("unknown unit `minutes`")
        );
        assert!(ms("").unwrap_err().contains("empty"));
        assert!(ms("s").unwrap_err().contains("found `s`"));
        assert!(ms("1..2s").is_err());
        assert!(
            ms("99999999999999999999d")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn prints_back_in_the_same_notation() {
        for s in ["250ms", "2s", "1m30s", "1h", "1d2h3m4s5ms", "0s"] {
            assert_eq!(Dur::parse(s).map(|d| d.to_string()), Ok(s.to_string()));
        }
        assert_eq!(Dur::parse("90s").map(|d| d.to_string()), Ok("1m30s".into()));
    }
}
