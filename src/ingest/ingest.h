/*
 * ingest: load one CSV file into a dataset, all or nothing.
 *
 * A load, with constant memory:
 *
 *   hash      the file's sha256: given for uploads; when a file of the same size
 *             was loaded into the dataset before, computed first, and a file
 *             already loaded is skipped unless force; otherwise (it cannot be
 *             one already loaded) taken on the way by the load's own read.
 *             The registry row (CLI imports) is written with the outcome, in
 *             the load's transaction when it loaded.
 *   probe     the header, and the first SAMPLE_BYTES (4 MiB) with every value
 *             inferred (a new dataset, or replace) or validated (append,
 *             upsert). A file no bigger than that is thereby checked whole.
 *   load      in one transaction: one thread parses and converts the rows with
 *             the sample's types (or the dataset's), another feeds them to the
 *             store's bulk loader (prepared multi-row INSERT on SQLite, COPY on
 *             PostgreSQL), then
 *               replace / new: into a staging table that is swapped in (the
 *                 previous generation moves to the backup schema: PostgreSQL
 *                 schema "backup", SQLite table ferry_backup__NAME; one kept);
 *               append: into the live table (the transaction is what keeps the
 *                 rows invisible until they are all in);
 *               upsert: into a staging table, then INSERT ... SELECT ... ON
 *                 CONFLICT (key) DO UPDATE;
 *             and the catalog and the datafile's state are written in the same
 *             transaction before it commits.
 *   checked   if a value past the sample does not fit its type (or the file
 *             turns out bad), the load rolls back and the checked way runs:
 *             the whole file inferred or validated first (pass 1, problems
 *             collected: the first INGEST_MAX_PROBLEMS with line, column,
 *             value and expected type, plus the total), then loaded (pass 2).
 *             A file with any problem is rejected before the database is
 *             touched. The fast way's outcome is always the checked way's: a
 *             value fitting the sampled type everywhere means the whole file
 *             infers that same type.
 *
 * A failure or a kill at any point leaves the dataset exactly as it was.
 *
 * Every mode creates the dataset when it does not exist. Loading a file whose
 * sha256 is already loaded into the dataset is skipped (INGEST_SKIPPED) unless
 * force is set.
 *
 * Keys: --primary-key declares the key of a new dataset (or of a replace);
 * without one ferry adds the row id column "id" (see catalog.h), so a file
 * with its own "id" column must declare a key (or rename the column).
 */
#ifndef FERRY_INGEST_INGEST_H
#define FERRY_INGEST_INGEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer; /* core/json.h (not included: jansson users include this) */
#include "ingest/coltype.h"
#include "ingest/csvfile.h"
#include "store/store.h"

enum ingest_mode { INGEST_APPEND = 0, INGEST_UPSERT, INGEST_REPLACE };

/* "append" | "upsert" | "replace"; parse returns 0 or ERR_INVAL. */
const char *ingest_mode_name(enum ingest_mode m);
int ingest_mode_parse(const char *s, enum ingest_mode *out);

/* Where a load is; passed to the progress callback about every 250 ms and at
 * each phase change. */
enum ingest_phase { INGEST_PHASE_CHECK = 1, INGEST_PHASE_LOAD, INGEST_PHASE_COMMIT };

struct ingest_progress {
    enum ingest_phase phase;
    int64_t bytes_done, bytes_total;
    int64_t rows;
    int percent; /* 0-100 over the whole load (check 0-40, load 40-95, commit 95-100) */
};

typedef void (*ingest_progress_fn)(void *ctx, const struct ingest_progress *p);

struct ingest_options {
    enum ingest_mode mode;
    struct csvfile_options csv;
    /* "col=type,col=type": types for these columns instead of inferred ones
     * (new dataset or replace). Names are the column names ferry derives from
     * the headers. NULL = none. */
    const char *types;
    /* "col" or "a,b": the primary key of a new dataset or a replace. NULL = the
     * row id. */
    const char *primary_key;
    /* upsert: the key to match on ("col" or "a,b"); must be the dataset's
     * primary key (or becomes it for a new dataset). NULL = the dataset's. */
    const char *key;
    int force;             /* load even if this file was loaded before */
    const char *source;    /* "file" | "upload" (catalog and registry) */
    const char *file_name; /* shown in the registry; default: the path's base name */
    int64_t datafile_id;   /* > 0: the registry row exists (an upload); else one is made */
    const char *sha256;    /* the file's sha256 when known (an upload's); else computed */
    const char *owner;     /* lease owner written to the registry */
    int64_t lease_ms;      /* an upload's lease (ingest.lease_sec); 0 = 60 s */
    ingest_progress_fn progress;
    void *progress_ctx;
    /* When set and *cancel becomes non-zero, the load stops at the next chunk
     * of input and rolls back: ingest_file returns ERR_UNAVAILABLE with status
     * INGEST_FAILED and leaves the registry row as it found it (the caller
     * puts it back in the queue). */
    const atomic_int *cancel;
};

enum ingest_status { INGEST_LOADED = 1, INGEST_REJECTED, INGEST_SKIPPED, INGEST_FAILED };

#define INGEST_MAX_PROBLEMS 100
#define INGEST_VALUE_MAX    64 /* bytes of a value kept in a problem (cut on a UTF-8 boundary) */

struct ingest_problem {
    int64_t line;
    char column[64];
    char value[INGEST_VALUE_MAX + 4]; /* "..." when cut */
    const char *expected;             /* a type name, or "a value" for a NULL in a key */
};

struct ingest_result {
    enum ingest_status status;
    int64_t datafile_id;
    int64_t rows;       /* rows in the file (loaded, when loaded) */
    int64_t total_rows; /* rows in the dataset afterwards */
    int created;        /* the load created the dataset */
    char sha256[65];
    int abandoned;     /* nothing was recorded: interrupted (below), or an upload's lease went
                        * to another worker */
    int interrupted;   /* opt->cancel stopped it: an upload goes back to the queue */
    char message[512]; /* one line: what happened (every status) */
    size_t nproblems;  /* problems[] used */
    int64_t total_problems;
    struct ingest_problem problems[INGEST_MAX_PROBLEMS];
};

/* Load the file at path into dataset. Writes the outcome to *res. Returns 0
 * when the outcome is known (loaded, rejected, skipped — see res->status), or
 * <0 for an internal failure (res->status INGEST_FAILED, res->message says
 * what, the details are logged); in every case the registry row records it. */
int ingest_file(store *s, const char *path, const char *dataset, const struct ingest_options *opt,
                struct ingest_result *res);

/* The problems as the JSON the registry keeps and the API shows:
 * {"total": n, "items": [{"line", "column", "value", "expected"}, ...]}. */
void ingest_problems_json(const struct ingest_result *res, struct json_writer *w);

#endif
