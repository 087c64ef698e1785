/*
 * ingest: see ingest.h for the contract. The shape of a load:
 *
 *   ingest_file      open; the sha256: given (uploads), taken on the way by the
 *                    load's read (no file of this size was loaded before), or
 *                    hash_file then skip_if_loaded; load_file; the registry
 *                    row is written with the outcome (record_outcome)
 *   load_file        the probe (read_file ... SAMPLE_BYTES with check_record:
 *                    header -> plan, values inferred or validated); then
 *                    load_and_settle with the sample's types (fast); on a doubt
 *                    (1) checked_load
 *   checked_load     read_file with check_record over the whole file; rejected
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
#include "ingest/catalog.h"
#include "ingest/datafiles.h"
#include "ingest/rowpipe.h"

#define READ_CHUNK           (256u << 10)
#define PROGRESS_EVERY_US    250000u
#define LEASE_MS             60000
#define STAGE_PREFIX         "ferry_stage_"
#define SQLITE_BACKUP_PREFIX "ferry_backup__"
#define PG_BACKUP_SCHEMA     "backup"
#define SQL_MAX              (1u << 20)

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
    int violation;       /* fast: a value did not fit the sampled types */
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

/* ---- small helpers ------------------------------------------------------------------ */

static void set_message(struct ingest_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_message(struct ingest_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

/* Copy at most max bytes of a UTF-8 value, cut on a character boundary, with
 * "..." when cut. */
static void copy_value(char *out, size_t outlen, const char *p, size_t n, size_t max)
{
    size_t take = n;
    int cut = 0;
    if (take > max) {
        take = max;
        while (take > 0 && ((unsigned char)p[take] & 0xC0) == 0x80)
            take--;
        cut = 1;
    }
    snprintf(out, outlen, "%.*s%s", (int)take, p, cut ? "..." : "");
}

static void add_problem(struct load *L, int64_t line, const char *column, const char *p, size_t n,
                        const char *expected)
{
    struct ingest_result *res = L->res;
    res->total_problems++;
    if (res->nproblems >= INGEST_MAX_PROBLEMS)
        return;
    struct ingest_problem *pr = &res->problems[res->nproblems++];
    pr->line = line;
    snprintf(pr->column, sizeof pr->column, "%s", column);
    copy_value(pr->value, sizeof pr->value, p, n, INGEST_VALUE_MAX);
    pr->expected = expected;
}

static void report_progress(struct load *L, int force)
{
    if (!L->opt->progress)
        return;
    /* Reading the clock per record costs more than the callback saves. */
    if (!force && (++L->progress_tick & 4095) != 0)
        return;
    uint64_t now = clock_mono_us();
    if (!force && now - L->last_progress_us < PROGRESS_EVERY_US)
        return;
    L->last_progress_us = now;
    struct ingest_progress p = {.phase = L->phase,
                                .bytes_done = L->csv ? csvfile_bytes(L->csv) : 0,
                                .bytes_total = L->bytes_total,
                                .rows = L->rows};
    double frac = L->bytes_total > 0 ? (double)p.bytes_done / (double)L->bytes_total : 1.0;
    if (frac > 1.0)
        frac = 1.0;
    switch (L->phase) {
    case INGEST_PHASE_CHECK:
        p.percent = (int)(frac * 40.0);
        break;
    case INGEST_PHASE_LOAD:
        p.percent = 40 + (int)(frac * 55.0);
        break;
    case INGEST_PHASE_COMMIT:
        p.percent = 95;
        break;
    }
    L->opt->progress(L->opt->progress_ctx, &p);
}

static void free_plan(struct load *L)
{
    for (size_t i = 0; i < L->ncols; i++) {
        free(L->cols[i].name);
        free(L->cols[i].label);
    }
    free(L->cols);
    L->cols = NULL;
    L->ncols = 0;
    for (size_t i = 0; i < L->nkey; i++)
        free(L->key[i]);
    free(L->key);
    L->key = NULL;
    L->nkey = 0;
}

static struct plan_col *plan_find(struct load *L, const char *name, size_t n)
{
    for (size_t i = 0; i < L->ncols; i++)
        if (strlen(L->cols[i].name) == n && memcmp(L->cols[i].name, name, n) == 0)
            return &L->cols[i];
    return NULL;
}

/* Split "a,b" into a list of names that must all be columns of the file. */
static int parse_key_list(struct load *L, const char *spec, const char *what)
{
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!plan_find(L, p, n)) {
            csvfile_set_error(L->csv, "%s names column “%.*s”, which the file does not have", what,
                              (int)n, p);
            return ERR_INVAL;
        }
        char **nk = realloc(L->key, (L->nkey + 1) * sizeof *nk);
        if (!nk || !(nk[L->nkey] = strndup(p, n))) {
            if (nk)
                L->key = nk;
            return ERR_NOMEM;
        }
        L->key = nk;
        L->nkey++;
        p = comma ? comma + 1 : p + n;
    }
    return L->nkey ? 0 : ERR_INVAL;
}

