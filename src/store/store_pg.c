/*
 * store_pg: the PostgreSQL backend of the store (libpq; built and tested
 * against PostgreSQL 15).
 *
 * Connections
 *   PQconnectdbParams with the URL expanded as dbname, after defaults that the
 *   URL may override (connect_timeout=10, application_name=ferry,
 *   client_encoding=UTF8). libpq's multi-line failure text is reduced to one
 *   line: "authentication failed for user X" (ERR_UNAUTHORIZED), "database X
 *   does not exist" (ERR_NOTFOUND), "cannot connect to HOST:PORT: connection
 *   refused" and other connection problems (ERR_UNAVAILABLE, which store_wait
 *   retries). Each new connection runs SET search_path TO "<main schema>", ferry
 *   (unqualified user tables go to the main schema, metadata tables ferry_*
 *   resolve to the ferry schema) and bytea_output=hex. Notices are discarded.
 *
 * Statements and the cache
 *   $N placeholders are native. Statements are server-side prepared statements
 *   (PQprepare) named "f<N>", cached per connection like the SQLite backend's
 *   (most recently used first, keyed by SQL text, CACHE_MAX entries, a second
 *   entry when the same SQL is prepared while in use). store_prepare prepares
 *   with no parameter types, so syntax errors surface there, and reads the types
 *   the server inferred (PQdescribePrepared; two round trips, once per SQL text
 *   and connection). Binds are sent as text, except blobs (binary). Where the
 *   inferred type cannot take a bind - an integer or double or boolean or blob
 *   where the server guessed text/unknown (SELECT $1, $1 || 'x'), an int8 value
 *   beyond an inferred int4, a double for an integer, a blob for anything but
 *   bytea - the statement is prepared again with the bind's type (int8, float8,
 *   bool, bytea), in practice once, at its first use. Other inferred types are
 *   kept, so "substr(t, $2)" or "pg_terminate_backend($1)" take an integer bind
 *   without casts, and "$1 + 1" takes INT64_MAX - 1. Booleans are sent as 1/0,
 *   which boolean and integer parameters both read. SQL whose parameter types
 *   the server cannot infer at all ($1 IS NULL alone) is prepared at its first
 *   step with the binds' types (but the failed untyped prepare has aborted an
 *   open transaction: cast such parameters, $1::text IS NULL).
 *   The number of parameters is the highest $N in the SQL (scanned outside
 *   strings, quoted identifiers, dollar quotes and comments); SQL with a second
 *   statement after a ';' is refused (ERR_INVAL) by the same scan.
 *
 * Rows
 *   Results are requested in text format and held by the statement until the
 *   next reset (PQexecPrepared buffers the whole result: keep big reads to
 *   bounded pages; the bulk path, COPY, streams). Column types come from the
 *   result's type OIDs: int2/int4/int8/oid -> STORE_INT, float4/float8/numeric
 *   -> STORE_DOUBLE, bytea -> STORE_BLOB, bool -> STORE_INT (0/1, text "1"/"0":
 *   the SQLite view, where booleans are integers), anything else -> STORE_TEXT.
 *   bytea values are decoded, so store_column_text gives the raw bytes.
 *
 * Errors
 *   SQLSTATE class 23 -> ERR_CONSTRAINT; 40P01, 55P03, 40001 -> ERR_BUSY;
 *   class 08, 57P01-57P03 and a bad connection -> ERR_UNAVAILABLE; else
 *   ERR_STORE. errmsg is one line: the primary message, the detail, and the SQL
 *   (truncated) where it helps.
 *
 * Transactions: BEGIN / COMMIT / ROLLBACK; store_in_transaction is
 *   PQtransactionStatus (in a block, or in a failed block).
 *
 * The loader runs COPY "schema"."table" (cols) FROM STDIN in text format: each
 *   row is escaped into one reused buffer (\\, tab, newline, CR escaped; \N is
 *   NULL; blobs as \\x hex) that is sent with PQputCopyData every 64 KiB, so
 *   there is no round trip and no allocation per row. The server reports a bad
 *   row only at the end (store_loader_end), as "line N" in its context: that
 *   line is the row number, and errmsg says "row N".
 */
#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store_int.h"

#define CACHE_MAX     64
#define SQL_MAX_BYTES (64u << 20)
#define COPY_CHUNK    (64u << 10)
#define MAX_PARAMS    32767

/* Type OIDs (pg_type.h is server-side; these are fixed in the catalog). */
#define OID_BOOL    16
#define OID_BYTEA   17
#define OID_INT8    20
#define OID_INT2    21
#define OID_INT4    23
#define OID_OID     26
#define OID_FLOAT4  700
#define OID_FLOAT8  701
#define OID_NUMERIC 1700

struct pg_param {
    Oid type;   /* 0: let the server infer (text, NULL) */
    int format; /* 0 text, 1 binary */
    int isnull;
    int64_t i;  /* the value of an integer bind */
    char *val;  /* owned, reused across uses */
    size_t len; /* bytes of val in use */
    size_t cap;
};

