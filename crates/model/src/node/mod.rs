//! A YAML/JSON document as a tree of nodes that remember where they are.
//!
//! The document is read by serde-saphyr (YAML 1.2, so JSON too) into [`Node`]s, each
//! with the byte offset of its first character. Mapping entries keep their order and
//! their duplicates, so that the reader can report a duplicate key with both places
//! instead of silently keeping one. Anchors, aliases and merge keys are expanded by the
//! parser, within its budget (no "billion laughs").
//!
//! A plain document (mappings, lists and scalars, nothing else of YAML's) is read by
//! `plain`, from the same parser's events without serde-saphyr's machinery, in about
//! half the time; it hands back to serde-saphyr whatever it is not sure of, and every
//! error, so the tree and the messages are serde-saphyr's either way.
//!
//! JSON sources are read as JSON (`json`): first checked by serde_json, whose errors
//! are the precise ones for JSON, then read into the same tree by a reader that keeps
//! offsets. The YAML reader is not used for them, although JSON is YAML 1.2: its YAML
//! rules (an implicit key is at most 1024 characters) and its YAML messages do not
//! belong to JSON.
//!
//! Both formats are nested at most [`MAX_DEPTH`] levels of mappings and lists; deeper
//! is an error that names the limit.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{DuplicateKeyPolicy, Options, Spanned};

use crate::source::{Format, Source};

mod json;
mod plain;

/// How deeply mappings and lists may nest in a definition (YAML or JSON). Real
/// definitions use a handful of levels. The bound keeps the readers' recursion within
/// a small stack: the YAML reader takes a lot of stack per level, so that 60 levels
/// overflowed a 2 MiB thread in a debug build (tokio's workers have 2 MiB).
pub(crate) const MAX_DEPTH: usize = 32;

/// A node of the document and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) offset: usize,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key (scalars of any type become their text) and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) offset: usize,
}

/// A document that could not be read at all, with the offset of the problem.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) offset: usize,
}

impl Node {
    /// The kind's name as users know it ("a string", "a list", ...).
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The node as plain JSON (the last of duplicate keys wins; those are reported
    /// separately).
    pub(crate) fn to_json(&self) -> Value {
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(n) => Value::Number(n.clone()),
            Kind::String(s) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.name.clone(), v.to_json());
                }
                Value::Object(map)
            }
        }
    }
}

/// Reads a document into a tree.
pub(crate) fn parse(source: &Source) -> Result<Node, SyntaxError> {
    if source.format() == Format::Json {
        return parse_json(source);
    }
    if let Some(node) = plain::parse(source.text()) {
        return Ok(node);
    }
    parse_yaml(source)
}

/// Reads a YAML source with serde-saphyr: any YAML, with its messages.
fn parse_yaml(source: &Source) -> Result<Node, SyntaxError> {
    let mut options = Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.with_snippet = false;
    // YAML 1.2 booleans only: `on:`, `yes` and `y` stay strings.
    options.strict_booleans = true;
    let mut budget = options.budget.clone().unwrap_or_default();
    budget.max_depth = MAX_DEPTH;
    options.budget = Some(budget);
    match serde_saphyr::from_str_with_options::<Option<Spanned<Kind>>>(source.text(), options) {
        Ok(Some(root)) => Ok(Node {
            offset: offset_of(&root.referenced),
            kind: root.value,
        }),
        Ok(None) => Ok(Node {
            kind: Kind::Null,
            offset: 0,
        }),
        Err(e) => {
            // Error locations carry line and column but not always a byte offset.
            let offset = e.location().map_or(0, |l| {
                let line = usize::try_from(l.line()).unwrap_or(1);
                let column = usize::try_from(l.column()).unwrap_or(1);
                source
                    .line_start(line)
                    .map_or(0, |start| start + column_bytes(source, start, column))
            });
            Err(SyntaxError {
                message: format!("invalid YAML: {}", yaml_message(&e)),
                offset,
            })
        }
    }
}

/// Reads a JSON source: serde_json's precise syntax errors first, then the tree.
fn parse_json(source: &Source) -> Result<Node, SyntaxError> {
    // serde_json's own nesting limit (128) is above ours: past it, the tree reader
    // reports the depth (it meets our limit first, and nothing before was invalid).
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(source.text())
        && !e.to_string().starts_with("recursion limit exceeded")
    {
        let offset = source
            .line_start(e.line())
            .map_or(0, |start| start + column_bytes(source, start, e.column()));
        let message = e.to_string();
        // serde_json appends " at line L column C"; the position is shown separately.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_string();
        return Err(SyntaxError {
            message: format!("invalid JSON: {message}"),
            offset,
        });
    }
    json::parse(source.text())
}

