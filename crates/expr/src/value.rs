//! Values in the evaluator's representation, and the conversions to and from JSON.
//!
//! [`Val`] wraps jaq's value type. It is shared (cloning is a reference-count bump), so a
//! context built once, such as `$tasks` after a hundred tasks, costs nothing to pass to each
//! of many evaluations. Conversion back to `serde_json::Value` is bounded by a byte budget,
//! so an expression that builds a huge value fails cleanly instead of exhausting memory in
//! the caller.
//!
//! Nesting: a value is at most [`crate::MAX_DEPTH`] containers deep wherever it goes
//! (stores read JSON back with a recursion limit, and dropping or comparing a value
//! recurses over it). [`Val::to_json`] refuses deeper values; [`deeper_than`] and
//! [`json_deeper_than`] check without recursing, so they are safe on any value.
//!
//! Invariant: `Val::from(&json).to_json(usize::MAX) == json` for every JSON value at
//! most [`crate::MAX_DEPTH`] deep, up to number representation: a whole float comes back as an integer (`2.0` as `2`, as
//! jq prints it), and NaN or infinity (which JSON lacks) become `null`, as in jq.

use jaq_json::{Num, Rc};
use serde_json::{Map, Number, Value};

use crate::Error;

/// A JSON value in the evaluator's representation: cheap to clone, converted once.
#[derive(Clone, Debug, Default)]
pub struct Val(pub(crate) jaq_json::Val);

impl Val {
    /// `null`.
    pub fn null() -> Val {
        Val(jaq_json::Val::Null)
    }

    /// An object of the given entries, in order.
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Val)>) -> Val {
        let map = entries
            .into_iter()
            .map(|(k, v)| (jaq_json::Val::from(k.into()), v.0))
            .collect();
        Val(jaq_json::Val::obj(map))
    }

    /// Sets `key` to `value` in this object (an existing key keeps its position).
    ///
    /// A value that is not an object is replaced by a one-entry object. The map is copied
    /// only if another clone still shares it.
    pub fn insert(&mut self, key: &str, value: Val) {
        let key = jaq_json::Val::from(key.to_owned());
        match &mut self.0 {
            jaq_json::Val::Obj(map) => {
                Rc::make_mut(map).insert(key, value.0);
            }
            other => *other = jaq_json::Val::obj([(key, value.0)].into_iter().collect()),
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.0, jaq_json::Val::Null)
    }

    /// jq's truthiness: everything but `false` and `null` is true.
    pub fn is_truthy(&self) -> bool {
        !matches!(self.0, jaq_json::Val::Null | jaq_json::Val::Bool(false))
    }

    /// Converts to JSON, failing with [`Error::OutputTooLarge`] when the result would take
    /// more than `max_bytes` (measured roughly as the size of its compact JSON text), and
    /// with [`Error::TooDeep`] when it is nested deeper than [`crate::MAX_DEPTH`].
    pub fn to_json(&self, max_bytes: usize) -> Result<Value, Error> {
        if deeper_than(&self.0, crate::MAX_DEPTH) {
            return Err(Error::TooDeep {
                limit: crate::MAX_DEPTH,
            });
        }
        let mut budget = Budget {
            left: max_bytes,
            max: max_bytes,
        };
        to_json(&self.0, &mut budget)
    }

    /// Whether this value is nested deeper than `limit` containers.
    pub fn deeper_than(&self, limit: usize) -> bool {
        deeper_than(&self.0, limit)
    }

    /// Every text in this value: strings, object keys, and numbers as they print.
    /// What a value computed from a secret could show of it (the engine redacts them).
    pub fn texts(&self) -> Vec<String> {
        use jaq_json::Val as J;
        let mut out = Vec::new();
        let mut stack = vec![&self.0];
        while let Some(v) = stack.pop() {
            match v {
                J::TStr(b) | J::BStr(b) => out.push(String::from_utf8_lossy(b).into_owned()),
                J::Num(n) => out.push(n.to_string()),
                J::Arr(a) => stack.extend(a.iter()),
                J::Obj(o) => {
                    for (k, x) in o.iter() {
                        stack.push(k);
                        stack.push(x);
                    }
                }
                J::Null | J::Bool(_) => {}
            }
        }
        out
    }
}

impl From<&Value> for Val {
    fn from(v: &Value) -> Val {
        Val(from_json(v))
    }
}

impl From<Value> for Val {
    fn from(v: Value) -> Val {
        Val(from_json(&v))
    }
}

