-- 0001_init (SQLite): the metadata tables of DESIGN.md section 5.
--
-- Choices, so the PostgreSQL twin (0001_init.pg.sql) can match them:
-- * STRICT tables: a value of the wrong type is an error, as on PostgreSQL,
--   instead of being stored as-is. Shared SQL is unaffected (binds are
--   coerced losslessly, e.g. an integer into a TEXT column).
-- * Booleans are INTEGER 0/1 with a CHECK (boolean on PostgreSQL; STORE_BOOL
--   binds either way).
-- * Timestamps are TEXT, ISO-8601 UTC with milliseconds and a Z; they sort as text.
-- * JSON documents are TEXT checked with json_valid (jsonb on PostgreSQL).
-- * Enum-like text columns carry a CHECK listing their values.
-- * ferry_migrations is created by migrate.c, not here.
-- No BEGIN/COMMIT here: migrate runs the file inside its own transaction.

-- Hawk clients. key_enc is the key encrypted with the server key.
CREATE TABLE ferry_clients (
    id          TEXT PRIMARY KEY,
    key_enc     BLOB NOT NULL,
    algorithm   TEXT NOT NULL DEFAULT 'sha256' CHECK (algorithm IN ('sha256', 'sha1')),
    scopes      TEXT NOT NULL DEFAULT '[]'
                CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
    description TEXT NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- Web UI users; password_hash is an argon2id encoded hash.
CREATE TABLE ferry_users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE CHECK (length(username) > 0),
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'viewer')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL
) STRICT;

-- Web UI sessions; id is the hash of the cookie token (the token is never stored).
CREATE TABLE ferry_sessions (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES ferry_users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX ferry_sessions_expires_at ON ferry_sessions (expires_at);
CREATE INDEX ferry_sessions_user_id ON ferry_sessions (user_id);

-- The catalog. columns: [{"name": ..., "type": ..., "nullable": ...}, ...];
-- primary_key: ["col", ...]; retention: {"column": ..., "days": ...} or NULL.
CREATE TABLE ferry_datasets (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL DEFAULT 'table' CHECK (kind IN ('table', 'view')),
    schema_name TEXT NOT NULL DEFAULT 'main',
    columns     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(columns)),
    primary_key TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(primary_key)),
    retention   TEXT CHECK (retention IS NULL OR json_valid(retention)),
    source      TEXT,
    row_count   INTEGER NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    is_public   INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- Files loaded into datasets: the registry that makes ingest idempotent.
CREATE TABLE ferry_datafiles (
    id         INTEGER PRIMARY KEY,
    dataset    TEXT NOT NULL REFERENCES ferry_datasets (name) ON DELETE CASCADE ON UPDATE CASCADE,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    state      TEXT NOT NULL DEFAULT 'processing'
               CHECK (state IN ('processing', 'processed', 'failed', 'ignored')),
    rows       INTEGER CHECK (rows IS NULL OR rows >= 0),
    error      TEXT,
    created_at TEXT NOT NULL,
    loaded_at  TEXT,
    UNIQUE (dataset, sha256)
) STRICT;

-- Pipeline definitions as last loaded from pipelines/*.yml.
CREATE TABLE ferry_pipelines (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('dataset', 'view', 'sql', 'csv')),
    spec       TEXT NOT NULL,
    spec_hash  TEXT NOT NULL,
    schedule   TEXT,
    paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Runs: the queue and the history. pipeline has no foreign key on purpose:
-- history outlives a removed pipeline, and jobs such as uploads are runs too.
-- The partial unique index keeps one active run per pipeline interval (manual
-- runs without an interval have interval_start NULL and never collide).
CREATE TABLE ferry_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline         TEXT NOT NULL,
    interval_start   TEXT,
    interval_end     TEXT,
    mode             TEXT NOT NULL DEFAULT 'incremental' CHECK (mode IN ('incremental', 'rerun')),
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'success', 'failed', 'cancelled')),
    attempt          INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    lease_owner      TEXT,
    lease_expires_at TEXT,
    queued_at        TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    rows_in          INTEGER NOT NULL DEFAULT 0 CHECK (rows_in >= 0),
    rows_out         INTEGER NOT NULL DEFAULT 0 CHECK (rows_out >= 0),
    error            TEXT,
    log              TEXT NOT NULL DEFAULT '',
    CHECK (interval_start IS NULL OR interval_end IS NULL OR interval_end >= interval_start)
) STRICT;
CREATE INDEX ferry_runs_claim ON ferry_runs (state, queued_at);
CREATE INDEX ferry_runs_pipeline_interval ON ferry_runs (pipeline, interval_start);
CREATE UNIQUE INDEX ferry_runs_one_active ON ferry_runs (pipeline, interval_start)
    WHERE state IN ('queued', 'running');

-- Incremental cursors, committed in the same transaction as the rows they cover.
CREATE TABLE ferry_bookmarks (
    pipeline     TEXT PRIMARY KEY REFERENCES ferry_pipelines (name) ON DELETE CASCADE,
    cursor_value TEXT,
    updated_at   TEXT NOT NULL
) STRICT;
