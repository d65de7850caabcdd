//! `${ jq }` templates inside strings.
//!
//! - A string that is exactly one `${ ... }` (surrounding spaces allowed) evaluates to any
//!   JSON value: `${ $inputs.cities }` is an array.
//! - `${ ... }` inside a longer string interpolates: strings are inserted as they are,
//!   other values as compact JSON (`null` as `null`).
//! - `$${` is a literal `${`.
//!
//! The end of an expression is found by scanning jq's tokens: braces balance, and braces
//! inside jq strings (including `"\( ... )"` interpolations) do not count. So
//! `${ {a: "}"} }` is one expression.
//!
//! Spans in errors are byte offsets into the whole template string.

use std::ops::Range;

use crate::{Context, Error, Limits, Program, Val, VarSet};

/// A string that may contain `${ }` expressions, compiled.
#[derive(Debug, Clone)]
pub enum Template {
    /// No expression: the text as it is (with `$${` unescaped).
    Literal(String),
    /// Exactly one expression: evaluates to any JSON value.
    Single(Program),
    /// Text and expressions: evaluates to a string.
    Interpolated(Vec<Part>),
}

/// A piece of an interpolated template.
#[derive(Debug, Clone)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// An expression whose value is rendered into the text.
    Expr(Program),
}

/// A `${ }` found in a string, before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawPart {
    Text(String),
    /// The jq code and its span (the code only, without `${` and `}`).
    Expr(Range<usize>),
}

impl Template {
    /// Whether `s` contains at least one `${ }` expression (`$${` does not count).
    pub fn has_expressions(s: &str) -> bool {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i + 1 < bytes.len() {
            if bytes[i] == b'$' {
                if bytes[i + 1] == b'$' && bytes.get(i + 2) == Some(&b'{') {
                    i += 3;
                    continue;
                }
                if bytes[i + 1] == b'{' {
                    return true;
                }
            }
            i += 1;
        }
        false
    }

    /// Compiles the template `s`, whose expressions may read `vars`.
    pub fn compile(s: &str, vars: VarSet) -> Result<Template, Vec<Error>> {
        let raw = split(s).map_err(|e| vec![e])?;
        let single = match raw.as_slice() {
            [RawPart::Expr(r)] => Some(r.clone()),
            [RawPart::Text(a), RawPart::Expr(r)] if a.trim().is_empty() => Some(r.clone()),
            [RawPart::Expr(r), RawPart::Text(b)] if b.trim().is_empty() => Some(r.clone()),
            [RawPart::Text(a), RawPart::Expr(r), RawPart::Text(b)]
                if a.trim().is_empty() && b.trim().is_empty() =>
            {
                Some(r.clone())
            }
            _ => None,
        };
        if let Some(r) = single {
            return compile_at(s, r, vars).map(Template::Single);
        }
        let mut parts = Vec::with_capacity(raw.len());
        let mut errors = Vec::new();
        for p in raw {
            match p {
                RawPart::Text(t) => parts.push(Part::Text(t)),
                RawPart::Expr(r) => match compile_at(s, r, vars) {
                    Ok(p) => parts.push(Part::Expr(p)),
                    Err(es) => errors.extend(es),
                },
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(match parts.as_slice() {
            [] => Template::Literal(String::new()),
            [Part::Text(t)] => Template::Literal(t.clone()),
            _ => Template::Interpolated(parts),
        })
    }

    /// The programs of this template, in order.
    pub fn programs(&self) -> impl Iterator<Item = &Program> {
        let (single, parts): (Option<&Program>, &[Part]) = match self {
            Template::Literal(_) => (None, &[]),
            Template::Single(p) => (Some(p), &[]),
            Template::Interpolated(parts) => (None, parts),
        };
        single
            .into_iter()
            .chain(parts.iter().filter_map(|p| match p {
                Part::Expr(p) => Some(p),
                Part::Text(_) => None,
            }))
    }

    /// Evaluates the template. The input (`.`) of every expression is `null`.
    pub fn eval(&self, ctx: &Context, limits: &Limits) -> Result<Val, Error> {
        self.eval_with_input(ctx, &Val::null(), limits)
    }

    /// Evaluates the template with `input` as `.` of every expression.
    pub fn eval_with_input(
        &self,
        ctx: &Context,
        input: &Val,
        limits: &Limits,
    ) -> Result<Val, Error> {
        self.eval_mapped(ctx, input, limits, &mut |_, v| v)
    }

    /// Evaluates the template, passing the value of each expression through `map`
    /// (with the program that computed it) before it is used: how the engine sees
    /// which values come from `$secrets`, and masks them where they must not go.
    pub fn eval_mapped(
        &self,
        ctx: &Context,
        input: &Val,
        limits: &Limits,
        map: &mut dyn FnMut(&Program, Val) -> Val,
    ) -> Result<Val, Error> {
        match self {
            Template::Literal(s) => Ok(Val(jaq_json::Val::from(s.clone()))),
            Template::Single(p) => p.eval_one(ctx, input, limits).map(|v| map(p, v)),
            Template::Interpolated(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Expr(p) => {
                            let v = map(p, p.eval_one(ctx, input, limits)?);
                            render_into(&mut out, &v, limits)?;
                        }
                    }
                    if out.len() > limits.max_output_bytes {
                        return Err(Error::OutputTooLarge {
                            limit: limits.max_output_bytes,
                        });
                    }
                }
                Ok(Val(jaq_json::Val::from(out)))
            }
        }
    }
}