static int in_key(const struct load *L, const char *name)
{
    for (size_t i = 0; i < L->nkey; i++)
        if (strcmp(L->key[i], name) == 0)
            return 1;
    return 0;
}

/* --types col=type,...: fix those columns' types. */
static int apply_types(struct load *L, const char *spec)
{
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq) {
            csvfile_set_error(L->csv, "--types: “%.*s” is not col=type", (int)n, p);
            return ERR_INVAL;
        }
        struct plan_col *c = plan_find(L, p, (size_t)(eq - p));
        if (!c) {
            csvfile_set_error(L->csv, "--types names column “%.*s”, which the file does not have",
                              (int)(eq - p), p);
            return ERR_INVAL;
        }
        size_t tn = n - (size_t)(eq + 1 - p);
        if (coltype_from_name(eq + 1, tn, &c->type) < 0) {
            csvfile_set_error(L->csv, "--types: unknown type “%.*s” for column %s", (int)tn, eq + 1,
                              c->name);
            return ERR_INVAL;
        }
        c->inferred = 0;
        p = comma ? comma + 1 : p + n;
    }
    return 0;
}

/* ---- pass 1: the header -------------------------------------------------------------- */

/* A new schema from the file: every column inferred unless --types says. */
static int plan_fresh_schema(struct load *L)
{
    int rc;
    for (size_t i = 0; i < L->ncols; i++) {
        L->cols[i].inferred = 1;
        L->cols[i].mask = COLTYPE_ALL;
        L->cols[i].nullable = 1;
    }
    if (L->opt->types && (rc = apply_types(L, L->opt->types)) < 0)
        return rc;
    const char *key = L->opt->primary_key;
    if (!key && L->opt->mode == INGEST_UPSERT)
        key = L->opt->key;
    if (key) {
        if ((rc = parse_key_list(L, key, "the key")) < 0)
            return rc;
        for (size_t i = 0; i < L->ncols; i++)
            L->cols[i].nullable = !in_key(L, L->cols[i].name);
        return 0;
    }
    if (L->opt->mode == INGEST_UPSERT) {
        csvfile_set_error(L->csv, "upsert needs a key: give --key (or --primary-key)");
        return ERR_INVAL;
    }
    if (plan_find(L, CATALOG_ROW_ID, strlen(CATALOG_ROW_ID))) {
        csvfile_set_error(L->csv,
                          "column “id” is reserved for the row id ferry adds; declare the key "
                          "with --primary-key id, or rename the column");
        return ERR_INVAL;
    }
    L->row_id = 1;
    return 0;
}

/* Append or upsert into an existing dataset: the file's columns must be the
 * dataset's (in any order); missing ones must be nullable. */
