//! An in-memory [`Store`], for tests and for runs that need no durability.
//!
//! It follows the same contract as the durable stores (the shared suite runs against
//! it), except that nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::import::{self, Step};
use crate::records::{
    CommitBatch, EventRecord, ExecutionQuery, ExecutionRecord, NewTemplateVersion,
    NewWorkflowVersion, OnConflict, PutOutcome, TaskRunRecord, TemplatePut, TemplateQuery,
    TemplateRecord, TokenRecord, WorkflowRecord,
};
use crate::{DEFAULT_LIMIT, Error, ExecutionId, Result, Store, TemplateId, WorkflowId};

/// A store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    events: HashMap<ExecutionId, Vec<EventRecord>>,
    executions: BTreeMap<ExecutionId, ExecutionRecord>,
    task_runs: HashMap<ExecutionId, BTreeMap<(String, i64), TaskRunRecord>>,
    workflows: BTreeMap<String, Vec<WorkflowRecord>>,
    deleted: std::collections::HashSet<String>,
    templates: BTreeMap<String, Vec<TemplateRecord>>,
    deleted_templates: std::collections::HashSet<String>,
    tokens: Vec<TokenRecord>,
    had_tokens: bool,
}

impl Inner {
    /// Appends `new` as version `version` of its template (which it brings back if it
    /// was deleted).
    fn add_template(&mut self, new: &NewTemplateVersion, version: u32) -> TemplateRecord {
        self.deleted_templates.remove(&new.name);
        let versions = self.templates.entry(new.name.clone()).or_default();
        let record = new.record(
            versions.first().map_or_else(TemplateId::new, |v| v.id),
            version,
        );
        versions.push(record.clone());
        record
    }
}

/// Whether `name` contains `search`, ignoring ASCII case.
fn contains_ignoring_case(name: &str, search: &str) -> bool {
    name.to_ascii_lowercase()
        .contains(&search.to_ascii_lowercase())
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| Error::Backend("the in-memory store's lock is poisoned".into()))
    }
}

fn item_key(item: Option<u32>) -> i64 {
    item.map_or(-1, i64::from)
}

#[async_trait]
impl Store for MemoryStore {
    async fn commit(&self, batch: &CommitBatch) -> Result<()> {
        batch.check_json()?;
        let mut inner = self.lock()?;
        // Check every event first, so that a conflict writes nothing.
        let mut seen: HashMap<ExecutionId, std::collections::HashSet<u64>> = HashMap::new();
        for e in &batch.events {
            let seqs = seen.entry(e.execution).or_insert_with(|| {
                inner
                    .events
                    .get(&e.execution)
                    .map(|v| v.iter().map(|x| x.seq).collect())
                    .unwrap_or_default()
            });
            if !seqs.insert(e.seq) {
                return Err(Error::Conflict(format!(
                    "event {} of execution {} already exists",
                    e.seq, e.execution
                )));
            }
        }
        for e in &batch.events {
            inner.events.entry(e.execution).or_default().push(e.clone());
        }
        for id in seen.keys() {
            if let Some(events) = inner.events.get_mut(id) {
                events.sort_by_key(|e| e.seq);
            }
        }
        for x in &batch.executions {
            // An execution's inputs are written once (see the `Store` contract).
            let inputs = inner.executions.get(&x.id).map(|old| old.inputs.clone());
            let mut row = x.clone();
            if let Some(inputs) = inputs {
                row.inputs = inputs;
            }
            inner.executions.insert(x.id, row);
        }
        for t in &batch.task_runs {
            inner
                .task_runs
                .entry(t.execution)
                .or_default()
                .insert((t.task.clone(), item_key(t.item)), t.clone());
        }
        Ok(())
    }

    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>> {
        Ok(self
            .lock()?
            .events
            .get(&execution)
            .cloned()
            .unwrap_or_default())
    }

    async fn execution(&self, id: ExecutionId) -> Result<Option<ExecutionRecord>> {
        Ok(self.lock()?.executions.get(&id).cloned())
    }

