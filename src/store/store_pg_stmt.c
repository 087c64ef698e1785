/*
 * store_pg_stmt: statements of the PostgreSQL backend - the per-connection
 * statement cache, binds and their parameter types, result rows and the column
 * getters. The connection, errors (pg__fail) and the vtable are in store_pg.c;
 * see store_pg_int.h for how the files divide the backend.
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
 *   bytea values are decoded, so store_column_text gives the raw bytes; the
 *   decoded copy lives until the statement steps or is reset.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/store_pg_int.h"

#define CACHE_MAX  64
#define MAX_PARAMS 32767

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
    struct store_lru_node lru; /* in the connection's cache */
    char name[24];             /* server statement name; "" when not prepared */
    int nparams;
    Oid *ptypes; /* types it was prepared with (nparams) */
    struct pg_param *params;
    PGresult *res; /* result of this use, or NULL before the first step */
    int row, nrows;
    unsigned char **dec; /* decoded bytea of the current row, per column (PQfreemem) */
    size_t *declen;
    int ndec;
};

static struct pg_stmt *stmt_of(store_stmt *st)
{
    return (struct pg_stmt *)st;
}

static struct pg_stmt *lru_stmt(struct store_lru_node *n)
{
    return STORE_LRU_ENTRY(n, struct pg_stmt, lru);
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

/* ---- statement cache ----------------------------------------------------------------------- */

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
    struct pg_stmt *e = lru_stmt(c->cache.tail);
    while (c->cache.count > CACHE_MAX && e) {
        struct pg_stmt *prev = lru_stmt(e->lru.prev);
        if (!e->in_use) {
            store__lru_unlink(&c->cache, &e->lru);
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
        int rc = pg__fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    snprintf(e->name, sizeof e->name, "%s", name);
    r = PQdescribePrepared(c->conn, name);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = pg__fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    for (int i = 0; i < e->nparams; i++)
        e->ptypes[i] = i < PQnparams(r) ? PQparamtype(r, i) : 0;
    PQclear(r);
    return 0;
}

int pg__prepare(store *s, const char *sql, store_stmt **out)
{
    struct pg_conn *c = conn_of(s);
    if (c->in_copy) {
        store__set_errmsg(s, "the connection is in COPY mode (a loader is open)");
        return ERR_INVAL;
    }
    uint32_t h = store__hash_sql(sql);
    for (struct pg_stmt *e = lru_stmt(c->cache.head); e; e = lru_stmt(e->lru.next)) {
        if (e->hash == h && !e->in_use && strcmp(e->sql, sql) == 0) {
            store__lru_unlink(&c->cache, &e->lru);
            store__lru_push_front(&c->cache, &e->lru);
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
    e->ptypes = pg__xrealloc(NULL, (size_t)nparams * sizeof *e->ptypes);
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
    store__lru_push_front(&c->cache, &e->lru);
    cache_evict(c);
    *out = &e->base;
    return 0;
}

/* ---- binds and rows ------------------------------------------------------------------------ */

static void param_set(struct pg_param *p, const char *data, size_t n)
{
    if (n + 1 > p->cap) {
        p->cap = n + 1 < 32 ? 32 : n + 1;
        p->val = pg__xrealloc(p->val, p->cap);
    }
    if (n)
        memcpy(p->val, data, n);
    p->val[n] = '\0';
    p->len = n;
}

/* Text form of a double that float8in reads back exactly. */
int pg__format_double(double d, char *out, size_t outlen)
{
    if (isnan(d))
        return snprintf(out, outlen, "NaN");
    if (isinf(d))
        return snprintf(out, outlen, "%s", d < 0 ? "-Infinity" : "Infinity");
    return snprintf(out, outlen, "%.17g", d);
}

int pg__bind(store_stmt *stmt, int idx, struct store_value v)
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
        n = pg__format_double(v.v.d, tmp, sizeof tmp);
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
    Oid *types = pg__xrealloc(NULL, ((size_t)e->nparams + 1) * sizeof *types);
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
        vals = pg__xrealloc(NULL, (size_t)e->nparams * sizeof *vals);
        lens = pg__xrealloc(NULL, (size_t)e->nparams * sizeof *lens);
        fmts = pg__xrealloc(NULL, (size_t)e->nparams * sizeof *fmts);
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
        rc = pg__fail(c, r, NULL, e->sql);
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
        e->dec = pg__xrealloc(e->dec, (size_t)ncols * sizeof *e->dec);
        e->declen = pg__xrealloc(e->declen, (size_t)ncols * sizeof *e->declen);
        for (int i = e->ndec; i < ncols; i++)
            e->dec[i] = NULL;
        e->ndec = ncols;
    }
    return 0;
}

int pg__step(store_stmt *stmt)
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

int64_t pg__changes(store_stmt *stmt)
{
    return conn_of(stmt->s)->changes;
}

int pg__column_count(store_stmt *stmt)
{
    struct pg_stmt *e = stmt_of(stmt);
    return e->res ? PQnfields(e->res) : 0;
}

const char *pg__column_name(store_stmt *stmt, int col)
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

enum store_type pg__column_type(store_stmt *stmt, int col)
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

int64_t pg__column_int(store_stmt *stmt, int col)
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

double pg__column_double(store_stmt *stmt, int col)
{
    struct pg_stmt *e = stmt_of(stmt);
    const char *v = raw_value(e, col);
    if (!v)
        return 0.0;
    if (PQftype(e->res, col) == OID_BOOL)
        return v[0] == 't' ? 1.0 : 0.0;
    return strtod(v, NULL);
}

const char *pg__column_text(store_stmt *stmt, int col, size_t *len)
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

void pg__reset(store_stmt *stmt)
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

/* ---- the connection's statements ----------------------------------------------------------- */

void pg__stmts_reset(struct pg_conn *c)
{
    for (struct pg_stmt *e = lru_stmt(c->cache.head); e; e = lru_stmt(e->lru.next))
        if (e->in_use)
            pg__reset(&e->base);
}

void pg__stmts_free(struct pg_conn *c)
{
    struct pg_stmt *e = lru_stmt(c->cache.head);
    while (e) {
        struct pg_stmt *next = lru_stmt(e->lru.next);
        stmt_free(c, e, 0);
        e = next;
    }
    c->cache = (struct store_lru){0};
}
