/*
 * ingest_plan: pass 1 of a load (see ingest_int.h): the header becomes the
 * plan — column names and labels, types (inferred, from --types, or the
 * dataset's), the key or the row id — and every value is inferred or
 * validated against it, problems collected with their line and column.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "ingest/ingest_int.h"

#define PROGRESS_EVERY_US 250000u

/* ---- small helpers ------------------------------------------------------------------ */

void ingest__message(struct ingest_result *res, const char *fmt, ...)
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

void ingest__progress(struct load *L, int force)
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

void ingest__free_plan(struct load *L)
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

int ingest__in_key(const struct load *L, const char *name)
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
            L->cols[i].nullable = !ingest__in_key(L, L->cols[i].name);
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

int ingest__check_record(void *ctx, const struct csvfile_record *rec)
{
    struct load *L = ctx;
    if (rec->row == 1)
        return take_header(L, rec);
    L->rows++;
    for (size_t i = 0; i < rec->nfields; i++)
        check_value(L, &L->cols[i], &rec->fields[i], rec->line);
    ingest__progress(L, 0);
    return 0;
}

/* The types the data settled on. */
void ingest__finish_inference(struct load *L, int from_sample)
{
    for (size_t i = 0; i < L->ncols; i++) {
        struct plan_col *c = &L->cols[i];
        if (!c->inferred)
            continue;
        c->type = c->seen ? coltype_pick(c->mask) : COLTYPE_TEXT;
        c->unseen = from_sample && !c->seen;
    }
}

/* The reader's error as the result's message: "line L: what" (rejected). */
void ingest__reader_message(struct load *L)
{
    int64_t line = csvfile_error_line(L->csv);
    const char *msg = csvfile_error(L->csv);
    if (line > 0 && !L->header_error && !strstr(msg, "line"))
        ingest__message(L->res, "line %lld: %s", (long long)line, msg);
    else
        ingest__message(L->res, "%s", msg);
}

void ingest__problems_message(struct load *L)
{
    const struct ingest_problem *p = &L->res->problems[0];
    char first[256];
    if (strcmp(p->expected, "a value") == 0)
        snprintf(first, sizeof first, "line %lld, column %s: empty, but the column is a key",
                 (long long)p->line, p->column);
    else
        snprintf(first, sizeof first, "line %lld, column %s: “%s” is not a valid %s",
                 (long long)p->line, p->column, p->value, p->expected);
    ingest__message(L->res, "%lld problem%s in the file; the first: %s",
                    (long long)L->res->total_problems, L->res->total_problems == 1 ? "" : "s",
                    first);
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