/// Renders a value into interpolated text: strings as they are, the rest as JSON.
fn render_into(out: &mut String, v: &Val, limits: &Limits) -> Result<(), Error> {
    match &v.0 {
        jaq_json::Val::TStr(b) | jaq_json::Val::BStr(b) => {
            out.push_str(&String::from_utf8_lossy(b))
        }
        _ => {
            let json = v.to_json(limits.max_output_bytes)?;
            out.push_str(&json.to_string());
        }
    }
    Ok(())
}

fn compile_at(s: &str, r: Range<usize>, vars: VarSet) -> Result<Program, Vec<Error>> {
    let code = &s[r.clone()];
    if code.trim().is_empty() {
        return Err(vec![Error::Syntax {
            message: "empty expression `${ }`".into(),
            span: r.start.saturating_sub(2)..r.end + 1,
        }]);
    }
    Program::compile_at(code, vars, r.start)
        .map_err(|es| es.into_iter().map(|e| e.shifted(r.start)).collect())
}

/// Splits a template into text and expression spans.
pub(crate) fn split(s: &str) -> Result<Vec<RawPart>, Error> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'$') && bytes.get(i + 2) == Some(&b'{') {
            text.push_str(&s[text_start..i]);
            text.push_str("${");
            i += 3;
            text_start = i;
        } else if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            text.push_str(&s[text_start..i]);
            if !text.is_empty() {
                parts.push(RawPart::Text(std::mem::take(&mut text)));
            }
            let start = i + 2;
            let end = scan_expr(s, start).ok_or_else(|| Error::Syntax {
                message: "unclosed `${`: expected `}`".into(),
                span: i..i + 2,
            })?;
            parts.push(RawPart::Expr(start..end));
            i = end + 1;
            text_start = i;
        } else {
            i += 1;
        }
    }
    text.push_str(&s[text_start..]);
    if !text.is_empty() {
        parts.push(RawPart::Text(text));
    }
    Ok(parts)
}

/// From `start` (just after `${`), finds the index of the `}` that closes the expression.
fn scan_expr(s: &str, start: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    // Stack of open contexts: b'{' / b'(' / b'[' for code, b'"' for a string.
    let mut stack: Vec<u8> = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if stack.last() == Some(&b'"') {
            match c {
                b'\\' if bytes.get(i + 1) == Some(&b'(') => {
                    // Interpolation: code until the matching `)`.
                    stack.push(b'(');
                    i += 2;
                    continue;
                }
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => stack.push(b'"'),
                b'{' | b'(' | b'[' => stack.push(c),
                b')' | b']' => {
                    let open = if c == b')' { b'(' } else { b'[' };
                    if stack.last() == Some(&open) {
                        stack.pop();
                    }
                }
                b'}' => {
                    // A `}` with no `{` open closes the expression, even if a bracket
                    // is left open: jq then reports the missing bracket precisely.
                    match stack.iter().rposition(|&o| o == b'{') {
                        None => return Some(i),
                        Some(pos) => stack.truncate(pos),
                    }
                }
                b'#' => {
                    // A comment runs to the end of the line.
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        split(s)
            .expect("splits")
            .into_iter()
            .map(|p| match p {
                RawPart::Text(t) => format!("T:{t}"),
                RawPart::Expr(r) => format!("E:{}", &s[r]),
            })
            .collect()
    }

    #[test]
    fn splits_text_and_expressions() {
        assert_eq!(texts("plain"), vec!["T:plain"]);
        assert_eq!(texts("${ .a }"), vec!["E: .a "]);
        assert_eq!(texts("a ${1} b ${2}"), vec!["T:a ", "E:1", "T: b ", "E:2"]);
        assert_eq!(texts("cost: $${x}"), vec!["T:cost: ${x}"]);
        assert_eq!(texts("$5 and $"), vec!["T:$5 and $"]);
    }

    #[test]
    fn braces_and_strings_inside_expressions() {
        assert_eq!(texts(r#"${ {a: "}"} }"#), vec![r#"E: {a: "}"} "#]);
        assert_eq!(
            texts(r#"${ "\(1 + {b: 2}.b)}" }!"#),
            vec![r#"E: "\(1 + {b: 2}.b)}" "#, "T:!"]
        );
        assert_eq!(texts(r#"${ "a\"}" }"#), vec![r#"E: "a\"}" "#]);
    }

    #[test]
    fn an_unbalanced_bracket_still_ends_at_the_brace() {
        assert_eq!(texts("a ${ [1, 2 } b"), vec!["T:a ", "E: [1, 2 ", "T: b"]);
        assert_eq!(texts("${ (1 } x"), vec!["E: (1 ", "T: x"]);
    }

    #[test]
    fn unclosed_is_an_error_with_span() {
        let err = split("x ${ .a").expect_err("unclosed");
        assert_eq!(err.span(), Some(2..4));
    }

    #[test]
    fn has_expressions() {
        assert!(Template::has_expressions("a ${x}"));
        assert!(!Template::has_expressions("a $${x}"));
        assert!(!Template::has_expressions("$HOME"));
    }
}
