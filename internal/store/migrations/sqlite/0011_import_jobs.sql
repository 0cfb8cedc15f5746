-- An import's long work (checking the file for its preview, sending its
-- activations) is a job any instance runs by itself: the instance running
-- it holds a lease (job_owner, job_until, renewed as it goes), so a job
-- whose instance died or lost its database is taken up again. preview
-- keeps the checked file's summary (counts, the first errors and rows) as
-- JSON (or the check's refusal), so showing a preview again does not
-- check the file again; size and checked are the file's bytes and how many
-- of them the check has read.
ALTER TABLE imports ADD COLUMN job_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN job_until BIGINT;
ALTER TABLE imports ADD COLUMN preview TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN checked BIGINT NOT NULL DEFAULT 0;
CREATE INDEX imports_state ON imports (state);
-- An uploaded file is kept in pieces of about a megabyte, cut at line
-- ends, so that neither keeping it nor checking it holds the whole file in
-- memory; imports.content holds the files uploaded before this migration.
CREATE TABLE import_files (
	import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (import_id, seq)
);
