-- Message gateways configured in the database. Settings are one JSON object
-- sealed with the secret key (AES-256-GCM): provider credentials never lie
-- in clear at rest. default_for is '' or the channel (sms, email) the
-- gateway is the default of; one default per channel.
CREATE TABLE gateways (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organisations(id),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    settings     BLOB NOT NULL,
    receipt_key  BLOB NOT NULL,
    default_for  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX gateways_one_default ON gateways (org_id, default_for) WHERE default_for <> '';

-- A group's own gateway for a channel, overriding the channel's default.
CREATE TABLE group_gateways (
    group_id    BIGINT NOT NULL REFERENCES account_groups(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    gateway_id  BIGINT NOT NULL REFERENCES gateways(id),
    PRIMARY KEY (group_id, channel)
);
CREATE INDEX group_gateways_gateway ON group_gateways (gateway_id);

-- Delivery receipts: when the provider said delivered, and its last status.
ALTER TABLE messages ADD COLUMN delivered_at BIGINT;
ALTER TABLE messages ADD COLUMN receipt_status TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_provider ON messages (gateway, provider_id);
