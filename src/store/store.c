/*
 * store: the backend-neutral half of the store module.
 *
 * - URL parsing picks a backend (struct store_backend, store_int.h) and hands it
 *   the rest of the URL; every public call on a connection, statement or loader
 *   checks its arguments here and forwards to the vtable.
 * - Identifier quoting (store_quote_ident) is implemented once, here, for every
 *   backend: both SQLite and PostgreSQL use "..." with "" doubling.
 * - The query helpers (store_execv, store_query_text/int) are written on top of
 *   prepare/bind/step, so backends only implement the primitives.
 * - Code both backends share is here too, named store__: the statement cache's
 *   list and SQL hash, collecting table_columns rows from the backend's
 *   introspection query, and the quoted target of a loader.
 * - The pool is generic: a mutex, a condition variable, a stack of idle
 *   connections and a count of opened ones (never more than max_size). A waiter
 *   sleeps on the condition variable with a CLOCK_MONOTONIC deadline.
 *   Connections are opened outside the lock (opening may take a network round
 *   trip); the slot is reserved first so the bound holds.
 */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_int.h"

/* ---- errors ------------------------------------------------------------------------ */

void store__set_errmsgv(store *s, const char *fmt, va_list ap)
{
    if (!s)
        return;
    if (vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap) < 0)
        s->errmsg[0] = '\0';
}

void store__set_errmsg(store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    store__set_errmsgv(s, fmt, ap);
    va_end(ap);
}

void store__errbuf(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(errbuf, errlen, fmt, ap) < 0)
        errbuf[0] = '\0';
    va_end(ap);
}

/* ---- URLs ---------------------------------------------------------------------------- */

static int has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* Split a URL into its backend and the backend's target (borrowed from url):
 * the file path for SQLite, the whole URL for PostgreSQL. */
static int url_parse(const char *url, enum store_backend_kind *kind, const char **target)
{
    if (!url || !*url)
        return ERR_INVAL;
    if (has_prefix_ci(url, "postgresql://") || has_prefix_ci(url, "postgres://")) {
        *kind = STORE_POSTGRESQL;
        *target = url;
        return 0;
    }
    const char *path = NULL;
    if (has_prefix_ci(url, "sqlite://"))
        path = url + strlen("sqlite://");
    else if (has_prefix_ci(url, "sqlite:"))
        path = url + strlen("sqlite:");
    else if (!strstr(url, "://") && (has_suffix_ci(url, ".db") || has_suffix_ci(url, ".sqlite") ||
                                     has_suffix_ci(url, ".sqlite3")))
        path = url;
    if (!path || !*path)
        return ERR_INVAL;
    *kind = STORE_SQLITE;
    *target = path;
    return 0;
}

int store_url_backend(const char *url, enum store_backend_kind *out)
{
    enum store_backend_kind kind;
    const char *target;
    int rc = url_parse(url, &kind, &target);
    if (rc < 0)
        return rc;
    if (out)
        *out = kind;
    return 0;
}

/* The backend compiled in for a kind, or NULL. */
static const struct store_backend *backend_for(enum store_backend_kind kind)
{
    switch (kind) {
    case STORE_SQLITE:
        return &store_sqlite_backend;
    case STORE_POSTGRESQL:
        return &store_pg_backend;
    }
    return NULL;
}

/* ---- connections ------------------------------------------------------------------- */

struct store_value store_value_text(const char *s)
{
    if (!s)
        return SV_NULL();
    return SV_TEXTN(s, strlen(s));
}

/* Resolve URL and options for opening; writes the backend and effective options. */
static int open_prepare(const char *url, const struct store_options *opt,
                        const struct store_backend **be, const char **target,
                        struct store_options *o, char *errbuf, size_t errlen)
{
    enum store_backend_kind kind;
    if (url_parse(url, &kind, target) < 0) {
        store__errbuf(errbuf, errlen,
                      "unrecognised database URL (expected sqlite:PATH, a path ending in "
                      ".db/.sqlite/.sqlite3, or postgresql://...)");
        return ERR_INVAL;
    }
    *be = backend_for(kind);
    if (!*be) {
        store__errbuf(errbuf, errlen, "this database backend is not built in");
        return ERR_UNSUPPORTED;
    }
    if (opt)
        *o = *opt;
    else
        memset(o, 0, sizeof *o);
    if (o->busy_timeout_ms <= 0)
        o->busy_timeout_ms = 5000;
    return 0;
}

