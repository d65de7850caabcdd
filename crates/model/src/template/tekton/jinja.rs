//! Jinja in values: splitting a string into text, `{{ }}` expressions and `{% %}` /
//! `{# #}` blocks ([`split_jinja`]), and converting the strings of a JSON value into our
//! `${ }` form ([`Converter::values`]), each expression by [`super::expr`].
//!
//! Invariants: a string that is exactly one convertible `{{ }}` becomes a whole-value
//! expression (it keeps the value's type); otherwise text stays literal, with `${`
//! escaped as `$${` so that it never starts an expression; an expression or a block that
//! cannot be converted is left as it was (escaped too) and reported; quotes inside
//! `{{ }}` may hold the closing delimiter.

use serde_json::{Map, Value};

use super::converter::{Converter, pointer};
use super::expr::{Scope, convert_expr};
use super::report::IssueKind;
use crate::node::{Kind, Node};

/// A piece of a Jinja string.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    Text(String),
    /// The inside of `{{ }}`.
    Expr(String),
    /// A `{% %}` or `{# #}`, whole.
    Block(String),
}

/// `s` as text, `{{ }}` expressions and `{% %}` / `{# #}` blocks; an unclosed one is text.
pub(super) fn split_jinja(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let close = match after.get(..2) {
            Some("{{") => Some("}}"),
            Some("{%") => Some("%}"),
            Some("{#") => Some("#}"),
            _ => None,
        };
        let Some(close) = close else {
            text.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        };
        let Some(end) = find_close(&after[2..], close) else {
            break;
        };
        text.push_str(&rest[..start]);
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        let inner = &after[2..2 + end];
        if close == "}}" {
            out.push(Piece::Expr(inner.to_string()));
        } else {
            out.push(Piece::Block(after[..2 + end + 2].to_string()));
        }
        rest = &after[2 + end + 2..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// The offset of `close` in `s`, outside of quoted strings.
fn find_close(s: &str, close: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if s[i..].starts_with(close) => return Some(i),
            None => {}
        }
    }
    None
}

/// Text that must stay literal in our format: `${` would start an expression.
pub(super) fn escape_literal(s: &str) -> String {
    s.replace("${", "$${")
}

impl Converter<'_> {
    /// A JSON value with its Jinja strings converted; `reads` collects the tasks whose
    /// output it reads.
    pub(super) fn values(
        &mut self,
        node: &Node,
        path: &str,
        scope: &Scope,
        reads: &mut Vec<String>,
    ) -> Value {
        match &node.kind {
            Kind::String(s) => self.string_value(s, node.offset, path, scope, reads),
            Kind::Seq(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.values(item, &format!("{path}/{i}"), scope, reads))
                    .collect(),
            ),
            Kind::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    let value = self.values(v, &pointer(path, &k.name), scope, reads);
                    m.insert(k.name.clone(), value);
                }
                Value::Object(m)
            }
            _ => node.to_json(),
        }
    }

    fn string_value(
        &mut self,
        s: &str,
        offset: usize,
        path: &str,
        scope: &Scope,
        reads: &mut Vec<String>,
    ) -> Value {
        let parts = split_jinja(s);
        if parts.iter().all(|p| matches!(p, Piece::Text(_))) {
            return Value::String(escape_literal(s));
        }
        let mut converted: Vec<Result<String, String>> = Vec::new();
        for p in &parts {
            match p {
                Piece::Text(_) => converted.push(Ok(String::new())),
                Piece::Expr(e) => {
                    let r = convert_expr(e, scope);
                    if let Ok((_, tasks)) = &r {
                        reads.extend(tasks.iter().cloned());
                    }
                    converted.push(r.map(|(jq, _)| jq));
                }
                Piece::Block(_) => converted.push(Err(
                    "Jinja statements and comments have no equivalent".to_string(),
                )),
            }
        }
        for (p, c) in parts.iter().zip(&converted) {
            if let Err(why) = c {
                let text = match p {
                    Piece::Expr(e) => format!("{{{{{e}}}}}"),
                    Piece::Block(b) | Piece::Text(b) => b.clone(),
                };
                self.issue(
                    IssueKind::Dropped,
                    path,
                    offset,
                    format!("`{}` was left as it is: {why}", text.trim()),
                );
            }
        }
        // One expression and nothing else: a whole-value expression.
        if let ([Piece::Expr(_)], [Ok(jq)]) = (parts.as_slice(), converted.as_slice()) {
            return Value::String(format!("${{ {jq} }}"));
        }
        let mut out = String::new();
        for (p, c) in parts.iter().zip(converted) {
            match (p, c) {
                (Piece::Text(t), _) => out.push_str(&escape_literal(t)),
                (Piece::Expr(_), Ok(jq)) => {
                    out.push_str("${ ");
                    out.push_str(&jq);
                    out.push_str(" }");
                }
                (Piece::Expr(e), Err(_)) => out.push_str(&escape_literal(&format!("{{{{{e}}}}}"))),
                (Piece::Block(b), _) => out.push_str(&escape_literal(b)),
            }
        }
        Value::String(out)
    }
}
