-- The realm an account's digest hashes (ha1_md5, ha1_sha256) were made
-- with: its organisation's SIP domain at the time. When that domain
-- changes, the accounts whose ha1_realm is not the new one are re-hashed
-- from their sealed SIP password (activation.Accounts.Rehash, after the
-- change and at every start). Empty: made before this column, not known;
-- the start-up pass compares the hashes with the current domain's and
-- records the realm.
ALTER TABLE accounts ADD COLUMN ha1_realm TEXT NOT NULL DEFAULT '';
