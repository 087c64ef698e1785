/*
 * datafiles: see datafiles.h. Leases are ISO-8601 UTC text (like every
 * metadata time), compared as text. The claim is one UPDATE ... WHERE id =
 * (SELECT ... LIMIT 1) AND the row is still claimable, so two workers racing
 * for the same row cannot both win: the loser's UPDATE changes nothing and it
 * tries the next row.
 */
#include "ingest/datafiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

static void iso_in(int64_t ms_from_now, char out[CLOCK_ISO_MAX])
{
    clock_iso(clock_now_ms() + ms_from_now, out);
}

int datafiles_insert(store *s, const struct datafile_new *n, int64_t *id)
{
    char now[CLOCK_ISO_MAX], lease[CLOCK_ISO_MAX];
    int loading = strcmp(n->state, "loading") == 0;
    clock_now_iso(now);
    iso_in(n->lease_ms, lease);
    struct store_value v[] = {
        SV_TEXT(n->dataset),
        SV_TEXT(n->name),
        SV_TEXT(n->sha256),
        SV_INT(n->size),
        SV_TEXT(n->source),
        SV_TEXT(n->mode),
        SV_TEXT(n->options ? n->options : "{}"),
        SV_TEXT(n->state),
        loading ? SV_TEXT(n->lease_owner) : SV_NULL(),
        loading ? SV_TEXT(lease) : SV_NULL(),
        SV_TEXT(now),
        loading ? SV_TEXT(now) : SV_NULL(),
        SV_TEXT(n->uploaded_by),
    };
    store_stmt *st = NULL;
    int rc =
        store_prepare(s,
                      "INSERT INTO ferry_datafiles (dataset, name, sha256, size, source, mode, "
                      "options, state, lease_owner, lease_expires_at, created_at, started_at, "
                      "uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                      "$13) RETURNING id",
                      &st);
    if (rc < 0)
        return rc;
    if ((rc = store_bind_all(st, v, sizeof v / sizeof v[0])) == 0) {
        rc = store_step(st);
        if (rc == STORE_ROW) {
            *id = store_column_int(st, 0);
            rc = 0;
        } else if (rc == STORE_DONE) {
            rc = ERR_STORE;
        }
    }
    store_stmt_reset(st);
    return rc;
}

int datafiles_find_loaded(store *s, const char *dataset, const char *sha256, int64_t exclude_id,
                          int64_t *id)
{
    struct store_value v[] = {SV_TEXT(dataset), SV_TEXT(sha256), SV_INT(exclude_id)};
    return store_query_int(s,
                           "SELECT id FROM ferry_datafiles WHERE dataset = $1 AND sha256 = $2 "
                           "AND state = 'loaded' AND id <> $3 ORDER BY id DESC LIMIT 1",
                           v, 3, id);
}

int datafiles_size_loaded(store *s, const char *dataset, int64_t size, int *seen)
{
    struct store_value v[] = {SV_TEXT(dataset), SV_INT(size)};
    int rc = store_query_int(s,
                             "SELECT 1 FROM ferry_datafiles WHERE dataset = $1 AND size = $2 AND "
                             "state = 'loaded' LIMIT 1",
                             v, 2, NULL);
    if (rc < 0)
        return rc;
    *seen = rc == 1;
    return 0;
}

int datafiles_claim(store *s, const char *owner, int64_t lease_ms, int64_t *id)
{
    char now[CLOCK_ISO_MAX], lease[CLOCK_ISO_MAX];
    clock_now_iso(now);
    iso_in(lease_ms, lease);
    for (int attempt = 0; attempt < 8; attempt++) {
        int64_t cand = 0;
        struct store_value q[] = {SV_TEXT(now)};
        /* PostgreSQL: skip rows a running load holds (locked in its transaction),
         * so an idle worker never queues behind it. */
        int pg = store_backend(s) == STORE_POSTGRESQL;
        int rc = store_query_int(
            s,
            pg ? "SELECT id FROM ferry_datafiles WHERE source = 'upload' AND (state = "
                 "'received' OR (state = 'loading' AND lease_expires_at < $1)) ORDER BY id "
                 "LIMIT 1 FOR UPDATE SKIP LOCKED"
               : "SELECT id FROM ferry_datafiles WHERE source = 'upload' AND (state = "
                 "'received' OR (state = 'loading' AND lease_expires_at < $1)) ORDER BY id "
                 "LIMIT 1",
            q, 1, &cand);
        if (rc <= 0)
            return rc;
        struct store_value u[] = {SV_TEXT(owner), SV_TEXT(lease), SV_TEXT(now), SV_INT(cand)};
        int64_t changed = 0;
        rc = store_execv(s,
                         "UPDATE ferry_datafiles SET state = 'loading', lease_owner = $1, "
                         "lease_expires_at = $2, started_at = $3, progress = 0, "
                         "info = 'queued for loading' WHERE id = $4 AND source = 'upload' AND "
                         "(state = 'received' OR "
                         "(state = 'loading' AND lease_expires_at < $3))",
                         u, 4, &changed);
        if (rc < 0)
            return rc;
        if (changed == 1) {
            *id = cand;
            return 1;
        }
    }
    return 0;
}