int store_open(const char *url, const struct store_options *opt, store **out, char *errbuf,
               size_t errlen)
{
    if (!out)
        return ERR_INVAL;
    *out = NULL;
    const struct store_backend *be;
    const char *target;
    struct store_options o;
    int rc = open_prepare(url, opt, &be, &target, &o, errbuf, errlen);
    if (rc < 0)
        return rc;
    rc = be->open(target, &o, out, errbuf, errlen);
    if (rc < 0)
        *out = NULL;
    return rc;
}

static double mono_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int store_wait(const char *url, const struct store_options *opt, int wait_sec, char *errbuf,
               size_t errlen)
{
    enum store_backend_kind kind;
    const char *target;
    if (url_parse(url, &kind, &target) < 0) {
        store__errbuf(errbuf, errlen, "unrecognised database URL");
        return ERR_INVAL;
    }
    if (kind == STORE_SQLITE)
        return 0;
    double start = mono_sec(), last_log = start;
    int pause_ms = 100, attempts = 0;
    for (;;) {
        store *s = NULL;
        int rc = store_open(url, opt, &s, errbuf, errlen);
        attempts++;
        if (rc == 0) {
            store_close(s);
            if (attempts > 1)
                log_info("database is accepting connections", LF_INT("attempts", attempts));
            return 0;
        }
        double now = mono_sec();
        if (rc != ERR_UNAVAILABLE || now - start >= (double)wait_sec)
            return rc;
        if (attempts == 1 || now - last_log >= 5.0) {
            log_warn("waiting for the database", LF_STR("error", errbuf ? errbuf : ""),
                     LF_INT("waited_sec", (int64_t)(now - start)), LF_INT("wait_sec", wait_sec));
            last_log = now;
        }
        double left_ms = ((double)wait_sec - (now - start)) * 1000.0;
        int sleep_ms = (double)pause_ms < left_ms ? pause_ms : (int)left_ms + 1;
        struct timespec ts = {sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (pause_ms < 2000)
            pause_ms *= 2;
    }
}

void store_close(store *s)
{
    if (s)
        s->be->close(s);
}

enum store_backend_kind store_backend(const store *s)
{
    return s->be->kind;
}

const char *store_backend_name(const store *s)
{
    return s->be->name;
}

const char *store_errmsg(const store *s)
{
    if (!s)
        return "no connection";
    if (s->be->errmsg)
        return s->be->errmsg(s);
    return s->errmsg;
}

int store_ping(store *s)
{
    if (!s)
        return ERR_INVAL;
    return s->be->ping(s);
}

int store_exec(store *s, const char *sql)
{
    if (!s || !sql)
        return ERR_INVAL;
    return s->be->exec(s, sql);
}

int store_execv(store *s, const char *sql, const struct store_value *params, size_t n,
                int64_t *changes)
{
    store_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    if (rc < 0)
        return rc;
    rc = store_bind_all(st, params, n);
    if (rc < 0)
        goto out;
    while ((rc = store_step(st)) == STORE_ROW)
        ; /* rows of RETURNING are not read */
    if (rc < 0)
        goto out;
    if (changes)
        *changes = store_changes(st);
    rc = 0;
out:
    store_stmt_reset(st);
    return rc;
}

/* ---- prepared statements --------------------------------------------------------------- */

int store_prepare(store *s, const char *sql, store_stmt **out)
{
    if (!out)
        return ERR_INVAL;
    *out = NULL;
    if (!s || !sql)
        return ERR_INVAL;
    return s->be->prepare(s, sql, out);
}

int store_prepare_stream(store *s, const char *sql, store_stmt **out)
{
    if (!out)
        return ERR_INVAL;
    *out = NULL;
    if (!s || !sql)
        return ERR_INVAL;
    return s->be->prepare_stream(s, sql, out);
}

int store_bind(store_stmt *st, int idx, struct store_value v)
{
    if (!st)
        return ERR_INVAL;
    if (idx < 1) {
        store__set_errmsg(st->s, "bind index %d out of range", idx);
        return ERR_INVAL;
    }
    switch (v.type) {
    case STORE_NULL:
    case STORE_INT:
    case STORE_DOUBLE:
    case STORE_BOOL:
        break;
    case STORE_TEXT:
    case STORE_BLOB:
        if (!v.v.s.p && v.v.s.n > 0) {
            store__set_errmsg(st->s, "bind %d: NULL pointer with length %zu", idx, v.v.s.n);
            return ERR_INVAL;
        }
        break;
    default:
        store__set_errmsg(st->s, "bind %d: unknown value type %d", idx, (int)v.type);
        return ERR_INVAL;
    }
    return st->s->be->bind(st, idx, v);
}

int store_bind_all(store_stmt *st, const struct store_value *params, size_t n)
{
    if (!st || (n > 0 && !params) || n > 32766)
        return ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        int rc = store_bind(st, (int)i + 1, params[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int store_step(store_stmt *st)
{
    if (!st)
        return ERR_INVAL;
    return st->s->be->step(st);
}

int64_t store_changes(store_stmt *st)
{
    return st ? st->s->be->changes(st) : 0;
}

int store_column_count(store_stmt *st)
{
    return st ? st->s->be->column_count(st) : 0;
}

/* Is col a column of st? */
static int col_ok(store_stmt *st, int col)
{
    return st && col >= 0 && col < st->s->be->column_count(st);
}

const char *store_column_name(store_stmt *st, int col)
{
    return col_ok(st, col) ? st->s->be->column_name(st, col) : NULL;
}

enum store_type store_column_type(store_stmt *st, int col)
{
    return col_ok(st, col) ? st->s->be->column_type(st, col) : STORE_NULL;
}

int store_column_is_null(store_stmt *st, int col)
{
    return store_column_type(st, col) == STORE_NULL;
}

int64_t store_column_int(store_stmt *st, int col)
{
    return col_ok(st, col) ? st->s->be->column_int(st, col) : 0;
}

double store_column_double(store_stmt *st, int col)
{
    return col_ok(st, col) ? st->s->be->column_double(st, col) : 0.0;
}

const char *store_column_text(store_stmt *st, int col, size_t *len)
{
    if (len)
        *len = 0;
    return col_ok(st, col) ? st->s->be->column_text(st, col, len) : NULL;
}

void store_stmt_reset(store_stmt *st)
{
    if (st)
        st->s->be->reset(st);
}

/* Run a one-row query and leave st on the row; returns STORE_ROW, STORE_DONE or <0.
 * On STORE_DONE and on error st is already reset; on STORE_ROW the caller resets. */
static int query_one(store *s, const char *sql, const struct store_value *params, size_t n,
                     store_stmt **out)
{
    store_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    if (rc < 0)
        return rc;
    rc = store_bind_all(st, params, n);
    if (rc == 0)
        rc = store_step(st);
    if (rc == STORE_ROW && store_column_count(st) < 1) {
        store__set_errmsg(s, "query returns no columns");
        rc = ERR_INVAL;
    }
    if (rc != STORE_ROW) {
        store_stmt_reset(st);
        return rc;
    }
    *out = st;
    return STORE_ROW;
}

int store_query_text(store *s, const char *sql, const struct store_value *params, size_t n,
                     struct buf *out)
{
    store_stmt *st = NULL;
    if (!out)
        return ERR_INVAL;
    buf_reset(out);
    int rc = query_one(s, sql, params, n, &st);
    if (rc != STORE_ROW)
        return rc;
    size_t len = 0;
    const char *p = store_column_text(st, 0, &len);
    if (!p)
        rc = 0;
    else if ((rc = buf_append(out, p, len)) == 0)
        rc = 1;
    store_stmt_reset(st);
    return rc;
}

int store_query_int(store *s, const char *sql, const struct store_value *params, size_t n,
                    int64_t *out)
{
    store_stmt *st = NULL;
    int rc = query_one(s, sql, params, n, &st);
    if (rc != STORE_ROW)
        return rc;
    if (store_column_is_null(st, 0)) {
        rc = 0;
    } else {
        if (out)
            *out = store_column_int(st, 0);
        rc = 1;
    }
    store_stmt_reset(st);
    return rc;
}

/* ---- the backends' statement cache ------------------------------------------------------ */

void store__lru_unlink(struct store_lru *l, struct store_lru_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
    l->count--;
}

void store__lru_push_front(struct store_lru *l, struct store_lru_node *n)
{
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    l->head = n;
    if (!l->tail)
        l->tail = n;
    l->count++;
}

uint32_t store__hash_sql(const char *sql)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *sql; sql++)
        h = (h ^ (unsigned char)*sql) * 16777619u;
    return h;
}

/* ---- transactions ------------------------------------------------------------------------ */

int store_begin(store *s)
{
    if (!s)
        return ERR_INVAL;
    if (s->be->in_transaction(s)) {
        store__set_errmsg(s, "a transaction is already open (transactions do not nest)");
        return ERR_INVAL;
    }
    return s->be->begin(s);
}

int store_commit(store *s)
{
    if (!s)
        return ERR_INVAL;
    if (!s->be->in_transaction(s)) {
        store__set_errmsg(s, "commit without an open transaction");
        return ERR_INVAL;
    }
    return s->be->commit(s);
}

int store_rollback(store *s)
{
    if (!s || !s->be->in_transaction(s))
        return 0;
    return s->be->rollback(s);
}

int store_in_transaction(const store *s)
{
    return s ? s->be->in_transaction(s) : 0;
}

/* ---- identifiers ----------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left) and its code point, or 0
 * if the bytes are not valid UTF-8 (overlong forms, surrogates, > U+10FFFF). */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

int store__ident_check(const char *name, size_t len)
{
    if (!name || len == 0 || len > STORE_IDENT_MAX)
        return ERR_INVAL;
    const unsigned char *p = (const unsigned char *)name;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, len - i, &cp);
        if (k == 0)
            return ERR_INVAL;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) /* C0, DEL, C1; NUL included */
            return ERR_INVAL;
        i += k;
    }
    return 0;
}

