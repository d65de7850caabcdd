//! Source text and positions in it.
//!
//! A [`Source`] is a definition's text plus its name (a file path, or `<request>`). Every
//! diagnostic points into it by byte offset; [`Source::position`] turns an offset into the
//! 1-based line and column (in characters) that editors and `FILE:LINE:COL` use.

use std::fmt;

/// The format of a definition's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2.
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// The format a file name suggests: `.json` is JSON, anything else YAML.
    pub fn from_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// A definition's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    name: String,
    text: String,
    format: Format,
    line_starts: Vec<usize>,
}

impl Source {
    /// A source named `name` (shown in diagnostics) holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>, format: Format) -> Source {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            name: name.into(),
            text,
            format,
            line_starts,
        }
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The line and column (both from 1, the column in characters) of a byte offset.
    /// Offsets past the end map to the end.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    /// The byte offset in the source of byte `at` of a string scalar whose node starts at
    /// `node` and whose (decoded) value is `value`. Exact for plain and quoted scalars on
    /// one line and for literal (`|`) block scalars; otherwise the node's own offset.
    pub fn offset_in_scalar(&self, node: usize, value: &str, at: usize) -> usize {
        scalar_offset(&self.text, node, value, at).unwrap_or(node)
    }

    /// The byte offset where a line (from 1) starts.
    pub(crate) fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }
}

fn scalar_offset(text: &str, node: usize, value: &str, at: usize) -> Option<usize> {
    let raw = text.get(node..)?;
    let prefix = value.get(..at)?;
    let first = raw.chars().next()?;
    match first {
        '"' | '\'' => {
            // Decode the quoted scalar until `prefix` is consumed.
            let body = &raw[1..];
            let mut pos = 0;
            for expected in prefix.chars() {
                let mut chars = body[pos..].chars();
                let c = chars.next()?;
                let (got, width) = match (first, c) {
                    ('"', '\\') => {
                        let e = chars.next()?;
                        let decoded = match e {
                            'n' => '\n',
                            't' => '\t',
                            '"' | '\\' | '/' => e,
                            // Other escapes (\u, \x, line folding): not mapped exactly.
                            _ => return None,
                        };
                        (decoded, 1 + e.len_utf8())
                    }
                    ('\'', '\'') => {
                        if chars.next()? != '\'' {
                            return None;
                        }
                        ('\'', 2)
                    }
                    (_, '\n') => return None,
                    (_, c) => (c, c.len_utf8()),
                };
                if got != expected {
                    return None;
                }
                pos += width;
            }
            Some(node + 1 + pos)
        }
        '|' => {
            // Literal block: value line k is source line k after the indicator line,
            // behind the block's indentation.
            let line_no = prefix.matches('\n').count();
            let col = prefix.len() - prefix.rfind('\n').map_or(0, |i| i + 1);
            let after_indicator = node + raw.find('\n')? + 1;
            let block = &text[after_indicator..];
            let indent = block
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start_matches(' ').len())?;
            let mut line_start = after_indicator;
            for _ in 0..line_no {
                line_start += text[line_start..].find('\n')? + 1;
            }
            let value_line = value[at - col..].split('\n').next()?;
            let src_line = text[line_start..].split('\n').next()?;
            (src_line.get(indent..)? == value_line).then_some(line_start + indent + col)
        }
        _ => (!prefix.contains('\n') && raw.starts_with(prefix)).then_some(node + at),
    }
}

/// A line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let s = Source::new("f", "ab\ncdé\n\nx", Format::Yaml);
        assert_eq!(s.position(0), Position { line: 1, column: 1 });
        assert_eq!(s.position(2), Position { line: 1, column: 3 });
        assert_eq!(s.position(3), Position { line: 2, column: 1 });
        // `é` is two bytes, one column.
        assert_eq!(s.position(7), Position { line: 2, column: 4 });
        assert_eq!(s.position(8), Position { line: 3, column: 1 });
        assert_eq!(s.position(9), Position { line: 4, column: 1 });
        assert_eq!(s.position(999), Position { line: 4, column: 2 });
        assert_eq!(s.line_start(2), Some(3));
    }

    #[test]
    fn offsets_inside_scalars() {
        let text =
            "a: x ${ .b }\nc: \"q\\\"${ .d }\"\ne: 'it''s ${ .f }'\ng: |\n  line\n  ${ .h }\n";
        let s = Source::new("f", text, Format::Yaml);
        let check = |node: &str, value: &str, inner: &str| {
            let node = text.find(node).expect("node");
            let at = value.find(inner).expect("inner");
            let o = s.offset_in_scalar(node, value, at);
            assert_eq!(&text[o..o + inner.len()], inner, "{value:?}");
        };
        check("x ${", "x ${ .b }", ".b");
        check("\"q", "q\"${ .d }", ".d");
        check("'it", "it's ${ .f }", ".f");
        check("|", "line\n${ .h }\n", ".h");
        // Folded scalars are not mapped: the node's offset is used.
        let t2 = "a: >\n  x\n  ${ .y }\n";
        let s2 = Source::new("f", t2, Format::Yaml);
        assert_eq!(s2.offset_in_scalar(3, "x ${ .y }\n", 4), 3);
    }

    #[test]
    fn formats() {
        assert_eq!(Format::from_path("a/b.JSON"), Format::Json);
        assert_eq!(Format::from_path("a/b.yaml"), Format::Yaml);
        assert_eq!(Format::from_path("b.yml"), Format::Yaml);
    }
}
