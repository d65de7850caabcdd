-- Whether a delivery proved its sender (its signature checked, or a loopback-only hook
-- on loopback): only such a delivery may be replayed. Deliveries recorded before this
-- column existed were verified exactly when they got as far as starting a run
-- (verification came before mapping and starting); a `paused` or `failed` one may not
-- have been, so it stays unverified.
ALTER TABLE deliveries ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET verified = 1 WHERE verdict IN ('started', 'duplicate', 'invalid');
