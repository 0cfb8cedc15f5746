-- An import's long work (checking the file for its preview, sending its
-- activations) is a job any instance runs by itself: the instance running
-- it holds a lease (job_owner, job_until, renewed as it goes), so a job
-- whose instance died or lost its database is taken up again. preview
-- keeps the checked file's summary (counts, the first errors and rows) as
-- JSON, so showing a preview again does not check the file again.
ALTER TABLE imports ADD COLUMN job_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN job_until BIGINT;
ALTER TABLE imports ADD COLUMN preview TEXT NOT NULL DEFAULT '';
CREATE INDEX imports_state ON imports (state);