struct pg_stmt {
    struct store_stmt base;
    char *sql; /* the caller's SQL text (the cache key), owned */
    uint32_t hash;
    int in_use;
    struct pg_stmt *prev, *next; /* cache list, most recently used first */
    char name[24];               /* server statement name; "" when not prepared */
    int nparams;
    Oid *ptypes; /* types it was prepared with (nparams) */
    struct pg_param *params;
    PGresult *res; /* result of this use, or NULL before the first step */
    int row, nrows;
    unsigned char **dec; /* decoded bytea of the current row, per column (PQfreemem) */
    size_t *declen;
    int ndec;
};

struct pg_conn {
    struct store base;
    PGconn *conn;
    struct pg_stmt *head, *tail;
    int ncached;
    unsigned long next_name;
    int64_t changes;
    int in_copy; /* a loader is open */
    char schema[STORE_IDENT_MAX + 1];
};

struct pg_loader {
    struct store_loader base;
    size_t ncolumns;
    char *buf;
    size_t len, cap;
};

static struct pg_conn *conn_of(store *s)
{
    return (struct pg_conn *)s;
}

static const struct pg_conn *cconn_of(const store *s)
{
    return (const struct pg_conn *)s;
}

static struct pg_stmt *stmt_of(store_stmt *st)
{
    return (struct pg_stmt *)st;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

/* ---- errors ---------------------------------------------------------------------------- */

/* Copy src (n bytes, or up to NUL) into dst as one line: control characters
 * become spaces, runs of spaces collapse, the ends are trimmed. */
static void one_line(char *dst, size_t dstlen, const char *src)
{
    size_t j = 0;
    int space = 1;
    if (dstlen == 0)
        return;
    for (const char *p = src; p && *p && j + 1 < dstlen; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == ' ') {
            if (!space)
                dst[j++] = ' ';
            space = 1;
        } else {
            dst[j++] = (char)ch;
            space = 0;
        }
    }
    while (j > 0 && dst[j - 1] == ' ')
        j--;
    dst[j] = '\0';
}

static int map_sqlstate(const char *state)
{
    if (!state || strlen(state) != 5)
        return ERR_STORE;
    if (strncmp(state, "23", 2) == 0)
        return ERR_CONSTRAINT;
    if (strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0)
        return ERR_BUSY;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return ERR_UNAVAILABLE;
    if (strcmp(state, "54000") == 0 || strcmp(state, "54001") == 0)
        return ERR_TOOBIG;
    return ERR_STORE;
}

/* Record the error of r (or of the connection when r has none) with an optional
 * prefix and SQL, and map it to an ERR_* code. */
static int fail(struct pg_conn *c, const PGresult *r, const char *prefix, const char *sql)
{
    char primary[600], detail[300];
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(primary, sizeof primary, msg ? msg : PQerrorMessage(c->conn));
    if (!primary[0])
        snprintf(primary, sizeof primary, "unknown error");
    one_line(detail, sizeof detail, r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL);
    int rc = map_sqlstate(state);
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        rc = ERR_UNAVAILABLE;
        if (!msg)
            snprintf(primary, sizeof primary, "connection to the database server lost");
    }
    store__set_errmsg(&c->base, "%s%s%s%s%s%s%s%.300s%s", prefix ? prefix : "", prefix ? ": " : "",
                      primary, detail[0] ? " (" : "", detail, detail[0] ? ")" : "",
                      sql ? " (in: " : "", sql ? sql : "", sql ? ")" : "");
    return rc;
}

/* Run a command with PQexec; 0 or <0 with the error recorded. */
static int run(struct pg_conn *c, const char *sql, const char *prefix)
{
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = fail(c, r, prefix, NULL);
    PQclear(r);
    return rc;
}

/* ---- SQL text ------------------------------------------------------------------------------ */

static int ident_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$' || ch >= 0x80;
}

/* Scan SQL for $N placeholders outside strings, quoted identifiers, dollar
 * quotes and comments. Writes the highest N; returns 0, or ERR_INVAL when a
 * second statement follows a ';' or N is out of range. */
static int scan_sql(const char *sql, int *nparams)
{
    size_t n = strlen(sql), i = 0;
    long maxn = 0;
    int after_semicolon = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)sql[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
            i++;
            continue;
        }
        if (ch == '-' && sql[i + 1] == '-') {
            const char *end = memchr(sql + i, '\n', n - i);
            i = end ? (size_t)(end - sql) + 1 : n;
            continue;
        }
        if (ch == '/' && sql[i + 1] == '*') {
            const char *end = strstr(sql + i + 2, "*/");
            i = end ? (size_t)(end - sql) + 2 : n;
            continue;
        }
        if (ch == ';') {
            after_semicolon = 1;
            i++;
            continue;
        }
        if (after_semicolon)
            return ERR_INVAL;
        if (ch == '\'' || ch == '"') {
            const char *end = memchr(sql + i + 1, ch, n - i - 1);
            i = end ? (size_t)(end - sql) + 1 : n; /* '' reopens: handled by the next pass */
        } else if (ch == '$' && (i == 0 || !ident_char((unsigned char)sql[i - 1]))) {
            size_t j = i + 1;
            if (sql[j] >= '0' && sql[j] <= '9') {
                long v = 0;
                while (sql[j] >= '0' && sql[j] <= '9') {
                    v = v * 10 + (sql[j] - '0');
                    if (v > MAX_PARAMS)
                        return ERR_INVAL;
                    j++;
                }
                if (v > maxn)
                    maxn = v;
                i = j;
                continue;
            }
            /* $tag$ ... $tag$ */
            while (j < n && sql[j] != '$' && ident_char((unsigned char)sql[j]))
                j++;
            if (j < n && sql[j] == '$') {
                size_t taglen = j + 1 - i;
                const char *end = NULL;
                for (const char *p = sql + j + 1; (p = strchr(p, '$')) != NULL; p++) {
                    if (strncmp(p, sql + i, taglen) == 0) {
                        end = p;
                        break;
                    }
                }
                i = end ? (size_t)(end - sql) + taglen : n;
            } else {
                i++;
            }
        } else {
            i++;
        }
    }
    *nparams = (int)maxn;
    return 0;
}

