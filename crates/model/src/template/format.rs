//! The template format: a workflow body, the JSON Schema of its parameters, and
//! metadata. Reading it with locations, checking it, and writing it back.
//!
//! ```yaml
//! name: greeter                 # [a-z0-9][a-z0-9_-]*, like a workflow name
//! description: Greet someone
//! tags: [demo]
//! category: examples
//! parameters:                   # a JSON Schema of an object; defaults fill missing values
//!   type: object
//!   required: [who]
//!   properties:
//!     who: {type: string, minLength: 1}
//!     times: {type: integer, minimum: 1, default: 2}
//! workflow:                     # a workflow without `name`, `params` or `template`
//!   tasks:
//!     greet: {type: set, with: {msg: "hello ${ $params.who } x${ $params.times }"}}
//! ```
//!
//! Reading uses the definition reader's machinery, so a template gets the same
//! diagnostics as a workflow: every problem at once, unknown fields with "did you mean",
//! positions as `LINE:COL`, paths from the template's root (`workflow.tasks.greet.with`).
//! The body is read and validated as a workflow of its own (its locations relative to
//! it, its paths prefixed with `workflow`), where `$params` is a known variable.
//! `parameters` is checked as a JSON Schema describing an object, and every `default` in
//! it must match the schema.
//!
//! Invariants: a [`Template`] from [`read`] is valid against the task types it was read
//! with; [`Template::content`] is a pure function of the template (the canonical,
//! compact JSON that stores compare to tell versions apart), and reading
//! [`Template::render`]'s text gives back an equal template.

use serde_json::{Map, Value};

use crate::definition::Workflow;
use crate::diagnostic::{Diagnostic, Diagnostics, FieldPath, Locations};
use crate::node::{self, Kind, Node};
use crate::read::{self, Fields, Reader};
use crate::source::{Format, Source};
use crate::task_types::TaskTypes;
use crate::validate;
use crate::{Error, inputs};

/// A template: a parameterized workflow and what describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Its name: lowercase letters, digits, `_` and `-`, starting with a letter or digit.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Labels to find it by.
    pub tags: Vec<String>,
    /// The group it is listed under.
    pub category: Option<String>,
    /// The JSON Schema of the parameters (an object); `None` when it takes none.
    pub parameters: Option<Value>,
    /// The workflow body: its `name` is empty, `params` and `template` are `None` (an
    /// instance fills them in).
    pub workflow: Workflow,
}

/// A template read and checked, with warnings about its body.
#[derive(Debug, Clone)]
pub struct LoadedTemplate {
    /// The template.
    pub template: Template,
    /// Things that work but are probably not meant.
    pub warnings: Vec<Diagnostic>,
}

/// How much of a template to check.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check<'t> {
    /// Only its shape (a stored template, read back).
    Shape,
    /// Its shape and meaning: the parameters schema, and the body against these types.
    Meaning(&'t TaskTypes),
}

/// Names other tools (or other places of ours) use for the template's fields.
const ALIASES: &[(&str, &str)] = &[
    ("params", "parameters"),
    ("parameter", "parameters"),
    ("body", "workflow"),
    ("definition", "workflow"),
    ("workflow_definition", "workflow"),
    ("spec", "workflow"),
    ("labels", "tags"),
    ("keywords", "tags"),
    ("tag", "tags"),
    ("group", "category"),
    ("categories", "category"),
    ("desc", "description"),
];

/// Workflow fields written at the template's top level by mistake.
const MOVED: &[(&str, &str)] = &[
    ("tasks", "`workflow` (the template's workflow body)"),
    ("inputs", "`workflow` (the template's workflow body)"),
    ("outputs", "`workflow` (the template's workflow body)"),
    ("defaults", "`workflow` (the template's workflow body)"),
    ("timeout", "`workflow` (the template's workflow body)"),
];

/// Tags are at most this long.
const MAX_TAG: usize = 64;

