//! Names of workflows and templates: the rule, the check of a definition's names, and a
//! valid name suggested for an invalid one.
//!
//! Invariants: a valid name is `[a-z0-9][a-z0-9_-]*`, at most 128 characters; the
//! message about an invalid name always suggests [`fix_name`] of it; an empty workflow
//! name is not reported here (the reader reports it missing, or it is a template's body).

use harmonia_expr::clip;

use super::Validator;
use crate::diagnostic::FieldPath;

impl Validator<'_, '_> {
    pub(super) fn check_name(&mut self) {
        let name = &self.wf.name;
        // An empty name is reported as missing by the reader (or is a template's body).
        if !name.is_empty()
            && let Some(message) = name_problem("workflow", name)
        {
            let path = FieldPath::root().key("name");
            let offset = self.locs.value(&path);
            self.error(&path, offset, message);
        }
        if let Some(t) = &self.wf.template
            && let Some(message) = name_problem("template", &t.name)
        {
            let path = FieldPath::root().key("template").key("name");
            let offset = self.locs.value(&path);
            self.error(&path, offset, message);
        }
    }
}

/// Whether `name` is a valid workflow (or template) name: `[a-z0-9][a-z0-9_-]*`, at
/// most 128 characters.
pub(crate) fn is_valid_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The name `name` made valid, as a suggestion: lowercase, other characters as `-`.
pub(crate) fn fix_name(name: &str) -> String {
    let fixed: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut out = String::with_capacity(fixed.len());
    for c in fixed.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches(|c| c == '-' || c == '_');
    trimmed.chars().take(128).collect()
}

/// What is wrong with a workflow or template name (`what`), if anything.
pub(crate) fn name_problem(what: &str, name: &str) -> Option<String> {
    if is_valid_name(name) {
        return None;
    }
    Some(format!(
        "invalid {what} name `{}`: use lowercase letters, digits, `_` and `-`, starting with a letter or digit (at most 128); try `{}`",
        clip(name),
        fix_name(name)
    ))
}
