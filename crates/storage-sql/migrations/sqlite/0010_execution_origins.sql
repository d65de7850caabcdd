-- What started each execution (`ExecutionRecord::origin`): its kind (`api`, `mcp`,
-- `cli`, `schedule`, `webhook`, `event`, `retry`, `workflow`, `template`) and who or
-- what of that kind (a token's name, a trigger's id, an execution's id, a template's
-- name), both NULL for executions recorded before origins were, and `origin_by` NULL
-- when the kind has no one to name. Written with an execution's first row and never
-- updated (part of its identity, like `retry_of`), so the index below is written once
-- per execution, never at its steps.
ALTER TABLE executions ADD COLUMN origin_kind TEXT;
ALTER TABLE executions ADD COLUMN origin_by TEXT;

-- Listing the executions of one trigger newest first (`origin_by = ? ORDER BY id
-- DESC`, keyset cursor `id < after`). Filters on the kind alone scan by id: a handful
-- of kinds, most of them common.
CREATE INDEX executions_by_origin ON executions (origin_by, id);
