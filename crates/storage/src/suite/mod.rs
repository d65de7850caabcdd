//! The behaviour every store must have, as tests any backend can run, by role: one
//! module per role ([`log`], [`queries`], [`catalog`], [`workflows`], [`templates`],
//! [`tokens`], [`triggers`], [`deliveries`], [`timers`], [`inbox`], [`idempotency`], [`nodes`],
//! [`analytics`]), which together call every method
//! of every role.
//!
//! A backend's tests call [`storage_suite!`](crate::storage_suite) with an expression
//! that makes a fresh, empty store; each case becomes a `#[tokio::test]` in a module
//! named after its role (`execution_log::commit_and_read_back`). The catalog cases are
//! generic over the kind of document and run for each kind (`workflow_catalog::...`,
//! `template_catalog::...`).

pub mod analytics;
pub mod catalog;
pub mod deliveries;
pub mod idempotency;
pub mod inbox;
pub mod log;
pub mod nodes;
pub mod queries;
pub mod templates;
pub mod timers;
pub mod tokens;
pub mod triggers;
pub mod workflows;

use serde_json::json;

use crate::records::{EventRecord, ExecutionRecord, IdempotencyRecord, TaskRunRecord};
use crate::{ExecutionId, ExecutionStatus, Store, TaskStatus, Timestamp, WorkflowId};

/// What the suite runs against: a [`Store`], or a value that owns one (such as a store
/// together with the temporary directory of its files).
pub trait SuiteStore {
    /// The store under test.
    fn store(&self) -> &dyn Store;
}

impl<T: Store> SuiteStore for T {
    fn store(&self) -> &dyn Store {
        self
    }
}

/// Generates one `#[tokio::test]` per suite case, by role, each on a store made by
/// `$make` (an expression of a future that yields a [`SuiteStore`]).
#[macro_export]
macro_rules! storage_suite {
    ($make:expr) => {
        async fn storage_suite_store() -> impl $crate::suite::SuiteStore {
            $make.await
        }
        $crate::storage_suite!(@role execution_log: log;
            commit_and_read_back,
            a_conflicting_batch_writes_nothing,
            deep_values_round_trip_and_deeper_ones_write_nothing,
            an_execution_keeps_its_first_inputs,
            events_come_back_in_order,
            rows_are_replaced_by_key,
            status_and_owner_are_replaced_apart_from_the_rest,
            large_batches,
            concurrent_commits,
            a_batch_without_conditions_reports_nothing,
            a_fenced_execution_is_left_out_whole,
            a_duplicate_key_is_left_out_and_reported_with_its_holder,
            duplicates_within_one_batch,
            an_expired_key_is_replaced,
            left_out_writes_do_not_conflict,
            a_commit_here_is_a_commit_or_nothing,
        );
        $crate::storage_suite!(@role execution_queries: queries;
            task_runs_are_ordered,
            unfinished_lists_what_has_not_ended,
            executions_filter_and_paginate,
            executions_filter_by_origin_trigger_and_inputs,
        );
        $crate::storage_suite!(@role nodes: nodes;
            nodes_join_renew_and_leave,
            only_orphans_are_claimed,
            claiming_one_execution,
            locks_are_taken_once_and_expire,
            a_lock_is_swapped_only_from_the_note_read,
            locks_are_listed_by_prefix_and_found_by_holder,
            claiming_bumps_fences_and_fences_out_the_old_owner,
        );
        $crate::storage_suite!(@role timers: timers;
            timers_are_set_cleared_and_replaced,
            an_ended_execution_has_no_timers,
            waiting_filters_by_signal_key_status_and_execution,
        );
        $crate::storage_suite!(@role inbox: inbox;
            an_event_is_received_once,
            concurrent_receipts_make_one_new_event,
            routing_is_recorded,
            the_inbox_pages_newest_first,
            deep_events_are_refused,
        );
        $crate::storage_suite!(@role analytics: analytics;
            the_summary_counts_a_window,
            counts_by_workflow_and_over_time,
            durations_group_and_rank_slowest_first,
            failures_group_by_class_task_and_message,
            queue_waits_read_the_newest_logs,
            the_backlog_is_what_is_in_flight_now,
        );
        $crate::storage_suite!(@role idempotency: idempotency;
            lookups_see_unexpired_keys_only,
            pruning_deletes_expired_keys_only,
        );
        $crate::storage_suite!(@catalog workflow_catalog: $crate::catalog::WorkflowDoc);
        $crate::storage_suite!(@catalog template_catalog: $crate::catalog::TemplateDoc);
        $crate::storage_suite!(@role workflows: workflows;
            workflow_versions,
            a_new_format_is_a_new_version,
            deleted_workflows,
            workflows_by_id,
        );
        $crate::storage_suite!(@role templates: templates;
            template_versions,
            template_listing,
            deleted_templates,
            templates_by_id,
            template_import,
            strict_import_writes_nothing,
        );
        $crate::storage_suite!(@role tokens: tokens;
            tokens,
            having_had_tokens_is_forever,
        );
        $crate::storage_suite!(@role trigger_states: triggers;
            pausing_and_resuming,
        );
        $crate::storage_suite!(@role webhook_deliveries: deliveries;
            a_delivery_comes_back_exactly,
            deliveries_list_newest_first_by_trigger,
            a_trigger_keeps_its_newest_deliveries,
            fire_marks_only_move_forward,
        );
    };
    (@catalog $module:ident: $doc:ty) => {
        $crate::storage_suite!(@generic $module: $doc;
            versions_are_numbered_and_the_same_is_not_stored,
            latest_lists_by_name_bytewise,
            deleted_documents_keep_their_versions,
            found_by_id,
            imports_recreate_numbers_and_times,
            a_strict_import_writes_nothing,
            concurrent_puts_number_versions_once,
        );
    };
    (@generic $module:ident: $doc:ty; $($case:ident),+ $(,)?) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = super::storage_suite_store().await;
                    $crate::suite::catalog::$case::<$doc>(
                        $crate::suite::SuiteStore::store(&store),
                    )
                    .await;
                }
            )+
        }
    };
    (@role $module:ident: $suite:ident; $($case:ident),+ $(,)?) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = super::storage_suite_store().await;
                    $crate::suite::$suite::$case($crate::suite::SuiteStore::store(&store)).await;
                }
            )+
        }
    };
}

