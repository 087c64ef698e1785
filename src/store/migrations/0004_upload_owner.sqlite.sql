-- 0004_upload_owner (SQLite): who sent each upload (the Hawk client id,
-- "apikey" or "open"), so that an upload's status is shown to its sender only.
-- NULL for CLI imports. No BEGIN/COMMIT here: migrate runs the file inside its
-- own transaction.

ALTER TABLE ferry_datafiles ADD COLUMN uploaded_by TEXT;