impl Template {
    /// The fields of a template, as written.
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "description",
        "tags",
        "category",
        "parameters",
        "workflow",
    ];

    /// The template as a JSON value, fields in the order of [`Template::FIELDS`]
    /// (unset ones left out); the body as a workflow without `name`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        self.metadata_into(&mut m);
        Value::Object(m)
    }

    /// Every field but `name`, in order, into `m` (a document's version entry has the
    /// same fields after its own).
    pub(crate) fn metadata_into(&self, m: &mut Map<String, Value>) {
        if let Some(d) = &self.description {
            m.insert("description".into(), Value::String(d.clone()));
        }
        if !self.tags.is_empty() {
            m.insert(
                "tags".into(),
                Value::Array(self.tags.iter().cloned().map(Value::String).collect()),
            );
        }
        if let Some(c) = &self.category {
            m.insert("category".into(), Value::String(c.clone()));
        }
        if let Some(p) = &self.parameters {
            m.insert("parameters".into(), p.clone());
        }
        m.insert("workflow".into(), body_value(&self.workflow));
    }

    /// The canonical form of the template: compact JSON of [`Template::to_value`]. Two
    /// templates with the same content are the same template (stores compare this).
    pub fn content(&self) -> String {
        serde_json::to_string(&self.to_value()).unwrap_or_default()
    }

    /// The template's text in `format`: deterministic, and read back equal.
    pub fn render(&self, format: Format) -> String {
        super::render::render(&self.to_value(), format)
    }

    /// Reads a template stored as [`Template::content`] (or any template text in JSON),
    /// checking its shape only: the stored text was checked when it was stored, and
    /// the task types known now may differ.
    pub fn from_content(content: &str) -> Result<Template, Error> {
        read_shape(&Source::new("<stored template>", content, Format::Json))
    }
}

/// Serializes as [`Template::to_value`]: the template format, as JSON.
impl serde::Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

/// A workflow body as JSON: the workflow without `$schema`, `name`, `params` and
/// `template`.
pub(crate) fn body_value(workflow: &Workflow) -> Value {
    let mut v = serde_json::to_value(workflow).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        for k in ["$schema", "name", "params", "template"] {
            o.shift_remove(k);
        }
    }
    v
}

/// Reads and checks a template: its shape, its parameters schema, and its body as a
/// workflow using `types`. Returns every problem at once.
pub fn read(source: &Source, types: &TaskTypes) -> Result<LoadedTemplate, Error> {
    read_with(source, Check::Meaning(types))
        .map(|(template, warnings)| LoadedTemplate { template, warnings })
}

/// Reads a template's shape only (field names and types), not its meaning.
pub fn read_shape(source: &Source) -> Result<Template, Error> {
    read_with(source, Check::Shape).map(|(t, _)| t)
}

fn read_with(source: &Source, check: Check<'_>) -> Result<(Template, Vec<Diagnostic>), Error> {
    let mut diags = Diagnostics::new(source);
    let mut locs = Locations::default();
    let template = match node::parse(source) {
        Err(e) => {
            diags.error(&FieldPath::root(), e.offset, e.message);
            None
        }
        Ok(root) => read_root(&root, &mut diags, &mut locs, check),
    };
    let has_errors = diags.has_errors();
    let diagnostics = diags.finish();
    match template {
        Some(t) if !has_errors => Ok((t, diagnostics)),
        _ => Err(Error::Invalid {
            name: source.name().to_string(),
            diagnostics,
        }),
    }
}

pub(crate) fn read_root(
    root: &Node,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
    check: Check<'_>,
) -> Option<Template> {
    let path = FieldPath::root();
    if root.kind == Kind::Null {
        diags.error(
            &path,
            0,
            "the document is empty; a template needs at least `name` and `workflow`",
        );
        return None;
    }
    let mut r = Reader::new(diags, locs);
    let f = r.fields_with(
        root,
        &path,
        "the template",
        Template::FIELDS,
        ALIASES,
        MOVED,
    )?;
    let name = template_name(&mut r, &f, &path);
    read_fields(&f, &path, "the template", name, diags, locs, check)
}

