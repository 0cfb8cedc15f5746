-- SIP: the registrar's bindings, and the Linphone provisioning URLs (a
-- device credential that must be fetched first within a short window).
CREATE TABLE sip_registrations (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact     TEXT NOT NULL,
    transport   TEXT NOT NULL,
    source      TEXT NOT NULL,
    user_agent  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    UNIQUE (account_id, contact)
);
CREATE INDEX sip_registrations_expires ON sip_registrations (expires_at);

CREATE TABLE linphone_devices (
    device_id         BIGINT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    fetch_by          BIGINT NOT NULL,
    first_fetched_at  BIGINT
);
