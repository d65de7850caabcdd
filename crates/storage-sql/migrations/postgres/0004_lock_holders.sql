-- A worker's lease is a lock on its attempt, held by the lease's id: any node finds it
-- from the id a worker sends (`lock_held_by`), and its note names the worker.
ALTER TABLE locks ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX locks_by_holder ON locks (holder);
