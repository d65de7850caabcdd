//! The expression language's integration tests: one binary, a module per concern.

// Memory budgets are measured with the allocator's per-thread counters (see the
// crate's `limits` module): the tests run under the allocator the binary uses.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod bounds;
mod language;
mod props;
