//! The export/import document: one or many templates, each with all its versions.
//!
//! ```yaml
//! format: harmonia-templates/1
//! templates:
//! - name: greeter
//!   versions:
//!   - version: 1
//!     created_at: '2026-11-24T10:00:00.000Z'
//!     note: First version
//!     description: Greet someone
//!     parameters: {type: object, properties: {who: {type: string}}}
//!     workflow:
//!       tasks:
//!         greet: {type: set, with: {msg: 'hello ${ $params.who }'}}
//!   - version: 2
//!     ...
//! ```
//!
//! A version entry is a template without its `name` (the entry's), preceded by
//! `version`, `created_at` (RFC 3339, optional) and `note` (the change note, optional).
//! Versions are listed oldest first with increasing numbers; template names are
//! unique in a document. A single template (a mapping with neither `templates` nor
//! `format`) also reads as a document: one template with one version, numbered 1.
//!
//! Rendering is deterministic: templates sorted by name, versions by number, fields in
//! a fixed order, the text from `render` (YAML or JSON). Reading the text back gives an
//! equal document, so export -> import -> export is byte-for-byte stable as long as the
//! store keeps version numbers, notes and times (see `harmonia-storage`'s
//! `import_templates`).

use serde_json::{Map, Value};

use super::format::{self, Check, Template};
use crate::Error;
use crate::diagnostic::{Diagnostics, FieldPath, Locations};
use crate::node::{self, Kind, Node};
use crate::read::Reader;
use crate::source::{Format, Source};
use crate::task_types::TaskTypes;

/// The value of a document's `format` field.
pub const DOCUMENT_FORMAT: &str = "harmonia-templates/1";

/// Templates with their versions: what export writes and import reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The templates, sorted by name.
    pub templates: Vec<TemplateHistory>,
}

/// One template's versions.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateHistory {
    /// The template's name.
    pub name: String,
    /// Its versions, oldest first.
    pub versions: Vec<TemplateVersion>,
}

/// One version of a template, with what the store knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateVersion {
    /// The version number, from 1.
    pub version: u32,
    /// When it was made (RFC 3339), if known.
    pub created_at: Option<String>,
    /// What changed in it.
    pub note: Option<String>,
    /// The template itself.
    pub template: Template,
}

impl TemplateVersion {
    /// The version entry as a JSON value (without the template's name).
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("version".into(), Value::from(self.version));
        if let Some(t) = &self.created_at {
            m.insert("created_at".into(), Value::String(t.clone()));
        }
        if let Some(n) = &self.note {
            m.insert("note".into(), Value::String(n.clone()));
        }
        self.template.metadata_into(&mut m);
        Value::Object(m)
    }
}

/// Serializes as [`Document::to_value`]: the document format, as JSON.
impl serde::Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

const FIELDS: &[&str] = &["format", "templates"];
const HISTORY_FIELDS: &[&str] = &["name", "versions"];
const VERSION_FIELDS: &[&str] = &[
    "version",
    "created_at",
    "note",
    "description",
    "tags",
    "category",
    "parameters",
    "workflow",
];
const VERSION_ALIASES: &[(&str, &str)] = &[
    ("change_note", "note"),
    ("changes", "note"),
    ("message", "note"),
    ("comment", "note"),
    ("created", "created_at"),
    ("timestamp", "created_at"),
    ("params", "parameters"),
    ("definition", "workflow"),
];

impl Document {
    /// A document of these versions, grouped by template name; templates sorted by
    /// name, versions by number.
    pub fn new(versions: impl IntoIterator<Item = TemplateVersion>) -> Document {
        let mut all: Vec<TemplateVersion> = versions.into_iter().collect();
        all.sort_by(|a, b| {
            (a.template.name.as_str(), a.version).cmp(&(b.template.name.as_str(), b.version))
        });
        let mut templates: Vec<TemplateHistory> = Vec::new();
        for v in all {
            match templates.last_mut() {
                Some(h) if h.name == v.template.name => h.versions.push(v),
                _ => templates.push(TemplateHistory {
                    name: v.template.name.clone(),
                    versions: vec![v],
                }),
            }
        }
        Document { templates }
    }

