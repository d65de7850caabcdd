//! The catalog role: versions of named documents, one implementation for every kind of
//! document (workflows and templates today).
//!
//! A [`Document`] kind says what its versions are (the record, what a new version
//! carries, when two versions are the same, how listings filter); a backend implements
//! [`Catalog<D>`] once, generically over the kind, and gets every kind. The named
//! methods callers use (`put_workflow`, `templates`, ...) are thin, fixed layers over
//! it: [`Workflows`](crate::Workflows) and [`Templates`](crate::Templates), each in the
//! module that also defines its kind ([`WorkflowDoc`], [`TemplateDoc`], re-exported
//! here).
//!
//! Contract, checked for every backend and every kind by the shared suite
//! (`suite::catalog`, and `suite::workflows`/`suite::templates` for what is particular
//! to a kind):
//! - Versions are immutable and numbered from 1 per name, under an id that stays the
//!   same for every version of the name (a new name gets a new, time-ordered id).
//! - `put` adds version `latest + 1`, unless [`Document::same`] says it is the latest
//!   version (workflows: same source and format; templates: same canonical content),
//!   which is returned as [`PutOutcome::Unchanged`] and nothing is written. Reverting to
//!   an older version's content is a new version. No number left is
//!   [`Error::Conflict`].
//! - A deleted document is absent from `latest` and from lookups without a version
//!   (by name or id), and `versions` is empty, but each of its versions stays readable
//!   by number (executions pin workflow versions; workflows made from a template record
//!   its name and version). `delete` says whether it existed and was not deleted.
//!   A `put` or an `import` under its name brings it back, even when nothing new is
//!   stored.
//! - `latest` lists the latest version of every document not deleted that matches the
//!   kind's query, by name in bytewise order, after the query's name cursor, at most its
//!   limit (workflows: every one; templates: see [`TemplateQuery`](crate::TemplateQuery)).
//! - `import` stores versions in one transaction, in the order given (an export
//!   document's order: by name, oldest version first), deciding with
//!   [`import::plan`], which every backend shares. For each name
//!   it walks the given versions with a cursor on the stored ones (from before the
//!   first): a version that a stored version after the cursor is the same as is
//!   `Unchanged` (the first such; the cursor moves to it); any other is `Created` as
//!   `latest + 1` (the cursor moves to it), keeping everything it carries (its note,
//!   its creation time). So importing into an empty store recreates the same numbers,
//!   notes and times, and importing the same versions again changes nothing. With
//!   [`OnConflict::Fail`], a version that would be created for a name that was already
//!   stored fails the whole import with [`Error::Conflict`] (naming every such
//!   version) and writes nothing.

use std::collections::{BTreeMap, HashSet};
use std::fmt::{Debug, Display};
use std::hash::Hash;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::import::{self, Step};
use crate::records::{OnConflict, PutOutcome, TemplatePut, TemplateRecord};
use crate::{Error, Result};

pub use crate::templates::TemplateDoc;
pub use crate::workflows::WorkflowDoc;

/// A kind of versioned document: what the catalog needs to know about it.
pub trait Document: Send + Sync + 'static {
    /// What messages call one: `workflow`, `template`.
    const KIND: &'static str;

    /// The id shared by every version of a name.
    type Id: Copy + Eq + Hash + Debug + Display + Send + Sync + From<Uuid> + Into<Uuid>;
    /// A version to store.
    type New: Debug + Send + Sync;
    /// A stored version.
    type Record: Clone + Debug + PartialEq + Send + Sync;
    /// Which documents a listing shows.
    type Query: Default + Debug + Send + Sync;

    /// The name a new version is stored under.
    fn new_name(new: &Self::New) -> &str;
    /// The record of `new` once stored as `version` under `id`.
    fn record(new: &Self::New, id: Self::Id, version: u32) -> Self::Record;
    /// A record's id.
    fn id(record: &Self::Record) -> Self::Id;
    /// A record's name.
    fn name(record: &Self::Record) -> &str;
    /// A record's version number.
    fn version(record: &Self::Record) -> u32;
    /// Whether `new` is the same version as `stored` (then it is not stored again).
    fn same(stored: &Self::Record, new: &Self::New) -> bool;

    /// Whether a latest version passes the listing's filters (other than its cursor
    /// and limit).
    fn matches(query: &Self::Query, record: &Self::Record) -> bool;
    /// The listing's cursor: only names that sort after it.
    fn after(query: &Self::Query) -> Option<&str>;
    /// At most this many in a listing (`None`: all).
    fn limit(query: &Self::Query) -> Option<usize>;
}

/// What storing a version did, and the version it left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Put<R> {
    /// Created, or unchanged (nothing was written).
    pub outcome: PutOutcome,
    /// The stored version.
    pub record: R,
}

impl From<Put<TemplateRecord>> for TemplatePut {
    fn from(p: Put<TemplateRecord>) -> TemplatePut {
        TemplatePut {
            outcome: p.outcome,
            record: p.record,
        }
    }
}

/// Versions of named documents of kind `D` (see the module doc for the contract).
///
/// Callers use the named methods of [`Workflows`](crate::Workflows) and
/// [`Templates`](crate::Templates); a backend implements this once for every kind.
#[async_trait]
pub trait Catalog<D: Document>: Send + Sync {
    /// Stores a new version of its document, unless it is the latest one.
    async fn put(&self, new: &D::New) -> Result<Put<D::Record>>;

    /// Stores versions atomically, each unless it is stored already. One result per
    /// version given, in order.
    async fn import(
        &self,
        versions: &[D::New],
        on_conflict: OnConflict,
    ) -> Result<Vec<Put<D::Record>>>;

