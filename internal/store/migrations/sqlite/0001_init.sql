-- activator schema, version 1. Times are Unix milliseconds (BIGINT) in both
-- dialects so that comparisons and arithmetic read the same everywhere.
CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organisations(id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX profiles_one_default ON profiles (org_id) WHERE is_default = 1;

CREATE TABLE account_groups (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    name        TEXT NOT NULL,
    it_email    TEXT NOT NULL DEFAULT '',
    profile_id  BIGINT REFERENCES profiles(id),
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE app_urls (
    org_id          BIGINT NOT NULL REFERENCES organisations(id),
    platform        TEXT NOT NULL,
    security_model  TEXT NOT NULL DEFAULT '',
    url             TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, platform, security_model)
);

CREATE TABLE settings (
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, key)
);

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organisations(id),
    group_id         BIGINT NOT NULL REFERENCES account_groups(id),
    username         TEXT NOT NULL UNIQUE,
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
    UNIQUE (org_id, virtual_number)
);
CREATE INDEX accounts_group ON accounts (group_id);
CREATE INDEX accounts_org_stage ON accounts (org_id, stage, disabled);

CREATE TABLE invitations (
    id            INTEGER PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    token_prefix  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    redeemed_at   BIGINT
);
CREATE INDEX invitations_account ON invitations (account_id);

CREATE TABLE devices (
    id                 INTEGER PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id          TEXT NOT NULL,
    platform           TEXT NOT NULL,
    model              TEXT NOT NULL DEFAULT '',
    app_version        TEXT NOT NULL DEFAULT '',
    credential_hash    BLOB NOT NULL UNIQUE,
    credential_prefix  TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_seen_at       BIGINT,
    revoked_at         BIGINT
);
CREATE INDEX devices_account ON devices (account_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_account ON events (account_id, id);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organisations(id),
    account_id       BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    invitation_id    BIGINT REFERENCES invitations(id) ON DELETE SET NULL,
    username         TEXT NOT NULL DEFAULT '',
    channel          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    gateway          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL DEFAULT '',
    body             TEXT NOT NULL,
    html             TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    provider_id      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    sent_at          BIGINT
);
CREATE INDEX messages_due ON messages (state, next_attempt_at);
CREATE INDEX messages_account ON messages (account_id);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    message_id  BIGINT NOT NULL UNIQUE,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    html        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