/// Reads the required `name` of a template (an empty string when missing or invalid,
/// which has been reported).
pub(crate) fn template_name(r: &mut Reader<'_, '_>, f: &Fields<'_>, path: &FieldPath) -> String {
    let Some(node) = r.required(
        f,
        path,
        "name",
        "the template",
        " (for example `name: nightly-etl`)",
    ) else {
        return String::new();
    };
    let p = path.key("name");
    let Some(name) = r.string(node, &p) else {
        return String::new();
    };
    if let Some(message) = validate::name_problem("template", &name) {
        r.error(&p, node.offset, message);
    }
    name
}

/// Reads every template field but `name` from `f` (the fields of the mapping at `path`,
/// which the caller has checked for unknown ones).
pub(crate) fn read_fields(
    f: &Fields<'_>,
    path: &FieldPath,
    what: &str,
    name: String,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
    check: Check<'_>,
) -> Option<Template> {
    let mut r = Reader::new(diags, locs);
    let description = f
        .get("description")
        .and_then(|n| r.string(n, &path.key("description")));
    let tags = f
        .get("tags")
        .map(|n| tags(&mut r, n, &path.key("tags")))
        .unwrap_or_default();
    let category = f.get("category").and_then(|n| {
        let p = path.key("category");
        let c = r.string(n, &p)?;
        if c.trim().is_empty() {
            r.error(&p, n.offset, "the category is empty; leave it out instead");
            return None;
        }
        Some(c)
    });
    let parameters = f.get("parameters").and_then(|n| {
        let p = path.key("parameters");
        let v = r.json(n, &p);
        if v.is_object() {
            Some(v)
        } else {
            r.error(
                &p,
                n.offset,
                format!(
                    "expected the JSON Schema of the parameters (a mapping like `{{type: object, properties: ...}}`), found {}",
                    n.describe()
                ),
            );
            None
        }
    });
    let body = r.required(
        f,
        path,
        "workflow",
        what,
        " (the workflow body: `tasks`, and `inputs`, `outputs`, ... as needed)",
    );
    // `$params` in the body is checked against the parameters schema when it is valid.
    let params_schema = match (&parameters, check) {
        (Some(schema), Check::Meaning(_)) => {
            check_parameters(schema, &path.key("parameters"), locs, diags).then_some(schema)
        }
        _ => None,
    };
    let workflow =
        body.and_then(|n| read_body(n, &path.key("workflow"), params_schema, diags, check))?;
    Some(Template {
        name,
        description,
        tags,
        category,
        parameters,
        workflow,
    })
}

/// Reads (and, for [`Check::Meaning`], validates) a workflow body at `path`.
fn read_body(
    node: &Node,
    path: &FieldPath,
    params: Option<&Value>,
    diags: &mut Diagnostics<'_>,
    check: Check<'_>,
) -> Option<Workflow> {
    let mut locs = Locations::default();
    diags.set_prefix(path.clone());
    let workflow = read::read_body(node, diags, &mut locs);
    if let (Some(wf), Check::Meaning(types)) = (&workflow, check) {
        validate::validate(wf, &locs, types, params, diags);
    }
    diags.set_prefix(FieldPath::root());
    workflow
}

fn tags(r: &mut Reader<'_, '_>, node: &Node, path: &FieldPath) -> Vec<String> {
    let Kind::Seq(items) = &node.kind else {
        r.error(
            path,
            node.offset,
            format!("expected a list of tags, found {}", node.describe()),
        );
        return Vec::new();
    };
    r.record(node, path);
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let Some(tag) = r.string(item, &p) else {
            continue;
        };
        if tag.trim().is_empty() {
            r.error(&p, item.offset, "a tag cannot be empty");
        } else if tag.chars().count() > MAX_TAG {
            r.error(
                &p,
                item.offset,
                format!("a tag is at most {MAX_TAG} characters"),
            );
        } else if out.contains(&tag) {
            r.error(&p, item.offset, format!("the tag `{tag}` is listed twice"));
        } else {
            out.push(tag);
        }
    }
    out
}