fn event(execution: ExecutionId, seq: u64, kind: &str) -> EventRecord {
    EventRecord {
        execution,
        seq,
        at: Timestamp(1_000 + seq as i64),
        kind: kind.into(),
        data: crate::json::RawJson::from(&json!({"kind": kind, "seq": seq})),
    }
}

fn execution(
    id: ExecutionId,
    workflow: &str,
    status: ExecutionStatus,
    created: i64,
) -> ExecutionRecord {
    ExecutionRecord {
        id,
        workflow_id: WorkflowId(uuid::Uuid::nil()),
        workflow: workflow.into(),
        version: 1,
        status,
        inputs: json!({"n": 1}).into(),
        outputs: None,
        error: None,
        parent: None,
        retry_of: None,
        origin: None,
        created_at: Timestamp(created),
        started_at: Some(Timestamp(created)),
        ended_at: None,
        updated_at: Timestamp(created),
        owner: None,
        fence: 1,
        parked: false,
    }
}

fn run(execution: ExecutionId, task: &str, item: Option<u32>, status: TaskStatus) -> TaskRunRecord {
    TaskRunRecord {
        execution,
        task: task.into(),
        item,
        status,
        attempts: 1,
        output: Some(json!({"ok": true})),
        error: None,
        skip_reason: None,
        started_at: Some(Timestamp(5)),
        ended_at: None,
        wait: None,
        wait_for: None,
        wait_key: None,
    }
}

/// A run of `task` waiting for `wait_for` (routing key `wait_key`).
fn waiting_run(
    execution: ExecutionId,
    task: &str,
    wait_for: &str,
    wait_key: Option<&str>,
) -> TaskRunRecord {
    TaskRunRecord {
        wait: Some(json!({"for": wait_for, "key": wait_key})),
        wait_for: Some(wait_for.into()),
        wait_key: wait_key.map(str::to_owned),
        output: None,
        ..run(execution, task, None, TaskStatus::Running)
    }
}

/// An idempotency record of `execution` for (`scope`, `key`), valid from `at` until
/// `until`.
fn key_record(
    scope: &str,
    key: &str,
    execution: ExecutionId,
    at: i64,
    until: i64,
) -> IdempotencyRecord {
    IdempotencyRecord {
        scope: scope.into(),
        key: key.into(),
        body_hash: format!("hash-{execution}"),
        execution,
        created_at: Timestamp(at),
        expires_at: Timestamp(until),
    }
}

fn expect<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}
