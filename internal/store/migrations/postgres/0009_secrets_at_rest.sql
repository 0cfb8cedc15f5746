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
-- text_masked is false on the rows an earlier activator wrote in clear. A
-- migration has no key to seal them with, so activator seals and masks
-- them when it starts; the partial indexes find them without a scan.
ALTER TABLE messages ADD COLUMN sealed_text BYTEA;
ALTER TABLE messages ADD COLUMN text_masked BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX messages_clear_text ON messages (id) WHERE NOT text_masked;
ALTER TABLE outbox ADD COLUMN sealed_text BYTEA;
ALTER TABLE outbox ADD COLUMN text_masked BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX outbox_clear_text ON outbox (id) WHERE NOT text_masked;

CREATE FUNCTION messages_drop_sealed_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sealed_text := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER messages_sealed_text_dropped BEFORE UPDATE OF state ON messages
FOR EACH ROW WHEN (NEW.sealed_text IS NOT NULL AND NEW.state IN ('sent', 'delivered', 'failed'))
EXECUTE FUNCTION messages_drop_sealed_text();

-- A gateway's receipt URL ends with the key that authenticates its
-- provider's delivery receipts. Audit entries no longer keep it, but
-- entries written by earlier versions do (in a gateway snapshot, or a
-- gateway API answer): redact it wherever it is in the JSON text.
UPDATE audit_log SET before_json = regexp_replace(before_json, '"receipt_url":"(\\.|[^"\\])*"', '"receipt_url":"***"', 'g')
WHERE before_json LIKE '%"receipt_url":"%';
UPDATE audit_log SET after_json = regexp_replace(after_json, '"receipt_url":"(\\.|[^"\\])*"', '"receipt_url":"***"', 'g')
WHERE after_json LIKE '%"receipt_url":"%';