    /// A version by name; the latest when `version` is `None`.
    async fn get(&self, name: &str, version: Option<u32>) -> Result<Option<D::Record>>;

    /// A version of the document with this id; the latest when `version` is `None`.
    async fn get_by_id(&self, id: D::Id, version: Option<u32>) -> Result<Option<D::Record>>;

    /// The latest version of every document matching `query`, by name.
    async fn latest(&self, query: &D::Query) -> Result<Vec<D::Record>>;

    /// Every version of a document, oldest first (empty when it is deleted).
    async fn versions(&self, name: &str) -> Result<Vec<D::Record>>;

    /// Deletes a document. Returns whether it existed (and was not deleted).
    async fn delete(&self, name: &str) -> Result<bool>;
}

/// The version after `latest` (1 for a new name), or the conflict of a name that has
/// no numbers left.
pub fn next_version<D: Document>(name: &str, latest: Option<u32>) -> Result<u32> {
    match latest {
        None => Ok(1),
        Some(n) => n.checked_add(1).ok_or_else(|| no_numbers_left::<D>(name)),
    }
}

/// The conflict of a name whose versions have used every number.
pub(crate) fn no_numbers_left<D: Document>(name: &str) -> Error {
    Error::Conflict(format!("{} `{name}` has no version numbers left", D::KIND))
}

/// The catalog of one kind held in memory: the executable form of the contract, which
/// [`MemoryStore`](crate::MemoryStore) uses and the SQL backends follow.
#[derive(Debug)]
pub struct Shelf<D: Document> {
    /// Every name's versions, oldest first (deleted names included).
    documents: BTreeMap<String, Vec<D::Record>>,
    deleted: HashSet<String>,
}

impl<D: Document> Default for Shelf<D> {
    fn default() -> Shelf<D> {
        Shelf {
            documents: BTreeMap::new(),
            deleted: HashSet::new(),
        }
    }
}

impl<D: Document> Shelf<D> {
    /// See [`Catalog::put`].
    pub fn put(&mut self, new: &D::New) -> Result<Put<D::Record>> {
        let name = D::new_name(new);
        self.deleted.remove(name);
        let latest = self.documents.get(name).and_then(|v| v.last());
        if let Some(latest) = latest
            && D::same(latest, new)
        {
            return Ok(Put {
                outcome: PutOutcome::Unchanged,
                record: latest.clone(),
            });
        }
        let version = next_version::<D>(name, latest.map(D::version))?;
        Ok(Put {
            outcome: PutOutcome::Created,
            record: self.add(new, version),
        })
    }

    /// See [`Catalog::import`].
    pub fn import(
        &mut self,
        versions: &[D::New],
        on_conflict: OnConflict,
    ) -> Result<Vec<Put<D::Record>>> {
        let steps = import::plan::<D>(
            versions,
            |name| self.documents.get(name).map_or(&[][..], Vec::as_slice),
            on_conflict,
        )?;
        let mut out = Vec::with_capacity(steps.len());
        for (new, step) in versions.iter().zip(steps) {
            let name = D::new_name(new);
            self.deleted.remove(name);
            out.push(match step {
                Step::Create { version } => Put {
                    outcome: PutOutcome::Created,
                    record: self.add(new, version),
                },
                Step::Unchanged { version } => Put {
                    outcome: PutOutcome::Unchanged,
                    record: self.numbered(name, version).ok_or_else(|| {
                        Error::Backend(
                            format!("{} `{name}` version {version} vanished", D::KIND).into(),
                        )
                    })?,
                },
            });
        }
        Ok(out)
    }

    /// See [`Catalog::get`].
    pub fn get(&self, name: &str, version: Option<u32>) -> Option<D::Record> {
        match version {
            None if self.deleted.contains(name) => None,
            None => self.documents.get(name)?.last().cloned(),
            Some(v) => self.numbered(name, v),
        }
    }

    /// See [`Catalog::get_by_id`].
    pub fn get_by_id(&self, id: D::Id, version: Option<u32>) -> Option<D::Record> {
        let (name, _) = self
            .documents
            .iter()
            .find(|(_, v)| v.first().is_some_and(|r| D::id(r) == id))?;
        self.get(name, version)
    }

    /// See [`Catalog::latest`].
    pub fn latest(&self, query: &D::Query) -> Vec<D::Record> {
        let after = D::after(query);
        self.documents
            .iter()
            .filter(|(name, _)| !self.deleted.contains(*name))
            .filter(|(name, _)| after.is_none_or(|a| name.as_str() > a))
            .filter_map(|(_, v)| v.last())
            .filter(|r| D::matches(query, r))
            .take(D::limit(query).unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// See [`Catalog::versions`].
    pub fn versions(&self, name: &str) -> Vec<D::Record> {
        if self.deleted.contains(name) {
            return Vec::new();
        }
        self.documents.get(name).cloned().unwrap_or_default()
    }

    /// See [`Catalog::delete`].
    pub fn delete(&mut self, name: &str) -> bool {
        self.documents.contains_key(name) && self.deleted.insert(name.to_owned())
    }

    fn numbered(&self, name: &str, version: u32) -> Option<D::Record> {
        self.documents
            .get(name)?
            .iter()
            .find(|r| D::version(r) == version)
            .cloned()
    }

    /// Appends `new` as version `version` of its name.
    fn add(&mut self, new: &D::New, version: u32) -> D::Record {
        let versions = self
            .documents
            .entry(D::new_name(new).to_owned())
            .or_default();
        let id = versions
            .first()
            .map_or_else(|| D::Id::from(Uuid::now_v7()), D::id);
        let record = D::record(new, id, version);
        versions.push(record.clone());
        record
    }
}
