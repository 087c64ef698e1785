/*
 * store_int: internals shared by the files of the store module (store.c, the
 * backends store_sqlite.c / store_pg.c, and migrate.c). No other module includes
 * this header.
 *
 * A backend is one constant `struct store_backend` (a vtable). store.c parses
 * the URL, picks the backend and forwards every public call to it; what is the
 * same for every backend (argument checks, identifier quoting, the query
 * helpers, the pool, URL handling) lives in store.c only.
 *
 * Each backend's objects start with the common headers below, so store.c can
 * reach the vtable and the error message of any of them:
 *
 *   struct sqlite_conn   { struct store base; sqlite3 *db; ... };
 *   struct sqlite_stmt   { struct store_stmt base; sqlite3_stmt *st; ... };
 *   struct sqlite_loader { struct store_loader base; ... };
 *
 * The backend allocates and frees its own objects; store.c never does.
 */
#ifndef FERRY_STORE_STORE_INT_H
#define FERRY_STORE_STORE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Bytes kept of the last error message (longer ones are truncated). */
#define STORE_ERRMSG_MAX 1024

/* Common header of a connection. */
struct store {
    const struct store_backend *be;
    const char *default_schema;    /* user datasets; set by open, owned by the backend */
    char errmsg[STORE_ERRMSG_MAX]; /* last error, "" when none yet */
    uint64_t released_us;          /* monotonic time it last went back to its pool */
};

/* Common header of a prepared statement. */
struct store_stmt {
    store *s; /* the connection that owns it */
};

/* Common header of a bulk loader. */
struct store_loader {
    store *s;
    int64_t rows; /* rows added successfully */
    int64_t seen; /* rows offered (the row number of errors) */
};

/*
 * The backend vtable. Every operation is required unless marked optional.
 * Return conventions are those of the public function of the same name in
 * store.h; arguments have already been checked for NULL by store.c.
 */
struct store_backend {
    const char *name;             /* "sqlite" | "postgresql" */
    enum store_backend_kind kind; /* STORE_SQLITE | STORE_POSTGRESQL */
    int ping_on_acquire;          /* the pool pings before handing out a connection */

    /* target is the URL with the scheme removed for SQLite (the path), the whole
     * URL for PostgreSQL. opt is never NULL. On failure *out stays NULL and a
     * one-line reason (no secrets) is in errbuf. On success s->default_schema
     * is set (SQLite: "main"; PostgreSQL: opt->main_schema, NULL = "public"). */
    int (*open)(const char *target, const struct store_options *opt, store **out, char *errbuf,
                size_t errlen);
    void (*close)(store *s); /* rolls back, frees statements and s */
    int (*ping)(store *s);
    /* Optional: a local, free check that the connection is known to be dead (a
     * query already failed on it). The pool closes such connections on release. */
    int (*broken)(const store *s);
    /* Optional: the message of the database for the last error; NULL means
     * store.c returns s->errmsg, which backends normally fill instead. */
    const char *(*errmsg)(const store *s);

    int (*exec)(store *s, const char *sql); /* several statements, no binds */
    int (*prepare)(store *s, const char *sql, store_stmt **out);
    /* store_prepare_stream: a new statement outside the cache, freed by reset;
     * the backend keeps a list of those in use so that clean and close reach
     * them. */
    int (*prepare_stream)(store *s, const char *sql, store_stmt **out);
    int (*bind)(store_stmt *st, int idx, struct store_value v);
    int (*step)(store_stmt *st);
    int64_t (*changes)(store_stmt *st);
    int (*column_count)(store_stmt *st);
    const char *(*column_name)(store_stmt *st, int col);
    enum store_type (*column_type)(store_stmt *st, int col);
    int64_t (*column_int)(store_stmt *st, int col);
    double (*column_double)(store_stmt *st, int col);
    const char *(*column_text)(store_stmt *st, int col, size_t *len);
    void (*reset)(store_stmt *st);

    int (*begin)(store *s);
    int (*commit)(store *s);
    int (*rollback)(store *s); /* only called when in_transaction() is true */
    int (*in_transaction)(const store *s);
    /* Return a connection to a clean state before the pool reuses it: reset
     * statements left in use (streams included: that frees them and ends a
     * transaction a stream opened), roll back an open transaction. */
    void (*clean)(store *s);

    /* schema is never NULL here (store.c substitutes s->default_schema). */
    int (*table_exists)(store *s, const char *schema, const char *table, int *exists);
    int (*table_columns)(store *s, const char *schema, const char *table,
                         struct store_column_info **cols, size_t *n);

    int (*loader_begin)(store *s, const char *schema, const char *table, const char *const *columns,
                        size_t ncolumns, store_loader **out);
    int (*loader_row)(store_loader *ld, const struct store_value *values);
    int (*loader_end)(store_loader *ld, int64_t *rows); /* flushes, frees; rows may be NULL */
    void (*loader_abort)(store_loader *ld);
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

/* Set s->errmsg from a printf format (truncated to STORE_ERRMSG_MAX). */
void store__set_errmsg(store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void store__set_errmsgv(store *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Write a one-line message into a caller's errbuf (NULL or 0 length: ignored). */
void store__errbuf(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Check an identifier (the rules of store_quote_ident). Returns 0 or ERR_INVAL. */
int store__ident_check(const char *name, size_t len);

/* ---- the statement cache list (both backends) ---------------------------------------- */

/* An intrusive doubly-linked list, most recently used first. A backend's cached
 * statement embeds a struct store_lru_node and gets back from a node with
 * STORE_LRU_ENTRY; the connection holds the struct store_lru (zeroed: empty). */
struct store_lru_node {
    struct store_lru_node *prev, *next;
};

struct store_lru {
    struct store_lru_node *head, *tail;
    int count;
};

/* The struct of type containing node (NULL stays NULL) at member. */
#define STORE_LRU_ENTRY(node, type, member) \
    ((node) ? (type *)(void *)((char *)(node)-offsetof(type, member)) : (type *)NULL)

/* Take n (borrowed, in l) out of l. */
void store__lru_unlink(struct store_lru *l, struct store_lru_node *n);

/* Put n (borrowed, not in any list) at the head of l. */
void store__lru_push_front(struct store_lru *l, struct store_lru_node *n);

/* The FNV-1a hash of SQL text, the cache key's quick check. */
uint32_t store__hash_sql(const char *sql);

/* ---- introspection and the loader (both backends) ------------------------------------ */

/* Flags of store__table_columns. */
#define STORE__COLUMNS_LOWER_TYPES 1 /* ASCII-lower-case the type text */

/* Run sql (borrowed: one statement taking $1 schema and $2 table and returning
 * name, type, notnull, pk in order) and collect its rows into a new array for
 * *cols (taken by the caller: store_columns_free) and *n. NULL name or type
 * becomes "". No row is ERR_NOTFOUND ("no table schema.table" in errmsg);
 * otherwise returns 0 or the error of the query. */
int store__table_columns(store *s, const char *sql, const char *schema, const char *table,
                         int flags, struct store_column_info **cols, size_t *n);

/* Append to out the loader's target, "schema"."table" ("col1", "col2", ...),
 * quoted by store_quote_qualified and store_quote_ident. Returns 0 or their error
 * (out may then hold part of it). */
int store__append_target(store *s, const char *schema, const char *table,
                         const char *const *columns, size_t ncolumns, struct buf *out);

#endif
