/*
 * catalog: see catalog.h. The columns and the key are stored as JSON text in
 * ferry_datasets (columns, primary_key), written with our JSON writer and read
 * back with jansson (catalog_parse.c); a document that does not parse is reported as a store
 * error rather than trusted.
 */
#include "ingest/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#define CATALOG_JSON_MAX (4u << 20)

int catalog_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > CATALOG_NAME_MAX || !(name[0] >= 'a' && name[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return strncmp(name, "ferry_", 6) != 0;
}

void catalog_dataset_free(struct catalog_dataset *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ncols; i++) {
        free(d->cols[i].name);
        free(d->cols[i].label);
    }
    free(d->cols);
    for (size_t i = 0; i < d->nkey; i++)
        free(d->key[i]);
    free(d->key);
    free(d->name);
    free(d->schema);
    free(d->kind);
    free(d->source);
    free(d->created_at);
    free(d->updated_at);
    free(d);
}

void catalog_list_free(struct catalog_dataset **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        catalog_dataset_free(list[i]);
    free(list);
}

const struct catalog_column *catalog_column_find(const struct catalog_dataset *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i].name, name) == 0)
            return &d->cols[i];
    return NULL;
}

/* ---- JSON of the columns and key -------------------------------------------------- */

static void write_columns(const struct catalog_dataset *d, struct json_writer *w)
{
    json_array_begin(w);
    for (size_t i = 0; i < d->ncols; i++) {
        const struct catalog_column *c = &d->cols[i];
        json_object_begin(w);
        json_key(w, "name");
        json_string(w, c->name);
        json_key(w, "type");
        json_string(w, coltype_name(c->type));
        json_key(w, "label");
        json_string(w, c->label ? c->label : c->name);
        json_key(w, "nullable");
        json_bool(w, c->nullable);
        json_key(w, "generated");
        json_bool(w, c->generated);
        json_object_end(w);
    }
    json_array_end(w);
}

