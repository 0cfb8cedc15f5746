-- Account search by word starts. The pg_trgm index of migration 0012
-- answered any substring, but a search's common trigrams (an e-mail
-- domain's, a common name's) are in most accounts: a rare text read long
-- lists, a short one the whole table. This keeps each account's search
-- terms instead, as a stored column: the words of its name, username,
-- virtual number, mobile and e-mail (the text search parser's words and
-- numbers, lower-cased, after @, dots, +, -, _, / and : are made spaces, so
-- that an address is its local part's words, its domain's and its
-- number's), each word whole and its first one to eight characters. A
-- search word of up to eight characters is then one term looked up
-- exactly: GIN intersects several terms by skipping through their lists,
-- and where a term is common the planner walks the primary key backwards
-- testing the stored terms, which stops at the page's end. A longer word is
-- a prefix of the whole words. A search matches the accounts that have,
-- for each of its words, a word starting with it. No extension is needed;
-- the trigram index is dropped (pg_trgm is left to whoever created it).
DROP INDEX IF EXISTS accounts_search;
CREATE FUNCTION account_search_terms(display_name text, username text, virtual_number text, mobile text, email text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.array_to_tsvector(ARRAY(
        SELECT pg_catalog.left(w, n)
        FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(pg_catalog.to_tsvector('pg_catalog.simple', pg_catalog.translate(
                display_name || ' ' || username || ' ' || virtual_number || ' ' || mobile || ' ' || email, '@.+-_/:', '       ')))) w,
            pg_catalog.generate_series(1, pg_catalog.length(w)) n
        WHERE n <= 8 OR n = pg_catalog.length(w)))
$$;
ALTER TABLE accounts ADD COLUMN search_terms tsvector
    GENERATED ALWAYS AS (account_search_terms(display_name, username, virtual_number, mobile, email)) STORED;
CREATE INDEX accounts_search_terms ON accounts USING gin (search_terms);
-- The planner chooses between the index and the primary key by how
-- common a search's terms are, from the column's statistics: without them
-- it reads a common term's whole list, and with the default hundred (a
-- thousand most common terms, the one-letter to three-letter starts
-- among them) it takes a term it has not listed for one account in 600
-- and walks the whole table for a term no account has. Ten times that
-- lists the terms down to one account in 3,000 (ANALYZE then samples
-- 300,000 accounts: 15 s at a million).
ALTER TABLE accounts ALTER COLUMN search_terms SET STATISTICS 1000;
ANALYZE accounts;
