-- An execution's inputs live apart from its row. They never change and may be
-- megabytes, while the row changes at every step of the execution; SQLite rewrites a
-- whole row, its overflow pages included, on every update, so inputs kept in the row
-- were written again (to the WAL, then to the file) at every change of status.
CREATE TABLE execution_inputs (
    execution TEXT NOT NULL PRIMARY KEY,
    inputs TEXT NOT NULL
);
INSERT INTO execution_inputs (execution, inputs) SELECT id, inputs FROM executions;
ALTER TABLE executions DROP COLUMN inputs;
