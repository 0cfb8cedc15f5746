-- An import keeps the usernames it is to send activations to in a column
-- of their own. content holds only the uploaded file, until the import is
-- confirmed; it used to hold the usernames after that, so the imports
-- confirmed before this migration and still sending move them over.
ALTER TABLE imports ADD COLUMN send_to TEXT NOT NULL DEFAULT '';
UPDATE imports SET send_to = content, content = '' WHERE state = 'sending';
