/*
 * catalog_parse: the catalog's stored JSON (columns, primary_key) read back
 * with jansson. Apart from catalog.c because jansson's json_string/json_null
 * share names with our JSON writer's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "ingest/catalog.h"

/* Parse text as a JSON array and allocate room for its items (elem bytes
 * each, at least one). Returns the array (the caller decrefs it) and its
 * length, or NULL with *rc set: ERR_STORE for anything but an array,
 * ERR_NOMEM. */
static json_t *load_array(const char *text, size_t elem, void **items, size_t *n, int *rc)
{
    json_error_t jerr;
    json_t *arr = json_loads(text, 0, &jerr);
    *rc = ERR_STORE;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return NULL;
    }
    *n = json_array_size(arr);
    if (!(*items = calloc(*n ? *n : 1, elem))) {
        *rc = ERR_NOMEM;
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int catalog_parse_columns(const char *text, struct catalog_dataset *d)
{
    size_t n = 0;
    int rc;
    void *items = NULL;
    json_t *arr = load_array(text, sizeof *d->cols, &items, &n, &rc);
    if (!arr)
        return rc;
    d->cols = items;
    rc = ERR_STORE;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *label = json_string_value(json_object_get(o, "label"));
        struct catalog_column *c = &d->cols[d->ncols];
        if (!name || !type || coltype_from_name(type, strlen(type), &c->type) < 0)
            goto out;
        c->name = strdup(name);
        c->label = strdup(label ? label : name);
        c->nullable = json_is_true(json_object_get(o, "nullable"));
        c->generated = json_is_true(json_object_get(o, "generated"));
        d->ncols++;
        if (!c->name || !c->label) {
            rc = ERR_NOMEM;
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(arr);
    return rc;
}

int catalog_parse_key(const char *text, struct catalog_dataset *d)
{
    size_t n = 0;
    int rc;
    void *items = NULL;
    json_t *arr = load_array(text, sizeof *d->key, &items, &n, &rc);
    if (!arr)
        return rc;
    d->key = items;
    rc = ERR_STORE;
    for (size_t i = 0; i < n; i++) {
        const char *k = json_string_value(json_array_get(arr, i));
        if (!k)
            goto out;
        if (!(d->key[d->nkey++] = strdup(k))) {
            rc = ERR_NOMEM;
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(arr);
    return rc;
}
