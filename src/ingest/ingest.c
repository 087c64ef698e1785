/*
 * ingest: see ingest.h for the contract, ingest_int.h for the module's files.
 * The shape of a load:
 *
 *   ingest_file      open; the sha256: given (uploads), taken on the way by the
 *                    load's read (no file of this size was loaded before), or
 *                    hash_file then skip_if_loaded; load_file; the registry
 *                    row is written with the outcome (record_outcome)
 *   load_file        the probe (read_file ... SAMPLE_BYTES with ingest__check_record:
 *                    header -> plan, values inferred or validated); then
 *                    load_and_settle with the sample's types (fast); on a doubt
 *                    (1) checked_load
 *   checked_load     read_file with ingest__check_record over the whole file; rejected
 *                    -> record and return (the database was not touched); else
 *                    load_and_settle with exact types
 *   load_and_settle  load_pass in one transaction: create staging (or not),
 *                    bulk_load (reading thread -> rowpipe -> store loader),
 *                    swap / merge, catalog, registry "loaded", commit; then the
 *                    outcome (loaded, a doubt, refused by the database, failed)
 *
 * Memory: one read buffer, the csvfile reader's bounded buffers, the rowpipe's
 * batches, one array of values per row, the problem list; nothing grows with
 * the file.
 */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "ingest/datafiles.h"
#include "ingest/ingest_int.h"

#define READ_CHUNK       (256u << 10)
/* SQLite: how many busy timeouts a load (or its registry write) waits for another writer. */
#define BEGIN_WAIT_TRIES 120

static const char *const mode_names[] = {"append", "upsert", "replace"};

const char *ingest_mode_name(enum ingest_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "?";
}

int ingest_mode_parse(const char *s, enum ingest_mode *out)
{
    for (unsigned i = 0; s && i < 3; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (enum ingest_mode)i;
            return 0;
        }
    return ERR_INVAL;
}

/* ---- reading the file ---------------------------------------------------------------- */

static void digest_hex(EVP_MD_CTX *sha, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(sha, md, &n);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Feed the file from its start through a new csvfile reader calling fn.
 * stop_after > 0: stop once that many bytes went in, returning READ_PARTIAL if
 * the file goes on (the reader is left unfinished). Else 0 or the reader's
 * (or fn's) error. */
#define READ_PARTIAL 1
static int read_file(struct load *L, int fd, csvfile_record_fn fn, int64_t stop_after)
{
    int rc;
    int64_t fed = 0;
    char *chunk = malloc(READ_CHUNK);
    if (!chunk)
        return ERR_NOMEM;
    csvfile_free(L->csv);
    L->csv = NULL;
    int hash = L->hash_pending && stop_after == 0;
    if ((rc = csvfile_open(&L->opt->csv, fn, L, &L->csv)) < 0)
        goto out;
    if (lseek(fd, 0, SEEK_SET) < 0 || (hash && !EVP_DigestInit_ex(L->sha, EVP_sha256(), NULL))) {
        rc = ERR_IO;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ingest__message(L->res, "cannot read the file: %s", strerror(errno));
            rc = ERR_IO;
            goto out;
        }
        if (n == 0) {
            if (hash) { /* every byte went through: the hash is the file's */
                digest_hex(L->sha, L->res->sha256);
                L->hash_pending = 0;
            }
            break;
        }
        if (hash)
            EVP_DigestUpdate(L->sha, chunk, (size_t)n);
        if (L->opt->cancel && atomic_load(L->opt->cancel)) {
            ingest__message(L->res, "interrupted: the server is shutting down");
            L->cancelled = 1;
            rc = ERR_UNAVAILABLE;
            goto out;
        }
        if ((rc = csvfile_feed(L->csv, chunk, (size_t)n)) < 0)
            goto out;
        fed += n;
        if (stop_after > 0 && fed >= stop_after && fed < L->bytes_total) {
            rc = READ_PARTIAL;
            goto out;
        }
    }
    rc = csvfile_finish(L->csv);
out:
    free(chunk);
    return rc;
}

/* The sha256 of the whole file, as 64 hex digits. */
static int hash_file(struct load *L, int fd, char out[65])
{
    int rc = ERR_NOMEM;
    char *chunk = malloc(READ_CHUNK);
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    if (!chunk || !sha || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL))
        goto out;
    rc = lseek(fd, 0, SEEK_SET) < 0 ? ERR_IO : 0;
    while (rc == 0) {
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ingest__message(L->res, "cannot read the file: %s", strerror(errno));
            rc = ERR_IO;
        }
        if (n <= 0)
            break;
        EVP_DigestUpdate(sha, chunk, (size_t)n);
    }
    if (rc == 0)
        digest_hex(sha, out);
