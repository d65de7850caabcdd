//! The quick YAML reader: the tree of a plain document straight from the YAML parser's
//! events, for the documents definitions are made of.
//!
//! serde-saphyr reads a document through serde, one `Spanned` node at a time, with
//! anchors, aliases, merge keys, tags, budgets and its messages; that machinery costs
//! about twice the parse itself. Most definitions use none of it: mappings, lists and
//! scalars. This reader takes the parser's events (the same parser, with the same
//! settings) and builds the tree directly.
//!
//! Invariant: it answers only what serde-saphyr would answer the same, and otherwise
//! nothing (`None`), and the caller reads the document with serde-saphyr: on any error
//! (so every message stays serde-saphyr's), on an anchor, alias, tag or merge key, on
//! a second document, past the nesting limit or the budgets, and on any plain scalar
//! whose type it is not sure of (numbers other than plain decimals, spellings of
//! booleans and nulls other than YAML 1.2's, `.inf`, `0x..`). A test reads every
//! definition of the project both ways and compares the trees, offsets included.

use std::borrow::Cow;

use granit_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::Number;

use super::{Key, Kind, MAX_DEPTH, Node};

/// The most nodes it builds (serde-saphyr's budget allows 250,000).
const MAX_NODES: usize = 200_000;
/// The most scalar text it reads (serde-saphyr's budget allows 64 MiB).
const MAX_SCALAR_BYTES: usize = 32 << 20;

/// The tree of `text`, or `None` when serde-saphyr must read it (see the module doc).
pub(super) fn parse(text: &str) -> Option<Node> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        nodes: 0,
        scalar_bytes: 0,
    };
    reader.document()
}

struct Reader<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    nodes: usize,
    scalar_bytes: usize,
}

/// Where a container is being filled.
enum Open {
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>, Option<Key>),
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<(Event<'a>, Span)> {
        self.parser.next_event()?.ok()
    }

    /// The one document of the stream (an empty stream is null at offset 0).
    fn document(&mut self) -> Option<Node> {
        if !matches!(self.next()?.0, Event::StreamStart) {
            return None;
        }
        let root = match self.next()?.0 {
            Event::StreamEnd => {
                return Some(Node {
                    kind: Kind::Null,
                    offset: 0,
                });
            }
            Event::DocumentStart(..) => self.tree()?,
            _ => return None,
        };
        // A null document is serde-saphyr's `None` (offset 0), not a node.
        if root.kind == Kind::Null || !matches!(self.next()?.0, Event::DocumentEnd) {
            return None;
        }
        // A second document is serde-saphyr's to refuse.
        matches!(self.next()?.0, Event::StreamEnd).then_some(root)
    }

    /// One node and everything in it, without recursion (the depth is bounded anyway).
    fn tree(&mut self) -> Option<Node> {
        let mut stack: Vec<(Open, usize)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            let offset = span.start.byte_offset()?;
            let done = match event {
                Event::Scalar(value, style, anchor, tag) => {
                    if anchor != 0 || tag.is_some() {
                        return None;
                    }
                    self.count(value.len())?;
                    let key_wanted = matches!(stack.last(), Some((Open::Map(_, None), _)));
                    if key_wanted {
                        let name = key_text(value, style)?;
                        if let Some((Open::Map(_, key), _)) = stack.last_mut() {
                            *key = Some(Key { name, offset });
                        }
                        continue;
                    }
                    Node {
                        kind: scalar(value, style)?,
                        offset,
                    }
                }
                Event::SequenceStart(_, anchor, ref tag)
                | Event::MappingStart(_, anchor, ref tag) => {
                    if anchor != 0 || tag.is_some() || stack.len() >= MAX_DEPTH {
                        return None;
                    }
                    // A mapping or a list as a key is serde-saphyr's to refuse.
                    if matches!(stack.last(), Some((Open::Map(_, None), _))) {
                        return None;
                    }
                    self.count(0)?;
                    let open = if matches!(event, Event::SequenceStart(..)) {
                        Open::Seq(Vec::new())
                    } else {
                        Open::Map(Vec::new(), None)
                    };
                    stack.push((open, offset));
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                    (Open::Seq(items), at) => Node {
                        kind: Kind::Seq(items),
                        offset: at,
                    },
                    (Open::Map(entries, None), at) => Node {
                        kind: Kind::Map(entries),
                        offset: at,
                    },
                    (Open::Map(_, Some(_)), _) => return None,
                },
                // Aliases, and anything a document's content should not hold.
                _ => return None,
            };
            match stack.last_mut() {
                None => return Some(done),
                Some((Open::Seq(items), _)) => items.push(done),
                Some((Open::Map(entries, key), _)) => entries.push((key.take()?, done)),
            }
        }
    }

    /// Counts a node against the budgets; `None` past them.
    fn count(&mut self, scalar_bytes: usize) -> Option<()> {
        self.nodes += 1;
        self.scalar_bytes += scalar_bytes;
        (self.nodes <= MAX_NODES && self.scalar_bytes <= MAX_SCALAR_BYTES).then_some(())
    }
}