int datafiles_claim_id(store *s, int64_t id, const char *owner, int64_t lease_ms)
{
    char now[CLOCK_ISO_MAX], lease[CLOCK_ISO_MAX];
    clock_now_iso(now);
    iso_in(lease_ms, lease);
    struct store_value u[] = {SV_TEXT(owner), SV_TEXT(lease), SV_TEXT(now), SV_INT(id)};
    int64_t changed = 0;
    int rc = store_execv(s,
                         "UPDATE ferry_datafiles SET state = 'loading', lease_owner = $1, "
                         "lease_expires_at = $2, started_at = $3, progress = 0, "
                         "info = 'queued for loading' WHERE id = $4 AND state = 'received'",
                         u, 4, &changed);
    return rc < 0 ? rc : changed == 1;
}

int datafiles_release(store *s, int64_t id, const char *owner)
{
    struct store_value v[] = {SV_INT(id), SV_TEXT(owner)};
    int64_t changed = 0;
    int rc = store_execv(s,
                         "UPDATE ferry_datafiles SET state = 'received', lease_owner = NULL, "
                         "lease_expires_at = NULL, progress = 0, info = 'waiting to be loaded' "
                         "WHERE id = $1 AND state = 'loading' AND lease_owner = $2",
                         v, 2, &changed);
    return rc < 0 ? rc : changed == 1;
}

int datafiles_fail_abandoned(store *s, int64_t *n)
{
    char now[CLOCK_ISO_MAX];
    clock_now_iso(now);
    struct store_value v[] = {SV_TEXT(now)};
    return store_execv(s,
                       "UPDATE ferry_datafiles SET state = 'failed', progress = 100, "
                       "error = 'interrupted: the import stopped before it finished', "
                       "info = 'interrupted', finished_at = $1, lease_owner = NULL, "
                       "lease_expires_at = NULL WHERE source = 'file' AND state = 'loading' AND "
                       "lease_expires_at < $1",
                       v, 1, n);
}

int datafiles_progress(store *s, int64_t id, const char *owner, int progress, const char *info,
                       int64_t lease_ms)
{
    char lease[CLOCK_ISO_MAX];
    iso_in(lease_ms, lease);
    struct store_value v[] = {SV_INT(progress), SV_TEXT(info ? info : ""), SV_TEXT(lease),
                              SV_INT(id), SV_TEXT(owner)};
    return store_execv(s,
                       "UPDATE ferry_datafiles SET progress = $1, info = $2, lease_expires_at = $3 "
                       "WHERE id = $4 AND lease_owner = $5 AND state = 'loading'",
                       v, 5, NULL);
}

int datafiles_finish(store *s, int64_t id, const char *owner, const char *state, int64_t rows,
                     const char *info, const char *error, const char *errors)
{
    char now[CLOCK_ISO_MAX];
    clock_now_iso(now);
    struct store_value v[] = {
        SV_TEXT(state),
        rows >= 0 ? SV_INT(rows) : SV_NULL(),
        SV_TEXT(info ? info : ""),
        SV_TEXT(error),
        SV_TEXT(errors),
        SV_TEXT(now),
        SV_INT(id),
        SV_TEXT(owner),
    };
    return store_execv(s,
                       "UPDATE ferry_datafiles SET state = $1, rows = $2, info = $3, error = $4, "
                       "errors = $5, progress = 100, finished_at = $6, lease_owner = NULL, "
                       "lease_expires_at = NULL WHERE id = $7 AND (CAST($8 AS TEXT) IS NULL OR "
                       "lease_owner = $8)",
                       v, sizeof v / sizeof v[0], NULL);
}