int store_quote_identn(const char *name, size_t len, struct buf *out)
{
    if (!out)
        return ERR_INVAL;
    int rc = store__ident_check(name, len);
    if (rc < 0)
        return rc;
    size_t start = out->len;
    rc = buf_putc(out, '"');
    size_t from = 0;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (name[i] != '"')
            continue;
        rc = buf_append(out, name + from, i + 1 - from); /* up to and with the quote */
        if (rc == 0)
            rc = buf_putc(out, '"');
        from = i + 1;
    }
    if (rc == 0)
        rc = buf_append(out, name + from, len - from);
    if (rc == 0)
        rc = buf_putc(out, '"');
    if (rc < 0)
        buf_truncate(out, start);
    return rc;
}

int store_quote_ident(const char *name, struct buf *out)
{
    if (!name)
        return ERR_INVAL;
    return store_quote_identn(name, strlen(name), out);
}

const char *store_default_schema(const store *s)
{
    return s->default_schema;
}

int store_quote_qualified(store *s, const char *schema, const char *table, struct buf *out)
{
    if (!s || !out)
        return ERR_INVAL;
    size_t start = out->len;
    int rc = store_quote_ident(schema ? schema : s->default_schema, out);
    if (rc == 0)
        rc = buf_putc(out, '.');
    if (rc == 0)
        rc = store_quote_ident(table, out);
    if (rc < 0)
        buf_truncate(out, start);
    return rc;
}

