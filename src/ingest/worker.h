/*
 * worker: the threads of `ferry serve` that load uploads in the background.
 *
 * An upload is registered (ferry_datafiles, state received) by the HTTP
 * handler once its bytes are in the raw file store; a worker thread claims it
 * (datafiles_claim), loads it with ingest_file, and records the outcome in the
 * registry and in the upload's run (ferry_runs). Workers wake when
 * ingest_worker_wake is called (a new upload here) and poll every poll_ms (an
 * upload taken by another process on the same PostgreSQL, a lease that ran
 * out because its worker died, work left over from before a restart).
 *
 * Progress: while a load checks the file (pass 1) its progress is written to
 * the registry about once a second, which renews the lease. While it loads
 * (pass 2) the worker's connection is inside the load's transaction, so
 * progress is kept in memory only; ingest_worker_progress reads it for the
 * uploads API of this process.
 *
 * Shutdown: ingest_worker_stop asks running loads to stop at their next chunk
 * of input (they roll back and their uploads go back to received, to be
 * loaded again after the restart) and joins the threads.
 */
#ifndef FERRY_INGEST_WORKER_H
#define FERRY_INGEST_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/csvfile.h"
#include "ingest/ingest.h"
#include "store/store.h"

typedef struct ingest_worker ingest_worker;

struct ingest_worker_options {
    store_pool *pool;              /* borrowed; one connection per thread while it loads */
    const char *files_dir;         /* the raw file store */
    int threads;                   /* 0: no threads (ingest_worker_load_now still works) */
    int64_t lease_ms;              /* how long a claim lasts without renewal; 0 = 60 s */
    int poll_ms;                   /* 0 = 2000 */
    struct csvfile_options limits; /* the reader's limits (delimiter/encoding unused) */
};

/* Start the threads (with every signal blocked: signals are the caller's to
 * take). The options' strings are copied. Returns 0 or <0. */
int ingest_worker_start(const struct ingest_worker_options *o, ingest_worker **out);

/* Wake a sleeping thread: there is a new upload. Accepts NULL. */
void ingest_worker_wake(ingest_worker *w);

/* Ask running loads (the threads' and inline ones) to stop at their next chunk
 * of input and roll back; no new load starts. Returns at once. Accepts NULL. */
void ingest_worker_cancel(ingest_worker *w);

/* Stop: cancel running loads, join the threads, free. Accepts NULL. */
void ingest_worker_stop(ingest_worker *w);

/* The live progress of a load this process is running: 1 and the values, or 0
 * when none is running here for that datafile. */
int ingest_worker_progress(ingest_worker *w, int64_t datafile_id, int *percent, char *info,
                           size_t infolen);

/* Load one datafile now, in the calling thread (a small upload answered in
 * its own request): claims it, loads it, records the outcome. s is a
 * connection of the caller's. Returns 1 if it was loaded here (see
 * res->status), 0 if someone else had claimed it, <0 on error. */
int ingest_worker_load_now(ingest_worker *w, store *s, int64_t datafile_id,
                           struct ingest_result *res);

#endif
