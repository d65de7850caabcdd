//! The API's routes, one module per resource.

pub(crate) mod executions;
pub(crate) mod ops;
pub(crate) mod templates;
pub(crate) mod workflows;
