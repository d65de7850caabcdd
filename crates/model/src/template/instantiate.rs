//! Instantiating a template: from a template version and parameter values to a
//! workflow definition.
//!
//! The parameter values are checked against the template's `parameters` schema after
//! its defaults are filled in (at any depth, for optional and required parameters
//! alike: a required parameter with a default need not be given). Every violation is
//! reported, each with its JSON pointer and the schema keyword that failed; nothing is
//! made from values that do not validate.
//!
//! The instance is a complete [`Workflow`]: the template's body with `name` (given, or
//! derived from the template's name and the parameter values), `params` (the values,
//! defaults applied: what `$params` reads) and `template` (`{name, version}`) filled in.
//! [`Instance::render`] writes it as definition text, which validates like any other
//! definition (the body was validated when the template was read; a name, `params` and
//! `template` change nothing about that).
//!
//! Invariant: instantiation is a pure function of its arguments. The same template
//! version and values give the same text, so storing an instance twice adds no version.

use serde::Serialize;
use serde_json::{Map, Value};

use super::format::Template;
use crate::definition::{TemplateRef, Workflow};
use crate::source::{Format, Source};
use crate::{inputs, validate};

/// One way the parameter values break the template's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamViolation {
    /// JSON pointer to the offending value (`/urls/0`; empty for the values as a whole).
    pub path: String,
    /// The schema keyword that failed (`type`, `required`, `minimum`, ...).
    pub keyword: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParamViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "parameters"
        } else {
            &self.path
        };
        write!(f, "{path}: {} ({})", self.message, self.keyword)
    }
}

/// Why a template could not be instantiated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InstantiateError {
    /// The parameter values do not validate; every violation is listed.
    #[error("invalid parameters: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Params(Vec<ParamViolation>),
    /// The workflow name given is not a valid name.
    #[error("{0}")]
    Name(String),
    /// The template's own parameters schema does not compile (only possible for a
    /// template that was read without checking its meaning).
    #[error("the template's parameters are not a valid JSON Schema: {0}")]
    Schema(String),
}

impl InstantiateError {
    /// The parameter violations, when that is what went wrong.
    pub fn violations(&self) -> &[ParamViolation] {
        match self {
            InstantiateError::Params(v) => v,
            _ => &[],
        }
    }
}

/// A workflow made from a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// The definition: the template's body with `name`, `params` and `template` set.
    pub workflow: Workflow,
}

impl Instance {
    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.workflow.name
    }

    /// The parameter values, defaults applied (what `$params` reads).
    pub fn params(&self) -> &Value {
        static EMPTY: Value = Value::Null;
        self.workflow.params.as_ref().unwrap_or(&EMPTY)
    }

    /// The definition as text in `format` (deterministic).
    pub fn render(&self, format: Format) -> String {
        let value = serde_json::to_value(&self.workflow).unwrap_or(Value::Null);
        super::render::render(&value, format)
    }

    /// The definition as a [`Source`] named `NAME.yaml` or `NAME.json`, ready for
    /// [`crate::load`] or for storing.
    pub fn source(&self, format: Format) -> Source {
        let ext = match format {
            Format::Yaml => "yaml",
            Format::Json => "json",
        };
        Source::new(
            format!("{}.{ext}", self.workflow.name),
            self.render(format),
            format,
        )
    }
}

/// Makes a workflow from version `version` of `template`, named `name` (or a name
/// derived from the template's name and the values), with parameter values `params`
/// (`null` counts as `{}`).
pub fn instantiate(
    template: &Template,
    version: u32,
    name: Option<&str>,
    params: Value,
) -> Result<Instance, InstantiateError> {
    let params = prepare_params(template, params)?;
    let name = match name {
        Some(n) => {
            if let Some(message) = validate::name_problem("workflow", n) {
                return Err(InstantiateError::Name(message));
            }
            n.to_string()
        }
        None => derive_name(&template.name, &params),
    };
    let mut workflow = template.workflow.clone();
    workflow.schema = None;
    workflow.name = name;
    if workflow.description.is_none() {
        workflow.description.clone_from(&template.description);
    }
    workflow.template = Some(TemplateRef {
        name: template.name.clone(),
        version,
    });
    workflow.params = Some(params);
    Ok(Instance { workflow })
}

/// The values with defaults applied, or every violation.
pub fn prepare_params(template: &Template, params: Value) -> Result<Value, InstantiateError> {
    let mut params = if params.is_null() {
        Value::Object(Map::new())
    } else {
        params
    };
    let Some(schema) = &template.parameters else {
        return if params.is_object() {
            Ok(params)
        } else {
            Err(InstantiateError::Params(vec![ParamViolation {
                path: String::new(),
                keyword: "type".into(),
                message: "parameters must be an object of names to values".into(),
            }]))
        };
    };
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| InstantiateError::Schema(e.to_string()))?;
    inputs::apply_defaults(schema, &mut params);
    let violations: Vec<ParamViolation> = inputs::violations(&validator, &params, "parameter")
        .into_iter()
        .map(|(path, keyword, message)| ParamViolation {
            path,
            keyword,
            message,
        })
        .collect();
    if violations.is_empty() {
        Ok(params)
    } else {
        Err(InstantiateError::Params(violations))
    }
}

