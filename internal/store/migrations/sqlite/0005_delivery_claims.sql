-- The delivery worker's claims. claimed_by names the instance that holds a
-- message being sent, so an instance restarted on the same data folder
-- takes its own claims back at once instead of waiting out their lease;
-- messages_leases finds the next lease to run out without a scan, so an
-- idle worker can sleep until then.
ALTER TABLE messages ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_leases ON messages (state, locked_until);