static uint32_t hash_sql(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* ---- statement cache ----------------------------------------------------------------------- */

static void cache_unlink(struct pg_conn *c, struct pg_stmt *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
    c->ncached--;
}

static void cache_push_front(struct pg_conn *c, struct pg_stmt *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
    c->ncached++;
}

static void free_decoded(struct pg_stmt *e)
{
    for (int i = 0; i < e->ndec; i++) {
        if (e->dec[i])
            PQfreemem(e->dec[i]);
        e->dec[i] = NULL;
    }
}

/* Drop the server-side statement (errors ignored: the name is never reused). */
static void deallocate(struct pg_conn *c, struct pg_stmt *e)
{
    if (!e->name[0])
        return;
    if (PQstatus(c->conn) == CONNECTION_OK && !c->in_copy) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", e->name);
        PQclear(PQexec(c->conn, sql));
    }
    e->name[0] = '\0';
}

static void stmt_free(struct pg_conn *c, struct pg_stmt *e, int server)
{
    if (server)
        deallocate(c, e);
    PQclear(e->res);
    free_decoded(e);
    free(e->dec);
    free(e->declen);
    for (int i = 0; i < e->nparams; i++)
        free(e->params[i].val);
    free(e->params);
    free(e->ptypes);
    free(e->sql);
    free(e);
}

static void cache_evict(struct pg_conn *c)
{
    struct pg_stmt *e = c->tail;
    while (c->ncached > CACHE_MAX && e) {
        struct pg_stmt *prev = e->prev;
        if (!e->in_use) {
            cache_unlink(c, e);
            stmt_free(c, e, 1);
        }
        e = prev;
    }
}

/* Prepare e on the server with the given types (NULL: all inferred), then read
 * the parameter types the server settled on. */
static int server_prepare(struct pg_conn *c, struct pg_stmt *e, const Oid *types)
{
    char name[24];
    snprintf(name, sizeof name, "f%lu", ++c->next_name);
    PGresult *r = PQprepare(c->conn, name, e->sql, e->nparams, types);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    snprintf(e->name, sizeof e->name, "%s", name);
    r = PQdescribePrepared(c->conn, name);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    for (int i = 0; i < e->nparams; i++)
        e->ptypes[i] = i < PQnparams(r) ? PQparamtype(r, i) : 0;
    PQclear(r);
    return 0;
}

static int pg_prepare(store *s, const char *sql, store_stmt **out)
{
    struct pg_conn *c = conn_of(s);
    if (c->in_copy) {
        store__set_errmsg(s, "the connection is in COPY mode (a loader is open)");
        return ERR_INVAL;
    }
    uint32_t h = hash_sql(sql);
    for (struct pg_stmt *e = c->head; e; e = e->next) {
        if (e->hash == h && !e->in_use && strcmp(e->sql, sql) == 0) {
            cache_unlink(c, e);
            cache_push_front(c, e);
            e->in_use = 1;
            *out = &e->base;
            return 0;
        }
    }
    int nparams = 0;
    if (scan_sql(sql, &nparams) < 0) {
        store__set_errmsg(s, "several statements in one prepare (use store_exec): %.300s", sql);
        return ERR_INVAL;
    }
    struct pg_stmt *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->base.s = s;
    e->sql = strdup(sql);
    if (!e->sql)
        abort();
    e->hash = h;
    e->nparams = nparams;
    e->ptypes = xrealloc(NULL, (size_t)nparams * sizeof *e->ptypes);
    e->params = calloc((size_t)nparams + 1, sizeof *e->params);
    if (!e->params)
        abort();
    for (int i = 0; i < nparams; i++)
        e->params[i].isnull = 1;
    int rc = server_prepare(c, e, NULL);
    if (rc < 0) {
        /* A parameter whose type only its bind can tell: prepare at the first step. */
        const char *m = store_errmsg(s);
        if (!strstr(m, "could not determine data type of parameter") &&
            !strstr(m, "inconsistent types deduced for parameter")) {
            stmt_free(c, e, 0);
            return rc;
        }
    }
    e->in_use = 1;
    cache_push_front(c, e);
    cache_evict(c);
    *out = &e->base;
    return 0;
}

/* ---- binds and rows ------------------------------------------------------------------------ */

static void param_set(struct pg_param *p, const char *data, size_t n)
{
    if (n + 1 > p->cap) {
        p->cap = n + 1 < 32 ? 32 : n + 1;
        p->val = xrealloc(p->val, p->cap);
    }
    if (n)
        memcpy(p->val, data, n);
    p->val[n] = '\0';
    p->len = n;
}

