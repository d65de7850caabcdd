//! JSON values with `${ }` templates in their strings, such as a task's `with:`.
//!
//! Compiling walks the value once; subtrees without any expression are kept as constants
//! (converted once), so evaluating `with: {url: "${ $item }", headers: {...}}` only
//! evaluates the one string that needs it. Object keys are never templates.

use serde_json::Value;

use crate::{Context, Error, Limits, Program, Template, Val, VarSet};

/// One step of a path inside a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A JSON value whose strings may hold `${ }` templates, compiled.
#[derive(Debug, Clone)]
pub enum ValueTemplate {
    /// A subtree without expressions.
    Const(Val),
    /// A string with expressions.
    Template(Template),
    /// An array with expressions in some element.
    Array(Vec<ValueTemplate>),
    /// An object with expressions in some value.
    Object(Vec<(String, ValueTemplate)>),
}

/// A problem in a value template, with the path of the string it is in.
#[derive(Debug, Clone)]
pub struct PathError {
    /// Where the string is inside the value.
    pub path: Vec<PathSeg>,
    /// What is wrong; its span is relative to that string.
    pub error: Error,
}

impl ValueTemplate {
    /// Compiles every template string in `value`. Returns every problem.
    pub fn compile(value: &Value, vars: VarSet) -> Result<ValueTemplate, Vec<PathError>> {
        let mut errors = Vec::new();
        let mut path = Vec::new();
        let t = compile(value, vars, &mut path, &mut errors);
        if errors.is_empty() {
            Ok(t)
        } else {
            Err(errors)
        }
    }

    /// Whether the value has no expression at all.
    pub fn is_const(&self) -> bool {
        matches!(self, ValueTemplate::Const(_))
    }

    /// Visits every template with its path.
    pub fn for_each_template(&self, f: &mut impl FnMut(&[PathSeg], &Template)) {
        let mut path = Vec::new();
        self.visit(&mut path, f);
    }

    fn visit(&self, path: &mut Vec<PathSeg>, f: &mut impl FnMut(&[PathSeg], &Template)) {
        match self {
            ValueTemplate::Const(_) => {}
            ValueTemplate::Template(t) => f(path, t),
            ValueTemplate::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(PathSeg::Index(i));
                    item.visit(path, f);
                    path.pop();
                }
            }
            ValueTemplate::Object(entries) => {
                for (k, v) in entries {
                    path.push(PathSeg::Key(k.clone()));
                    v.visit(path, f);
                    path.pop();
                }
            }
        }
    }

    /// Evaluates every template and builds the value.
    pub fn eval(&self, ctx: &Context, limits: &Limits) -> Result<Val, Error> {
        self.eval_mapped(ctx, limits, &mut |_, v| v)
    }

    /// Evaluates every template, passing the value of each expression through `map`
    /// (see [`Template::eval_mapped`]), and builds the value.
    pub fn eval_mapped(
        &self,
        ctx: &Context,
        limits: &Limits,
        map: &mut dyn FnMut(&Program, Val) -> Val,
    ) -> Result<Val, Error> {
        match self {
            ValueTemplate::Const(v) => Ok(v.clone()),
            ValueTemplate::Template(t) => t.eval_mapped(ctx, &Val::null(), limits, map),
            ValueTemplate::Array(items) => {
                let vals = items
                    .iter()
                    .map(|i| i.eval_mapped(ctx, limits, map).map(|v| v.0))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Val(jaq_json::Val::Arr(jaq_json::Rc::new(vals))))
            }
            ValueTemplate::Object(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.as_str(), v.eval_mapped(ctx, limits, map)?));
                }
                Ok(Val::object(out))
            }
        }
    }
}

fn compile(
    value: &Value,
    vars: VarSet,
    path: &mut Vec<PathSeg>,
    errors: &mut Vec<PathError>,
) -> ValueTemplate {
    match value {
        Value::String(s) if Template::has_expressions(s) || s.contains("$${") => {
            match Template::compile(s, vars) {
                Ok(Template::Literal(text)) => ValueTemplate::Const(Val::from(Value::String(text))),
                Ok(t) => ValueTemplate::Template(t),
                Err(es) => {
                    errors.extend(es.into_iter().map(|error| PathError {
                        path: path.clone(),
                        error,
                    }));
                    ValueTemplate::Const(Val::null())
                }
            }
        }
        Value::Array(items) => {
            let compiled: Vec<ValueTemplate> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(PathSeg::Index(i));
                    let t = compile(item, vars, path, errors);
                    path.pop();
                    t
                })
                .collect();
            if compiled.iter().all(ValueTemplate::is_const) {
                // Built from the children, so that `$${` in them is already unescaped.
                let vals = compiled.into_iter().filter_map(|t| match t {
                    ValueTemplate::Const(v) => Some(v.0),
                    _ => None,
                });
                ValueTemplate::Const(Val(jaq_json::Val::Arr(jaq_json::Rc::new(vals.collect()))))
            } else {
                ValueTemplate::Array(compiled)
            }
        }
        Value::Object(map) => {
            let compiled: Vec<(String, ValueTemplate)> = map
                .iter()
                .map(|(k, v)| {
                    path.push(PathSeg::Key(k.clone()));
                    let t = compile(v, vars, path, errors);
                    path.pop();
                    (k.clone(), t)
                })
                .collect();
            if compiled.iter().all(|(_, t)| t.is_const()) {
                let vals = compiled.into_iter().filter_map(|(k, t)| match t {
                    ValueTemplate::Const(v) => Some((k, v)),
                    _ => None,
                });
                ValueTemplate::Const(Val::object(vals))
            } else {
                ValueTemplate::Object(compiled)
            }
        }
        other => ValueTemplate::Const(Val::from(other)),
    }
}