/* ---- introspection ------------------------------------------------------------------------- */

/* Resolve a NULL schema to the backend's default and check both names. */
static int check_table_name(store *s, const char **schema, const char *table)
{
    if (!*schema)
        *schema = s->default_schema;
    if (store__ident_check(*schema, strlen(*schema)) < 0 || !table ||
        store__ident_check(table, strlen(table)) < 0) {
        store__set_errmsg(s, "invalid schema or table name");
        return ERR_INVAL;
    }
    return 0;
}

int store_table_exists(store *s, const char *schema, const char *table, int *exists)
{
    if (!s || !exists)
        return ERR_INVAL;
    *exists = 0;
    int rc = check_table_name(s, &schema, table);
    return rc < 0 ? rc : s->be->table_exists(s, schema, table, exists);
}

int store_table_columns(store *s, const char *schema, const char *table,
                        struct store_column_info **cols, size_t *n)
{
    if (!s || !cols || !n)
        return ERR_INVAL;
    *cols = NULL;
    *n = 0;
    int rc = check_table_name(s, &schema, table);
    return rc < 0 ? rc : s->be->table_columns(s, schema, table, cols, n);
}

void store_columns_free(struct store_column_info *cols, size_t n)
{
    if (!cols)
        return;
    for (size_t i = 0; i < n; i++) {
        free(cols[i].name);
        free(cols[i].type);
    }
    free(cols);
}