    /// Every version of every template, in document order (what an import stores, in
    /// this order).
    pub fn versions(&self) -> impl Iterator<Item = &TemplateVersion> {
        self.templates.iter().flat_map(|h| h.versions.iter())
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        let templates: Vec<Value> = self
            .templates
            .iter()
            .map(|h| {
                let mut m = Map::new();
                m.insert("name".into(), Value::String(h.name.clone()));
                m.insert(
                    "versions".into(),
                    Value::Array(h.versions.iter().map(TemplateVersion::to_value).collect()),
                );
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert("format".into(), Value::String(DOCUMENT_FORMAT.into()));
        m.insert("templates".into(), Value::Array(templates));
        Value::Object(m)
    }

    /// The document's text in `format`: deterministic, and read back equal.
    pub fn render(&self, format: Format) -> String {
        super::render::render(&self.to_value(), format)
    }

    /// Reads and checks a document (or a single template), every template version
    /// validated against `types`. Returns every problem at once.
    pub fn read(source: &Source, types: &TaskTypes) -> Result<Document, Error> {
        let mut diags = Diagnostics::new(source);
        let mut locs = Locations::default();
        let doc = match node::parse(source) {
            Err(e) => {
                diags.error(&FieldPath::root(), e.offset, e.message);
                None
            }
            Ok(root) => read_root(&root, &mut diags, &mut locs, Check::Meaning(types)),
        };
        let has_errors = diags.has_errors();
        match doc {
            Some(d) if !has_errors => Ok(d),
            _ => Err(Error::Invalid {
                name: source.name().to_string(),
                diagnostics: diags.finish(),
            }),
        }
    }
}

fn has_key(node: &Node, key: &str) -> bool {
    matches!(&node.kind, Kind::Map(entries) if entries.iter().any(|(k, _)| k.name == key))
}

fn read_root(
    root: &Node,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
    check: Check<'_>,
) -> Option<Document> {
    let path = FieldPath::root();
    if root.kind == Kind::Null {
        diags.error(
            &path,
            0,
            "the document is empty; expected `templates:` (a list of templates with their versions) or a single template",
        );
        return None;
    }
    if has_key(root, "workflow_definition") && !has_key(root, "templates") {
        diags.error(
            &path,
            root.offset,
            "this is a Tekton Harmonia template (it has `workflow_definition`); create it with POST /api/templates (`harmonia template create FILE`), which converts it and reports what could not be carried over",
        );
        return None;
    }
    if matches!(root.kind, Kind::Map(_)) && !has_key(root, "templates") && !has_key(root, "format")
    {
        let template = format::read_root(root, diags, locs, check)?;
        return Some(Document::new([TemplateVersion {
            version: 1,
            created_at: None,
            note: None,
            template,
        }]));
    }
    let mut r = Reader::new(diags, locs);
    let f = r.fields(root, &path, "the document", FIELDS, &[("kind", "format")])?;
    if let Some(n) = f.get("format") {
        let p = path.key("format");
        if let Some(s) = r.string(n, &p)
            && s != DOCUMENT_FORMAT
        {
            r.error(
                &p,
                n.offset,
                format!(
                    "unknown document format `{}`; this version reads `{DOCUMENT_FORMAT}`",
                    harmonia_expr::clip(&s)
                ),
            );
        }
    }
    let list = r.required(
        &f,
        &path,
        "templates",
        "the document",
        " (a list of templates, each with `name` and `versions`)",
    )?;
    let p = path.key("templates");
    let Kind::Seq(items) = &list.kind else {
        r.error(
            &p,
            list.offset,
            format!("expected a list of templates, found {}", list.describe()),
        );
        return None;
    };
    r.record(list, &p);
    let mut templates: Vec<TemplateHistory> = Vec::new();
    let mut names: Vec<(String, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(h) = read_history(item, &p.index(i), diags, locs, check) {
            if let Some((_, first)) = names.iter().find(|(n, _)| *n == h.name) {
                let at = diags.source.position(*first);
                let np = p.index(i).key("name");
                diags.error(
                    &np,
                    locs.value(&np),
                    format!(
                        "the template `{}` is in the document twice (first at {at}); list all its versions under one entry",
                        harmonia_expr::clip(&h.name)
                    ),
                );
                continue;
            }
            names.push((h.name.clone(), locs.value(&p.index(i).key("name"))));
            templates.push(h);
        }
    }
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    Some(Document { templates })
}

fn read_history(
    node: &Node,
    path: &FieldPath,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
    check: Check<'_>,
) -> Option<TemplateHistory> {
    let mut r = Reader::new(diags, locs);
    let f = r.fields(node, path, "a template entry", HISTORY_FIELDS, &[])?;
    let name = format::template_name(&mut r, &f, path);
    let list = r.required(
        &f,
        path,
        "versions",
        "a template entry",
        " (its versions, oldest first)",
    )?;
    let p = path.key("versions");
    let Kind::Seq(items) = &list.kind else {
        r.error(
            &p,
            list.offset,
            format!("expected a list of versions, found {}", list.describe()),
        );
        return None;
    };
    r.record(list, &p);
    if items.is_empty() {
        r.error(&p, list.offset, "a template needs at least one version");
    }
    let mut versions: Vec<TemplateVersion> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let vp = p.index(i);
        let Some(v) = read_version(item, &vp, &name, diags, locs, check) else {
            continue;
        };
        if let Some(last) = versions.last()
            && v.version <= last.version
        {
            let at = vp.key("version");
            diags.error(
                &at,
                locs.value(&at),
                format!(
                    "versions must be listed oldest first with increasing numbers: {} comes after {}",
                    v.version, last.version
                ),
            );
            continue;
        }
        versions.push(v);
    }
    Some(TemplateHistory { name, versions })
}

fn read_version(
    node: &Node,
    path: &FieldPath,
    name: &str,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
    check: Check<'_>,
) -> Option<TemplateVersion> {
    let mut r = Reader::new(diags, locs);
    let f = r.fields(
        node,
        path,
        "a template version",
        VERSION_FIELDS,
        VERSION_ALIASES,
    )?;
    let version = r
        .required(
            &f,
            path,
            "version",
            "a template version",
            " (its number, from 1)",
        )
        .and_then(|n| r.integer(n, &path.key("version"), 1, u64::from(u32::MAX)));
    let created_at = f.get("created_at").and_then(|n| {
        let p = path.key("created_at");
        let s = r.string(n, &p)?;
        match s.parse::<jiff::Timestamp>() {
            Ok(_) => Some(s),
            Err(e) => {
                r.error(
                    &p,
                    n.offset,
                    format!("expected an RFC 3339 time like `2026-11-24T10:00:00Z`: {e}"),
                );
                None
            }
        }
    });
    let note = f.get("note").and_then(|n| r.string(n, &path.key("note")));
    let template = format::read_fields(
        &f,
        path,
        "a template version",
        name.to_string(),
        diags,
        locs,
        check,
    )?;
    Some(TemplateVersion {
        version: version?,
        created_at,
        note,
        template,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Document, Vec<String>> {
        Document::read(
            &Source::new("d.yaml", text, Format::Yaml),
            &crate::task_types::test_types(),
        )
        .map_err(|e| e.diagnostics().iter().map(|d| d.render("d.yaml")).collect())
    }

    const DOC: &str = "format: harmonia-templates/1
templates:
- name: zeta
  versions:
  - version: 1
    workflow: {tasks: {a: {type: set}}}
- name: alpha
  versions:
  - version: 1
    created_at: '2026-11-24T10:00:00.000Z'
    note: first
    tags: [x]
    workflow: {tasks: {a: {type: set, with: '${ $params.n }'}}}
  - version: 3
    note: second
    parameters: {type: object, properties: {n: {type: integer, default: 1}}}
    workflow: {tasks: {a: {type: set, with: '${ $params.n }'}}}
";

    #[test]
    fn documents_read_sorted_and_render_stably() {
        let d = read(DOC).expect("valid");
        let names: Vec<&str> = d.templates.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["alpha", "zeta"]);
        assert_eq!(d.templates[0].versions[1].version, 3);
        assert_eq!(d.templates[0].versions[0].template.name, "alpha");
        for format in [Format::Yaml, Format::Json] {
            let text = d.render(format);
            let back = Document::read(
                &Source::new("r", text.clone(), format),
                &crate::task_types::test_types(),
            )
            .expect("rendered text reads");
            assert_eq!(back, d);
            assert_eq!(back.render(format), text);
        }
        let again = Document::new(d.versions().cloned());
        assert_eq!(again, d);
    }

    #[test]
    fn a_single_template_is_a_document_of_one_version() {
        let d = read("name: solo\nworkflow:\n  tasks:\n    a: {type: set}\n").expect("valid");
        assert_eq!(d.templates.len(), 1);
        assert_eq!(d.templates[0].versions[0].version, 1);
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let e = read(
            "format: other/2
templates:
- name: a
  versions:
  - version: 2
    created_at: yesterday
    workflow: {tasks: {x: {type: nope}}}
  - version: 1
    notes: x
    workflow: {tasks: {x: {type: set}}}
- name: a
  versions: []
",
        )
        .expect_err("invalid");
        let expected = [
            "d.yaml:1:9: error: format: unknown document format `other/2`",
            "d.yaml:6:17: error: templates[0].versions[0].created_at: expected an RFC 3339 time",
            "d.yaml:7:34: error: templates[0].versions[0].workflow.tasks.x.type: unknown task type `nope`",
            "d.yaml:8:14: error: templates[0].versions[1].version: versions must be listed oldest first",
            "d.yaml:9:5: error: templates[0].versions[1].notes: unknown field `notes` in a template version (did you mean `note`?)",
            "d.yaml:11:9: error: templates[1].name: the template `a` is in the document twice (first at 3:9)",
            "d.yaml:12:13: error: templates[1].versions: a template needs at least one version",
        ];
        assert_eq!(e.len(), expected.len(), "{e:#?}");
        for (got, want) in e.iter().zip(expected) {
            assert!(got.starts_with(want), "{got}\ndoes not start with\n{want}");
        }
    }

    #[test]
    fn tekton_files_are_pointed_to_the_converter() {
        let e = read("{\"name\": \"x\", \"workflow_definition\": {}}").expect_err("tekton");
        assert!(e[0].contains("Tekton"), "{e:?}");
    }
}
