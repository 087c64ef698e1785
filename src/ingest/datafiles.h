/*
 * datafiles: the registry of files loaded into datasets (ferry_datafiles,
 * migration 0003). Each CSV import or upload is one row that moves through
 *
 *   received -> loading -> loaded | rejected | failed      (or -> skipped)
 *
 * A worker takes a received row (or a loading row whose lease ran out: its
 * worker died) with datafiles_claim, renews the lease while it works
 * (datafiles_progress), and ends it with datafiles_finish — in the same
 * transaction as the rows it loaded, so "loaded" and the data commit together.
 *
 * Ownership: struct datafile and its strings are one allocation tree freed by
 * datafile_free.
 */
#ifndef FERRY_INGEST_DATAFILES_H
#define FERRY_INGEST_DATAFILES_H

#include <stdint.h>

struct json_writer; /* core/json.h (not included: jansson users include this) */
#include "store/store.h"

#define DATAFILE_SHA256_HEX 64

struct datafile {
    int64_t id;
    char *dataset, *name, *sha256, *source, *mode, *options, *state, *info;
    int64_t size;
    int progress;
    int64_t rows;                                /* -1 when not known */
    int64_t run_id;                              /* the upload's run in ferry_runs; 0 for none */
    char *uploaded_by;                           /* an upload's sender, or NULL */
    char *error;                                 /* NULL unless rejected or failed */
    char *errors;                                /* JSON {"total": n, "items": [...]}, or NULL */
    char *created_at, *started_at, *finished_at; /* the last two may be NULL */
};

/* Register a file. state is "received" (an upload waiting for a worker) or
 * "loading" (a CLI import that starts now; lease_owner set). Returns 0 and the
 * new id, or <0. */
struct datafile_new {
    const char *dataset, *name, *sha256, *source, *mode, *options, *state;
    int64_t size;
    const char *lease_owner; /* with state "loading" */
    const char *uploaded_by; /* an upload's sender (client id, "apikey", "open"); NULL */
    int64_t lease_ms;
};
int datafiles_insert(store *s, const struct datafile_new *n, int64_t *id);

/* The id of a loaded datafile with this sha256 in this dataset (the latest),
 * other than exclude_id: 1 found, 0 none, <0 error. */
int datafiles_find_loaded(store *s, const char *dataset, const char *sha256, int64_t exclude_id,
                          int64_t *id);

/* Has a file of exactly size bytes been loaded into the dataset? *seen 1 or 0.
 * (A file never seen at its size cannot be one already loaded.) */
int datafiles_size_loaded(store *s, const char *dataset, int64_t size, int *seen);

/* Claim the oldest claimable upload (received, or loading with an expired lease)
 * for owner: state -> loading, lease = now + lease_ms. Returns 1 and *id, 0 if
 * there is none, <0. Safe with several processes on one PostgreSQL. */
int datafiles_claim(store *s, const char *owner, int64_t lease_ms, int64_t *id);

/* Claim this row if it is received: 1 claimed, 0 not (someone else has it or
 * it is done), <0. */
int datafiles_claim_id(store *s, int64_t id, const char *owner, int64_t lease_ms);

/* Put a loading row held by owner back in the queue (its load was interrupted
 * on purpose). Returns 1 if it went back, 0 if it was not loading under
 * owner's lease, <0. */
int datafiles_release(store *s, int64_t id, const char *owner);

/* CLI imports (source file) whose lease ran out died with their process: mark
 * them failed. *n (may be NULL) receives how many. */
int datafiles_fail_abandoned(store *s, int64_t *n);

/* Record progress (0-100) and a line of info, and extend the lease, if the
 * row is still loading under owner's lease (a worker that lost it changes
 * nothing). */
int datafiles_progress(store *s, int64_t id, const char *owner, int progress, const char *info,
                       int64_t lease_ms);

/* End a load: state loaded|rejected|failed|skipped, rows (or -1), error (one
 * line, or NULL) and errors (JSON, or NULL). progress becomes 100. With owner
 * (an upload's lease holder), only while the row is still under that lease;
 * NULL: unconditionally. */
int datafiles_finish(store *s, int64_t id, const char *owner, const char *state, int64_t rows,
                     const char *info, const char *error, const char *errors);

/* Read one row: 0, ERR_NOTFOUND, <0. */
int datafiles_get(store *s, int64_t id, struct datafile **out);
void datafile_free(struct datafile *d);

/* The upload's JSON object: id, dataset, name, sha256, size, source, mode,
 * state, progress (a string "0".."100", as the seed's progress endpoint),
 * info, rows, error, errors, uploaded_by, run_id, created_at, started_at,
 * finished_at. */
void datafile_write_json(const struct datafile *d, struct json_writer *w);

#endif