/// Checks the parameters schema at `base`: a valid JSON Schema of an object, whose
/// defaults match it. Returns whether the schema itself is valid.
fn check_parameters(
    schema: &Value,
    base: &FieldPath,
    locs: &Locations,
    diags: &mut Diagnostics<'_>,
) -> bool {
    let Some(validator) = validate::object_schema(schema, base, "parameters", locs, diags) else {
        return false;
    };
    let mut with_defaults = Value::Object(Map::new());
    inputs::apply_defaults(schema, &mut with_defaults);
    for (pointer, keyword, message) in inputs::violations(&validator, &with_defaults, "parameter") {
        // A required parameter without a default is what callers must give.
        if keyword == "required" {
            continue;
        }
        let at = default_path(schema, base, &pointer);
        let offset = locs.value(&at);
        diags.error(
            &at,
            offset,
            format!("this default does not match the parameter's schema: {message} ({keyword})"),
        );
    }
    true
}

/// The path of the `default` that put the value at `pointer` (a JSON pointer into the
/// parameters) there: the deepest property on the way that has a default.
fn default_path(schema: &Value, base: &FieldPath, pointer: &str) -> FieldPath {
    let mut at = base.clone();
    let mut found = base.clone();
    let mut s = schema;
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        let Some(prop) = s.get("properties").and_then(|p| p.get(&key)) else {
            break;
        };
        at = at.key("properties").key(&key);
        if prop.get("default").is_some() {
            found = at.key("default");
        }
        s = prop;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Source {
        Source::new("t.yaml", text, Format::Yaml)
    }

    fn problems(text: &str) -> Vec<String> {
        match read(&yaml(text), &crate::task_types::test_types()) {
            Ok(l) => l.warnings.iter().map(|d| d.render("t.yaml")).collect(),
            Err(e) => e.diagnostics().iter().map(|d| d.render("t.yaml")).collect(),
        }
    }

    const GREETER: &str = "name: greeter
description: Greet someone
tags: [demo]
category: examples
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1}
    times: {type: integer, minimum: 1, default: 2}
workflow:
  tasks:
    greet: {type: set, with: {msg: 'hello ${ $params.who } x${ $params.times }'}}
  outputs:
    msg: ${ $tasks.greet.output.msg }
