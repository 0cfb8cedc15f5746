-- The delivery worker's claims. claimed_by names the instance that holds a
-- message being sent, so an instance restarted on the same data folder
-- takes its own claims back at once instead of waiting out their lease;
-- messages_leases finds the next lease to run out without a scan, so an
-- idle worker can sleep until then.
ALTER TABLE messages ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_leases ON messages (state, locked_until);

-- Every instance sleeps until it has work, so another instance's change to
-- the queue must wake it: a message queued (or put back), and a message
-- claimed (whose lease it may have to take over if its claimer dies). The
-- notification is sent when the change commits, and only then. Its payload
-- names the claiming instance, so the claimer can ignore its own claims;
-- identical notifications of one transaction are delivered once.
CREATE FUNCTION activator_messages_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('activator_messages', CASE WHEN NEW.state = 'sending' THEN NEW.claimed_by ELSE '' END);
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_notify AFTER INSERT OR UPDATE OF state ON messages
    FOR EACH ROW WHEN (NEW.state IN ('queued', 'sending'))
    EXECUTE FUNCTION activator_messages_notify();
