-- Large installations (issue 15): every listing pages by id with an index
-- that gives its rows in order (keyset pagination: no OFFSET walk, no
-- sort), account search has a trigram full-text index, and the dashboard's
-- account counts are kept by triggers instead of counted per view.

-- Accounts: newest first, by organisation, by status and by group. An
-- SQLite index holds the rowid (id) after its columns, so (org_id, stage,
-- disabled) already gives a stage's rows in id order; the indexes below
-- name id anyway, as PostgreSQL's must, to read the same on both engines.
DROP INDEX accounts_org_stage;
DROP INDEX accounts_group;
CREATE INDEX accounts_org_id ON accounts (org_id, id);
CREATE INDEX accounts_org_stage ON accounts (org_id, stage, disabled, id);
CREATE INDEX accounts_org_disabled ON accounts (org_id, disabled, id);
CREATE INDEX accounts_group ON accounts (group_id, id);

-- Search: part of the name, username, virtual number, mobile or e-mail.
-- FTS5's trigram tokenizer answers a substring of three characters or
-- more from the index, case-insensitively; shorter text is matched by a
-- scan in id order, which stops at the page's end.
CREATE VIRTUAL TABLE accounts_fts USING fts5(display_name, username, virtual_number, mobile, email,
    content = 'accounts', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO accounts_fts (accounts_fts) VALUES ('rebuild');
CREATE TRIGGER accounts_fts_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts (rowid, display_name, username, virtual_number, mobile, email)
        VALUES (new.id, new.display_name, new.username, new.virtual_number, new.mobile, new.email);
END;
CREATE TRIGGER accounts_fts_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_fts (accounts_fts, rowid, display_name, username, virtual_number, mobile, email)
        VALUES ('delete', old.id, old.display_name, old.username, old.virtual_number, old.mobile, old.email);
END;
CREATE TRIGGER accounts_fts_update AFTER UPDATE OF display_name, username, virtual_number, mobile, email ON accounts BEGIN
    INSERT INTO accounts_fts (accounts_fts, rowid, display_name, username, virtual_number, mobile, email)
        VALUES ('delete', old.id, old.display_name, old.username, old.virtual_number, old.mobile, old.email);
    INSERT INTO accounts_fts (rowid, display_name, username, virtual_number, mobile, email)
        VALUES (new.id, new.display_name, new.username, new.virtual_number, new.mobile, new.email);
END;

-- The dashboard's counts: accounts by status (a stage, or disabled), kept
-- by triggers on every insert, status change and delete, imports
-- included. slot is 0 here (SQLite has one writer at a time); PostgreSQL
-- spreads concurrent writers over slots.
CREATE TABLE account_counts (
    org_id  BIGINT NOT NULL,
    status  TEXT NOT NULL,
    slot    INTEGER NOT NULL DEFAULT 0,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_id, status, slot)
);
INSERT INTO account_counts (org_id, status, slot, n)
    SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END, 0, COUNT(*) FROM accounts GROUP BY 1, 2;
CREATE TRIGGER account_counts_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO account_counts (org_id, status, slot, n) VALUES (new.org_id, CASE WHEN new.disabled THEN 'disabled' ELSE new.stage END, 0, 1)
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER account_counts_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO account_counts (org_id, status, slot, n) VALUES (old.org_id, CASE WHEN old.disabled THEN 'disabled' ELSE old.stage END, 0, -1)
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = n - 1;
END;
CREATE TRIGGER account_counts_update AFTER UPDATE OF org_id, stage, disabled ON accounts
    WHEN old.org_id <> new.org_id OR (CASE WHEN old.disabled THEN 'disabled' ELSE old.stage END) <> (CASE WHEN new.disabled THEN 'disabled' ELSE new.stage END)
BEGIN
    INSERT INTO account_counts (org_id, status, slot, n) VALUES (old.org_id, CASE WHEN old.disabled THEN 'disabled' ELSE old.stage END, 0, -1)
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = n - 1;
    INSERT INTO account_counts (org_id, status, slot, n) VALUES (new.org_id, CASE WHEN new.disabled THEN 'disabled' ELSE new.stage END, 0, 1)
        ON CONFLICT (org_id, status, slot) DO UPDATE SET n = n + 1;
END;

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
    id          INTEGER PRIMARY KEY,
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
