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

int catalog_parse_columns(const char *text, struct catalog_dataset *d)
{
    json_error_t jerr;
    json_t *arr = json_loads(text, 0, &jerr);
    int rc = ERR_STORE;
    if (!json_is_array(arr))
        goto out;
    size_t n = json_array_size(arr);
    d->cols = calloc(n ? n : 1, sizeof *d->cols);
    if (!d->cols) {
        rc = ERR_NOMEM;
        goto out;
    }
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
    json_error_t jerr;
    json_t *arr = json_loads(text, 0, &jerr);
    int rc = ERR_STORE;
    if (!json_is_array(arr))
        goto out;
    size_t n = json_array_size(arr);
    d->key = calloc(n ? n : 1, sizeof *d->key);
    if (!d->key) {
        rc = ERR_NOMEM;
        goto out;
    }
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
