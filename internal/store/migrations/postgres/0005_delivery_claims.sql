-- The delivery worker's claims. claimed_by names the instance that holds a
-- message being sent, so an instance restarted on the same data folder
-- takes its own claims back at once instead of waiting out their lease;
-- messages_leases finds the next lease to run out without a scan, so an
-- idle worker can sleep until then.
ALTER TABLE messages ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_leases ON messages (state, locked_until);

-- Every instance sleeps until it has work, so another instance's change to
-- the queue must wake it: a message queued, put back for a retry or handed
-- back. The notification is sent when the change commits, and only then;
-- identical notifications of one transaction are delivered once. Claims
-- are not announced: every claim follows one of these changes, or a due
-- time each instance already sleeps until, and NOTIFY serialises the
-- commits that send it.
CREATE FUNCTION activator_messages_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('activator_messages', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_notify AFTER INSERT OR UPDATE OF state ON messages
    FOR EACH ROW WHEN (NEW.state = 'queued')
    EXECUTE FUNCTION activator_messages_notify();