static char *dup_text(const char *s, int lower)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    if (lower)
        for (char *p = d; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return d;
}

int store__table_columns(store *s, const char *sql, const char *schema, const char *table,
                         int flags, struct store_column_info **cols, size_t *n)
{
    struct store_column_info *arr = NULL;
    size_t len = 0, cap = 0;
    store_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    if (rc < 0)
        return rc;
    struct store_value args[2] = {SV_TEXT(schema), SV_TEXT(table)};
    rc = store_bind_all(st, args, 2);
    while (rc == 0 && (rc = store_step(st)) == STORE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            struct store_column_info *grown = realloc(arr, cap * sizeof *arr);
            if (!grown)
                abort();
            arr = grown;
        }
        arr[len].name = dup_text(store_column_text(st, 0, NULL), 0);
        arr[len].type =
            dup_text(store_column_text(st, 1, NULL), (flags & STORE__COLUMNS_LOWER_TYPES) != 0);
        arr[len].notnull = store_column_int(st, 2) != 0;
        arr[len].pk = (int)store_column_int(st, 3);
        len++;
        rc = 0;
    }
    store_stmt_reset(st);
    if (rc < 0) {
        store_columns_free(arr, len);
        return rc;
    }
    if (len == 0) {
        store__set_errmsg(s, "no table %s.%s", schema, table);
        return ERR_NOTFOUND;
    }
    *cols = arr;
    *n = len;
    return 0;
}

/* ---- bulk load ------------------------------------------------------------------------------ */

int store__append_target(store *s, const char *schema, const char *table,
                         const char *const *columns, size_t ncolumns, struct buf *out)
{
    int rc = store_quote_qualified(s, schema, table, out);
    if (rc == 0)
        rc = buf_puts(out, " (");
    for (size_t i = 0; rc == 0 && i < ncolumns; i++) {
        if (i > 0)
            rc = buf_puts(out, ", ");
        if (rc == 0)
            rc = store_quote_ident(columns[i], out);
    }
    if (rc == 0)
        rc = buf_putc(out, ')');
    return rc;
}

int store_loader_begin(store *s, const char *schema, const char *table, const char *const *columns,
                       size_t ncolumns, store_loader **out)
{
    if (!out)
        return ERR_INVAL;
    *out = NULL;
    if (!s || !table || !columns || ncolumns == 0 || ncolumns > 2000)
        return ERR_INVAL;
    if (!schema)
        schema = s->default_schema;
    for (size_t i = 0; i < ncolumns; i++) {
        if (!columns[i] || store__ident_check(columns[i], strlen(columns[i])) < 0) {
            store__set_errmsg(s, "loader: invalid column name (column %zu)", i + 1);
            return ERR_INVAL;
        }
    }
    return s->be->loader_begin(s, schema, table, columns, ncolumns, out);
}

int store_loader_row(store_loader *ld, const struct store_value *values)
{
    if (!ld || !values)
        return ERR_INVAL;
    ld->seen++;
    int rc = ld->s->be->loader_row(ld, values);
    if (rc == 0)
        ld->rows++;
    return rc;
}

int store_loader_end(store_loader *ld, int64_t *rows)
{
    if (rows)
        *rows = 0;
    if (!ld)
        return ERR_INVAL;
    return ld->s->be->loader_end(ld, rows);
}

void store_loader_abort(store_loader *ld)
{
    if (ld)
        ld->s->be->loader_abort(ld);
}

/* ---- pools ------------------------------------------------------------------------------------
 */

struct store_pool {
    const struct store_backend *be;
    char *target;      /* owned copy of the backend's part of the URL */
    char *main_schema; /* owned copy of opt.main_schema (opt points here), or NULL */
    struct store_options opt;
    int max;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a connection is released or a slot frees */
    int opened;        /* connections that exist or are being opened (<= max) */
    int nidle;
    store **idle; /* max entries; idle[0..nidle) are free to hand out */
};