/* Text form of a double that float8in reads back exactly. */
static int format_double(double d, char *out, size_t outlen)
{
    if (isnan(d))
        return snprintf(out, outlen, "NaN");
    if (isinf(d))
        return snprintf(out, outlen, "%s", d < 0 ? "-Infinity" : "Infinity");
    return snprintf(out, outlen, "%.17g", d);
}

static int pg_bind(store_stmt *stmt, int idx, struct store_value v)
{
    struct pg_stmt *e = stmt_of(stmt);
    if (idx > e->nparams) {
        store__set_errmsg(stmt->s, "bind index %d out of range (the statement has %d)", idx,
                          e->nparams);
        return ERR_INVAL;
    }
    struct pg_param *p = &e->params[idx - 1];
    char tmp[64];
    int n;
    p->isnull = 0;
    p->format = 0;
    switch (v.type) {
    case STORE_NULL:
        p->isnull = 1;
        p->type = 0;
        return 0;
    case STORE_INT:
        n = snprintf(tmp, sizeof tmp, "%" PRId64, v.v.i);
        param_set(p, tmp, (size_t)n);
        p->type = OID_INT8;
        p->i = v.v.i;
        return 0;
    case STORE_DOUBLE:
        n = format_double(v.v.d, tmp, sizeof tmp);
        param_set(p, tmp, (size_t)n);
        p->type = OID_FLOAT8;
        return 0;
    case STORE_BOOL:
        param_set(p, v.v.b ? "1" : "0", 1); /* boolean and integer parameters read both */
        p->type = OID_BOOL;
        return 0;
    case STORE_TEXT:
        param_set(p, v.v.s.p, v.v.s.n);
        p->type = 0;
        return 0;
    case STORE_BLOB:
        param_set(p, v.v.s.p, v.v.s.n);
        p->type = OID_BYTEA;
        p->format = 1;
        return 0;
    }
    store__set_errmsg(stmt->s, "bind %d: invalid value", idx);
    return ERR_INVAL;
}

static int is_int_type(Oid t)
{
    return t == OID_INT2 || t == OID_INT4 || t == OID_INT8 || t == OID_NUMERIC;
}

/* Types the server infers when a parameter's context does not say (SELECT $1,
 * $1 IS NULL, $1 || 'x'): a typed bind is worth a typed statement there. */
static int is_weak_type(Oid t)
{
    return t == 0 || t == 25 /* text */ || t == 705 /* unknown */ || t == 1043 /* varchar */;
}

/* The type to prepare parameter p with instead of the inferred type have, or 0
 * when the text (or binary) form of the bind is fine as it is. */
static Oid retype_for(const struct pg_param *p, Oid have)
{
    if (p->isnull || p->type == 0 || p->type == have)
        return 0;
    switch (p->type) {
    case OID_INT8:
        if (have == OID_INT4 && p->i >= INT32_MIN && p->i <= INT32_MAX)
            return 0;
        if (have == OID_INT2 && p->i >= INT16_MIN && p->i <= INT16_MAX)
            return 0;
        if (have == OID_INT4 || have == OID_INT2 || is_weak_type(have))
            return OID_INT8;
        return 0; /* numeric, float, bool ("1"/"0"), oid...: the text form reads */
    case OID_FLOAT8:
        return is_weak_type(have) || is_int_type(have) ? OID_FLOAT8 : 0;
    case OID_BOOL:
        return is_weak_type(have) ? OID_BOOL : 0; /* "1"/"0" read as integers too */
    case OID_BYTEA:
        return OID_BYTEA; /* binary format: the server must read it as bytea */
    }
    return 0;
}

/* Make sure the server statement suits this use's binds: statements the server
 * could not type without them are prepared now with the binds' types; a
 * parameter whose inferred type cannot take the bind (see retype_for) gets the
 * statement prepared again with the bind's type. Other parameters keep theirs,
 * so a function taking integer still matches an integer bind. */
static int ensure_types(struct pg_conn *c, struct pg_stmt *e)
{
    int need = !e->name[0];
    for (int i = 0; !need && i < e->nparams; i++)
        if (retype_for(&e->params[i], e->ptypes[i]))
            need = 1;
    if (!need)
        return 0;
    Oid *types = xrealloc(NULL, ((size_t)e->nparams + 1) * sizeof *types);
    for (int i = 0; i < e->nparams; i++) {
        const struct pg_param *p = &e->params[i];
        if (!e->name[0]) {
            types[i] = p->isnull ? 0 : p->type;
        } else {
            Oid t = retype_for(p, e->ptypes[i]);
            types[i] = t ? t : e->ptypes[i];
        }
    }
    deallocate(c, e);
    int rc = server_prepare(c, e, types);
    free(types);
    return rc;
}