out:
    EVP_MD_CTX_free(sha);
    free(chunk);
    return rc;
}

/* A value that does not fit the sampled types: stop this load (the caller
 * redoes it the checked way). */
static int doubt(struct load *L)
{
    csvfile_set_error(L->csv, "a value does not fit the types of the sample");
    return ERR_CONFLICT;
}

static int load_record(void *ctx, const struct csvfile_record *rec)
{
    struct load *L = ctx;
    if (rec->row == 1)
        return 0;
    L->rows++;
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct csvfile_field *f = &rec->fields[i];
        const struct plan_col *c = &L->cols[i];
        if (coltype_is_null(f->p, f->n)) {
            if (!c->nullable)
                return doubt(L);
            L->vals[i] = SV_NULL();
            continue;
        }
        if (c->unseen ||
            coltype_convert(c->type, L->backend, f->p, f->n, L->scratch[i], &L->vals[i]) < 0) {
            if (L->fast)
                return doubt(L);
            /* the checked way validated every value: this is a bug, not bad input */
            csvfile_set_error(L->csv, "value of column %s failed conversion", c->name);
            return ERR_INTERNAL;
        }
    }
    int rc = rowpipe_put(L->pipe, L->vals);
    if (rc < 0)
        return rc;
    ingest__progress(L, 0);
    return 0;
}

/* The reading side of pass 2 (its own thread): parse and convert every row
 * into the pipe. */
static int produce_rows(void *ctx, rowpipe *p)
{
    struct load *L = ctx;
    L->pipe = p;
    int rc = read_file(L, L->fd, load_record, 0);
    if (rc < 0)
        L->producer_failed = 1;
    return rc;
}

/* Pass 2's rows into table: one thread parses and converts (produce_rows),
 * this one feeds the store's bulk loader, so both cores work. */
static int bulk_load(struct load *L, int fd, const char *table)
{
    const char **names = calloc(L->ncols, sizeof *names);
    free(L->vals);
    free(L->scratch);
    L->vals = calloc(L->ncols, sizeof *L->vals);
    L->scratch = calloc(L->ncols, sizeof *L->scratch);
    rowpipe *pipe = NULL;
    int rc = ERR_NOMEM;
    if (!names || !L->vals || !L->scratch)
        goto out;
    for (size_t i = 0; i < L->ncols; i++)
        names[i] = L->cols[i].name;
    if ((rc = store_loader_begin(L->s, NULL, table, names, L->ncols, &L->ld)) < 0)
        goto out;
    L->rows = 0;
    L->fd = fd;
    size_t max_row = L->opt->csv.max_record ? L->opt->csv.max_record : CSVFILE_DEFAULT_MAX_RECORD;
    if ((rc = rowpipe_start(L->ncols, max_row + COLTYPE_SCRATCH * L->ncols, produce_rows, L,
                            &pipe)) < 0)
        goto abort;
    const struct store_value *row;
    while ((rc = rowpipe_next(pipe, &row)) == 1) {
        if ((rc = store_loader_row(L->ld, row)) < 0) {
            L->load_error = 1;
            rowpipe_stop(pipe);
            break;
        }
    }
    int produced = rowpipe_finish(pipe);
    if (rc == 0 && produced < 0)
        rc = produced;
    if (rc < 0)
        goto abort;
    int64_t loaded = 0;
    rc = store_loader_end(L->ld, &loaded);
    L->ld = NULL;
    if (rc < 0)
        L->load_error = 1;
    goto out;
abort:
    store_loader_abort(L->ld);
    L->ld = NULL;
out:
    free(names);
    return rc;
}

