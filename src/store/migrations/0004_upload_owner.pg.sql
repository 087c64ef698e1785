-- 0004_upload_owner (PostgreSQL): the twin of 0004_upload_owner.sqlite.sql.
-- No BEGIN/COMMIT here: migrate runs the file inside its own transaction.

ALTER TABLE ferry.ferry_datafiles ADD COLUMN uploaded_by TEXT;
