//! Task types: what a definition's `type:` may name, as the server validates it.
//!
//! The list is the registry definitions are validated against (the engine's plans'
//! task types, derived from the kinds the engine runs), in its order, so that what a
//! designer offers is exactly what validation accepts. A type validation accepts but
//! this engine refuses to run (`shell` without `--allow-shell`) is listed, with why it
//! cannot run here ([`TaskTypeInfo::unavailable`]): a definition using it is valid and
//! is stored, and refused only when it is started.

use harmonia_model::TaskType;

use crate::{Ctx, Error, Result};

/// Task types (see the module doc).
#[derive(Clone)]
pub struct TaskTypes(pub(crate) Ctx);

/// A task type as validation knows it, and whether this engine can run it.
#[derive(Debug, Clone)]
pub struct TaskTypeInfo {
    /// The type: name, description, `with:` schema, output schema, deferred keys.
    pub task_type: TaskType,
    /// Why this engine cannot run tasks of this type, when it cannot (they validate,
    /// and their workflows are refused at start with this reason).
    pub unavailable: Option<String>,
}

impl TaskTypes {
    /// Every task type validation accepts, in the registry's order.
    pub fn list(&self) -> Vec<TaskTypeInfo> {
        self.0
            .plans()
            .types()
            .iter()
            .map(|ty| self.info(ty))
            .collect()
    }

    /// The task type named `name`; [`Error::NotFound`] names the known ones (and the
    /// closest, when `name` looks like a typo of it).
    pub fn get(&self, name: &str) -> Result<TaskTypeInfo> {
        let types = self.0.plans().types();
        if let Some(ty) = types.get(name) {
            return Ok(self.info(ty));
        }
        let hint = harmonia_expr::suggest(name, types.names())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let known: Vec<&str> = types.names().collect();
        Err(Error::NotFound(format!(
            "no task type `{}`{hint}; known types: {}",
            harmonia_expr::clip(name),
            known.join(", ")
        )))
    }

    fn info(&self, ty: &TaskType) -> TaskTypeInfo {
        // A type without a kind here validates, but the engine refuses to start it
        // (`Handle::check_runnable`).
        let unavailable = match self.0.handle.kinds().get(ty.name()) {
            Some(kind) => kind.unavailable(),
            None => Some("this engine has no executor for this task type".to_string()),
        };
        TaskTypeInfo {
            task_type: ty.clone(),
            unavailable,
        }
    }
}