static int plan_existing_schema(struct load *L)
{
    const struct catalog_dataset *d = L->existing;
    for (size_t i = 0; i < L->ncols; i++) {
        struct plan_col *c = &L->cols[i];
        const struct catalog_column *dc = catalog_column_find(d, c->name);
        if (!dc) {
            csvfile_set_error(L->csv, "column “%s” is not in dataset %s", c->name, d->name);
            return ERR_INVAL;
        }
        if (dc->generated) {
            csvfile_set_error(L->csv, "column “%s” is the row id ferry generates; remove it",
                              c->name);
            return ERR_INVAL;
        }
        c->type = dc->type;
        c->nullable = dc->nullable;
    }
    for (size_t i = 0; i < d->ncols; i++) {
        const struct catalog_column *dc = &d->cols[i];
        if (!dc->nullable && !dc->generated && !plan_find(L, dc->name, strlen(dc->name))) {
            csvfile_set_error(L->csv, "column “%s” of dataset %s is missing from the file",
                              dc->name, d->name);
            return ERR_INVAL;
        }
    }
    for (size_t i = 0; i < d->nkey; i++) {
        char **nk = realloc(L->key, (L->nkey + 1) * sizeof *nk);
        if (!nk || !(nk[L->nkey] = strdup(d->key[i]))) {
            if (nk)
                L->key = nk;
            return ERR_NOMEM;
        }
        L->key = nk;
        L->nkey++;
    }
    L->row_id = d->nkey == 1 && catalog_column_find(d, d->key[0]) &&
                catalog_column_find(d, d->key[0])->generated;
    if (L->opt->mode == INGEST_UPSERT) {
        if (L->row_id || d->nkey == 0) {
            csvfile_set_error(L->csv, "upsert needs a primary key; dataset %s has none", d->name);
            return ERR_INVAL;
        }
        for (size_t i = 0; i < d->nkey; i++)
            if (!plan_find(L, d->key[i], strlen(d->key[i]))) {
                csvfile_set_error(L->csv, "upsert: the file has no column “%s” (the key)",
                                  d->key[i]);
                return ERR_INVAL;
            }
        if (L->opt->key) {
            struct buf want;
            buf_init(&want, 4096);
            for (size_t i = 0; i < d->nkey; i++)
                buf_printf(&want, "%s%s", i ? "," : "", d->key[i]);
            int same = strcmp(buf_cstr(&want), L->opt->key) == 0;
            if (!same)
                csvfile_set_error(L->csv, "upsert key “%s” is not the primary key of %s (%s)",
                                  L->opt->key, d->name, buf_cstr(&want));
            buf_free(&want);
            if (!same)
                return ERR_INVAL;
        }
    }
    return 0;
}

static int take_header(struct load *L, const struct csvfile_record *rec)
{
    char **names = NULL;
    int rc = csvfile_column_names(rec->fields, rec->nfields, &names);
    if (rc < 0)
        return rc;
    L->cols = calloc(rec->nfields, sizeof *L->cols);
    if (!L->cols) {
        for (size_t i = 0; i < rec->nfields; i++)
            free(names[i]);
        free(names);
        return ERR_NOMEM;
    }
    L->ncols = rec->nfields;
    for (size_t i = 0; i < rec->nfields; i++) {
        L->cols[i].name = names[i];
        L->cols[i].label = strndup(rec->fields[i].p, rec->fields[i].n);
        if (!L->cols[i].label)
            rc = ERR_NOMEM;
    }
    free(names);
    if (rc < 0)
        return rc;
    rc = L->fresh ? plan_fresh_schema(L) : plan_existing_schema(L);
    if (rc == ERR_INVAL)
        L->header_error = 1;
    return rc;
}

/* ---- pass 1: the values --------------------------------------------------------------- */

static void check_value(struct load *L, struct plan_col *c, const struct csvfile_field *f,
                        int64_t line)
{
    if (coltype_is_null(f->p, f->n)) {
        if (!c->nullable)
            add_problem(L, line, c->name, f->p, f->n, "a value");
        return;
    }
    if (c->inferred) {
        c->mask &= coltype_classify(f->p, f->n);
        c->seen = 1;
        return;
    }
    if (c->type == COLTYPE_TEXT)
        return;
    if (!(coltype_classify(f->p, f->n) & COLTYPE_BIT(c->type)))
        add_problem(L, line, c->name, f->p, f->n, coltype_name(c->type));
}

static int check_record(void *ctx, const struct csvfile_record *rec)
{
    struct load *L = ctx;
    if (rec->row == 1)
        return take_header(L, rec);
    L->rows++;
    for (size_t i = 0; i < rec->nfields; i++)
        check_value(L, &L->cols[i], &rec->fields[i], rec->line);
    report_progress(L, 0);
    return 0;
}