static int record_outcome(struct load *L, int fd, const char *state, int64_t rows,
                          const char *error, const char *errors);

/* Outcomes of load_pass besides 0 and errors (it has rolled back): */
#define LOAD_REPEAT 2 /* the same file was loaded into the dataset meanwhile */
#define LOAD_STALE  3 /* the dataset changed since the load was planned */

static int same_shape(const struct catalog_dataset *a, const struct catalog_dataset *b)
{
    if (!a || !b)
        return !a && !b;
    if (a->ncols != b->ncols || a->nkey != b->nkey)
        return 0;
    for (size_t i = 0; i < a->ncols; i++)
        if (strcmp(a->cols[i].name, b->cols[i].name) != 0 || a->cols[i].type != b->cols[i].type ||
            a->cols[i].nullable != b->cols[i].nullable ||
            a->cols[i].generated != b->cols[i].generated)
            return 0;
    for (size_t i = 0; i < a->nkey; i++)
        if (strcmp(a->key[i], b->key[i]) != 0)
            return 0;
    return 1;
}

static int stop_asked(struct load *L);

static int64_t lease_ms(const struct load *L)
{
    return L->opt->lease_ms > 0 ? L->opt->lease_ms : LEASE_MS;
}

/* PostgreSQL: the dataset's transaction-scoped advisory lock, tried every
 * LOCK_POLL_MS so that a shutdown can stop the wait, for at most LOCK_WAIT_MS. */
#define LOCK_POLL_MS 100
#define LOCK_WAIT_MS (10 * 60 * 1000)
static int lock_dataset(struct load *L)
{
    struct store_value v[] = {SV_TEXT(L->dataset)};
    for (int64_t waited = 0;; waited += LOCK_POLL_MS) {
        int64_t got = 0;
        int rc = store_query_int(L->s,
                                 "SELECT CASE WHEN pg_try_advisory_xact_lock(hashtext("
                                 "'ferry.dataset.' || $1::text)) THEN 1 ELSE 0 END",
                                 v, 1, &got);
        if (rc < 0)
            return rc;
        if (got == 1)
            return 0;
        if (stop_asked(L))
            return ERR_UNAVAILABLE;
        if (waited >= LOCK_WAIT_MS) {
            ingest__message(L->res, "another load of %s went on for too long", L->dataset);
            return ERR_TIMEOUT;
        }
        if (waited == 0)
            log_info("another load of the dataset is running; waiting",
                     LF_STR("dataset", L->dataset));
        usleep(LOCK_POLL_MS * 1000);
    }
}

/*
 * First thing in the load's transaction: one load at a time per dataset (SQLite:
 * BEGIN IMMEDIATE already holds the database; PostgreSQL: a transaction-scoped
 * advisory lock on the dataset's name), an upload's registry row still ours
 * (its lease: a worker that lost it stops here), and the catalog read again
 * under the lock: a dataset that changed shape since the plan means planning
 * again (LOAD_STALE); its row count is the current one.
 */
static int begin_dataset_change(struct load *L)
{
    int rc;
    if (L->backend == STORE_POSTGRESQL && (rc = lock_dataset(L)) < 0)
        return rc;
    if (L->res->datafile_id > 0 && L->opt->owner) {
        char lease[CLOCK_ISO_MAX];
        clock_iso(clock_now_ms() + lease_ms(L), lease);
        struct store_value v[] = {SV_INT(L->res->datafile_id), SV_TEXT(L->opt->owner),
                                  SV_TEXT(lease)};
        int64_t changed = 0;
        if ((rc = store_execv(L->s,
                              "UPDATE ferry_datafiles SET info = 'loading rows', "
                              "lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2 AND "
                              "state = 'loading'",
                              v, 3, &changed)) < 0)
            return rc;
        if (changed != 1) {
            L->lost_lease = 1;
            ingest__message(L->res, "another worker has taken this upload over");
            return ERR_CONFLICT;
        }
    }
    struct catalog_dataset *now = NULL;
    rc = catalog_get(L->s, L->dataset, &now);
    if (rc < 0 && rc != ERR_NOTFOUND)
        return rc;
    int same = same_shape(L->existing, now);
    if (same && now) {
        catalog_dataset_free(L->existing);
        L->existing = now;
        return 0;
    }
    catalog_dataset_free(now);
    return same ? 0 : LOAD_STALE;
}

