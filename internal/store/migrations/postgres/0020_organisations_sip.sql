-- Usernames are unique per SIP domain, not per installation. An account's
-- username_scope is the organisation whose SIP domain its username lives
-- in: its own organisation when that organisation sets a sip_domain of its
-- own, else the default organisation (the provider's), whose domain every
-- organisation without one shares. UNIQUE (username_scope, username)
-- replaces username's UNIQUE. The scope is set by the database on insert
-- (a trigger), so every path that adds accounts gets it; a setting change
-- of sip_domain re-scopes the organisation's accounts
-- (store.Tx.PutSetting).
CREATE FUNCTION account_username_scope(org BIGINT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN org <> 1 AND EXISTS (SELECT 1 FROM settings s WHERE s.org_id = org AND s.key = 'sip_domain' AND s.value <> '')
        THEN org ELSE 1 END
$$;
ALTER TABLE accounts ADD COLUMN username_scope BIGINT REFERENCES organisations(id);
UPDATE accounts SET username_scope = account_username_scope(org_id);
ALTER TABLE accounts ALTER COLUMN username_scope SET NOT NULL;
ALTER TABLE accounts DROP CONSTRAINT accounts_username_key;
ALTER TABLE accounts ADD CONSTRAINT accounts_scope_username UNIQUE (username_scope, username);
CREATE FUNCTION accounts_set_username_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.username_scope IS NULL THEN
        NEW.username_scope := account_username_scope(NEW.org_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_username_scope BEFORE INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_set_username_scope();
-- The organisations the provider lets an organisation's accounts call and
-- message, by id ("3,5"); empty: calls stay inside it. On the
-- organisation's row, which only the provider changes.
ALTER TABLE organisations ADD COLUMN allow_calls_to TEXT NOT NULL DEFAULT '';