static int execute(struct pg_conn *c, struct pg_stmt *e)
{
    const char **vals = NULL;
    int *lens = NULL, *fmts = NULL;
    int rc = ensure_types(c, e);
    if (rc < 0)
        return rc;
    if (e->nparams > 0) {
        vals = xrealloc(NULL, (size_t)e->nparams * sizeof *vals);
        lens = xrealloc(NULL, (size_t)e->nparams * sizeof *lens);
        fmts = xrealloc(NULL, (size_t)e->nparams * sizeof *fmts);
        for (int i = 0; i < e->nparams; i++) {
            const struct pg_param *p = &e->params[i];
            vals[i] = p->isnull ? NULL : p->val;
            lens[i] = (int)p->len;
            fmts[i] = p->isnull ? 0 : p->format;
        }
    }
    PGresult *r = PQexecPrepared(c->conn, e->name, e->nparams, vals, lens, fmts, 0);
    free(vals);
    free(lens);
    free(fmts);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        rc = fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    const char *ct = PQcmdTuples(r);
    c->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
    e->res = r;
    e->row = -1;
    e->nrows = PQntuples(r);
    int ncols = PQnfields(r);
    if (ncols > e->ndec) {
        e->dec = xrealloc(e->dec, (size_t)ncols * sizeof *e->dec);
        e->declen = xrealloc(e->declen, (size_t)ncols * sizeof *e->declen);
        for (int i = e->ndec; i < ncols; i++)
            e->dec[i] = NULL;
        e->ndec = ncols;
    }
    return 0;
}

static int pg_step(store_stmt *stmt)
{
    struct pg_stmt *e = stmt_of(stmt);
    struct pg_conn *c = conn_of(stmt->s);
    if (!e->res) {
        if (c->in_copy) {
            store__set_errmsg(stmt->s, "the connection is in COPY mode (a loader is open)");
            return ERR_INVAL;
        }
        int rc = execute(c, e);
        if (rc < 0)
            return rc;
    }
    free_decoded(e);
    if (e->row < e->nrows)
        e->row++;
    return e->row < e->nrows ? STORE_ROW : STORE_DONE;
}

static int64_t pg_changes(store_stmt *stmt)
{
    return conn_of(stmt->s)->changes;
}

static int pg_column_count(store_stmt *stmt)
{
    struct pg_stmt *e = stmt_of(stmt);
    return e->res ? PQnfields(e->res) : 0;
}

static const char *pg_column_name(store_stmt *stmt, int col)
{
    return PQfname(stmt_of(stmt)->res, col);
}

/* The current row's value text, or NULL (no row, or SQL NULL). */
static const char *raw_value(struct pg_stmt *e, int col)
{
    if (!e->res || e->row < 0 || e->row >= e->nrows || PQgetisnull(e->res, e->row, col))
        return NULL;
    return PQgetvalue(e->res, e->row, col);
}

static enum store_type pg_column_type(store_stmt *stmt, int col)
{
    struct pg_stmt *e = stmt_of(stmt);
    if (!raw_value(e, col))
        return STORE_NULL;
    switch (PQftype(e->res, col)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
    case OID_BOOL:
        return STORE_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return STORE_DOUBLE;
    case OID_BYTEA:
        return STORE_BLOB;
    default:
        return STORE_TEXT;
    }
}

static int64_t pg_column_int(store_stmt *stmt, int col)
{
    struct pg_stmt *e = stmt_of(stmt);
    const char *v = raw_value(e, col);
    if (!v)
        return 0;
    switch (PQftype(e->res, col)) {
    case OID_BOOL:
        return v[0] == 't';
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: {
        double d = strtod(v, NULL);
        if (isnan(d))
            return 0;
        if (d >= 9223372036854775807.0)
            return INT64_MAX;
        if (d <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)d;
    }
    default:
        return strtoll(v, NULL, 10);
    }
}

static double pg_column_double(store_stmt *stmt, int col)
{
    struct pg_stmt *e = stmt_of(stmt);
    const char *v = raw_value(e, col);
    if (!v)
        return 0.0;
    if (PQftype(e->res, col) == OID_BOOL)
        return v[0] == 't' ? 1.0 : 0.0;
    return strtod(v, NULL);
}

static const char *pg_column_text(store_stmt *stmt, int col, size_t *len)
{
    struct pg_stmt *e = stmt_of(stmt);
    const char *v = raw_value(e, col);
    if (!v)
        return NULL;
    Oid type = PQftype(e->res, col);
    if (type == OID_BOOL) {
        if (len)
            *len = 1;
        return v[0] == 't' ? "1" : "0";
    }
    if (type == OID_BYTEA) {
        if (!e->dec[col]) {
            size_t n = 0;
            e->dec[col] = PQunescapeBytea((const unsigned char *)v, &n);
            if (!e->dec[col])
                abort();
            e->declen[col] = n;
        }
        if (len)
            *len = e->declen[col];
        return (const char *)e->dec[col];
    }
    if (len)
        *len = (size_t)PQgetlength(e->res, e->row, col);
    return v;
}

static void pg_reset(store_stmt *stmt)
{
    struct pg_stmt *e = stmt_of(stmt);
    free_decoded(e);
    PQclear(e->res);
    e->res = NULL;
    e->row = e->nrows = 0;
    for (int i = 0; i < e->nparams; i++) {
        e->params[i].isnull = 1;
        e->params[i].type = 0;
    }
    e->in_use = 0;
}

/* ---- connections --------------------------------------------------------------------------- */

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The part of libpq's connection failure text that says why, as one line:
 * after "failed: ", without "FATAL:", up to the end of the line. */