/* Begin the load's transaction. On SQLite another load (another process, or
 * a worker) holds the database for its whole transaction: wait for it, a busy
 * timeout at a time, for at most BEGIN_WAIT_TRIES of them, saying so once. */
/* Has the caller asked the load to stop? Then say so and mark it. */
static int stop_asked(struct load *L)
{
    if (!L->cancelled && L->opt->cancel && atomic_load(L->opt->cancel)) {
        ingest__message(L->res, "interrupted: the server is shutting down");
        L->cancelled = 1;
    }
    return L->cancelled;
}

static int begin_waiting(struct load *L)
{
    if (stop_asked(L))
        return ERR_UNAVAILABLE;
    int rc = store_begin(L->s);
    for (int i = 0; rc == ERR_BUSY && i < BEGIN_WAIT_TRIES; i++) {
        if (stop_asked(L))
            return ERR_UNAVAILABLE;
        if (i == 0)
            log_info("the database is busy with another load; waiting",
                     LF_STR("dataset", L->dataset));
        rc = store_begin(L->s);
    }
    return rc;
}

/* Last thing before the commit: was this very file loaded into the dataset
 * meanwhile (a concurrent load of the same file)? Then this load is a repeat. */
static int loaded_before(struct load *L, int fd)
{
    int64_t prior = 0;
    int rc;
    if (L->opt->force)
        return 0;
    if (L->hash_pending) {
        if ((rc = hash_file(L, fd, L->res->sha256)) < 0)
            return rc;
        L->hash_pending = 0;
    }
    rc = datafiles_find_loaded(L->s, L->dataset, L->res->sha256, L->res->datafile_id, &prior);
    if (rc <= 0)
        return rc;
    L->prior = prior;
    return LOAD_REPEAT;
}

/* The whole of pass 2, in one transaction. */
static int load_pass(struct load *L, int fd)
{
    char staging[STORE_IDENT_MAX + 1];
    int64_t total = 0;
    int rc;
    if (L->res->datafile_id > 0)
        snprintf(staging, sizeof staging, "%s%lld", STAGE_PREFIX, (long long)L->res->datafile_id);
    else
        snprintf(staging, sizeof staging, "%sp%d_%lld", STAGE_PREFIX, (int)getpid(),
                 (long long)(clock_now_ms() % 1000000000));
    L->phase = INGEST_PHASE_LOAD;
    ingest__progress(L, 1);
    if ((rc = begin_waiting(L)) < 0)
        return rc;
    if ((rc = begin_dataset_change(L)) != 0)
        goto fail;
    if (L->fresh) {
        if ((rc = ingest__create_table(L, staging, 1)) < 0 || (rc = bulk_load(L, fd, staging)) < 0)
            goto fail;
        L->phase = INGEST_PHASE_COMMIT;
        ingest__progress(L, 1);
        if (L->existing && (rc = ingest__move_to_backup(L)) < 0)
            goto fail;
        if ((rc = ingest__rename_table(L, staging, L->dataset)) < 0)
            goto fail;
        total = L->rows;
    } else if (L->opt->mode == INGEST_APPEND) {
        if ((rc = bulk_load(L, fd, L->dataset)) < 0)
            goto fail;
        L->phase = INGEST_PHASE_COMMIT;
        ingest__progress(L, 1);
        total = L->existing->row_count + L->rows; /* read under the lock */
    } else {
        /* keyed like the dataset: a key twice in the file is refused alike on
         * both backends (not left to ON CONFLICT's backend-specific answer) */
        if ((rc = ingest__create_table(L, staging, 1)) < 0 || (rc = bulk_load(L, fd, staging)) < 0)
            goto fail;
        L->phase = INGEST_PHASE_COMMIT;
        ingest__progress(L, 1);
        if ((rc = ingest__merge_staging(L, staging)) < 0 ||
            (rc = ingest__drop_table(L, NULL, staging)) < 0 ||
            (rc = ingest__row_count(L, &total)) < 0)
            goto fail;
    }
    if ((rc = loaded_before(L, fd)) != 0)
        goto fail;
    ingest__loaded_message(L, total);
    if ((rc = ingest__save_catalog(L, total)) < 0 ||
        (rc = record_outcome(L, fd, "loaded", L->rows, NULL, NULL)) < 0 ||
        (rc = store_commit(L->s)) < 0)
        goto fail;
    return 0;
fail:
    if (rc == ERR_CONSTRAINT || L->load_error)
        log_warn("load refused by the database", LF_STR("dataset", L->dataset),
                 LF_STR("error", store_errmsg(L->s)));
    store_rollback(L->s);
    if (L->opt->datafile_id <= 0)
        L->res->datafile_id = 0; /* a CLI import's row made in this transaction is gone too */
    return rc;
}

