-- The pause state of triggers. A trigger is part of its workflow's definition; its id
-- is the workflow's name and its position (`fulfil.0`). A row means the trigger is
-- paused, since `paused_at` (milliseconds); resuming deletes the row.
CREATE TABLE trigger_states (
    id TEXT NOT NULL PRIMARY KEY,
    paused_at INTEGER NOT NULL
);
