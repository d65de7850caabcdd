//! The decisions of an import into a catalog, shared by every backend and every kind of
//! document.
//!
//! [`plan`] is pure: given the versions to import and the versions already stored under
//! each name, it says for each version whether it is already there (and which stored
//! version it is) or is to be created (and with which number), following the rules in
//! the [`catalog`](crate::catalog) module doc. A backend reads what it has inside its
//! transaction, calls [`plan`], and writes the `Create` steps; so every backend decides
//! the same way.

use std::collections::HashMap;

use crate::catalog::{Document, no_numbers_left};
use crate::records::OnConflict;
use crate::{Error, Result};

/// What happens to one imported version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It is stored already, as this version.
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

/// The steps of importing `versions` into a store where `stored(name)` gives the
/// versions stored under `name`, oldest first (deleted documents included). Fails with
/// [`Error::Conflict`] under [`OnConflict::Fail`] when a version would be created for a
/// name that is stored already.
pub fn plan<'s, D: Document>(
    versions: &[D::New],
    stored: impl Fn(&str) -> &'s [D::Record],
    on_conflict: OnConflict,
) -> Result<Vec<Step>> {
    // Per name: the stored versions (`None` for one created by this import), the
    // cursor (the index after the last matched or created), and the next number.
    struct State<'s, R> {
        versions: Vec<Option<&'s R>>,
        cursor: usize,
        next: Option<u32>,
        existed: bool,
    }
    let mut states: HashMap<&str, State<'s, D::Record>> = HashMap::new();
    let mut steps = Vec::with_capacity(versions.len());
    let mut conflicts = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let name = D::new_name(v);
        let state = states.entry(name).or_insert_with(|| {
            let versions: Vec<Option<&D::Record>> = stored(name).iter().map(Some).collect();
            let latest = versions.last().copied().flatten().map(D::version);
            State {
                existed: !versions.is_empty(),
                next: latest.map_or(Some(1), |n| n.checked_add(1)),
                versions,
                cursor: 0,
            }
        });
        let found = state.versions[state.cursor..]
            .iter()
            .position(|r| r.is_some_and(|r| D::same(r, v)));
        match found {
            Some(offset) => {
                let at = state.cursor + offset;
                let version = state.versions[at].map(D::version).ok_or_else(|| {
                    Error::Backend("an import matched a version it creates".into())
                })?;
                steps.push(Step::Unchanged { version });
                state.cursor = at + 1;
            }
            None => {
                if state.existed && on_conflict == OnConflict::Fail {
                    conflicts.push(format!(
                        "{} `{name}`: the document's version at position {} differs from the stored versions",
                        D::KIND,
                        i + 1
                    ));
                }
                let Some(version) = state.next else {
                    return Err(no_numbers_left::<D>(name));
                };
                state.next = version.checked_add(1);
                // Created versions are passed by the cursor, never matched.
                state.versions.push(None);
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
    use crate::catalog::TemplateDoc;
    use crate::records::{NewTemplateVersion, TemplateRecord};
    use crate::{TemplateId, Timestamp};

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

    fn stored(list: &[(&str, &[&str])]) -> HashMap<String, Vec<TemplateRecord>> {
        list.iter()
            .map(|(n, cs)| {
                let id = TemplateId::new();
                (
                    n.to_string(),
                    cs.iter()
                        .enumerate()
                        .map(|(i, c)| v(n, c).record(id, i as u32 + 1))
                        .collect(),
                )
            })
            .collect()
    }

    fn run(
        versions: &[NewTemplateVersion],
        stored: &HashMap<String, Vec<TemplateRecord>>,
        on_conflict: OnConflict,
    ) -> Result<Vec<Step>> {
        plan::<TemplateDoc>(
            versions,
            |name| stored.get(name).map_or(&[][..], Vec::as_slice),
            on_conflict,
        )
    }

    use Step::{Create as C, Unchanged as U};

    #[test]
    fn an_empty_store_gets_every_version_with_its_number() {
        let steps = run(
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
        let steps = run(
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
        let steps = run(&[v("t", "a"), v("t", "b")], &s, OnConflict::NewVersion).expect("ok");
        assert_eq!(steps, [U { version: 1 }, C { version: 2 }]);
        let e = run(&[v("t", "a"), v("t", "b")], &s, OnConflict::Fail).expect_err("strict");
        assert!(
            matches!(&e, Error::Conflict(m) if m.contains("template `t`") && m.contains("position 2")),
            "{e}"
        );
        // A stored history with other versions in between still matches in order.
        let s = stored(&[("t", &["z", "a", "y", "b"])]);
        let steps = run(&[v("t", "a"), v("t", "b")], &s, OnConflict::Fail).expect("ok");
        assert_eq!(steps, [U { version: 2 }, U { version: 4 }]);
        // Out of order: the second is new after the cursor.
        let steps = run(&[v("t", "b"), v("t", "a")], &s, OnConflict::NewVersion).expect("ok");
        assert_eq!(steps, [U { version: 4 }, C { version: 5 }]);
        // A version created by the import is never matched: the same content again
        // after it is another new version.
        let steps = run(&[v("t", "q"), v("t", "q")], &s, OnConflict::NewVersion).expect("ok");
        assert_eq!(steps, [C { version: 5 }, C { version: 6 }]);
    }
}
