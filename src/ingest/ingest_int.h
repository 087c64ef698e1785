/*
 * ingest_int: what the three files of the ingest module share (not for other
 * modules; ingest.h is the contract).
 *
 *   ingest.c        a load's course: reading, hashing, the fast and the checked
 *                   way, pass 2's threads, the transaction, the registry
 *   ingest_plan.c   the plan from the header (names, types, key), inference
 *                   and validation of values (pass 1), problems and messages
 *   ingest_table.c  the SQL of pass 2: staging tables, the swap, the merge,
 *                   row counts, the catalog entry
 */
#ifndef FERRY_INGEST_INGEST_INT_H
#define FERRY_INGEST_INGEST_INT_H

#include <openssl/evp.h>
#include <stdint.h>

#include "ingest/catalog.h"
#include "ingest/csvfile.h"
#include "ingest/ingest.h"
#include "ingest/rowpipe.h"
#include "store/store.h"

#define LEASE_MS             60000
#define STAGE_PREFIX         "ferry_stage_"
#define SQLITE_BACKUP_PREFIX "ferry_backup__"
#define PG_BACKUP_SCHEMA     "backup"

/* One column of the file, and what it becomes. */
struct plan_col {
    char *name;  /* derived from the header */
    char *label; /* the header text */
    enum coltype type;
    unsigned mask; /* inference: types every value so far could be */
    int seen;      /* a non-NULL value was seen */
    int unseen;    /* fast: no value in the sample, so any value is a doubt */
    int inferred;  /* type comes from the data */
    int nullable;
};

struct load {
    store *s;
    const char *dataset;
    const struct ingest_options *opt;
    struct ingest_result *res;
    enum store_backend_kind backend;
    struct catalog_dataset *existing; /* NULL for a new dataset */
    int fresh;                        /* new dataset or replace: the file decides the schema */
    char **key;
    size_t nkey;
    int row_id; /* the dataset gets ferry's row id */

    struct plan_col *cols;
    size_t ncols;
    int64_t rows;
    int header_error;    /* the header itself was refused */
    int fast;            /* loading with types from a sample: any doubt -> the checked way */
    int producer_failed; /* pass 2: reading or converting stopped the load */
    int lost_lease;      /* an upload's lease went to another worker: record nothing */
    int64_t prior;       /* the datafile that loaded this same file before */
    /* The sha256 is taken on the way by the next whole read of the file (see
     * ingest_file): set while it is still to be taken. */
    int hash_pending;
    EVP_MD_CTX *sha;
    const char *path;
    int64_t size;
    int cancelled; /* opt->cancel stopped the load */

    /* pass 2 */
    store_loader *ld;
    rowpipe *pipe; /* the rows' way from the reading thread to the loader */
    int fd;
    struct store_value *vals;
    char (*scratch)[COLTYPE_SCRATCH];
    int load_error;

    /* reading and progress */
    csvfile *csv;
    int64_t bytes_total;
    enum ingest_phase phase;
    uint64_t last_progress_us;
    unsigned progress_tick;
};

/* ---- ingest_plan.c ---------------------------------------------------------------- */

/* The result's one-line message (printf-style, truncated). */
void ingest__message(struct ingest_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Tell the progress callback where the load is (throttled unless force). */
void ingest__progress(struct load *L, int force);
/* Forget the plan (columns, key) so a file can be planned again. */
void ingest__free_plan(struct load *L);
int ingest__in_key(const struct load *L, const char *name);
/* The csvfile callback of pass 1: the header makes the plan; each record's
 * values are inferred or validated, problems collected. */
int ingest__check_record(void *ctx, const struct csvfile_record *rec);
/* The types the values settled on (from_sample: a column without a value in
 * the sample stays a doubt). */
void ingest__finish_inference(struct load *L, int from_sample);
/* The result's message from the reader's error, or from the problems. */
void ingest__reader_message(struct load *L);
void ingest__problems_message(struct load *L);

/* ---- ingest_table.c --------------------------------------------------------------- */

/* CREATE TABLE for the plan: with_key adds the key (or the row id) and NOT NULLs. */
int ingest__create_table(struct load *L, const char *table, int with_key);
int ingest__drop_table(struct load *L, const char *schema, const char *table);
int ingest__rename_table(struct load *L, const char *from, const char *to);
/* The live table becomes the backup generation (the previous one goes). */
int ingest__move_to_backup(struct load *L);
/* INSERT INTO live ... SELECT ... FROM staging ON CONFLICT (key) DO UPDATE. */
int ingest__merge_staging(struct load *L, const char *staging);
int ingest__row_count(struct load *L, int64_t *n);
/* The dataset's catalog entry after a load of total rows. */
int ingest__save_catalog(struct load *L, int64_t total);
void ingest__loaded_message(struct load *L, int64_t total);

#endif
