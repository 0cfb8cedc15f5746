-- The provider admin, above every organisation's admin. The first-start
-- token of an existing installation (the default organisation's, made by
-- no operator) was the most any caller could be; it becomes the
-- provider's, so the installation's owner can create organisations.
UPDATE api_tokens SET role = 'provider'
WHERE org_id = 1 AND operator_id IS NULL AND name = 'admin (first start)' AND role = 'admin';
-- A provider admin's counts of one organisation: its activations per day.
CREATE INDEX accounts_org_activated ON accounts (org_id, activated_at) WHERE activated_at IS NOT NULL;
-- Quotas the provider sets on each organisation: most accounts, most
-- messages queued in a day (UTC); 0 is no quota. They are the
-- organisation's row, not its settings, which its own admin changes.
ALTER TABLE organisations ADD COLUMN max_accounts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN max_messages_per_day BIGINT NOT NULL DEFAULT 0;
-- The messages an organisation queued today, counted from an index.
CREATE INDEX messages_org_created ON messages (org_id, created_at);
