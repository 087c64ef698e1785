-- 0002_auth (PostgreSQL): the twin of 0002_auth.sqlite.sql.
--
-- ferry_settings holds small named values. The first is secret_check: a value
-- sealed with the server secret (see src/auth/secret.h), so that starting with
-- a different secret than the one that sealed the client keys is a clear error.
-- value is BYTEA: sealed values are binary.
-- No BEGIN/COMMIT here: migrate runs the file inside its own transaction.

CREATE TABLE ferry.ferry_settings (
    name       TEXT PRIMARY KEY CHECK (length(name) > 0),
    value      BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);
