//! The task types the tests validate with: the engine's built-in kinds, as every
//! program that runs workflows derives them.

use harmonia_engine::kinds::{Kinds, KindsConfig};
use harmonia_model::TaskTypes;

/// The task types of the built-in kinds.
pub(crate) fn builtin() -> TaskTypes {
    Kinds::builtin(&KindsConfig::default()).task_types().clone()
}
