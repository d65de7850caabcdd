-- Webhook deliveries: every request a hook received, with its verdict. `seq` numbers
-- them (never reused); the body is stored base64-encoded, byte for byte; `headers` and
-- `query` are JSON objects (secret headers redacted before they are stored).
CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_id TEXT NOT NULL,
    hook TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    execution TEXT,
    method TEXT NOT NULL,
    headers TEXT NOT NULL,
    query TEXT NOT NULL,
    body TEXT NOT NULL,
    replay_of INTEGER
);
CREATE INDEX deliveries_by_trigger ON deliveries (trigger_id, seq);

-- When each schedule last fired (the scheduled time, milliseconds). A mark only moves
-- forward.
CREATE TABLE fire_marks (
    id TEXT NOT NULL PRIMARY KEY,
    fired_for INTEGER NOT NULL
);
