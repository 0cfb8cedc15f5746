-- activator: foreign keys off
-- Usernames are unique per SIP domain, not per installation. An account's
-- username_scope is the organisation whose SIP domain its username lives
-- in: its own organisation when that organisation sets a sip_domain of its
-- own, else the default organisation (the provider's), whose domain every
-- organisation without one shares. UNIQUE (username_scope, username)
-- replaces username's UNIQUE.
--
-- SQLite cannot drop an inline UNIQUE, so the table is rebuilt: a new
-- table, the rows copied with their ids (the search table of migration
-- 0019 keeps the ids as its rowids and stays in step), the old one
-- dropped, the new renamed, then its indexes and triggers made again. The
-- migration runs with foreign keys off (the line above), as SQLite's
-- procedure for a rebuild wants: dropping the old table with them on
-- would delete every row that refers to an account (ON DELETE CASCADE).
-- The runner checks the foreign keys before it commits.
--
-- The scope is set by the database, on insert (a trigger below, after the
-- insert: SQLite's triggers cannot change NEW), so every path that adds
-- accounts gets it; a setting change of sip_domain re-scopes the
-- organisation's accounts (store.Tx.PutSetting).
CREATE TABLE accounts_new (
    id               INTEGER PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organisations(id),
    group_id         BIGINT NOT NULL REFERENCES account_groups(id),
    username         TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    email            TEXT NOT NULL DEFAULT '',
    mobile           TEXT NOT NULL DEFAULT '',
    security_model   TEXT NOT NULL,
    profile_id       BIGINT REFERENCES profiles(id),
    virtual_number   TEXT NOT NULL,
    language         TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL,
    stage            TEXT NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0,
    sip_password     BLOB,
    ha1_md5          TEXT NOT NULL DEFAULT '',
    ha1_sha256       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    activated_at     BIGINT,
    one_device       INTEGER NOT NULL DEFAULT 0,
    username_scope   BIGINT REFERENCES organisations(id),
    UNIQUE (org_id, virtual_number),
    UNIQUE (username_scope, username)
);
INSERT INTO accounts_new (id, org_id, group_id, username, display_name, email, mobile, security_model, profile_id,
    virtual_number, language, description, kind, stage, disabled, sip_password, ha1_md5, ha1_sha256, created_at,
    updated_at, activated_at, one_device, username_scope)
SELECT id, org_id, group_id, username, display_name, email, mobile, security_model, profile_id,
    virtual_number, language, description, kind, stage, disabled, sip_password, ha1_md5, ha1_sha256, created_at,
    updated_at, activated_at, one_device,
    CASE WHEN org_id <> 1 AND EXISTS (SELECT 1 FROM settings s WHERE s.org_id = accounts.org_id AND s.key = 'sip_domain' AND s.value <> '')
        THEN org_id ELSE 1 END
FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE INDEX accounts_org_mobile ON accounts (org_id, mobile);
CREATE INDEX accounts_org_email ON accounts (org_id, email);
CREATE INDEX accounts_org_id ON accounts (org_id, id);
CREATE INDEX accounts_org_stage ON accounts (org_id, stage, disabled, id);
CREATE INDEX accounts_org_disabled ON accounts (org_id, disabled, id);
CREATE INDEX accounts_group ON accounts (group_id, id);
CREATE INDEX accounts_org_activated ON accounts (org_id, activated_at) WHERE activated_at IS NOT NULL;
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
CREATE TRIGGER accounts_fts_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts (rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES (new.id, new.display_name, new.username, new.virtual_number, new.mobile, new.email, new.org_id);
END;
CREATE TRIGGER accounts_fts_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_fts (accounts_fts, rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES ('delete', old.id, old.display_name, old.username, old.virtual_number, old.mobile, old.email, old.org_id);
END;
CREATE TRIGGER accounts_fts_update AFTER UPDATE OF display_name, username, virtual_number, mobile, email, org_id ON accounts BEGIN
    INSERT INTO accounts_fts (accounts_fts, rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES ('delete', old.id, old.display_name, old.username, old.virtual_number, old.mobile, old.email, old.org_id);
    INSERT INTO accounts_fts (rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES (new.id, new.display_name, new.username, new.virtual_number, new.mobile, new.email, new.org_id);
END;
-- A new account's scope, set in the statement that inserts it: a username
-- taken in that scope fails the insert as the old UNIQUE did.
CREATE TRIGGER accounts_username_scope AFTER INSERT ON accounts WHEN new.username_scope IS NULL BEGIN
    UPDATE accounts SET username_scope =
        CASE WHEN new.org_id <> 1 AND EXISTS (SELECT 1 FROM settings s WHERE s.org_id = new.org_id AND s.key = 'sip_domain' AND s.value <> '')
            THEN new.org_id ELSE 1 END
        WHERE id = new.id;
END;
-- The organisations the provider lets an organisation's accounts call and
-- message, by id ("3,5"); empty: calls stay inside it. On the
-- organisation's row, which only the provider changes.
ALTER TABLE organisations ADD COLUMN allow_calls_to TEXT NOT NULL DEFAULT '';
