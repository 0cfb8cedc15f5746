-- Organisations a provider creates, renames, suspends and deletes: a slug
-- that names one in URLs and the command line (lowercase letters, digits
-- and hyphens; the default organisation's is "default"), a suspension
-- time, and when it last changed. The name stays its display name.
ALTER TABLE organisations ADD COLUMN slug TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN suspended_at BIGINT;
ALTER TABLE organisations ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE organisations SET slug = CASE WHEN id = 1 THEN 'default' ELSE 'org-' || id END, updated_at = created_at;
CREATE UNIQUE INDEX organisations_slug ON organisations (slug);
-- The default organisation was inserted with its id given, which the
-- identity's sequence did not count: the next one made takes the id after
-- the highest (2 on a fresh installation, whose default comes after this).
SELECT setval(pg_get_serial_sequence('organisations', 'id'), GREATEST(COALESCE(MAX(id), 1), 1)) FROM organisations;
-- A row inserted without a slug (the first start's default organisation)
-- gets one from its id, and its creation time as its last change.
CREATE FUNCTION organisations_slug_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.slug = '' THEN
        NEW.slug := CASE WHEN NEW.id = 1 THEN 'default' ELSE 'org-' || NEW.id END;
    END IF;
    IF NEW.updated_at = 0 THEN
        NEW.updated_at := NEW.created_at;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER organisations_slug_default BEFORE INSERT ON organisations
    FOR EACH ROW EXECUTE FUNCTION organisations_slug_default();
