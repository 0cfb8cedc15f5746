-- Large installations (issue 15): every listing pages by id with an index
-- that gives its rows in order (keyset pagination: no OFFSET walk, no
-- sort), account search has a trigram index when pg_trgm can be had, and
-- the dashboard's account counts are kept by triggers instead of counted
-- per view.

-- Accounts: newest first, by organisation, by status and by group.
DROP INDEX accounts_org_stage;
DROP INDEX accounts_group;
CREATE INDEX accounts_org_id ON accounts (org_id, id);
CREATE INDEX accounts_org_stage ON accounts (org_id, stage, disabled, id);
CREATE INDEX accounts_org_disabled ON accounts (org_id, disabled, id);
CREATE INDEX accounts_group ON accounts (group_id, id);

-- Search: part of the name, username, virtual number, mobile or e-mail,
-- as one lower-cased text whose fields are split by a unit separator
-- (chr(31)), which no search text holds, so a match never spans two
-- fields. pg_trgm's GIN index answers LIKE '%text%' of three characters or
-- more. pg_trgm ships with PostgreSQL (contrib); where it cannot be
-- created (not installed, or the role may not create it) the migration
-- still applies, search scans, and activator says so at start.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): account search will scan', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX accounts_search ON accounts USING gin ((lower(display_name || chr(31) || username || chr(31) || '
            'virtual_number || chr(31) || mobile || chr(31) || email)) gin_trgm_ops)';
    END IF;
END
$$;

-- The dashboard's counts: accounts by status (a stage, or disabled), kept
-- by statement triggers (one write per statement, however many rows an
-- import or COPY adds) on every insert, status change and delete. Each
-- connection writes its own slot (its backend's pid modulo 16), so
-- concurrent transactions seldom wait for one another's counter row; a
-- count is the sum of its slots.
CREATE TABLE account_counts (
    org_id  BIGINT NOT NULL,
    status  TEXT NOT NULL,
    slot    INTEGER NOT NULL DEFAULT 0,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_id, status, slot)
);
INSERT INTO account_counts (org_id, status, slot, n)
    SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END, 0, COUNT(*) FROM accounts GROUP BY 1, 2;

CREATE FUNCTION account_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_counts (org_id, status, slot, n)
        SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END, pg_backend_pid() % 16, COUNT(*) FROM new_rows GROUP BY 1, 2
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = account_counts.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE FUNCTION account_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_counts (org_id, status, slot, n)
        SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END, pg_backend_pid() % 16, -COUNT(*) FROM old_rows GROUP BY 1, 2
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = account_counts.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE FUNCTION account_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_counts (org_id, status, slot, n)
        SELECT org_id, status, pg_backend_pid() % 16, SUM(d) FROM (
            SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END AS status, 1 AS d FROM new_rows
            UNION ALL
            SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END, -1 FROM old_rows
        ) c GROUP BY org_id, status HAVING SUM(d) <> 0
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = account_counts.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER account_counts_insert AFTER INSERT ON accounts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION account_counts_insert();
CREATE TRIGGER account_counts_delete AFTER DELETE ON accounts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION account_counts_delete();
CREATE TRIGGER account_counts_update AFTER UPDATE ON accounts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION account_counts_update();

-- Messages: newest first, by state and by account.
DROP INDEX messages_account;
CREATE INDEX messages_org_id ON messages (org_id, id);
CREATE INDEX messages_org_state ON messages (org_id, state, id);
CREATE INDEX messages_account ON messages (account_id, id);

-- The audit log by actor, the outbox and the imports, newest first.
CREATE INDEX audit_log_org_actor ON audit_log (org_id, actor, id);
CREATE INDEX outbox_org_id ON outbox (org_id, id);
CREATE INDEX imports_org_id ON imports (org_id, id);

-- The default virtual number range grows from 100000-999999 (900,000
-- numbers, fewer than a large installation's accounts) to
-- 10000000-99999999. An installation that already exists keeps the range
-- it draws from: where it relied on the old default, that default is
-- stored as its setting, so its new accounts' numbers stay six digits.
INSERT INTO settings (org_id, key, value, updated_at)
    SELECT o.id, 'virtual_number_range', '100000-999999', o.created_at FROM organisations o
    WHERE NOT EXISTS (SELECT 1 FROM settings s WHERE s.org_id = o.id AND s.key = 'virtual_number_range');

-- An export run as a job: written to a file in the data folder of the
-- instance that ran it, for the operator to download when it is done.
CREATE TABLE export_jobs (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    operator    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    filter      TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    rows        BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX export_jobs_org_id ON export_jobs (org_id, id);
