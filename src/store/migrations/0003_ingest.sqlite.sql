-- 0003_ingest (SQLite): the datafile registry as CSV ingest uses it.
--
-- ferry_datafiles is recreated (nothing wrote to it before this migration):
-- * no foreign key to ferry_datasets: an upload is registered before the
--   dataset it creates exists;
-- * no UNIQUE (dataset, sha256): a forced reload of the same file is a new
--   row; "already loaded" is a lookup of a loaded row with the same sha256;
-- * the states of a load: received (stored, waiting) -> loading (a worker holds
--   its lease) -> loaded | rejected (bad input: errors says why) | failed (an
--   internal error; retried by nobody, shown as is) | skipped (the same file
--   was already loaded into the dataset);
-- * progress (0-100) and info are what GET /api/v1/uploads/{id} shows while
--   the load runs; errors is a JSON document {"total": n, "items": [...]}.
-- * options: the load's options as JSON (delimiter, encoding, types,
--   primary_key, key), so a load resumed after a restart runs as asked.
-- No BEGIN/COMMIT here: migrate runs the file inside its own transaction.

DROP TABLE ferry_datafiles;

CREATE TABLE ferry_datafiles (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset          TEXT NOT NULL CHECK (length(dataset) > 0),
    name             TEXT NOT NULL,
    sha256           TEXT NOT NULL CHECK (length(sha256) = 64),
    size             INTEGER NOT NULL CHECK (size >= 0),
    source           TEXT NOT NULL CHECK (source IN ('file', 'upload')),
    mode             TEXT NOT NULL CHECK (mode IN ('append', 'upsert', 'replace')),
    options          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    state            TEXT NOT NULL DEFAULT 'received'
                     CHECK (state IN ('received', 'loading', 'loaded', 'rejected', 'failed',
                                      'skipped')),
    progress         INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    info             TEXT NOT NULL DEFAULT '',
    rows             INTEGER CHECK (rows IS NULL OR rows >= 0),
    error            TEXT,
    errors           TEXT CHECK (errors IS NULL OR json_valid(errors)),
    run_id           INTEGER,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT
) STRICT;
CREATE INDEX ferry_datafiles_dataset_sha256 ON ferry_datafiles (dataset, sha256);
CREATE INDEX ferry_datafiles_state ON ferry_datafiles (state);