/* ---- the registry around a load ------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/*
 * The registry row of this load, written when the outcome is known: an
 * upload's row (it exists: received, then claimed) is finished; a CLI import's
 * row is made now, in the load's own transaction when it loaded. A row needs
 * the file's sha256: if no whole read has taken it yet, the file is hashed.
 */
static int record_outcome(struct load *L, int fd, const char *state, int64_t rows,
                          const char *error, const char *errors)
{
    int rc;
    if (L->res->datafile_id <= 0) {
        if (L->hash_pending) {
            if ((rc = hash_file(L, fd, L->res->sha256)) < 0)
                return rc;
            L->hash_pending = 0;
        }
        struct datafile_new n = {
            .dataset = L->dataset,
            .name = L->opt->file_name ? L->opt->file_name : base_name(L->path),
            .sha256 = L->res->sha256,
            .source = L->opt->source ? L->opt->source : "file",
            .mode = ingest_mode_name(L->opt->mode),
            .state = "loading",
            .size = L->size,
            .lease_owner = L->opt->owner ? L->opt->owner : "cli",
            .lease_ms = LEASE_MS,
        };
        if ((rc = datafiles_insert(L->s, &n, &L->res->datafile_id)) < 0)
            return rc;
    }
    /* On SQLite another load may hold the database: wait for it like a load does. */
    const char *owner = L->opt->datafile_id > 0 ? L->opt->owner : NULL;
    rc = datafiles_finish(L->s, L->res->datafile_id, owner, state, rows, L->res->message, error,
                          errors);
    for (int i = 0; rc == ERR_BUSY && i < BEGIN_WAIT_TRIES; i++)
        rc = datafiles_finish(L->s, L->res->datafile_id, owner, state, rows, L->res->message, error,
                              errors);
    return rc;
}

static int record_problems(struct load *L)
{
    struct buf doc;
    struct json_writer w;
    buf_init(&doc, 1u << 20);
    json_init(&w, &doc);
    ingest_problems_json(L->res, &w);
    int rc = json_finish(&w);
    if (rc == 0)
        rc = record_outcome(L, L->fd, "rejected", -1, L->res->message, buf_cstr(&doc));
    buf_free(&doc);
    return rc;
}

/* ---- the entry point ------------------------------------------------------------------ */

static int prepare_load(struct load *L)
{
    int rc = catalog_get(L->s, L->dataset, &L->existing);
    if (rc == ERR_NOTFOUND) {
        L->existing = NULL;
        rc = 0;
    }
    if (rc < 0)
        return rc;
    L->fresh = !L->existing || L->opt->mode == INGEST_REPLACE;
    L->res->created = !L->existing;
    return 0;
}

/* Bytes of the file the probe reads: the header, and for a new schema the
 * sample whose types a fast load assumes. A file this small is checked whole. */
#define SAMPLE_BYTES (4 << 20)

/* Has the file been loaded into the dataset before? Then record the attempt
 * as skipped (an upload) and say so. Returns 1 skipped, 0 not, <0. */
static int record_skipped(struct load *L, int64_t prior)
{
    L->res->status = INGEST_SKIPPED;
    ingest__message(
        L->res, "already loaded into %s (datafile %lld); nothing to do (--force loads it again)",
        L->dataset, (long long)prior);
    return record_outcome(L, L->fd, "skipped", 0, NULL, NULL);
}