fn from_json(v: &Value) -> jaq_json::Val {
    use jaq_json::Val as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().and_then(|i| isize::try_from(i).ok()) {
                J::Num(Num::Int(i))
            } else if n.is_f64() {
                J::from(n.as_f64().unwrap_or(f64::NAN))
            } else if let Some(u) = n.as_u64() {
                // Beyond isize: kept exact as a big integer.
                J::Num(Num::from_integral(u))
            } else {
                J::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => J::from(s.clone()),
        Value::Array(a) => J::Arr(Rc::new(a.iter().map(from_json).collect())),
        Value::Object(o) => J::obj(
            o.iter()
                .map(|(k, v)| (J::from(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

/// Whether `v` is nested deeper than `limit` containers (a scalar is 0 deep, `[1]` is
/// 1). Iterative, and stops at the first path deeper than the limit.
pub(crate) fn deeper_than(v: &jaq_json::Val, limit: usize) -> bool {
    use jaq_json::Val as J;
    let mut stack: Vec<(&J, usize)> = vec![(v, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &J>> = match v {
            J::Arr(a) => Box::new(a.iter()),
            J::Obj(o) => Box::new(o.values()),
            _ => continue,
        };
        if depth + 1 > limit {
            return true;
        }
        stack.extend(
            children
                .filter(|c| matches!(c, J::Arr(_) | J::Obj(_)))
                .map(|c| (c, depth + 1)),
        );
    }
    false
}

/// Whether the JSON value `v` is nested deeper than `limit` containers. Iterative.
pub fn json_deeper_than(v: &Value, limit: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        if depth + 1 > limit {
            return true;
        }
        stack.extend(
            children
                .filter(|c| c.is_array() || c.is_object())
                .map(|c| (c, depth + 1)),
        );
    }
    false
}

/// Whether JSON text nests its brackets deeper than `limit` (strings skipped; the text
/// need not be valid). What a parser of it would recurse, counted without parsing.
pub fn text_nests_deeper_than(text: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

struct Budget {
    left: usize,
    max: usize,
}

impl Budget {
    fn spend(&mut self, n: usize) -> Result<(), Error> {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(Error::OutputTooLarge { limit: self.max }),
        }
    }
}

fn to_json(v: &jaq_json::Val, budget: &mut Budget) -> Result<Value, Error> {
    use jaq_json::Val as J;
    Ok(match v {
        J::Null => {
            budget.spend(4)?;
            Value::Null
        }
        J::Bool(b) => {
            budget.spend(5)?;
            Value::Bool(*b)
        }
        J::Num(n) => {
            budget.spend(8)?;
            num_to_json(n)
        }
        J::TStr(b) | J::BStr(b) => {
            budget.spend(b.len() + 2)?;
            Value::String(String::from_utf8_lossy(b).into_owned())
        }
        J::Arr(a) => {
            budget.spend(2)?;
            let mut out = Vec::with_capacity(a.len());
            for x in a.iter() {
                budget.spend(1)?;
                out.push(to_json(x, budget)?);
            }
            Value::Array(out)
        }
        J::Obj(o) => {
            budget.spend(2)?;
            let mut out = Map::with_capacity(o.len());
            for (k, x) in o.iter() {
                let key = match k {
                    J::TStr(b) | J::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                    // jaq allows non-string keys; JSON does not: use their JSON text.
                    other => other.to_string(),
                };
                budget.spend(key.len() + 4)?;
                let x = to_json(x, budget)?;
                out.insert(key, x);
            }
            Value::Object(out)
        }
    })
}

fn num_to_json(n: &Num) -> Value {
    match n {
        Num::Int(i) => Value::from(*i as i64),
        // Whole floats print as integers, as jq prints `4 / 2` as `2`.
        Num::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            Value::from(*f as i64)
        }
        Num::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        other => {
            let text = other.to_string();
            if let Ok(i) = text.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = text.parse::<u64>() {
                Value::from(u)
            } else {
                text.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_json() {
        let v = json!({
            "s": "héllo", "i": -3, "big": 18446744073709551615u64, "f": 1.5,
            "a": [null, true, false, {"k": []}], "o": {"z": 1, "a": 2}
        });
        assert_eq!(Val::from(&v).to_json(usize::MAX).ok(), Some(v));
    }

    #[test]
    fn whole_floats_become_integers() {
        assert_eq!(Val::from(json!(2.0)).to_json(100).ok(), Some(json!(2)));
        assert_eq!(Val::from(json!(2.5)).to_json(100).ok(), Some(json!(2.5)));
        assert_eq!(
            Val::from(json!(1e300)).to_json(100).ok(),
            Some(json!(1e300))
        );
    }

    #[test]
    fn output_budget_is_enforced() {
        let v = json!({"k": "x".repeat(100)});
        assert!(Val::from(&v).to_json(1000).is_ok());
        assert!(matches!(
            Val::from(&v).to_json(50),
            Err(Error::OutputTooLarge { limit: 50 })
        ));
    }

    #[test]
    fn insert_and_truthiness() {
        let mut o = Val::object([("a", Val::from(json!(1)))]);
        o.insert("b", Val::from(json!(false)));
        o.insert("a", Val::from(json!(2)));
        assert_eq!(o.to_json(1000).ok(), Some(json!({"a": 2, "b": false})));
        assert!(o.is_truthy());
        assert!(!Val::from(json!(false)).is_truthy());
        assert!(!Val::null().is_truthy());
        assert!(Val::from(json!(0)).is_truthy());
        let mut n = Val::null();
        n.insert("x", Val::null());
        assert_eq!(n.to_json(100).ok(), Some(json!({"x": null})));
    }
}