int store_pool_open(const char *url, const struct store_options *opt, int max_size,
                    store_pool **out, char *errbuf, size_t errlen)
{
    store_pool *p = NULL;
    store *first = NULL;
    const struct store_backend *be;
    const char *target;
    struct store_options o;
    int rc;
    int mu_ok = 0, cv_ok = 0;
    pthread_condattr_t ca;

    if (!out)
        return ERR_INVAL;
    *out = NULL;
    if (max_size < 1 || max_size > 10000) {
        store__errbuf(errbuf, errlen, "pool size must be between 1 and 10000");
        return ERR_INVAL;
    }
    rc = open_prepare(url, opt, &be, &target, &o, errbuf, errlen);
    if (rc < 0)
        return rc;
    /* One connection now, so a bad URL or a missing database is reported here. */
    rc = be->open(target, &o, &first, errbuf, errlen);
    if (rc < 0) {
        first = NULL;
        return rc;
    }
    rc = ERR_INTERNAL;
    p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->idle = calloc((size_t)max_size, sizeof *p->idle);
    p->target = strdup(target);
    if (!p->idle || !p->target)
        abort();
    p->be = be;
    p->opt = o;
    if (o.main_schema) {
        p->main_schema = strdup(o.main_schema);
        if (!p->main_schema)
            abort();
        p->opt.main_schema = p->main_schema;
    }
    p->max = max_size;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto out;
    mu_ok = 1;
    if (pthread_condattr_init(&ca) != 0)
        goto out;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&p->cv, &ca) == 0)
        cv_ok = 1;
    pthread_condattr_destroy(&ca);
    if (!cv_ok)
        goto out;
    p->idle[p->nidle++] = first;
    p->opened = 1;
    first = NULL;
    *out = p;
    p = NULL;
    rc = 0;
out:
    if (rc < 0)
        store__errbuf(errbuf, errlen, "cannot initialise the connection pool");
    store_close(first);
    if (p) {
        if (cv_ok)
            pthread_cond_destroy(&p->cv);
        if (mu_ok)
            pthread_mutex_destroy(&p->mu);
        free(p->idle);
        free(p->target);
        free(p->main_schema);
        free(p);
    }
    return rc;
}

void store_pool_close(store_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nidle; i++)
        store_close(p->idle[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p->target);
    free(p->main_schema);
    free(p);
}

/* Open a connection for a slot already counted in p->opened; gives the slot
 * back on failure. */
static int pool_open_conn(store_pool *p, store **out)
{
    int rc = p->be->open(p->target, &p->opt, out, NULL, 0);
    if (rc < 0) {
        *out = NULL;
        pthread_mutex_lock(&p->mu);
        p->opened--;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return ERR_UNAVAILABLE;
    }
    return 0;
}

/* Idle connections older than this are pinged before they are handed out. */
#define POOL_PING_IDLE_US 1000000u

int store_pool_acquire(store_pool *p, int timeout_ms, store **out)
{
    if (!out)
        return ERR_INVAL;
    *out = NULL;
    if (!p)
        return ERR_INVAL;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    store *s = NULL;
    int open_new = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->nidle > 0) {
            s = p->idle[--p->nidle];
            break;
        }
        if (p->opened < p->max) {
            p->opened++; /* reserve the slot; open outside the lock */
            open_new = 1;
            break;
        }
        if (timeout_ms <= 0)
            break;
        int w = pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
        if (w == ETIMEDOUT && p->nidle == 0 && p->opened >= p->max)
            break;
    }
    pthread_mutex_unlock(&p->mu);

    if (open_new)
        return pool_open_conn(p, out);
    if (!s)
        return ERR_UNAVAILABLE;
    /* A connection back from use moments ago is checked for free on release (see
     * store_pool_release); one idle for longer pays a round trip, since the server
     * may have dropped it meanwhile (a restart, an idle timeout). */
    if (p->be->ping_on_acquire && clock_mono_us() - s->released_us > POOL_PING_IDLE_US &&
        p->be->ping(s) < 0) {
        store_close(s); /* broken: replace it, keeping its slot */
        return pool_open_conn(p, out);
    }
    *out = s;
    return 0;
}

void store_pool_release(store_pool *p, store *s)
{
    if (!s)
        return;
    if (!p) {
        store_close(s);
        return;
    }
    s->be->clean(s);
    s->released_us = clock_mono_us();
    pthread_mutex_lock(&p->mu);
    if (s->be->broken && s->be->broken(s)) {
        p->opened--; /* dead: close it; the next acquire opens a fresh one */
    } else if (p->nidle < p->max) {
        p->idle[p->nidle++] = s;
        s = NULL;
    } else {
        p->opened--; /* not ours (a caller bug): close it rather than overflow */
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    store_close(s);
}

enum store_backend_kind store_pool_backend(const store_pool *p)
{
    return p->be->kind;
}