static void failure_reason(const char *msg, char *out, size_t outlen)
{
    const char *p = msg ? msg : "";
    const char *f = strstr(p, "failed: ");
    if (f)
        p = f + strlen("failed: ");
    if (strncmp(p, "FATAL:", 6) == 0 || strncmp(p, "ERROR:", 6) == 0)
        p += 6;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\n");
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
    one_line(out, outlen, line);
    if (out[0] >= 'A' && out[0] <= 'Z' && out[1] >= 'a' && out[1] <= 'z')
        out[0] = (char)tolower((unsigned char)out[0]); /* "Connection refused" */
}

static int open_error(PGconn *conn, char *errbuf, size_t errlen)
{
    const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
    const char *user = conn && PQuser(conn) ? PQuser(conn) : "";
    const char *db = conn && PQdb(conn) ? PQdb(conn) : "";
    const char *host = conn && PQhost(conn) ? PQhost(conn) : "";
    const char *port = conn && PQport(conn) ? PQport(conn) : "";
    char reason[512];
    if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied") ||
        strstr(msg, "authentication failed for user") ||
        (strstr(msg, "role \"") && strstr(msg, "does not exist"))) {
        store__errbuf(errbuf, errlen, "authentication failed for user %s", user);
        return ERR_UNAUTHORIZED;
    }
    if (strstr(msg, "database \"") && strstr(msg, "does not exist")) {
        store__errbuf(errbuf, errlen, "database %s does not exist", db);
        return ERR_NOTFOUND;
    }
    failure_reason(msg, reason, sizeof reason);
    if (host[0] == '/')
        store__errbuf(errbuf, errlen, "cannot connect to %s/.s.PGSQL.%s: %s", host, port, reason);
    else
        store__errbuf(errbuf, errlen, "cannot connect to %s:%s: %s", host, port, reason);
    return ERR_UNAVAILABLE;
}

static void pg_close(store *s);

static int pg_open(const char *url, const struct store_options *opt, store **out, char *errbuf,
                   size_t errlen)
{
    const char *schema = opt->main_schema ? opt->main_schema : "public";
    if (store__ident_check(schema, strlen(schema)) < 0) {
        store__errbuf(errbuf, errlen, "invalid main schema name");
        return ERR_INVAL;
    }
    /* Defaults first: the expanded URL (dbname) overrides them. */
    const char *const kw[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                              NULL};
    const char *const val[] = {"10", "ferry", "UTF8", url, NULL};
    struct pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->base.be = &store_pg_backend;
    snprintf(c->schema, sizeof c->schema, "%s", schema);
    c->base.default_schema = c->schema;
    c->conn = PQconnectdbParams(kw, val, 1);
    int rc;
    if (!c->conn)
        abort();
    if (PQstatus(c->conn) != CONNECTION_OK) {
        rc = open_error(c->conn, errbuf, errlen);
        goto fail;
    }
    PQsetNoticeProcessor(c->conn, no_notices, NULL);
    struct buf sql;
    buf_init(&sql, 512);
    rc = buf_puts(&sql, "SET search_path TO ");
    if (rc == 0)
        rc = store_quote_ident(schema, &sql);
    if (rc == 0)
        rc = buf_puts(&sql, ", ferry; SET bytea_output TO hex");
    if (rc == 0)
        rc = run(c, buf_cstr(&sql), "cannot set up the connection");
    buf_free(&sql);
    if (rc < 0) {
        store__errbuf(errbuf, errlen, "%s", c->base.errmsg);
        goto fail;
    }
    *out = &c->base;
    return 0;
fail:
    pg_close(&c->base);
    return rc;
}

static void pg_close(store *s)
{
    struct pg_conn *c = conn_of(s);
    struct pg_stmt *e = c->head;
    while (e) {
        struct pg_stmt *next = e->next;
        stmt_free(c, e, 0); /* the server drops them with the session */
        e = next;
    }
    PQfinish(c->conn); /* the server rolls back an open transaction */
    free(c);
}

static int pg_ping(store *s)
{
    struct pg_conn *c = conn_of(s);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        store__set_errmsg(s, "connection to the database server lost");
        return ERR_UNAVAILABLE;
    }
    return run(c, "SELECT 1", "ping");
}

static int pg_broken(const store *s)
{
    return PQstatus(cconn_of(s)->conn) != CONNECTION_OK;
}

static int pg_exec(store *s, const char *sql)
{
    struct pg_conn *c = conn_of(s);
    if (c->in_copy) {
        store__set_errmsg(s, "the connection is in COPY mode (a loader is open)");
        return ERR_INVAL;
    }
    return run(c, sql, NULL);
}

static int pg_begin(store *s)
{
    return run(conn_of(s), "BEGIN", "begin");
}

static int pg_commit(store *s)
{
    struct pg_conn *c = conn_of(s);
    PGTransactionStatusType ts = PQtransactionStatus(c->conn);
    PGresult *r = PQexec(c->conn, "COMMIT");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = fail(c, r, "commit", NULL);
    else if (ts == PQTRANS_INERROR || strcmp(PQcmdStatus(r), "ROLLBACK") == 0) {
        /* COMMIT of a failed transaction rolls back and says so. */
        store__set_errmsg(s, "commit: the transaction had failed and was rolled back");
        rc = ERR_STORE;
    }
    PQclear(r);
    return rc;
}

static int pg_rollback(store *s)
{
    return run(conn_of(s), "ROLLBACK", "rollback");
}

