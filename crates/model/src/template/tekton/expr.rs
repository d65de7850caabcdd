//! One Jinja expression as jq: [`lex`] it, then read a variable, a task's output or a
//! literal, followed by any number of `| default(...)` filters ([`convert_expr`]).
//!
//! Invariants: a path resolves, in this order, to a task's output (`task.output...` or
//! `tasks.task.output...`, recorded as a read of that task), a parameter (`$params`), an
//! input (`$inputs`), or a `params.`/`parameters.` or `inputs.`/`input.` path; anything
//! else is an error saying why, never a guess. `default(x)` becomes jq's `//`. Keys that
//! are not identifiers are written `["key"]`, digits `[0]`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

/// Names a Jinja expression can refer to.
pub(super) struct Scope {
    pub(super) params: HashSet<String>,
    pub(super) inputs: HashSet<String>,
    /// Tekton task key -> our task name.
    pub(super) tasks: HashMap<String, String>,
}

/// `.name` when `name` is an identifier, else `["name"]`.
pub(super) fn jq_key(key: &str) -> String {
    let ident = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.to_string()))
    }
}

/// A token of a Jinja expression.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(String),
    Str(String),
    Punct(char),
}

/// The tokens of a Jinja expression, or why it has none we read.
fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Number(chars[start..i].iter().collect()));
        } else if c == '\'' || c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("an unclosed string".into()),
                    Some('\\') => {
                        if let Some(n) = chars.get(i + 1) {
                            text.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                other => *other,
                            });
                        }
                        i += 2;
                    }
                    Some(q) if *q == c => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        text.push(*other);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(text));
        } else if ".|()[],".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else if c == '-' {
            return Err("`-` is not supported (Jinja reads `a-b` as a subtraction)".into());
        } else {
            return Err(format!("`{c}` is not supported"));
        }
    }
    Ok(out)
}

/// A Jinja expression as jq, and the tasks (our names) whose output it reads.
pub(super) fn convert_expr(text: &str, scope: &Scope) -> Result<(String, Vec<String>), String> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err("the expression is empty".into());
    }
    let mut p = ExprParser {
        toks: &toks,
        at: 0,
        scope,
        reads: Vec::new(),
    };
    let mut jq = p.primary()?;
    while p.eat(&Tok::Punct('|')) {
        let Some(Tok::Ident(filter)) = p.next() else {
            return Err("expected a filter name after `|`".into());
        };
        if filter != "default" && filter != "d" {
            return Err(format!(
                "the filter `{filter}` has no conversion (only `default` does)"
            ));
        }
        if !p.eat(&Tok::Punct('(')) {
            return Err("expected `(` after `default`".into());
        }
        let fallback = p.primary()?;
        if p.eat(&Tok::Punct(',')) {
            return Err("`default` with a second argument has no conversion".into());
        }
        if !p.eat(&Tok::Punct(')')) {
            return Err("expected `)` after the default value".into());
        }
        jq = format!("{jq} // {fallback}");
    }
    if p.at < toks.len() {
        return Err(
            "only a variable, a task output or a literal, with `| default(...)`, is converted"
                .into(),
        );
    }
    Ok((jq, p.reads))
}

struct ExprParser<'t> {
    toks: &'t [Tok],
    at: usize,
    scope: &'t Scope,
    reads: Vec<String>,
}

impl ExprParser<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.toks.get(self.at) == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A literal or a path, as jq.
    fn primary(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Number(n)) => n
                .parse::<f64>()
                .map(|_| n.clone())
                .map_err(|_| format!("`{n}` is not a number")),
            Some(Tok::Str(s)) => Ok(Value::String(s).to_string()),
            Some(Tok::Ident(id)) => match id.as_str() {
                "true" | "True" => Ok("true".into()),
                "false" | "False" => Ok("false".into()),
                "none" | "None" | "null" => Ok("null".into()),
                _ => {
                    let mut segs = vec![id];
                    loop {
                        if self.eat(&Tok::Punct('.')) {
                            match self.next() {
                                Some(Tok::Ident(s)) => segs.push(s),
                                Some(Tok::Number(n)) => segs.push(n),
                                _ => return Err("expected a name after `.`".into()),
                            }
                        } else if self.eat(&Tok::Punct('[')) {
                            let seg = match self.next() {
                                Some(Tok::Str(s)) | Some(Tok::Number(s)) => s,
                                _ => {
                                    return Err(
                                        "only `[\"key\"]` and `[0]` subscripts are converted"
                                            .into(),
                                    );
                                }
                            };
                            if !self.eat(&Tok::Punct(']')) {
                                return Err("expected `]`".into());
                            }
                            segs.push(seg);
                        } else {
                            break;
                        }
                    }
                    self.path(&segs)
                }
            },
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("the expression ends too early".into()),
        }
    }

    fn path(&mut self, segs: &[String]) -> Result<String, String> {
        let rest = |from: usize| -> String {
            segs[from..]
                .iter()
                .map(|s| {
                    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                        format!("[{s}]")
                    } else {
                        jq_key(s)
                    }
                })
                .collect()
        };
        let head = segs[0].as_str();
        let task = |key: &str| self.scope.tasks.get(key).cloned();
        // `tasks.NAME.output...` or `NAME.output...`
        let (task_key, from) = if head == "tasks" && segs.len() > 2 {
            (Some(segs[1].as_str()), 2)
        } else {
            (Some(head), 1)
        };
        if let Some(key) = task_key
            && segs
                .get(from)
                .is_some_and(|s| s == "output" || s == "outputs")
            && let Some(name) = task(key)
        {
            self.reads.push(name.clone());
            return Ok(format!("$tasks.{name}.output{}", rest(from + 1)));
        }
        if self.scope.params.contains(head) {
            return Ok(format!("$params{}{}", jq_key(head), rest(1)));
        }
        if self.scope.inputs.contains(head) {
            return Ok(format!("$inputs{}{}", jq_key(head), rest(1)));
        }
        match head {
            "params" | "parameters" if segs.len() > 1 => Ok(format!("$params{}", rest(1))),
            "input" | "inputs" if segs.len() > 1 => Ok(format!("$inputs{}", rest(1))),
            _ => Err(format!(
                "`{}` is not a parameter, an input or a task's output",
                segs.join(".")
            )),
        }
    }
}
