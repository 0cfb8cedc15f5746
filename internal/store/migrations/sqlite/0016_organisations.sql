-- Organisations a provider creates, renames, suspends and deletes: a slug
-- that names one in URLs and the command line (lowercase letters, digits
-- and hyphens; the default organisation's is "default"), a suspension
-- time, and when it last changed. The name stays its display name.
ALTER TABLE organisations ADD COLUMN slug TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN suspended_at BIGINT;
ALTER TABLE organisations ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE organisations SET slug = CASE WHEN id = 1 THEN 'default' ELSE 'org-' || id END, updated_at = created_at;
CREATE UNIQUE INDEX organisations_slug ON organisations (slug);
-- A row inserted without a slug (the first start's default organisation)
-- gets one from its id, and its creation time as its last change.
CREATE TRIGGER organisations_slug_default AFTER INSERT ON organisations
WHEN NEW.slug = '' OR NEW.updated_at = 0
BEGIN
    UPDATE organisations SET
        slug = CASE WHEN NEW.slug <> '' THEN NEW.slug WHEN NEW.id = 1 THEN 'default' ELSE 'org-' || NEW.id END,
        updated_at = CASE WHEN NEW.updated_at = 0 THEN NEW.created_at ELSE NEW.updated_at END
    WHERE id = NEW.id;
END;