static int pg_in_transaction(const store *s)
{
    PGTransactionStatusType ts = PQtransactionStatus(cconn_of(s)->conn);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

/* End a COPY left open: send the end (or a failure) and read the results. */
static void copy_finish(struct pg_conn *c, const char *errormsg)
{
    if (PQstatus(c->conn) == CONNECTION_OK)
        PQputCopyEnd(c->conn, errormsg);
    PGresult *r;
    while ((r = PQgetResult(c->conn)) != NULL)
        PQclear(r);
    c->in_copy = 0;
}

static void pg_clean(store *s)
{
    struct pg_conn *c = conn_of(s);
    if (c->in_copy)
        copy_finish(c, "abandoned by ferry");
    for (struct pg_stmt *e = c->head; e; e = e->next)
        if (e->in_use)
            pg_reset(&e->base);
    if (pg_in_transaction(s))
        pg_rollback(s);
}

/* ---- introspection ------------------------------------------------------------------------- */

static int pg_table_exists(store *s, const char *schema, const char *table, int *exists)
{
    struct store_value v[2] = {SV_TEXT(schema), SV_TEXT(table)};
    int rc = store_query_int(s,
                             "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                             "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
                             "AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
                             v, 2, NULL);
    if (rc < 0)
        return rc;
    *exists = rc;
    return 0;
}

static int pg_table_columns(store *s, const char *schema, const char *table,
                            struct store_column_info **cols, size_t *n)
{
    struct store_column_info *arr = NULL;
    size_t len = 0, cap = 0;
    store_stmt *st = NULL;
    int rc = store_prepare(
        s,
        "SELECT a.attname, lower(pg_catalog.format_type(a.atttypid, a.atttypmod)), "
        "a.attnotnull, COALESCE((SELECT k.n FROM pg_catalog.pg_index i, "
        "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, n) "
        "WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum), 0) "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        &st);
    if (rc < 0)
        return rc;
    struct store_value args[2] = {SV_TEXT(schema), SV_TEXT(table)};
    rc = store_bind_all(st, args, 2);
    while (rc == 0 && (rc = store_step(st)) == STORE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            arr = xrealloc(arr, cap * sizeof *arr);
        }
        const char *name = store_column_text(st, 0, NULL);
        const char *type = store_column_text(st, 1, NULL);
        arr[len].name = strdup(name ? name : "");
        arr[len].type = strdup(type ? type : "");
        if (!arr[len].name || !arr[len].type)
            abort();
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

/* ---- loader -------------------------------------------------------------------------------- */

static int pg_loader_begin(store *s, const char *schema, const char *table,
                           const char *const *columns, size_t ncolumns, store_loader **out)
{
    struct pg_conn *c = conn_of(s);
    struct buf sql;
    int rc;

    if (c->in_copy) {
        store__set_errmsg(s, "loader: another loader is open on this connection");
        return ERR_INVAL;
    }
    buf_init(&sql, SQL_MAX_BYTES);
    rc = buf_puts(&sql, "COPY ");
    if (rc == 0)
        rc = store_quote_qualified(s, schema, table, &sql);
    if (rc == 0)
        rc = buf_puts(&sql, " (");
    for (size_t i = 0; rc == 0 && i < ncolumns; i++) {
        if (i > 0)
            rc = buf_puts(&sql, ", ");
        if (rc == 0)
            rc = store_quote_ident(columns[i], &sql);
    }
    if (rc == 0)
        rc = buf_puts(&sql, ") FROM STDIN");
    if (rc < 0) {
        store__set_errmsg(s, "loader: invalid table or column names");
        goto out;
    }
    PGresult *r = PQexec(c->conn, buf_cstr(&sql));
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = fail(c, r, "loader", NULL);
        PQclear(r);
        goto out;
    }
    PQclear(r);
    c->in_copy = 1;
    struct pg_loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        abort();
    ld->base.s = s;
    ld->ncolumns = ncolumns;
    ld->cap = COPY_CHUNK + 4096;
    ld->buf = xrealloc(NULL, ld->cap);
    *out = &ld->base;
    rc = 0;
out:
    buf_free(&sql);
    return rc;
}

static void ld_reserve(struct pg_loader *ld, size_t more)
{
    if (ld->len + more <= ld->cap)
        return;
    while (ld->len + more > ld->cap)
        ld->cap *= 2;
    ld->buf = xrealloc(ld->buf, ld->cap);
}

/* Append bytes with COPY text escaping (backslash, tab, newline, CR). */
static void ld_put_escaped(struct pg_loader *ld, const char *p, size_t n)
{
    ld_reserve(ld, 2 * n);
    char *o = ld->buf + ld->len;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        switch (ch) {
        case '\\':
            *o++ = '\\', *o++ = '\\';
            break;
        case '\t':
            *o++ = '\\', *o++ = 't';
            break;
        case '\n':
            *o++ = '\\', *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\', *o++ = 'r';
            break;
        default:
            *o++ = ch;
        }
    }
    ld->len = (size_t)(o - ld->buf);
}

static void ld_put_hex(struct pg_loader *ld, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ld_reserve(ld, 3 + 2 * n);
    char *o = ld->buf + ld->len;
    *o++ = '\\', *o++ = '\\', *o++ = 'x'; /* bytea "\x..." with its backslash escaped */
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];
        *o++ = hex[b >> 4];
        *o++ = hex[b & 15];
    }
    ld->len = (size_t)(o - ld->buf);
}