static int skip_if_loaded(struct load *L)
{
    int64_t prior = 0;
    int rc = datafiles_find_loaded(L->s, L->dataset, L->res->sha256, L->opt->datafile_id, &prior);
    if (rc <= 0 || L->opt->force)
        return rc < 0 ? rc : 0;
    rc = record_skipped(L, prior);
    return rc < 0 ? rc : 1;
}

/* The file is bad: record why. read_rc is the checking read's result. */
static int reject(struct load *L, int read_rc)
{
    L->res->status = INGEST_REJECTED;
    if (read_rc < 0)
        ingest__reader_message(L);
    else
        ingest__problems_message(L);
    return record_problems(L);
}

/* Pass 2 and its outcome. 0 loaded; 1 the fast load met a doubt (nothing was
 * changed; the caller checks the whole file and loads again); <0 failed. */
static int load_and_settle(struct load *L, int fd)
{
    L->producer_failed = L->load_error = 0;
    int rc = load_pass(L, fd);
    if (rc == 0) {
        L->res->status = INGEST_LOADED;
        L->res->rows = L->rows;
        return 0;
    }
    if (rc == LOAD_STALE)
        return rc;
    if (rc == LOAD_REPEAT)
        return record_skipped(L, L->prior);
    /* A fast load that met a doubt, or that the database refused: the checked
     * way decides (it reports the file's problems first, if it has any). */
    if (L->fast && !L->cancelled &&
        ((L->producer_failed && !L->load_error) || rc == ERR_CONSTRAINT))
        return 1;
    if (rc == ERR_CONSTRAINT) {
        L->res->status = INGEST_REJECTED;
        ingest__message(L->res, "the database refused the rows (%s)",
                        L->nkey && !L->row_id ? "a duplicate or empty key value in the file"
                                              : "a constraint was violated");
        return record_outcome(L, fd, "rejected", -1, L->res->message, NULL);
    }
    return rc; /* failed: a disk, the connection, ... (recorded by ingest_file) */
}

/* The checked way: every value of the whole file inferred or validated first
 * (pass 1), then the load (pass 2). */
static int checked_load(struct load *L, int fd)
{
    ingest__free_plan(L);
    L->rows = 0;
    L->fast = 0;
    L->header_error = 0;
    L->res->nproblems = 0;
    L->res->total_problems = 0;
    L->phase = INGEST_PHASE_CHECK;
    ingest__progress(L, 1);
    int read_rc = read_file(L, fd, ingest__check_record, 0);
    L->res->rows = L->rows;
    if (read_rc == ERR_IO || read_rc == ERR_NOMEM || L->cancelled)
        return read_rc;
    if (read_rc < 0 || L->res->total_problems > 0)
        return reject(L, read_rc);
    ingest__finish_inference(L, 0);
    return load_and_settle(L, fd);
}

/*
 * The fast way, tried first: read the header and a sample (the probe); a file
 * no bigger than the sample is thereby checked whole. Otherwise load at once
 * with the sample's types (or the dataset's) while checking every value on the
 * way; the first value that does not fit (or any other trouble with the file)
 * rolls the load back and the checked way decides. So a good file is read
 * twice (hash, load) instead of three times, and what is loaded is exactly
 * what the checked way would load: every value fitting a type means the whole
 * file's inference gives that same type.
 */
static int load_file(struct load *L, int fd)
{
    L->phase = INGEST_PHASE_CHECK;
    ingest__progress(L, 1);
    int probe = read_file(L, fd, ingest__check_record, SAMPLE_BYTES);
    if (probe == ERR_IO || probe == ERR_NOMEM || L->cancelled)
        return probe;
    if (probe < 0 || (probe == 0 && L->res->total_problems > 0)) {
        L->res->rows = L->rows;
        return reject(L, probe);
    }
    if (probe == READ_PARTIAL && L->res->total_problems > 0)
        return checked_load(L, fd); /* the whole report needs the whole file */
    L->fast = probe == READ_PARTIAL;
    ingest__finish_inference(L, L->fast);
    int rc = load_and_settle(L, fd);
    if (rc != 1)
        return rc;
    log_debug("the sample's types did not hold; checking the whole file",
              LF_STR("dataset", L->dataset));
    return checked_load(L, fd);
}

