//! JSON definitions read as JSON, into the same [`Node`] tree as YAML.
//!
//! JSON is YAML 1.2, but the YAML reader applies YAML's rules to it: an implicit key is
//! at most 1024 characters, and its errors speak of YAML. So a JSON source is read
//! here, by a small reader that keeps the byte offset of every value and key, after
//! serde_json has checked its syntax (whose errors are the precise ones).
//!
//! Invariants: any key length is accepted; nesting deeper than [`MAX_DEPTH`] is an
//! error naming the limit, at the bracket that goes past it (so the reader's recursion
//! is bounded); duplicate keys are kept, like the YAML reader does, for the reader to
//! report; a string's offset is that of its opening quote, as for a quoted YAML scalar,
//! so that positions inside it can be found the same way.

use serde_json::Number;

use super::{Key, Kind, MAX_DEPTH, Node, SyntaxError};

/// Reads `text`, which serde_json has found to be valid JSON up to its own nesting
/// limit, into a tree.
pub(super) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut r = Reader { text, pos: 0 };
    let root = r.value(0)?;
    r.skip_ws();
    if r.pos < text.len() {
        return Err(r.error("trailing characters after the document"));
    }
    Ok(root)
}

struct Reader<'t> {
    text: &'t str,
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError {
            message: format!("invalid JSON: {message}"),
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {what}")))
        }
    }

    /// A value whose container is at `depth` (0 for the root).
    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        self.skip_ws();
        let offset = self.pos;
        let kind = match self.peek() {
            Some(b'{') => {
                self.enter(depth)?;
                Kind::Map(self.object(depth + 1)?)
            }
            Some(b'[') => {
                self.enter(depth)?;
                Kind::Seq(self.array(depth + 1)?)
            }
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => self.literal("true", Kind::Bool(true))?,
            Some(b'f') => self.literal("false", Kind::Bool(false))?,
            Some(b'n') => self.literal("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            _ => return Err(self.error("expected a value")),
        };
        Ok(Node { kind, offset })
    }

    /// Checks that a container opened at `depth` stays within the limit.
    fn enter(&self, depth: usize) -> Result<(), SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(&format!(
                "nested deeper than {MAX_DEPTH} levels of objects and arrays, the most a definition may have"
            )));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<Vec<(Key, Node)>, SyntaxError> {
        self.pos += 1; // `{`
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(entries);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key (a string)"));
            }
            let key_offset = self.pos;
            let name = self.string()?;
            self.expect(b':', "`:`")?;
            let value = self.value(depth)?;
            entries.push((
                Key {
                    name,
                    offset: key_offset,
                },
                value,
            ));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(entries);
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Node>, SyntaxError> {
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// A string starting at its opening quote, decoded by serde_json.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        let Some(quoted) = self.text.get(start..=i) else {
            return Err(self.error("unterminated string"));
        };
        let decoded = serde_json::from_str::<String>(quoted)
            .map_err(|e| self.error(&format!("invalid string: {e}")))?;
        self.pos = i + 1;
        Ok(decoded)
    }

    fn literal(&mut self, word: &str, kind: Kind) -> Result<Kind, SyntaxError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn number(&mut self) -> Result<Number, SyntaxError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        while end < bytes.len()
            && matches!(bytes[end], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        {
            end += 1;
        }
        let number = serde_json::from_str::<Number>(&self.text[start..end])
            .map_err(|e| self.error(&format!("invalid number: {e}")))?;
        self.pos = end;
        Ok(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Format, Source};

    /// The tree of `text` read as YAML (JSON is YAML 1.2).
    fn as_yaml(text: &str) -> Node {
        super::super::parse(&Source::new("t.yaml", text, Format::Yaml)).expect("YAML")
    }

    #[test]
    fn the_tree_is_the_yaml_readers_offsets_included() {
        for text in [
            r#"{"name": "x", "tasks": {"a": {"type": "set", "with": [1, -2.5, true, null, "s\"\u00e9"]}}}"#,
            "{\n  \"a\" : { \"b\" :[ {}, [], \"\" ] },\n  \"a\": 3e2\n}\n",
            r#"["x", {"k": {"k": {"k": 0}}}]"#,
            "  \"just a string\"  ",
        ] {
            assert_eq!(parse(text), Ok(as_yaml(text)), "{text}");
        }
    }

    #[test]
    fn keys_of_any_length() {
        let key = "k".repeat(5000);
        let text = format!(r#"{{"{key}": 1}}"#);
        let node = parse(&text).expect("read");
        let Kind::Map(entries) = node.kind else {
            panic!("a map")
        };
        assert_eq!(entries[0].0.name, key);
        assert_eq!(entries[0].1.offset, 5005);
    }

    #[test]
    fn nesting_is_bounded_and_says_by_what() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse(&deep).expect_err("too deep");
        assert_eq!(e.offset, MAX_DEPTH);
        assert_eq!(
            e.message,
            "invalid JSON: nested deeper than 32 levels of objects and arrays, the most a definition may have"
        );
    }
}
