/*
 * catalog: the datasets ferry knows (table ferry_datasets): each dataset's
 * columns with their types and labels, its key, row count, source and times.
 * The API, the CLI and the loaders read and write datasets through here.
 *
 * Dataset names are identifiers a user types: [a-z][a-z0-9_]*, at most
 * CATALOG_NAME_MAX bytes (room for the suffixes of staging and backup tables
 * within the 63-byte identifier limit), not starting with "ferry_" (the
 * metadata prefix on SQLite).
 *
 * Keys: a dataset has a primary key of one or more of its columns, declared
 * by the user, or else the row id ferry adds: a column "id" (integer, marked
 * generated) numbered 1, 2, 3, ... in load order and never reused, which is
 * also the key the data API pages by.
 *
 * Ownership: a catalog_dataset and everything it points to is one allocation
 * tree freed by catalog_dataset_free.
 */
#ifndef FERRY_INGEST_CATALOG_H
#define FERRY_INGEST_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/coltype.h"
#include "store/store.h"

struct json_writer;

#define CATALOG_NAME_MAX 42
#define CATALOG_ROW_ID   "id"

struct catalog_column {
    char *name;  /* the SQL column name */
    char *label; /* the original header text */
    enum coltype type;
    int nullable;
    int generated; /* the row id ferry adds */
};

struct catalog_dataset {
    char *name;
    char *schema; /* the store schema the table lives in */
    char *kind;   /* "table" | "view" */
    struct catalog_column *cols;
    size_t ncols;
    char **key; /* primary key column names */
    size_t nkey;
    char *source; /* "file" | "upload" | "pipeline" | NULL */
    int64_t row_count;
    int is_public;
    char *created_at, *updated_at;
};

/* 1 if name is a valid dataset name (rules above), else 0. */
int catalog_name_valid(const char *name);

/* Read one dataset. Returns 0, ERR_NOTFOUND, or a store error. */
int catalog_get(store *s, const char *name, struct catalog_dataset **out);

/* Insert the dataset, or replace everything recorded about it (created_at is
 * kept when it exists). updated_at is set to now. Returns 0 or <0. */
int catalog_save(store *s, const struct catalog_dataset *d);

/* Set the row count and updated_at only. */
int catalog_set_row_count(store *s, const char *name, int64_t rows);

/* Mark the dataset public (readable by anonymous callers of the data API) or
 * not. Returns 0, ERR_NOTFOUND (no such dataset), or a store error. */
int catalog_set_public(store *s, const char *name, int is_public);

/* All datasets ordered by name; *out is a malloc'd array of *n pointers, each
 * freed with catalog_dataset_free, then the array with free(). */
int catalog_list(store *s, struct catalog_dataset ***out, size_t *n);

void catalog_dataset_free(struct catalog_dataset *d); /* accepts NULL */
void catalog_list_free(struct catalog_dataset **list, size_t n);

/* The column called name, or NULL. */
const struct catalog_column *catalog_column_find(const struct catalog_dataset *d, const char *name);

/* Write the dataset as a JSON object: name, kind, columns [{name, type,
 * label, nullable, generated}], key, row_count, source, public, created_at,
 * updated_at. The same document the data API serves (which adds links). */
void catalog_write_json(const struct catalog_dataset *d, struct json_writer *w);

/* The same members, into an object the caller has begun (and ends). */
void catalog_write_members(const struct catalog_dataset *d, struct json_writer *w);

/* Parse the stored JSON of the columns and the key into d (appending to
 * d->cols / d->key). ERR_STORE for a document that is not what catalog_save
 * writes, ERR_NOMEM. (catalog_parse.c: jansson lives apart from our JSON
 * writer, whose names it shares.) */
int catalog_parse_columns(const char *text, struct catalog_dataset *d);
int catalog_parse_key(const char *text, struct catalog_dataset *d);

#endif