/// A scalar value as serde-saphyr types it (YAML 1.2's core schema, strict booleans),
/// or `None` when unsure.
fn scalar(value: Cow<'_, str>, style: ScalarStyle) -> Option<Kind> {
    if style != ScalarStyle::Plain {
        return Some(Kind::String(value.into_owned()));
    }
    Some(match plain(&value)? {
        Plain::Null => Kind::Null,
        Plain::Bool(b) => Kind::Bool(b),
        Plain::Number(n) => Kind::Number(n),
        Plain::Text => Kind::String(value.into_owned()),
    })
}

/// A mapping key's text: a string, or a plain scalar that is one (a key that is a
/// number or a boolean is serde-saphyr's to spell).
fn key_text(value: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    // `<<` merges a mapping in: serde-saphyr's.
    if value == "<<" {
        return None;
    }
    if style != ScalarStyle::Plain {
        return Some(value.into_owned());
    }
    match plain(&value)? {
        Plain::Text => Some(value.into_owned()),
        _ => None,
    }
}

enum Plain {
    Null,
    Bool(bool),
    Number(Number),
    Text,
}

/// What a plain scalar is, when that is certain.
fn plain(text: &str) -> Option<Plain> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Plain::Null),
        "true" | "True" | "TRUE" => return Some(Plain::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Plain::Bool(false)),
        _ => {}
    }
    let first = text.chars().next()?;
    if first.is_ascii_digit() || matches!(first, '-' | '+' | '.') {
        return number(text).map(Plain::Number).or_else(|| {
            // Durations (`30s`, `250ms`, `1.5h`) are text; anything else that starts
            // like a number is serde-saphyr's to type.
            duration_like(text).then_some(Plain::Text)
        });
    }
    // Other spellings of nulls and booleans, and words Rust reads as floats. (YAML
    // 1.1's `yes`, `on`, `y` are text with strict booleans.)
    if text.len() <= 8
        && matches!(
            text.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "nan" | "inf" | "infinity"
        )
    {
        return None;
    }
    // Leading or trailing whitespace is trimmed before typing: serde-saphyr's.
    if text.trim() != text {
        return None;
    }
    Some(Plain::Text)
}

/// A plain decimal: `-?(0|[1-9][0-9]*)` within 64 bits, or that with a fraction
/// `.[0-9]+`.
fn number(text: &str) -> Option<Number> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !decimal(whole) || (whole.len() > 1 && whole.starts_with('0')) {
        return None;
    }
    match fraction {
        None if text.starts_with('-') => text.parse::<i64>().ok().map(Number::from),
        None => text.parse::<u64>().ok().map(Number::from),
        Some(f) if decimal(f) => Number::from_f64(text.parse::<f64>().ok()?),
        Some(_) => None,
    }
}