    async fn executions(&self, q: &ExecutionQuery) -> Result<Vec<ExecutionRecord>> {
        let inner = self.lock()?;
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        Ok(inner
            .executions
            .values()
            .rev()
            .filter(|x| q.workflow.as_ref().is_none_or(|w| &x.workflow == w))
            .filter(|x| q.status.is_none_or(|s| x.status == s))
            .filter(|x| q.since.is_none_or(|t| x.created_at >= t))
            .filter(|x| q.until.is_none_or(|t| x.created_at < t))
            .filter(|x| q.after.is_none_or(|c| x.id < c))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn unfinished(&self) -> Result<Vec<ExecutionRecord>> {
        // Executions sort by id, and ids by creation: oldest first.
        Ok(self
            .lock()?
            .executions
            .values()
            .filter(|x| !x.status.is_terminal())
            .cloned()
            .collect())
    }

    async fn task_runs(&self, execution: ExecutionId) -> Result<Vec<TaskRunRecord>> {
        Ok(self
            .lock()?
            .task_runs
            .get(&execution)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn put_workflow(&self, new: &NewWorkflowVersion) -> Result<WorkflowRecord> {
        let mut inner = self.lock()?;
        inner.deleted.remove(&new.name);
        let versions = inner.workflows.entry(new.name.clone()).or_default();
        if let Some(latest) = versions.last()
            && latest.source == new.source
            && latest.format == new.format
        {
            return Ok(latest.clone());
        }
        let record = WorkflowRecord {
            id: versions.first().map_or_else(WorkflowId::new, |v| v.id),
            name: new.name.clone(),
            version: versions.last().map_or(1, |v| v.version + 1),
            description: new.description.clone(),
            source: new.source.clone(),
            format: new.format.clone(),
            created_at: new.created_at,
        };
        versions.push(record.clone());
        Ok(record)
    }

    async fn workflow(&self, name: &str, version: Option<u32>) -> Result<Option<WorkflowRecord>> {
        let inner = self.lock()?;
        let Some(versions) = inner.workflows.get(name) else {
            return Ok(None);
        };
        Ok(match version {
            None if inner.deleted.contains(name) => None,
            None => versions.last().cloned(),
            Some(v) => versions.iter().find(|r| r.version == v).cloned(),
        })
    }

    async fn workflows(&self) -> Result<Vec<WorkflowRecord>> {
        let inner = self.lock()?;
        Ok(inner
            .workflows
            .iter()
            .filter(|(name, _)| !inner.deleted.contains(*name))
            .filter_map(|(_, v)| v.last().cloned())
            .collect())
    }

    async fn workflow_versions(&self, name: &str) -> Result<Vec<WorkflowRecord>> {
        let inner = self.lock()?;
        if inner.deleted.contains(name) {
            return Ok(Vec::new());
        }
        Ok(inner.workflows.get(name).cloned().unwrap_or_default())
    }

    async fn workflow_by_id(
        &self,
        id: WorkflowId,
        version: Option<u32>,
    ) -> Result<Option<WorkflowRecord>> {
        let name = {
            let inner = self.lock()?;
            inner
                .workflows
                .iter()
                .find(|(_, v)| v.first().is_some_and(|r| r.id == id))
                .map(|(name, _)| name.clone())
        };
        match name {
            Some(name) => self.workflow(&name, version).await,
            None => Ok(None),
        }
    }

    async fn delete_workflow(&self, name: &str) -> Result<bool> {
        let mut inner = self.lock()?;
        if !inner.workflows.contains_key(name) || inner.deleted.contains(name) {
            return Ok(false);
        }
        inner.deleted.insert(name.to_string());
        Ok(true)
    }

    async fn put_template(&self, new: &NewTemplateVersion) -> Result<TemplatePut> {
        let mut inner = self.lock()?;
        inner.deleted_templates.remove(&new.name);
        let latest = inner.templates.get(&new.name).and_then(|v| v.last());
        if let Some(latest) = latest
            && latest.content == new.content
        {
            return Ok(TemplatePut {
                outcome: PutOutcome::Unchanged,
                record: latest.clone(),
            });
        }
        let version = latest.map_or(Some(1), |l| l.version.checked_add(1));
        let Some(version) = version else {
            return Err(Error::Conflict(format!(
                "template `{}` has no version numbers left",
                new.name
            )));
        };
        Ok(TemplatePut {
            outcome: PutOutcome::Created,
            record: inner.add_template(new, version),
        })
    }

    async fn import_templates(
        &self,
        versions: &[NewTemplateVersion],
        on_conflict: OnConflict,
    ) -> Result<Vec<TemplatePut>> {
        let mut inner = self.lock()?;
        let stored: HashMap<String, Vec<(u32, String)>> = versions
            .iter()
            .filter_map(|v| {
                inner.templates.get(&v.name).map(|list| {
                    (
                        v.name.clone(),
                        list.iter()
                            .map(|r| (r.version, r.content.clone()))
                            .collect(),
                    )
                })
            })
            .collect();
        let steps = import::plan(versions, &stored, on_conflict)?;
        let mut out = Vec::with_capacity(steps.len());
        for (new, step) in versions.iter().zip(steps) {
            inner.deleted_templates.remove(&new.name);
            out.push(match step {
                Step::Create { version } => TemplatePut {
                    outcome: PutOutcome::Created,
                    record: inner.add_template(new, version),
                },
                Step::Unchanged { version } => {
                    let record = inner
                        .templates
                        .get(&new.name)
                        .and_then(|l| l.iter().find(|r| r.version == version))
                        .cloned()
                        .ok_or_else(|| {
                            Error::Backend(
                                format!("template `{}` version {version} vanished", new.name)
                                    .into(),
                            )
                        })?;
                    TemplatePut {
                        outcome: PutOutcome::Unchanged,
                        record,
                    }
                }
            });
        }
        Ok(out)
    }

    async fn template(&self, name: &str, version: Option<u32>) -> Result<Option<TemplateRecord>> {
        let inner = self.lock()?;
        let Some(versions) = inner.templates.get(name) else {
            return Ok(None);
        };
        Ok(match version {
            None if inner.deleted_templates.contains(name) => None,
            None => versions.last().cloned(),
            Some(v) => versions.iter().find(|r| r.version == v).cloned(),
        })
    }

    async fn template_by_id(
        &self,
        id: TemplateId,
        version: Option<u32>,
    ) -> Result<Option<TemplateRecord>> {
        let name = {
            let inner = self.lock()?;
            inner
                .templates
                .iter()
                .find(|(_, v)| v.first().is_some_and(|r| r.id == id))
                .map(|(name, _)| name.clone())
        };
        match name {
            Some(name) => self.template(&name, version).await,
            None => Ok(None),
        }
    }

    async fn templates(&self, q: &TemplateQuery) -> Result<Vec<TemplateRecord>> {
        let inner = self.lock()?;
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        Ok(inner
            .templates
            .iter()
            .filter(|(name, _)| !inner.deleted_templates.contains(*name))
            .filter(|(name, _)| q.after.as_ref().is_none_or(|a| name.as_str() > a.as_str()))
            .filter_map(|(_, v)| v.last())
            .filter(|r| q.tag.as_ref().is_none_or(|t| r.tags.contains(t)))
            .filter(|r| q.category.is_none() || r.category == q.category)
            .filter(|r| {
                q.search
                    .as_ref()
                    .is_none_or(|s| contains_ignoring_case(&r.name, s))
            })
            .take(limit)
            .cloned()
            .collect())
    }

    async fn template_versions(&self, name: &str) -> Result<Vec<TemplateRecord>> {
        let inner = self.lock()?;
        if inner.deleted_templates.contains(name) {
            return Ok(Vec::new());
        }
        Ok(inner.templates.get(name).cloned().unwrap_or_default())
    }

    async fn delete_template(&self, name: &str) -> Result<bool> {
        let mut inner = self.lock()?;
        if !inner.templates.contains_key(name) || inner.deleted_templates.contains(name) {
            return Ok(false);
        }
        inner.deleted_templates.insert(name.to_string());
        Ok(true)
    }

    async fn put_token(&self, token: &TokenRecord) -> Result<()> {
        let mut inner = self.lock()?;
        if inner
            .tokens
            .iter()
            .any(|t| t.id == token.id || t.hash == token.hash)
        {
            return Err(Error::Conflict(format!(
                "token {} already exists",
                token.id
            )));
        }
        inner.tokens.push(token.clone());
        inner.had_tokens = true;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        Ok(self.lock()?.tokens.iter().find(|t| t.hash == hash).cloned())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        Ok(self.lock()?.tokens.clone())
    }

    async fn delete_token(&self, id: &str) -> Result<bool> {
        let mut inner = self.lock()?;
        let before = inner.tokens.len();
        inner.tokens.retain(|t| t.id != id);
        Ok(inner.tokens.len() != before)
    }

    async fn had_tokens(&self) -> Result<bool> {
        Ok(self.lock()?.had_tokens)
    }
}

#[cfg(test)]
mod tests {
    crate::storage_suite!(async { super::MemoryStore::new() });
}
