-- The audit log is append-only: each entry also keeps where the request
-- came from (the source address, behind trusted proxies the client's) and
-- by what the actor was known (an API token by its prefix, a console
-- session, a login form), and the database itself refuses to change or
-- remove an entry, whatever code or person asks (TRUNCATE included). There
-- is no retention purge: an operator who must drop old entries does it
-- outside activator, dropping the triggers knowingly (docs/security.md).
ALTER TABLE audit_log ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN credential TEXT NOT NULL DEFAULT '';

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: an entry cannot be changed or deleted (%)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