";

    #[test]
    fn a_valid_template_reads() {
        let t = read(&yaml(GREETER), &crate::task_types::test_types())
            .expect("valid")
            .template;
        assert_eq!(t.name, "greeter");
        assert_eq!(t.tags, ["demo"]);
        assert_eq!(t.category.as_deref(), Some("examples"));
        assert_eq!(t.workflow.name, "");
        assert!(t.workflow.tasks.contains_key("greet"));
    }

    #[test]
    fn rendering_reads_back_equal_in_both_formats() {
        let t = read(&yaml(GREETER), &crate::task_types::test_types())
            .expect("valid")
            .template;
        for format in [Format::Yaml, Format::Json] {
            let text = t.render(format);
            let back = read(
                &Source::new("r", text.clone(), format),
                &crate::task_types::test_types(),
            )
            .expect("rendered text is valid")
            .template;
            assert_eq!(back, t, "{text}");
            assert_eq!(back.render(format), text);
        }
        assert_eq!(
            Template::from_content(&t.content()).expect("content reads"),
            t
        );
    }

    #[test]
    fn every_problem_has_a_path_from_the_template_root() {
        let p = problems(
            "name: Bad Name
tags: [a, a, '']
paramters: {}
tasks: {}
parameters:
  type: object
  properties:
    n: {type: integer, default: x}
workflow:
  name: nope
  tasks:
    a: {type: htp}
    b: {type: set, with: '${ $params.n + $nope }'}
",
        );
        let expected = [
            "t.yaml:1:7: error: name: invalid template name `Bad Name`",
            "t.yaml:2:11: error: tags[1]: the tag `a` is listed twice",
            "t.yaml:2:14: error: tags[2]: a tag cannot be empty",
            "t.yaml:3:1: error: paramters: unknown field `paramters` in the template (did you mean `parameters`?)",
            "t.yaml:4:1: error: tasks: unknown field `tasks` in the template; it belongs in `workflow`",
            "t.yaml:8:33: error: parameters.properties.n.default: this default does not match the parameter's schema: expected integer, found the string \"x\" (type)",
            "t.yaml:10:3: error: workflow.name: a template's `workflow` has no `name`",
            "t.yaml:12:15: error: workflow.tasks.a.type: unknown task type `htp` (did you mean `http`?)",
            "t.yaml:13:42: error: workflow.tasks.b.with:",
        ];
        assert_eq!(p.len(), expected.len(), "{p:#?}");
        for (got, want) in p.iter().zip(expected) {
            assert!(got.starts_with(want), "{got}\ndoes not start with\n{want}");
        }
    }

    #[test]
    fn parameters_must_be_a_schema_of_an_object() {
        let p = problems(
            "name: t\nparameters: {type: array}\nworkflow:\n  tasks:\n    a: {type: set}\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("parameters.type: parameters are a mapping"),
            "{p:?}"
        );
        let p = problems(
            "name: t\nparameters: {type: object, properties: {x: {type: strng}}}\nworkflow:\n  tasks:\n    a: {type: set}\n",
        );
        assert!(
            p[0].contains("unknown type `strng` (did you mean `string`?)"),
            "{p:?}"
        );
    }

    #[test]
    fn nested_defaults_are_checked_where_they_are_written() {
        let p = problems(
            "name: t
parameters:
  type: object
  properties:
    o:
      type: object
      default: {k: 'no'}
      properties:
        k: {type: boolean}
workflow:
  tasks:
    a: {type: set}
",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("t.yaml:7:16: error: parameters.properties.o.default:"),
            "{p:?}"
        );
    }

    #[test]
    fn params_the_parameters_schema_does_not_declare_are_reported() {
        // Regression: `$params.typo` passed validation silently.
        let text = GREETER.replace("$params.times", "$params.tiems");
        let loaded = read(&yaml(&text), &crate::task_types::test_types()).expect("a warning only");
        let warnings: Vec<String> = loaded.warnings.iter().map(|d| d.render("t.yaml")).collect();
        assert_eq!(
            warnings,
            vec![
                "t.yaml:13:64: warning: workflow.tasks.greet.with.msg: `$params.tiems` reads `tiems`, which the template's `parameters` schema does not declare (did you mean `$params.times`?)"
            ]
        );
        // Closed: the value is always null, so it is an error.
        let closed = text.replace(
            "  required: [who]\n",
            "  required: [who]\n  additionalProperties: false\n",
        );
        let p = problems(&closed);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(
            p[0].contains("error: workflow.tasks.greet.with.msg: `$params.tiems` reads `tiems`, which the template's `parameters` schema does not declare, and it allows no other parameters"),
            "{p:#?}"
        );
        // No parameters schema: nothing to compare with.
        let none =
            "name: t\nworkflow:\n  tasks:\n    a: {type: set, with: '${ $params.anything }'}\n";
        assert!(problems(none).is_empty());
    }

    #[test]
    fn shape_only_reading_skips_meaning() {
        let text = "name: t\nworkflow:\n  tasks:\n    a: {type: unknown_type}\n";
        assert!(read(&yaml(text), &crate::task_types::test_types()).is_err());
        assert!(read_shape(&yaml(text)).is_ok());
    }
}