/// Digits, an optional fraction, and a unit of letters: `30s`, `1.5h`, `250ms`.
fn duration_like(text: &str) -> bool {
    let unit_at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (amount, unit) = text.split_at(unit_at);
    let first = amount.bytes().next();
    first.is_some_and(|b| b.is_ascii_digit())
        && amount.matches('.').count() <= 1
        && !amount.ends_with('.')
        && !unit.is_empty()
        && unit.len() <= 3
        && unit.bytes().all(|b| b.is_ascii_lowercase())
        && !unit.starts_with('e')
        && !unit.starts_with('x')
        && !unit.starts_with('o')
        && !unit.starts_with('b')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::source::{Format, Source};

    /// Reads `text` both ways: when this reader answers, its tree must be serde-saphyr's,
    /// offsets included. Returns whether it answered.
    fn same(text: &str) -> bool {
        let Some(quick) = parse(text) else {
            return false;
        };
        let source = Source::new("t.yaml", text, Format::Yaml);
        match super::super::parse_yaml(&source) {
            Ok(full) => assert_eq!(quick, full, "read differently:\n{text}"),
            Err(e) => panic!("answered what serde-saphyr refuses ({e:?}):\n{text}"),
        }
        true
    }

    fn yaml_blocks(markdown: &str) -> Vec<String> {
        let mut blocks = Vec::new();
        let mut open: Option<String> = None;
        for line in markdown.lines() {
            match open.as_mut() {
                Some(block) if line.trim_start().starts_with("```") => {
                    blocks.push(std::mem::take(block));
                    open = None;
                }
                Some(block) => {
                    block.push_str(line);
                    block.push('\n');
                }
                None if line.trim_start().starts_with("```yaml") => open = Some(String::new()),
                None => {}
            }
        }
        blocks
    }

    /// Every YAML document of the project (examples, built-in templates, the test
    /// corpora, and the YAML blocks of the docs) reads the same both ways, and most
    /// are read by this reader.
    #[test]
    fn every_yaml_document_of_the_project_reads_the_same_both_ways() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut texts = Vec::new();
        for dir in [
            "examples",
            "crates/model/templates",
            "crates/model/tests/corpus",
            "crates/model/tests/template-corpus",
            "docs",
            ".",
        ] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                match path.extension().and_then(|e| e.to_str()) {
                    Some("yaml" | "yml") => texts.push(text),
                    Some("md") => texts.extend(yaml_blocks(&text)),
                    _ => {}
                }
            }
        }
        assert!(texts.len() > 100, "only {} documents found", texts.len());
        let answered = texts.iter().filter(|t| same(t)).count();
        eprintln!(
            "this reader answered {answered} of {} documents",
            texts.len()
        );
        assert!(
            answered * 2 > texts.len(),
            "this reader answered only {answered} of {}",
            texts.len()
        );
    }

    #[test]
    fn scalars_are_typed_as_serde_saphyr_types_them_or_handed_back() {
        let answered = [
            "a: 1\nb: -2\nc: 0\nd: 1.5\ne: -0.25\nf: 18446744073709551615\ng: -9223372036854775808\n",
            "t: true\nf: False\nT: TRUE\nz: ~\nn: null\nN: NULL\ne:\n",
            "d: 30s\nms: 250ms\nh: 1.5h\nw: 2d\n",
            "s: '1'\nq: \"true\"\nl: |\n  line\n  two\nf: >\n  folded\n  text\n",
            "x: ${ $inputs.n + 1 }\ny: hello world\nurl: http://127.0.0.1:8080/a?b=c\n",
            "'quoted key': 1\n\"k\": [1, {a: b}, [c]]\nempty: {}\nnone: []\n",
            "tasks:\n  a:\n    type: set\n    needs: [b, c]\n  b: {type: set}\n  c: {type: set, with: 2}\n",
            "- 1\n- two\n- {three: 3}\n",
            "# a comment\nname: x # trailing\n",
            "name: ünïcödé\nemoji: \"🎉\"\nafter: 1\n",
            "a: 1\na: 2\n",
            "on: yes\ny: n\noff: no\n",
            "",
            "# only a comment\n",
        ];
        for text in answered {
            assert!(same(text), "handed back:\n{text}");
        }
        let handed_back = [
            "a: 0x10\n",
            "a: 0o17\n",
            "a: 1e3\n",
            "a: .inf\n",
            "a: -.inf\n",
            "a: .nan\n",
            "a: 007\n",
            "a: 1_000\n",
            "a: 99999999999999999999\n",
            "a: +1\n",
            "a: nan\n",
            "a: tRue\n",
            "a: --flag\n",
            "1: one\n",
            "true: yes\n",
            "base: &b {x: 1}\nref: *b\n",
            "o:\n  <<: {x: 1}\n",
            "a: !!str 1\n",
            "a: !custom x\n",
            "--- 1\n--- 2\n",
            "~\n",
            "a: [1, 2\n",
            "a: b: c\n",
            "? [a]\n: 1\n",
        ];
        for text in handed_back {
            assert!(!same(text), "answered:\n{text}");
        }
    }

    /// Scalars as a careless or hostile author writes them.
    fn scalar_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            prop::sample::select(vec![
                "1",
                "-1",
                "0",
                "00",
                "1.0",
                "-0.5",
                "1e3",
                "0x1f",
                "1_0",
                ".5",
                "5.",
                "+3",
                "true",
                "True",
                "tRUE",
                "no",
                "on",
                "~",
                "null",
                "NULL",
                "nuLL",
                "nan",
                "NaN",
                ".inf",
                "inf",
                "30s",
                "1.5h",
                "2e",
                "10ms",
                "1x",
                "a b",
                "a: b",
                "- a",
                "#x",
                "a #b",
                "'q'",
                "\"d\"",
                "<<",
                "&a",
                "*a",
                "!t",
                "[",
                "]",
                "{",
                "}",
                ",",
                "?",
                "é",
                "${ 1 + 1 }",
                "http://x:1/y",
                "18446744073709551616",
                "-9223372036854775809",
            ])
            .prop_map(str::to_string),
            "[a-z0-9 ._:/#-]{0,8}",
        ]
    }

    fn render(depth: u32) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = scalar_text().boxed();
        leaf.prop_recursive(depth, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                proptest::collection::vec((scalar_text(), inner), 0..4).prop_map(|entries| {
                    let body: Vec<String> =
                        entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{{{}}}", body.join(", "))
                }),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever the text, this reader answers as serde-saphyr does or hands it back.
        #[test]
        fn any_document_reads_the_same_or_is_handed_back(
            entries in proptest::collection::vec((scalar_text(), render(3)), 0..6),
            block in proptest::bool::ANY,
        ) {
            let text: String = if block {
                entries.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
            } else {
                entries.iter().map(|(_, v)| format!("- {v}\n")).collect()
            };
            same(&text);
        }
    }

    #[test]
    fn nesting_past_the_limit_is_handed_back() {
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&deep).is_none());
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(same(&ok));
    }
}
