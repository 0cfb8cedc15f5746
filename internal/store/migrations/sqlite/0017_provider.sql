-- The provider admin, above every organisation's admin. The first-start
-- token of an existing installation (the default organisation's, made by
-- no operator) was the most any caller could be; it becomes the
-- provider's, so the installation's owner can create organisations.
UPDATE api_tokens SET role = 'provider'
WHERE org_id = 1 AND operator_id IS NULL AND name = 'admin (first start)' AND role = 'admin';
-- A provider admin's counts of one organisation: its activations per day.
CREATE INDEX accounts_org_activated ON accounts (org_id, activated_at) WHERE activated_at IS NOT NULL;