/// serde-saphyr's message without the position it appends (shown separately).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    if let serde_saphyr::Error::Budget {
        breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
        ..
    } = e.without_snippet()
    {
        return format!(
            "nested deeper than {MAX_DEPTH} levels of mappings and lists, the most a definition may have"
        );
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").trim().to_string();
    let message = match first.rsplit_once(" at line ") {
        Some((m, _)) => m.to_string(),
        None => first,
    };
    if message.contains("mapping values are not allowed") {
        format!("{message}; a value that contains `: ` must be quoted")
    } else {
        message
    }
}

/// Bytes taken by the first `column - 1` characters of the line starting at `start`.
fn column_bytes(source: &Source, start: usize, column: usize) -> usize {
    source.text()[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

fn offset_of(loc: &serde_saphyr::Location) -> usize {
    loc.span()
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
        .unwrap_or(0)
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Kind, E> {
        Ok(Kind::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Kind, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(Kind::Number(i.into())),
            Err(_) => u64::try_from(v)
                .map(|u| Kind::Number(u.into()))
                .map_err(|_| E::custom("integer out of range")),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Kind, E> {
        u64::try_from(v)
            .map(|u| Kind::Number(u.into()))
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Kind, E> {
        Number::from_f64(v)
            .map(Kind::Number)
            .ok_or_else(|| E::custom("numbers must be finite (no .nan or .inf)"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Kind>>()? {
            items.push(Node {
                offset: offset_of(&item.referenced),
                kind: item.value,
            });
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Kind>>()?;
            entries.push((
                Key {
                    name: key.value.0,
                    offset: offset_of(&key.referenced),
                },
                Node {
                    offset: offset_of(&value.referenced),
                    kind: value.value,
                },
            ));
        }
        Ok(Kind::Map(entries))
    }
}

/// A mapping key: any scalar, as text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyText, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> (Source, Node) {
        let s = Source::new("t.yaml", text, Format::Yaml);
        let n = parse(&s).expect("parses");
        (s, n)
    }

    fn at(s: &Source, offset: usize) -> String {
        s.position(offset).to_string()
    }

    #[test]
    fn nodes_and_keys_know_where_they_are() {
        let (s, n) = yaml("name: x\ntasks:\n  a:\n    type: set\n    needs: [b, c]\n");
        let Kind::Map(entries) = &n.kind else {
            panic!("map")
        };
        assert_eq!(entries[0].0.name, "name");
        assert_eq!(at(&s, entries[0].0.offset), "1:1");
        assert_eq!(at(&s, entries[0].1.offset), "1:7");
        let Kind::Map(tasks) = &entries[1].1.kind else {
            panic!("map")
        };
        assert_eq!(at(&s, tasks[0].0.offset), "3:3");
        let Kind::Map(task) = &tasks[0].1.kind else {
            panic!("map")
        };
        assert_eq!(at(&s, task[1].0.offset), "5:5");
        let Kind::Seq(needs) = &task[1].1.kind else {
            panic!("seq")
        };
        assert_eq!(at(&s, needs[1].offset), "5:16");
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let (_, n) = yaml("a: 1\na: 2\n");
        let Kind::Map(entries) = &n.kind else {
            panic!("map")
        };
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn yaml_1_2_scalars() {
        let (_, n) = yaml("on: yes\nn: 12\nf: 1.5\nt: true\nz: ~\ns: '1'\ny: off\n");
        assert_eq!(
            n.to_json(),
            serde_json::json!({"on": "yes", "n": 12, "f": 1.5, "t": true, "z": null, "s": "1", "y": "off"})
        );
    }

    #[test]
    fn anchors_and_merges_expand() {
        let (_, n) = yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\nref: *b\n");
        assert_eq!(
            n.to_json(),
            serde_json::json!({"base": {"x": 1}, "other": {"x": 1, "y": 2}, "ref": {"x": 1}})
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let s = Source::new("t.yaml", "a: 1\nb: [1, 2\n", Format::Yaml);
        let e = parse(&s).expect_err("unclosed");
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
        let s = Source::new("t.json", "{\n  \"a\": 1,\n  \"b\" 2\n}", Format::Json);
        let e = parse(&s).expect_err("missing colon");
        assert_eq!(at(&s, e.offset), "3:7", "{e:?}");
        assert!(e.message.starts_with("invalid JSON: expected `:`"), "{e:?}");
    }

    #[test]
    fn json_sources_have_spans_too() {
        let s = Source::new(
            "t.json",
            "{\"name\": \"x\",\n \"tasks\": {\"a\": {\"type\": \"set\"}}}",
            Format::Json,
        );
        let n = parse(&s).expect("parses");
        let Kind::Map(entries) = &n.kind else {
            panic!("map")
        };
        assert_eq!(at(&s, entries[1].0.offset), "2:2");
    }

    #[test]
    fn empty_documents_are_null() {
        let (_, n) = yaml("# only a comment\n");
        assert_eq!(n.kind, Kind::Null);
    }
}