/// `TEMPLATE-XXXXXXXX`: the template's name and a hash of the values (keys sorted, so
/// that their order does not matter). The same values give the same name; other
/// values, another workflow.
fn derive_name(template: &str, params: &Value) -> String {
    let mut canonical = String::new();
    write_sorted(params, &mut canonical);
    let hash = fnv1a(canonical.as_bytes());
    let suffix = format!("{:08x}", (hash >> 32) ^ (hash & 0xffff_ffff));
    let keep = 128 - suffix.len() - 1;
    let base: String = template.chars().take(keep).collect();
    format!("{base}-{suffix}")
}

/// JSON text of `v` with object keys sorted.
fn write_sorted(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(x) = m.get(*k) {
                    write_sorted(x, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// 64-bit FNV-1a: small, and stable across Rust releases (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::load;

    fn greeter() -> Template {
        let text = "name: greeter
description: Greet someone
parameters:
  type: object
  required: [who, style]
  additionalProperties: false
  properties:
    who: {type: string, minLength: 1}
    times: {type: integer, minimum: 1, default: 2}
    style: {type: string, enum: [plain, loud], default: plain}
    opts:
      type: object
      default: {}
      properties:
        sep: {type: string, default: ', '}
workflow:
  tasks:
    greet: {type: set, with: {msg: 'hello ${ $params.who } x${ $params.times }'}}
  outputs:
    msg: ${ $tasks.greet.output.msg }
";
        super::super::read(
            &Source::new("greeter.yaml", text, Format::Yaml),
            &crate::task_types::test_types(),
        )
        .expect("valid")
        .template
    }

    #[test]
    fn defaults_fill_optional_and_required_parameters_at_any_depth() {
        let i = instantiate(&greeter(), 3, Some("hi"), json!({"who": "Ada"})).expect("valid");
        assert_eq!(
            i.params(),
            &json!({"who": "Ada", "times": 2, "style": "plain", "opts": {"sep": ", "}})
        );
        assert_eq!(i.name(), "hi");
        assert_eq!(
            i.workflow.template,
            Some(TemplateRef {
                name: "greeter".into(),
                version: 3
            })
        );
        assert_eq!(i.workflow.description.as_deref(), Some("Greet someone"));
    }

    #[test]
    fn every_violation_is_named_with_its_path_and_keyword() {
        let e = instantiate(
            &greeter(),
            1,
            None,
            json!({"who": "", "times": 0, "style": "quiet", "opts": {"sep": 1}, "extra": true}),
        )
        .expect_err("invalid");
        let mut got: Vec<(String, String)> = e
            .violations()
            .iter()
            .map(|v| (v.path.clone(), v.keyword.clone()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("".to_string(), "additionalProperties".to_string()),
                ("/opts/sep".into(), "type".into()),
                ("/style".into(), "enum".into()),
                ("/times".into(), "minimum".into()),
                ("/who".into(), "minLength".into()),
            ]
        );
        let missing = instantiate(&greeter(), 1, None, json!(null)).expect_err("missing");
        assert_eq!(
            missing.violations()[0].to_string(),
            "parameters: missing required parameter `who` (required)"
        );
    }

    #[test]
    fn the_instance_is_a_valid_definition_in_both_formats() {
        let i = instantiate(&greeter(), 1, Some("hello-ada"), json!({"who": "Ada"})).expect("ok");
        for format in [Format::Yaml, Format::Json] {
            let loaded = load(&i.source(format), &crate::task_types::test_types()).expect("valid");
            assert_eq!(loaded.plan.workflow.params.as_ref(), Some(i.params()));
            assert_eq!(*loaded.plan.workflow, i.workflow);
        }
        let yaml = i.render(Format::Yaml);
        assert!(
            yaml.starts_with("name: hello-ada\ndescription: Greet someone\ntemplate:\n  name: greeter\n  version: 1\nparams:\n"),
            "{yaml}"
        );
    }

    #[test]
    fn derived_names_depend_on_the_values_not_their_order() {
        let t = greeter();
        let a = instantiate(&t, 1, None, json!({"who": "Ada", "times": 3})).expect("ok");
        let b = instantiate(&t, 1, None, json!({"times": 3, "who": "Ada"})).expect("ok");
        let c = instantiate(&t, 1, None, json!({"who": "Bob"})).expect("ok");
        assert_eq!(a.name(), b.name());
        assert_ne!(a.name(), c.name());
        assert!(
            a.name().starts_with("greeter-") && a.name().len() == 16,
            "{}",
            a.name()
        );
        assert!(validate::is_valid_name(a.name()));
        let long = "x".repeat(128);
        assert_eq!(derive_name(&long, &json!({})).len(), 128);
    }

    #[test]
    fn a_bad_name_is_refused() {
        let e = instantiate(&greeter(), 1, Some("Not Valid"), json!({"who": "x"}))
            .expect_err("bad name");
        assert!(matches!(e, InstantiateError::Name(m) if m.contains("try `not-valid`")));
    }
}