/* The types the data settled on. */
static void finish_inference(struct load *L, int from_sample)
{
    for (size_t i = 0; i < L->ncols; i++) {
        struct plan_col *c = &L->cols[i];
        if (!c->inferred)
            continue;
        c->type = c->seen ? coltype_pick(c->mask) : COLTYPE_TEXT;
        c->unseen = from_sample && !c->seen;
    }
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
            set_message(L->res, "cannot read the file: %s", strerror(errno));
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
            set_message(L->res, "interrupted: the server is shutting down");
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
            set_message(L->res, "cannot read the file: %s", strerror(errno));
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

/* The reader's error as the result's message: "line L: what" (rejected). */
static void reader_message(struct load *L)
{
    int64_t line = csvfile_error_line(L->csv);
    const char *msg = csvfile_error(L->csv);
    if (line > 0 && !L->header_error && !strstr(msg, "line"))
        set_message(L->res, "line %lld: %s", (long long)line, msg);
    else
        set_message(L->res, "%s", msg);
}

/* ---- pass 2: SQL -------------------------------------------------------------------- */

static int append_ident(struct buf *b, const char *name)
{
    return store_quote_ident(name, b);
}

static int exec_buf(store *s, struct buf *sql)
{
    if (sql->len >= SQL_MAX - 1)
        return ERR_TOOBIG;
    return store_exec(s, buf_cstr(sql));
}

/* CREATE TABLE schema.table (columns...) for the plan. with_key: the key or the
 * row id as the primary key; without: a plain table (upsert staging). */
static int create_table(struct load *L, const char *table, int with_key)
{
    struct buf sql;
    int rc;
    buf_init(&sql, SQL_MAX);
    buf_puts(&sql, "CREATE TABLE ");
    if ((rc = store_quote_qualified(L->s, NULL, table, &sql)) < 0)
        goto out;
    buf_puts(&sql, " (");
    int first = 1;
    if (with_key && L->row_id) {
        buf_puts(&sql, L->backend == STORE_SQLITE
                           ? "\"id\" INTEGER PRIMARY KEY"
                           : "\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
        first = 0;
    }
    for (size_t i = 0; i < L->ncols; i++) {
        const struct plan_col *c = &L->cols[i];
        if (!first)
            buf_puts(&sql, ", ");
        first = 0;
        if ((rc = append_ident(&sql, c->name)) < 0)
            goto out;
        buf_printf(&sql, " %s%s", coltype_sql(c->type, L->backend),
                   with_key && !c->nullable ? " NOT NULL" : "");
    }
    if (with_key && !L->row_id && L->nkey) {
        buf_puts(&sql, ", PRIMARY KEY (");
        for (size_t i = 0; i < L->nkey; i++) {
            if (i)
                buf_puts(&sql, ", ");
            if ((rc = append_ident(&sql, L->key[i])) < 0)
                goto out;
        }
        buf_puts(&sql, ")");
    }
    buf_puts(&sql, L->backend == STORE_SQLITE ? ") STRICT" : ")");
    rc = exec_buf(L->s, &sql);
out:
    buf_free(&sql);
    return rc;
}

/* Run "<verb> schema.table[<then> ident]": the table statements of a swap. */
static int exec_on_table(struct load *L, const char *verb, const char *schema, const char *table,
                         const char *then, const char *ident)
{
    struct buf sql;
    buf_init(&sql, 512);
    buf_puts(&sql, verb);
    int rc = store_quote_qualified(L->s, schema, table, &sql);
    if (rc == 0 && then) {
        buf_puts(&sql, then);
        rc = append_ident(&sql, ident);
    }
    if (rc == 0)
        rc = exec_buf(L->s, &sql);
    buf_free(&sql);
    return rc;
}

static int drop_table(struct load *L, const char *schema, const char *table)
{
    return exec_on_table(L, "DROP TABLE IF EXISTS ", schema, table, NULL, NULL);
}

static int rename_table(struct load *L, const char *from, const char *to)
{
    return exec_on_table(L, "ALTER TABLE ", NULL, from, " RENAME TO ", to);
}

/* The live table becomes the backup generation (the previous backup goes). */
static int move_to_backup(struct load *L)
{
    char name[STORE_IDENT_MAX + 1];
    int rc;
    if (L->backend == STORE_SQLITE) {
        snprintf(name, sizeof name, "%s%s", SQLITE_BACKUP_PREFIX, L->dataset);
        if ((rc = drop_table(L, NULL, name)) < 0)
            return rc;
        return rename_table(L, L->dataset, name);
    }
    if ((rc = drop_table(L, PG_BACKUP_SCHEMA, L->dataset)) < 0)
        return rc;
    return exec_on_table(L, "ALTER TABLE ", NULL, L->dataset, " SET SCHEMA ", PG_BACKUP_SCHEMA);
}

/* INSERT INTO live (cols) SELECT cols FROM staging ON CONFLICT (key) DO UPDATE. */
static int merge_staging(struct load *L, const char *staging)
{
    struct buf sql, cols;
    int rc;
    buf_init(&sql, SQL_MAX);
    buf_init(&cols, SQL_MAX);
    for (size_t i = 0; i < L->ncols; i++) {
        if (i)
            buf_puts(&cols, ", ");
        if ((rc = append_ident(&cols, L->cols[i].name)) < 0)
            goto out;
    }
    buf_puts(&sql, "INSERT INTO ");
    if ((rc = store_quote_qualified(L->s, NULL, L->dataset, &sql)) < 0)
        goto out;
    buf_printf(&sql, " (%s) SELECT %s FROM ", buf_cstr(&cols), buf_cstr(&cols));
    if ((rc = store_quote_qualified(L->s, NULL, staging, &sql)) < 0)
        goto out;
    /* "WHERE true" keeps SQLite from reading ON CONFLICT as a join clause. */
    buf_puts(&sql, " WHERE true ON CONFLICT (");
    for (size_t i = 0; i < L->nkey; i++) {
        if (i)
            buf_puts(&sql, ", ");
        append_ident(&sql, L->key[i]);
    }
    buf_puts(&sql, ") DO ");
    int any = 0;
    for (size_t i = 0; i < L->ncols; i++) {
        if (in_key(L, L->cols[i].name))
            continue;
        buf_puts(&sql, any ? ", " : "UPDATE SET ");
        append_ident(&sql, L->cols[i].name);
        buf_puts(&sql, " = excluded.");
        append_ident(&sql, L->cols[i].name);
        any = 1;
    }
    if (!any)
        buf_puts(&sql, "NOTHING");
    rc = exec_buf(L->s, &sql);
out:
    buf_free(&sql);
    buf_free(&cols);
    return rc;
}

/* A value that does not fit the sampled types: stop this load (the caller
 * redoes it the checked way). */
static int doubt(struct load *L)
{
    L->violation = 1;
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
    report_progress(L, 0);
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

static int row_count(struct load *L, int64_t *n)
{
    struct buf sql;
    buf_init(&sql, 512);
    buf_puts(&sql, "SELECT count(*) FROM ");
    int rc = store_quote_qualified(L->s, NULL, L->dataset, &sql);
    if (rc == 0)
        rc = store_query_int(L->s, buf_cstr(&sql), NULL, 0, n);
    buf_free(&sql);
    return rc < 0 ? rc : 0;
}

static int save_catalog(struct load *L, int64_t total)
{
    if (!L->fresh) {
        L->existing->row_count = total;
        free(L->existing->source);
        L->existing->source = strdup(L->opt->source ? L->opt->source : "file");
        return catalog_save(L->s, L->existing);
    }
    struct catalog_dataset d = {0};
    size_t n = L->ncols + (L->row_id ? 1 : 0);
    struct catalog_column *cols = calloc(n, sizeof *cols);
    const char *rid_key[] = {CATALOG_ROW_ID};
    if (!cols)
        return ERR_NOMEM;
    size_t j = 0;
    if (L->row_id)
        cols[j++] = (struct catalog_column){.name = CATALOG_ROW_ID,
                                            .label = CATALOG_ROW_ID,
                                            .type = COLTYPE_INTEGER,
                                            .nullable = 0,
                                            .generated = 1};
    for (size_t i = 0; i < L->ncols; i++)
        cols[j++] = (struct catalog_column){.name = L->cols[i].name,
                                            .label = L->cols[i].label,
                                            .type = L->cols[i].type,
                                            .nullable = L->cols[i].nullable};
    d.name = (char *)L->dataset;
    d.schema = (char *)store_default_schema(L->s);
    d.kind = "table";
    d.cols = cols;
    d.ncols = n;
    d.key = L->row_id ? (char **)rid_key : L->key;
    d.nkey = L->row_id ? 1 : L->nkey;
    d.source = (char *)(L->opt->source ? L->opt->source : "file");
    d.row_count = total;
    d.is_public = L->existing ? L->existing->is_public : 0;
    int rc = catalog_save(L->s, &d);
    free(cols);
    return rc;
}

static void loaded_message(struct load *L, int64_t total)
{
    L->res->total_rows = total;
    set_message(L->res, "loaded %lld row%s into %s (%s%s; %lld row%s in the dataset)",
                (long long)L->rows, L->rows == 1 ? "" : "s", L->dataset,
                ingest_mode_name(L->opt->mode), L->res->created ? ", created" : "",
                (long long)total, total == 1 ? "" : "s");
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
    if (L->backend == STORE_POSTGRESQL) {
        struct store_value v[] = {SV_TEXT(L->dataset)};
        if ((rc = store_execv(
                 L->s, "SELECT pg_advisory_xact_lock(hashtext('ferry.dataset.' || $1::text))", v, 1,
                 NULL)) < 0)
            return rc;
    }
    if (L->res->datafile_id > 0 && L->opt->owner) {
        char lease[CLOCK_ISO_MAX];
        clock_iso(clock_now_ms() + LEASE_MS, lease);
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
            set_message(L->res, "another worker has taken this upload over");
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
    report_progress(L, 1);
    if ((rc = store_begin(L->s)) < 0)
        return rc;
    if ((rc = begin_dataset_change(L)) != 0)
        goto fail;
    if (L->fresh) {
        if ((rc = create_table(L, staging, 1)) < 0 || (rc = bulk_load(L, fd, staging)) < 0)
            goto fail;
        L->phase = INGEST_PHASE_COMMIT;
        report_progress(L, 1);
        if (L->existing && (rc = move_to_backup(L)) < 0)
            goto fail;
        if ((rc = rename_table(L, staging, L->dataset)) < 0)
            goto fail;
        total = L->rows;
    } else if (L->opt->mode == INGEST_APPEND) {
        if ((rc = bulk_load(L, fd, L->dataset)) < 0)
            goto fail;
        L->phase = INGEST_PHASE_COMMIT;
        report_progress(L, 1);
        total = L->existing->row_count + L->rows; /* read under the lock */
    } else {
        /* keyed like the dataset: a key twice in the file is refused alike on
         * both backends (not left to ON CONFLICT's backend-specific answer) */
        if ((rc = create_table(L, staging, 1)) < 0 || (rc = bulk_load(L, fd, staging)) < 0)
            goto fail;
        L->phase = INGEST_PHASE_COMMIT;
        report_progress(L, 1);
        if ((rc = merge_staging(L, staging)) < 0 || (rc = drop_table(L, NULL, staging)) < 0 ||
            (rc = row_count(L, &total)) < 0)
            goto fail;
    }
    if ((rc = loaded_before(L, fd)) != 0)
        goto fail;
    loaded_message(L, total);
    if ((rc = save_catalog(L, total)) < 0 ||
        (rc = record_outcome(L, fd, "loaded", L->rows, NULL, NULL)) < 0 ||
        (rc = store_commit(L->s)) < 0)
        goto fail;
    return 0;
fail:
    if (rc == ERR_CONSTRAINT || L->load_error)
        log_warn("load refused by the database", LF_STR("dataset", L->dataset),
                 LF_STR("error", store_errmsg(L->s)));
    store_rollback(L->s);
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
    return datafiles_finish(L->s, L->res->datafile_id, state, rows, L->res->message, error, errors);
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

static void problems_message(struct load *L)
{
    const struct ingest_problem *p = &L->res->problems[0];
    char first[256];
    if (strcmp(p->expected, "a value") == 0)
        snprintf(first, sizeof first, "line %lld, column %s: empty, but the column is a key",
                 (long long)p->line, p->column);
    else
        snprintf(first, sizeof first, "line %lld, column %s: “%s” is not a valid %s",
                 (long long)p->line, p->column, p->value, p->expected);
    set_message(L->res, "%lld problem%s in the file; the first: %s",
                (long long)L->res->total_problems, L->res->total_problems == 1 ? "" : "s", first);
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
    set_message(L->res,
                "already loaded into %s (datafile %lld); nothing to do (--force loads it again)",
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
        reader_message(L);
    else
        problems_message(L);
    return record_problems(L);
}

/* Pass 2 and its outcome. 0 loaded; 1 the fast load met a doubt (nothing was
 * changed; the caller checks the whole file and loads again); <0 failed. */
static int load_and_settle(struct load *L, int fd)
{
    L->violation = L->producer_failed = 0;
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
        set_message(L->res, "the database refused the rows (%s)",
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
    free_plan(L);
    L->rows = 0;
    L->fast = 0;
    L->header_error = 0;
    L->res->nproblems = 0;
    L->res->total_problems = 0;
    L->phase = INGEST_PHASE_CHECK;
    report_progress(L, 1);
    int read_rc = read_file(L, fd, check_record, 0);
    L->res->rows = L->rows;
    if (read_rc == ERR_IO || read_rc == ERR_NOMEM || L->cancelled)
        return read_rc;
    if (read_rc < 0 || L->res->total_problems > 0)
        return reject(L, read_rc);
    finish_inference(L, 0);
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
    report_progress(L, 1);
    int probe = read_file(L, fd, check_record, SAMPLE_BYTES);
    if (probe == ERR_IO || probe == ERR_NOMEM || L->cancelled)
        return probe;
    if (probe < 0 || (probe == 0 && L->res->total_problems > 0)) {
        L->res->rows = L->rows;
        return reject(L, probe);
    }
    if (probe == READ_PARTIAL && L->res->total_problems > 0)
        return checked_load(L, fd); /* the whole report needs the whole file */
    L->fast = probe == READ_PARTIAL;
    finish_inference(L, L->fast);
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
        free_plan(L);
        catalog_dataset_free(L->existing);
        L->existing = NULL;
        L->rows = 0;
        L->res->nproblems = 0;
        L->res->total_problems = 0;
        if ((rc = prepare_load(L)) < 0) {
            set_message(L->res, "cannot read the catalog");
            return rc;
        }
        rc = load_file(L, fd);
    }
    if (rc == LOAD_STALE) {
        set_message(L->res, "dataset %s kept changing while this file was loading", L->dataset);
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
        set_message(res,
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
        set_message(res, "cannot open %s: %s", path, strerror(errno));
        rc = ERR_IO;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        set_message(res, "%s is not a regular file", path);
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
            set_message(res, "internal error: %s", err_str(rc));
        log_error("load failed", LF_STR("dataset", dataset), LF_STR("error", err_name(rc)),
                  LF_STR("message", res->message), LF_STR("store", store_errmsg(s)));
        /* A CLI import that cannot read its file has nothing to record. */
        if (!L.cancelled && !L.lost_lease && (res->datafile_id > 0 || L.fd >= 0))
            record_outcome(&L, fd, "failed", -1, res->message, NULL);
    }
    res->abandoned = L.cancelled || L.lost_lease;
    csvfile_free(L.csv);
    EVP_MD_CTX_free(L.sha);
    free(L.vals);
    free(L.scratch);
    free_plan(&L);
    catalog_dataset_free(L.existing);
    if (fd >= 0)
        close(fd);
    return res->status == INGEST_FAILED ? (rc < 0 ? rc : ERR_INTERNAL) : 0;
}

void ingest_problems_json(const struct ingest_result *res, struct json_writer *w)
{
    json_object_begin(w);
    json_key(w, "total");
    json_int(w, res->total_problems);
    json_key(w, "items");
    json_array_begin(w);
    for (size_t i = 0; i < res->nproblems; i++) {
        const struct ingest_problem *p = &res->problems[i];
        json_object_begin(w);
        json_key(w, "line");
        json_int(w, p->line);
        json_key(w, "column");
        json_string(w, p->column);
        json_key(w, "value");
        json_string(w, p->value);
        json_key(w, "expected");
        json_string(w, p->expected);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}