/* Plan and load; a dataset that changed shape under the load is planned
 * again (a few times: each retry means another load committed meanwhile). */
static int plan_and_load(struct load *L, int fd)
{
    int rc = LOAD_STALE;
    for (int attempt = 0; attempt < 5 && rc == LOAD_STALE; attempt++) {
        ingest__free_plan(L);
        catalog_dataset_free(L->existing);
        L->existing = NULL;
        L->rows = 0;
        L->row_id = 0;
        L->header_error = 0;
        L->res->nproblems = 0;
        L->res->total_problems = 0;
        if ((rc = prepare_load(L)) < 0) {
            ingest__message(L->res, "cannot read the catalog");
            return rc;
        }
        rc = load_file(L, fd);
    }
    if (rc == LOAD_STALE) {
        ingest__message(L->res, "dataset %s kept changing while this file was loading", L->dataset);
        return ERR_CONFLICT;
    }
    return rc;
}

int ingest_file(store *s, const char *path, const char *dataset, const struct ingest_options *opt,
                struct ingest_result *res)
{
    struct load L = {.s = s, .dataset = dataset, .opt = opt, .res = res, .path = path, .fd = -1};
    int fd = -1, rc;
    memset(res, 0, sizeof *res);
    res->status = INGEST_FAILED;
    res->datafile_id = opt->datafile_id > 0 ? opt->datafile_id : 0;
    L.backend = store_backend(s);
    if (!catalog_name_valid(dataset)) {
        ingest__message(res,
                        "invalid dataset name “%s”: use a-z, 0-9 and _, starting with a letter, at "
                        "most %d characters, not starting with ferry_",
                        dataset, CATALOG_NAME_MAX);
        res->status = INGEST_REJECTED;
        return 0;
    }
    if (!(L.sha = EVP_MD_CTX_new())) {
        rc = ERR_NOMEM;
        goto out;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        ingest__message(res, "cannot open %s: %s", path, strerror(errno));
        rc = ERR_IO;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ingest__message(res, "%s is not a regular file", path);
        rc = ERR_IO;
        goto out;
    }
    L.bytes_total = st.st_size;
    L.fd = fd;
    L.size = st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* The sha256: an upload's is known. Otherwise, when no file of this size
     * was loaded into the dataset, this one cannot have been: the hash is taken
     * on the way by the load's own read (and checked again before the commit).
     * Else it is needed first. */
    int seen = 0;
    if (opt->sha256 && strlen(opt->sha256) == 64)
        memcpy(res->sha256, opt->sha256, 65);
    else if ((rc = datafiles_size_loaded(s, dataset, st.st_size, &seen)) < 0)
        goto out;
    else if (!seen)
        L.hash_pending = 1;
    else if ((rc = hash_file(&L, fd, res->sha256)) < 0)
        goto out;
    if (!L.hash_pending && (rc = skip_if_loaded(&L)) != 0)
        goto out;
    rc = plan_and_load(&L, fd);
out:
    if (rc < 0 && res->status == INGEST_FAILED) {
        if (!res->message[0])
            ingest__message(res, "internal error: %s", err_str(rc));
        log_error("load failed", LF_STR("dataset", dataset), LF_STR("error", err_name(rc)),
                  LF_STR("message", res->message), LF_STR("store", store_errmsg(s)));
        /* A CLI import that cannot read its file has nothing to record. */
        if (!L.cancelled && !L.lost_lease && (res->datafile_id > 0 || L.fd >= 0))
            record_outcome(&L, fd, "failed", -1, res->message, NULL);
    }
    res->abandoned = L.cancelled || L.lost_lease;
    res->interrupted = L.cancelled;
    csvfile_free(L.csv);
    EVP_MD_CTX_free(L.sha);
    free(L.vals);
    free(L.scratch);
    ingest__free_plan(&L);
    catalog_dataset_free(L.existing);
    if (fd >= 0)
        close(fd);
    return res->status == INGEST_FAILED ? (rc < 0 ? rc : ERR_INTERNAL) : 0;
}
