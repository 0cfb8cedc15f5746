-- The console: operators who log in, their sessions, one-time set-password
-- links, API tokens per operator, and the audit log of every operator action.
CREATE TABLE operators (
    id               INTEGER PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organisations(id),
    name             TEXT NOT NULL,
    role             TEXT NOT NULL,
    password_hash    TEXT NOT NULL DEFAULT '',
    disabled         INTEGER NOT NULL DEFAULT 0,
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     BIGINT,
    created_at       BIGINT NOT NULL,
    last_login_at    BIGINT,
    UNIQUE (org_id, name)
);

CREATE TABLE operator_sessions (
    id            INTEGER PRIMARY KEY,
    operator_id   BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    token_hash    BLOB NOT NULL UNIQUE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

CREATE TABLE password_tokens (
    id            INTEGER PRIMARY KEY,
    operator_id   BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    token_hash    BLOB NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL DEFAULT '',
    via         TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    status      INTEGER NOT NULL DEFAULT 0,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, id);

CREATE TABLE imports (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organisations(id),
    operator     TEXT NOT NULL,
    file_name    TEXT NOT NULL DEFAULT '',
    content      TEXT NOT NULL,
    options      TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    total        INTEGER NOT NULL DEFAULT 0,
    done         INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    to_send      INTEGER NOT NULL DEFAULT 0,
    sent         INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

ALTER TABLE api_tokens ADD COLUMN operator_id BIGINT REFERENCES operators(id);

CREATE INDEX accounts_org_mobile ON accounts (org_id, mobile);
CREATE INDEX accounts_org_email ON accounts (org_id, email);
