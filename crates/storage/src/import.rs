//! The decisions of a template import, shared by every backend.
//!
//! [`plan`] is pure: given the versions to import and the (version, content) pairs
//! already stored for each template name, it says for each version whether it is
//! already there (and which stored version it is) or is to be created (and with which
//! number), following the rules in the `Store` module doc. A backend reads what it
//! has inside its transaction, calls [`plan`], and writes the `Create` steps; so every
//! backend decides the same way.

use std::collections::HashMap;

use crate::records::{NewTemplateVersion, OnConflict};
use crate::{Error, Result};

/// What happens to one imported version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Its content is stored already, as this version.
    Unchanged {
        /// The stored version number.
        version: u32,
    },
    /// It is stored as this new version.
    Create {
        /// The new version number.
        version: u32,
    },
}

/// The steps of importing `versions` into a store that has, for each template name,
/// `stored[name]`: its versions' numbers and contents, oldest first (deleted templates
/// included). Fails with [`Error::Conflict`] under [`OnConflict::Fail`] when a version
/// would be created for a template that is stored already.
pub fn plan(
    versions: &[NewTemplateVersion],
    stored: &HashMap<String, Vec<(u32, String)>>,
    on_conflict: OnConflict,
) -> Result<Vec<Step>> {
    // Per template: the stored versions, the cursor (index into them of the last
    // matched or created), and the next number.
    struct State<'a> {
        versions: Vec<(u32, &'a str)>,
        cursor: usize,
        next: u32,
        existed: bool,
    }
    let mut states: HashMap<&str, State<'_>> = HashMap::new();
    let mut steps = Vec::with_capacity(versions.len());
    let mut conflicts = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let state = states.entry(v.name.as_str()).or_insert_with(|| {
            let versions: Vec<(u32, &str)> = stored
                .get(&v.name)
                .map(|s| s.iter().map(|(n, c)| (*n, c.as_str())).collect())
                .unwrap_or_default();
            let next = versions.last().map_or(1, |(n, _)| n.saturating_add(1));
            State {
                existed: !versions.is_empty(),
                versions,
                cursor: 0,
                next,
            }
        });
        let found = state.versions[state.cursor..]
            .iter()
            .position(|(_, c)| *c == v.content);
        match found {
            Some(offset) => {
                let at = state.cursor + offset;
                steps.push(Step::Unchanged {
                    version: state.versions[at].0,
                });
                state.cursor = at + 1;
            }
            None => {
                if state.existed && on_conflict == OnConflict::Fail {
                    conflicts.push(format!(
                        "template `{}`: the document's version at position {} differs from the stored versions",
                        v.name,
                        i + 1
                    ));
                }
                let version = state.next;
                state.next = version.checked_add(1).ok_or_else(|| {
                    Error::Conflict(format!("template `{}` has no version numbers left", v.name))
                })?;
                // Created versions are matched against too: the cursor stays past them.
                state.versions.push((version, ""));
                state.cursor = state.versions.len();
                steps.push(Step::Create { version });
            }
        }
    }
    if conflicts.is_empty() {
        Ok(steps)
    } else {
        Err(Error::Conflict(format!(
            "{} (import without strict mode to add them as new versions)",
            conflicts.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn v(name: &str, content: &str) -> NewTemplateVersion {
        NewTemplateVersion {
            name: name.into(),
            description: None,
            tags: Vec::new(),
            category: None,
            note: None,
            content: content.into(),
            source: content.into(),
            format: "yaml".into(),
            created_at: Timestamp(1),
        }
    }

    fn stored(list: &[(&str, &[&str])]) -> HashMap<String, Vec<(u32, String)>> {
        list.iter()
            .map(|(n, cs)| {
                (
                    n.to_string(),
                    cs.iter()
                        .enumerate()
                        .map(|(i, c)| (i as u32 + 1, c.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    use Step::{Create as C, Unchanged as U};

    #[test]
    fn an_empty_store_gets_every_version_with_its_number() {
        let steps = plan(
            &[v("t", "a"), v("t", "b"), v("t", "a"), v("u", "x")],
            &HashMap::new(),
            OnConflict::Fail,
        )
        .expect("no conflict in an empty store");
        assert_eq!(
            steps,
            [
                C { version: 1 },
                C { version: 2 },
                C { version: 3 },
                C { version: 1 }
            ]
        );
    }

    #[test]
    fn importing_what_is_stored_changes_nothing() {
        let s = stored(&[("t", &["a", "b", "a"])]);
        let steps = plan(
            &[v("t", "a"), v("t", "b"), v("t", "a")],
            &s,
            OnConflict::Fail,
        )
        .expect("no conflict");
        assert_eq!(
            steps,
            [U { version: 1 }, U { version: 2 }, U { version: 3 }]
        );
    }

    #[test]
    fn new_content_is_a_new_version_or_a_conflict() {
        let s = stored(&[("t", &["a"])]);
        let steps = plan(&[v("t", "a"), v("t", "b")], &s, OnConflict::NewVersion).expect("ok");
        assert_eq!(steps, [U { version: 1 }, C { version: 2 }]);
        let e = plan(&[v("t", "a"), v("t", "b")], &s, OnConflict::Fail).expect_err("strict");
        assert!(
            matches!(&e, Error::Conflict(m) if m.contains("template `t`") && m.contains("position 2")),
            "{e}"
        );
        // A stored history with other versions in between still matches in order.
        let s = stored(&[("t", &["z", "a", "y", "b"])]);
        let steps = plan(&[v("t", "a"), v("t", "b")], &s, OnConflict::Fail).expect("ok");
        assert_eq!(steps, [U { version: 2 }, U { version: 4 }]);
        // Out of order: the second is new after the cursor.
        let steps = plan(&[v("t", "b"), v("t", "a")], &s, OnConflict::NewVersion).expect("ok");
        assert_eq!(steps, [U { version: 4 }, C { version: 5 }]);
    }
}