void datafile_free(struct datafile *d)
{
    if (!d)
        return;
    char **strs[] = {&d->dataset,    &d->name,       &d->sha256,      &d->source,     &d->mode,
                     &d->options,    &d->state,      &d->info,        &d->error,      &d->errors,
                     &d->created_at, &d->started_at, &d->finished_at, &d->uploaded_by};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    free(d);
}

static char *col_dup(store_stmt *st, int col)
{
    const char *t = store_column_text(st, col, NULL);
    return t ? strdup(t) : NULL;
}

int datafiles_get(store *s, int64_t id, struct datafile **out)
{
    store_stmt *st = NULL;
    *out = NULL;
    int rc = store_prepare(s,
                           "SELECT id, dataset, name, sha256, size, source, mode, options, state, "
                           "progress, info, rows, error, errors, created_at, started_at, "
                           "finished_at, run_id, uploaded_by FROM ferry_datafiles WHERE id = $1",
                           &st);
    if (rc < 0)
        return rc;
    if ((rc = store_bind(st, 1, SV_INT(id))) < 0)
        goto out;
    rc = store_step(st);
    if (rc == STORE_DONE) {
        rc = ERR_NOTFOUND;
        goto out;
    }
    if (rc < 0)
        goto out;
    struct datafile *d = calloc(1, sizeof *d);
    if (!d) {
        rc = ERR_NOMEM;
        goto out;
    }
    d->id = store_column_int(st, 0);
    d->dataset = col_dup(st, 1);
    d->name = col_dup(st, 2);
    d->sha256 = col_dup(st, 3);
    d->size = store_column_int(st, 4);
    d->source = col_dup(st, 5);
    d->mode = col_dup(st, 6);
    d->options = col_dup(st, 7);
    d->state = col_dup(st, 8);
    d->progress = (int)store_column_int(st, 9);
    d->info = col_dup(st, 10);
    d->rows = store_column_is_null(st, 11) ? -1 : store_column_int(st, 11);
    d->error = col_dup(st, 12);
    d->errors = col_dup(st, 13);
    d->created_at = col_dup(st, 14);
    d->started_at = col_dup(st, 15);
    d->finished_at = col_dup(st, 16);
    d->run_id = store_column_is_null(st, 17) ? 0 : store_column_int(st, 17);
    d->uploaded_by = col_dup(st, 18);
    if (!d->dataset || !d->name || !d->sha256 || !d->state || !d->created_at) {
        datafile_free(d);
        rc = ERR_NOMEM;
        goto out;
    }
    *out = d;
    rc = 0;
out:
    store_stmt_reset(st);
    return rc;
}

void datafile_write_json(const struct datafile *d, struct json_writer *w)
{
    char pct[8];
    snprintf(pct, sizeof pct, "%d", d->progress);
    json_object_begin(w);
    json_key(w, "id");
    json_int(w, d->id);
    json_key(w, "dataset");
    json_string(w, d->dataset);
    json_key(w, "name");
    json_string(w, d->name);
    json_key(w, "sha256");
    json_string(w, d->sha256);
    json_key(w, "size");
    json_int(w, d->size);
    json_key(w, "source");
    json_string(w, d->source);
    json_key(w, "mode");
    json_string(w, d->mode);
    json_key(w, "state");
    json_string(w, d->state);
    json_key(w, "progress");
    json_string(w, pct);
    json_key(w, "info");
    json_string(w, d->info ? d->info : "");
    json_key(w, "rows");
    if (d->rows >= 0)
        json_int(w, d->rows);
    else
        json_null(w);
    json_key(w, "error");
    json_string(w, d->error);
    json_key(w, "errors");
    if (d->errors)
        json_raw(w, d->errors, strlen(d->errors));
    else
        json_null(w);
    json_key(w, "uploaded_by");
    json_string(w, d->uploaded_by);
    json_key(w, "run_id");
    if (d->run_id > 0)
        json_int(w, d->run_id);
    else
        json_null(w);
    json_key(w, "created_at");
    json_string(w, d->created_at);
    json_key(w, "started_at");
    json_string(w, d->started_at);
    json_key(w, "finished_at");
    json_string(w, d->finished_at);
    json_object_end(w);
}
