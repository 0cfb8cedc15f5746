-- Secrets at rest: message texts, and receipt keys in old audit entries.
--
-- A message's text holds its link, and a link is a way into an account.
-- From this schema on, the body and html columns of messages and outbox
-- hold the text with its link tokens masked (avl_abcdef…), which is what
-- listings and views read; the whole text is kept in sealed_text, sealed
-- with the secret key (AES-256-GCM), which the database never holds. A
-- message keeps its sealed text only while it may still be sent: the
-- trigger below drops it as the message is sent, delivered or failed, by
-- whatever statement does that. The outbox keeps its copy sealed, for an
-- admin to read while the link lives.
--
-- text_masked is false (0) on the rows an earlier activator wrote in
-- clear. A migration has no key to seal them with, so activator seals and
-- masks them when it starts; the partial indexes find them without a scan.
ALTER TABLE messages ADD COLUMN sealed_text BLOB;
ALTER TABLE messages ADD COLUMN text_masked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_clear_text ON messages (id) WHERE NOT text_masked;
ALTER TABLE outbox ADD COLUMN sealed_text BLOB;
ALTER TABLE outbox ADD COLUMN text_masked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_clear_text ON outbox (id) WHERE NOT text_masked;

CREATE TRIGGER messages_sealed_text_dropped AFTER UPDATE OF state ON messages
WHEN NEW.sealed_text IS NOT NULL AND NEW.state IN ('sent', 'delivered', 'failed')
BEGIN
    UPDATE messages SET sealed_text = NULL WHERE id = NEW.id;
END;

-- A gateway's receipt URL ends with the key that authenticates its
-- provider's delivery receipts. Audit entries no longer keep it, but
-- entries written by earlier versions do, at the top level of the gateway
-- they show (a snapshot, or a gateway API answer): redact it there.
UPDATE audit_log SET before_json = json_set(before_json, '$.receipt_url', '***')
WHERE json_valid(before_json) AND json_type(before_json, '$.receipt_url') = 'text'
    AND json_extract(before_json, '$.receipt_url') NOT IN ('', '***');
UPDATE audit_log SET after_json = json_set(after_json, '$.receipt_url', '***')
WHERE json_valid(after_json) AND json_type(after_json, '$.receipt_url') = 'text'
    AND json_extract(after_json, '$.receipt_url') NOT IN ('', '***');