static void write_key(const struct catalog_dataset *d, struct json_writer *w)
{
    json_array_begin(w);
    for (size_t i = 0; i < d->nkey; i++)
        json_string(w, d->key[i]);
    json_array_end(w);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- reading ------------------------------------------------------------------------ */

#define SELECT_COLUMNS                                                                     \
    "SELECT name, kind, schema_name, columns, primary_key, source, row_count, is_public, " \
    "created_at, updated_at FROM ferry_datasets"

static int read_row(store_stmt *st, struct catalog_dataset **out)
{
    struct catalog_dataset *d = calloc(1, sizeof *d);
    int rc = ERR_NOMEM;
    if (!d)
        return ERR_NOMEM;
    d->name = dup_or_null(store_column_text(st, 0, NULL));
    d->kind = dup_or_null(store_column_text(st, 1, NULL));
    d->schema = dup_or_null(store_column_text(st, 2, NULL));
    d->source = dup_or_null(store_column_text(st, 5, NULL));
    d->row_count = store_column_int(st, 6);
    d->is_public = store_column_int(st, 7) != 0;
    d->created_at = dup_or_null(store_column_text(st, 8, NULL));
    d->updated_at = dup_or_null(store_column_text(st, 9, NULL));
    if (!d->name || !d->kind || !d->schema || !d->created_at || !d->updated_at)
        goto fail;
    if ((rc = catalog_parse_columns(store_column_text(st, 3, NULL), d)) < 0 ||
        (rc = catalog_parse_key(store_column_text(st, 4, NULL), d)) < 0)
        goto fail;
    *out = d;
    return 0;
fail:
    catalog_dataset_free(d);
    return rc;
}

int catalog_get(store *s, const char *name, struct catalog_dataset **out)
{
    store_stmt *st = NULL;
    *out = NULL;
    int rc = store_prepare(s, SELECT_COLUMNS " WHERE name = $1", &st);
    if (rc < 0)
        return rc;
    if ((rc = store_bind(st, 1, SV_TEXT(name))) < 0)
        goto out;
    rc = store_step(st);
    if (rc == STORE_ROW)
        rc = read_row(st, out);
    else if (rc == STORE_DONE)
        rc = ERR_NOTFOUND;
out:
    store_stmt_reset(st);
    return rc;
}

int catalog_list(store *s, struct catalog_dataset ***out, size_t *n)
{
    store_stmt *st = NULL;
    struct catalog_dataset **list = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *n = 0;
    int rc = store_prepare(s, SELECT_COLUMNS " ORDER BY name", &st);
    if (rc < 0)
        return rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct catalog_dataset **nl = realloc(list, ncap * sizeof *nl);
            if (!nl) {
                rc = ERR_NOMEM;
                break;
            }
            list = nl;
            cap = ncap;
        }
        if ((rc = read_row(st, &list[len])) < 0)
            break;
        len++;
    }
    store_stmt_reset(st);
    if (rc < 0) {
        catalog_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------ */

int catalog_save(store *s, const struct catalog_dataset *d)
{
    struct buf cols, key;
    struct json_writer w;
    char now[CLOCK_ISO_MAX];
    int rc;
    buf_init(&cols, CATALOG_JSON_MAX);
    buf_init(&key, CATALOG_JSON_MAX);
    json_init(&w, &cols);
    write_columns(d, &w);
    if ((rc = json_finish(&w)) < 0)
        goto out;
    json_init(&w, &key);
    write_key(d, &w);
    if ((rc = json_finish(&w)) < 0)
        goto out;
    clock_now_iso(now);
    struct store_value v[] = {
        SV_TEXT(d->name),
        SV_TEXT(d->kind ? d->kind : "table"),
        SV_TEXT(d->schema),
        SV_TEXTN(buf_cstr(&cols), cols.len),
        SV_TEXTN(buf_cstr(&key), key.len),
        SV_TEXT(d->source),
        SV_INT(d->row_count),
        SV_BOOL(d->is_public),
        SV_TEXT(now),
    };
    rc = store_execv(s,
                     "INSERT INTO ferry_datasets (name, kind, schema_name, columns, primary_key, "
                     "source, row_count, is_public, created_at, updated_at) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
                     "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                     "schema_name = excluded.schema_name, columns = excluded.columns, "
                     "primary_key = excluded.primary_key, source = excluded.source, "
                     "row_count = excluded.row_count, is_public = excluded.is_public, "
                     "updated_at = excluded.updated_at",
                     v, sizeof v / sizeof v[0], NULL);
out:
    buf_free(&cols);
    buf_free(&key);
    return rc;
}

int catalog_set_row_count(store *s, const char *name, int64_t rows)
{
    char now[CLOCK_ISO_MAX];
    clock_now_iso(now);
    struct store_value v[] = {SV_INT(rows), SV_TEXT(now), SV_TEXT(name)};
    return store_execv(
        s, "UPDATE ferry_datasets SET row_count = $1, updated_at = $2 WHERE name = $3", v, 3, NULL);
}

int catalog_set_public(store *s, const char *name, int is_public)
{
    int64_t changed = 0;
    struct store_value v[] = {SV_BOOL(is_public), SV_TEXT(name)};
    int rc =
        store_execv(s, "UPDATE ferry_datasets SET is_public = $1 WHERE name = $2", v, 2, &changed);
    if (rc == 0 && changed == 0)
        rc = ERR_NOTFOUND;
    return rc;
}

void catalog_write_json(const struct catalog_dataset *d, struct json_writer *w)
{
    json_object_begin(w);
    catalog_write_members(d, w);
    json_object_end(w);
}

void catalog_write_members(const struct catalog_dataset *d, struct json_writer *w)
{
    json_key(w, "name");
    json_string(w, d->name);
    json_key(w, "kind");
    json_string(w, d->kind);
    json_key(w, "columns");
    write_columns(d, w);
    json_key(w, "key");
    write_key(d, w);
    json_key(w, "row_count");
    json_int(w, d->row_count);
    json_key(w, "source");
    json_string(w, d->source);
    json_key(w, "public");
    json_bool(w, d->is_public);
    json_key(w, "created_at");
    json_string(w, d->created_at);
    json_key(w, "updated_at");
    json_string(w, d->updated_at);
}