static int ld_flush(struct pg_loader *ld)
{
    struct pg_conn *c = conn_of(ld->base.s);
    if (ld->len == 0)
        return 0;
    if (PQputCopyData(c->conn, ld->buf, (int)ld->len) != 1) {
        int rc = fail(c, NULL, NULL, NULL);
        char msg[STORE_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", c->base.errmsg);
        store__set_errmsg(&c->base, "row %lld: %s", (long long)ld->base.seen, msg);
        return rc;
    }
    ld->len = 0;
    return 0;
}

static int pg_loader_row(store_loader *base, const struct store_value *values)
{
    struct pg_loader *ld = (struct pg_loader *)base;
    size_t start = ld->len;
    char tmp[64];
    int n;
    for (size_t i = 0; i < ld->ncolumns; i++) {
        const struct store_value *v = &values[i];
        if (i > 0) {
            ld_reserve(ld, 1);
            ld->buf[ld->len++] = '\t';
        }
        switch (v->type) {
        case STORE_NULL:
            ld_reserve(ld, 2);
            ld->buf[ld->len++] = '\\';
            ld->buf[ld->len++] = 'N';
            break;
        case STORE_INT:
            n = snprintf(tmp, sizeof tmp, "%" PRId64, v->v.i);
            ld_put_escaped(ld, tmp, (size_t)n);
            break;
        case STORE_DOUBLE:
            n = format_double(v->v.d, tmp, sizeof tmp);
            ld_put_escaped(ld, tmp, (size_t)n);
            break;
        case STORE_BOOL:
            ld_put_escaped(ld, v->v.b ? "1" : "0", 1); /* bool and integer columns read both */
            break;
        case STORE_TEXT:
            if (!v->v.s.p && v->v.s.n > 0)
                goto bad;
            ld_put_escaped(ld, v->v.s.p ? v->v.s.p : "", v->v.s.n);
            break;
        case STORE_BLOB:
            if (!v->v.s.p && v->v.s.n > 0)
                goto bad;
            ld_put_hex(ld, v->v.s.p ? v->v.s.p : "", v->v.s.n);
            break;
        default:
            goto bad;
        }
        continue;
    bad:
        ld->len = start;
        store__set_errmsg(base->s, "row %lld, column %zu: invalid value", (long long)base->seen,
                          i + 1);
        return ERR_INVAL;
    }
    ld_reserve(ld, 1);
    ld->buf[ld->len++] = '\n';
    return ld->len >= COPY_CHUNK ? ld_flush(ld) : 0;
}

/* Rewrite a COPY error as "row N: message": COPY's context says "line N". */
static int copy_fail(struct pg_conn *c, const PGresult *r)
{
    int rc = fail(c, r, NULL, NULL);
    const char *ctx = r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL;
    const char *line = ctx ? strstr(ctx, ", line ") : NULL;
    char msg[STORE_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", c->base.errmsg);
    if (line) {
        long long row = strtoll(line + strlen(", line "), NULL, 10);
        store__set_errmsg(&c->base, "row %lld: %s", row, msg);
    } else {
        store__set_errmsg(&c->base, "loader: %s", msg);
    }
    return rc;
}

static void loader_free(struct pg_loader *ld)
{
    free(ld->buf);
    free(ld);
}

static int pg_loader_end(store_loader *base, int64_t *rows)
{
    struct pg_loader *ld = (struct pg_loader *)base;
    struct pg_conn *c = conn_of(base->s);
    int rc = ld_flush(ld);
    if (rc < 0) {
        copy_finish(c, "aborted by ferry");
        goto out;
    }
    if (PQputCopyEnd(c->conn, NULL) != 1) {
        rc = fail(c, NULL, "loader", NULL);
        copy_finish(c, NULL);
        goto out;
    }
    PGresult *r = PQgetResult(c->conn);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = copy_fail(c, r);
    } else {
        const char *ct = PQcmdTuples(r);
        c->changes = ct && *ct ? strtoll(ct, NULL, 10) : base->rows;
        if (rows)
            *rows = c->changes;
    }
    PQclear(r);
    while ((r = PQgetResult(c->conn)) != NULL)
        PQclear(r);
    c->in_copy = 0;
out:
    loader_free(ld);
    return rc;
}

static void pg_loader_abort(store_loader *base)
{
    struct pg_loader *ld = (struct pg_loader *)base;
    copy_finish(conn_of(base->s), "aborted by ferry");
    loader_free(ld);
}

const struct store_backend store_pg_backend = {
    .name = "postgresql",
    .kind = STORE_POSTGRESQL,
    .ping_on_acquire = 1, /* a server restart or an idle timeout drops connections */
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .errmsg = NULL,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind = pg_bind,
    .step = pg_step,
    .changes = pg_changes,
    .column_count = pg_column_count,
    .column_name = pg_column_name,
    .column_type = pg_column_type,
    .column_int = pg_column_int,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .reset = pg_reset,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .clean = pg_clean,
    .broken = pg_broken,
    .table_exists = pg_table_exists,
    .table_columns = pg_table_columns,
    .loader_begin = pg_loader_begin,
    .loader_row = pg_loader_row,
    .loader_end = pg_loader_end,
    .loader_abort = pg_loader_abort,
};
