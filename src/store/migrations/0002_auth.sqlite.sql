-- 0002_auth (SQLite): server-wide settings, and the one the server secret needs.
--
-- ferry_settings holds small named values. The first is secret_check: a value
-- sealed with the server secret (see src/auth/secret.h), so that starting with
-- a different secret than the one that sealed the client keys is a clear error.
-- value is a BLOB (bytea on PostgreSQL): sealed values are binary.
--
-- ferry_clients (0001) already has what the client registry needs: id is the
-- primary key (the per-request lookup), key_enc the sealed key. The checks
-- below are enforced by clients.c; the schema keeps the ones 0001 has.
-- No BEGIN/COMMIT here: migrate runs the file inside its own transaction.

CREATE TABLE ferry_settings (
    name       TEXT PRIMARY KEY CHECK (length(name) > 0),
    value      BLOB NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
