//! JSON as stores keep it: nested at most [`MAX_STORED_DEPTH`] deep, and read back with
//! the same limit.
//!
//! A store writes JSON text and parses it back on every read. A parser that recurses
//! has a limit (serde_json's is 128), and a value deeper than the reader's limit can be
//! written but never read again: its execution's history answers errors and cannot be
//! recovered. So the limit is the store's own, checked on both sides: [`check`] before a
//! write (a batch with a deeper value is refused whole, see `Store::commit`), [`parse`]
//! on every read. It is well above the engine's limit on values
//! (`harmonia_expr::MAX_DEPTH`, 100) plus the envelopes that hold them (an event, a
//! list of outputs), so nothing the engine produces comes near it.

use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON value kept as its text: what an event is, from the engine that serializes it
/// once to the store that writes that text (no intermediate [`Value`], which for an
/// event carrying megabytes of inputs is many times their size).
///
/// Its text is valid JSON, nested at most [`MAX_STORED_DEPTH`] deep when it came from
/// [`RawJson::parse`] (what a store reads).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// `value`, serialized.
    pub fn to_raw<T: serde::Serialize + ?Sized>(value: &T) -> Result<RawJson, String> {
        serde_json::value::to_raw_value(value)
            .map(RawJson)
            .map_err(|e| e.to_string())
    }

    /// Checks stored text and keeps it (see [`parse`] for the limits).
    pub fn parse(text: String) -> Result<RawJson, String> {
        if nests_deeper_than(text.as_bytes(), MAX_STORED_DEPTH) {
            return Err(format!(
                "the JSON text nests more than {MAX_STORED_DEPTH} levels deep"
            ));
        }
        let mut de = serde_json::Deserializer::from_str(&text);
        de.disable_recursion_limit();
        serde::de::IgnoredAny::deserialize(&mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        RawValue::from_string(text)
            .map(RawJson)
            .map_err(|e| e.to_string())
    }

    /// The text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Decodes the text into `T` (nesting up to [`MAX_STORED_DEPTH`]).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, String> {
        if nests_deeper_than(self.get().as_bytes(), MAX_STORED_DEPTH) {
            return Err(format!(
                "the JSON text nests more than {MAX_STORED_DEPTH} levels deep"
            ));
        }
        let mut de = serde_json::Deserializer::from_str(self.get());
        de.disable_recursion_limit();
        T::deserialize(&mut de).map_err(|e| e.to_string())
    }

    /// The value (`null` if it cannot be decoded): for tools and tests.
    pub fn value(&self) -> Value {
        self.decode().unwrap_or(Value::Null)
    }

    /// Checks that the text nests no deeper than [`MAX_STORED_DEPTH`].
    pub fn check(&self) -> Result<(), String> {
        if nests_deeper_than(self.get().as_bytes(), MAX_STORED_DEPTH) {
            return Err(format!(
                "a JSON value nested more than {MAX_STORED_DEPTH} levels deep cannot be stored"
            ));
        }
        Ok(())
    }
}

impl From<&Value> for RawJson {
    fn from(v: &Value) -> RawJson {
        // A `Value` always serializes (its keys are strings).
        RawJson::to_raw(v).unwrap_or_else(|_| RawJson::null())
    }
}

impl RawJson {
    /// `null`.
    pub fn null() -> RawJson {
        RawJson(RawValue::NULL.to_owned())
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.get() == other.get()
    }
}

/// How deep a stored JSON value may nest (containers within containers).
pub const MAX_STORED_DEPTH: usize = 512;

/// Checks that `v` nests no deeper than [`MAX_STORED_DEPTH`]. Iterative: safe on any
/// value.
pub fn check(v: &Value) -> Result<(), String> {
    if harmonia_expr::json_deeper_than(v, MAX_STORED_DEPTH) {
        return Err(format!(
            "a JSON value nested more than {MAX_STORED_DEPTH} levels deep cannot be stored"
        ));
    }
    Ok(())
}

/// Parses stored JSON text, nested up to [`MAX_STORED_DEPTH`] deep.
pub fn parse(text: &str) -> Result<Value, String> {
    if nests_deeper_than(text.as_bytes(), MAX_STORED_DEPTH) {
        return Err(format!(
            "the JSON text nests more than {MAX_STORED_DEPTH} levels deep"
        ));
    }
    // Bounded above, so the parser's own (lower) recursion limit can go.
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = Value::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Whether JSON text nests its brackets deeper than `limit` (strings skipped).
fn nests_deeper_than(text: &[u8], limit: usize) -> bool {
    harmonia_expr::text_nests_deeper_than(text, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn what_can_be_stored_can_be_read_back() {
        let text = nested(MAX_STORED_DEPTH);
        let v = parse(&text).expect("parses at the limit");
        assert!(check(&v).is_ok());
        assert_eq!(serde_json::to_string(&v).ok(), Some(text));
        // Beyond serde_json's default limit of 128, which this replaces.
        assert!(serde_json::from_str::<Value>(&nested(200)).is_err());
        assert!(parse(&nested(200)).is_ok());
    }

    #[test]
    fn deeper_is_refused_on_both_sides() {
        assert!(parse(&nested(MAX_STORED_DEPTH + 1)).is_err());
        assert!(parse(&nested(1_000_000)).is_err());
        let mut v = Value::from(1);
        for _ in 0..=MAX_STORED_DEPTH {
            v = Value::Array(vec![v]);
        }
        assert!(check(&v).is_err());
        // Brackets inside strings do not count.
        assert!(parse(&format!("\"{}\"", "[".repeat(10_000))).is_ok());
        assert!(parse("[1] x").is_err());
    }
}
