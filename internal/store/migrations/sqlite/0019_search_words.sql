-- Account search by word starts. The trigram index of migration 0012
-- answered any substring, but a search reads the document list of every
-- trigram of its text, and the trigrams of an e-mail domain or a common
-- name are in most accounts: 1.5 s a search at a million accounts. This
-- index holds the fields' words instead (runs of letters and digits, case
-- and accents folded: an e-mail address is its local part's words, its
-- domain's and its number's), with every word's first one to eight
-- characters indexed as well, so a search word of up to eight characters
-- is one list read newest first and stopped at the page's end, and a longer
-- one merges the few words it starts. A search matches the accounts that
-- have, for each of its words, a word starting with it.
-- The organisation's id is a column too, so that a search in a small
-- organisation reads its own accounts' lists rather than the matches of
-- every organisation's accounts: the query names it (org_id : "2") and
-- looks for the search's words in the five fields only.
DROP TRIGGER accounts_fts_insert;
DROP TRIGGER accounts_fts_delete;
DROP TRIGGER accounts_fts_update;
DROP TABLE accounts_fts;
CREATE VIRTUAL TABLE accounts_fts USING fts5(display_name, username, virtual_number, mobile, email, org_id,
    content = 'accounts', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6 7 8');
INSERT INTO accounts_fts (accounts_fts) VALUES ('rebuild');
CREATE TRIGGER accounts_fts_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts (rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES (new.id, new.display_name, new.username, new.virtual_number, new.mobile, new.email, new.org_id);
END;
CREATE TRIGGER accounts_fts_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_fts (accounts_fts, rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES ('delete', old.id, old.display_name, old.username, old.virtual_number, old.mobile, old.email, old.org_id);
END;
CREATE TRIGGER accounts_fts_update AFTER UPDATE OF display_name, username, virtual_number, mobile, email, org_id ON accounts BEGIN
    INSERT INTO accounts_fts (accounts_fts, rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES ('delete', old.id, old.display_name, old.username, old.virtual_number, old.mobile, old.email, old.org_id);
    INSERT INTO accounts_fts (rowid, display_name, username, virtual_number, mobile, email, org_id)
        VALUES (new.id, new.display_name, new.username, new.virtual_number, new.mobile, new.email, new.org_id);
END;
