/*
 * store_pg_stmt: statements of the PostgreSQL backend - the per-connection
 * statement cache, binds and their parameter types, result rows and the column
 * getters, and streams. The connection, errors (pg__fail) and the vtable are in
 * store_pg.c; see store_pg_int.h for how the files divide the backend.
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
 *   bounded pages, or use a stream). Column types come from the result's type
 *   OIDs: int2/int4/int8/oid -> STORE_INT, float4/float8/numeric ->
 *   STORE_DOUBLE, bytea -> STORE_BLOB, bool -> STORE_INT (0/1, text "1"/"0":
 *   the SQLite view, where booleans are integers), anything else -> STORE_TEXT.
 *   bytea values are decoded, so store_column_text gives the raw bytes; the
 *   decoded copy lives until the statement steps or is reset. The getters run
 *   once per value of an export, so each result's column kinds are worked out
 *   once (take_result), and the last value read is kept (raw_value): the
 *   store_column_is_null then store_column_text of a value reads it once.
 *
 * Streams (store_prepare_stream)
 *   A stream is a struct pg_stmt with stream set, outside the cache: it is kept
 *   in the connection's list of streams (so that cleaning and closing reach
 *   it) and freed by its reset. Prepare parses the SQL as the unnamed statement
 *   (PQprepare with name "", which the next parse replaces: nothing to
 *   deallocate) for its syntax errors and parameter types, read as for a cached
 *   statement. The first step sends, if the connection is idle, BEGIN ISOLATION
 *   LEVEL REPEATABLE READ READ ONLY, then DECLARE fc<N> NO SCROLL CURSOR FOR
 *   <sql> through PQexecParams with the binds, their types chosen as for a
 *   cached statement (the inferred type unless it cannot take the bind:
 *   retype_for); the extended protocol takes parameters in DECLARE. Then FETCH
 *   FORWARD STORE_STREAM_BATCH FROM fc<N> (simple protocol, text format) fills
 *   the same fields an executed statement fills (res, row, nrows), so the
 *   column getters are the same code; each batch's PGresult is freed when the
 *   next is taken, and a batch shorter than STORE_STREAM_BATCH is the last.
 *   A failed DECLARE or FETCH makes every later step fail until the reset.
 *   Reset sends CLOSE when the cursor's transaction is still open and sound,
 *   and ends the transaction if a stream opened it: COMMIT, or ROLLBACK when it
 *   failed. Streams opened while a stream's transaction is open share it
 *   (c->stream_tx counts them; the last one reset ends it); inside the caller's
 *   transaction a stream only closes its cursor. A cursor records the number
 *   of the transaction it lives in (c->txn, moved on by commit and rollback
 *   through pg__tx_ended), so a reset after the caller ended that transaction
 *   sends nothing. (A transaction ended by SQL text, store_exec("COMMIT"), is
 *   not seen: don't.)
 *
 *   Prefetch. When a stream takes a full batch it at once sends the FETCH of
 *   the next one (PQsendQuery) and marks itself as the connection's
 *   c->fetching, so the server makes batch N+1 while the caller reads batch N
 *   (without it each side waited for the other, where COPY streams on); the
 *   step past batch N reads that result (PQgetResult, then to NULL) instead of
 *   a FETCH of its own. In memory per stream: the current batch and at most
 *   the next. One command at a time is in flight on a connection, and streams
 *   may be interleaved with other statements, other streams, and resets. Hence
 *   the settle rule: everything in store_pg*.c that sends a command (PQexec,
 *   PQprepare, PQdescribePrepared, PQexecPrepared, PQexecParams, PQsendQuery,
 *   PQputCopy*, COMMIT/ROLLBACK, CLOSE, DEALLOCATE, the pool's clean, ping,
 *   close) first calls pg__settle(c), which reads the FETCH in flight into its
 *   stream (e->next) and clears c->fetching; the stream takes e->next at its
 *   next batch. (Without it PQexec would silently drop the pending result -
 *   a lost batch, not an error - and the PQsend* calls would fail.) Its rows
 *   are not lost, and its error is not reported by the statement that
 *   happened to settle it, which runs as usual: the stream's step that reaches
 *   that batch reports it (pg__fail, as for a FETCH of its own). A failed
 *   FETCH still aborts its transaction at once, so statements after it in that
 *   transaction fail, and their errmsg says the FETCH did it
 *   (c->fetch_aborted). A reset settles first (discarding its own batch with
 *   the stream), then sends CLOSE. A commit or rollback that ends the cursor's
 *   transaction leaves the stream the batch settled before it; the FETCH after
 *   that fails (no such cursor). While a FETCH is in flight libpq reports the
 *   transaction ACTIVE, which store_in_transaction counts as open. Batches of
 *   1000 to 2000 rows export fastest (a 1M-row, 10-column CSV export: 500
 *   rows 0.71 s, 1000 0.69, 2000 0.70, 5000 0.72, 10000 0.76, 50000 0.85),
 *   so the batch stays STORE_STREAM_BATCH rows, not adapted.
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

#define STREAM_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

struct pg_param {
    Oid type;   /* 0: let the server infer (text, NULL) */
    int format; /* 0 text, 1 binary */
    int isnull;
    int64_t i;  /* the value of an integer bind */
    char *val;  /* owned, reused across uses */
    size_t len; /* bytes of val in use */
    size_t cap;
};

/* Where a stream is: NEW (not declared yet), OPEN (fetching), END (the last
 * batch is in res), FAILED (a DECLARE or FETCH failed: steps fail until reset). */
enum stream_state { STREAM_NEW = 0, STREAM_OPEN, STREAM_END, STREAM_FAILED };

struct pg_stmt {
    struct store_stmt base;
    char *sql; /* the caller's SQL text (the cache key), owned */
    uint32_t hash;
    int in_use;
    struct store_lru_node lru; /* in the connection's cache, or its streams for a stream */
    char name[24];             /* server statement name; "" when not prepared */
    int nparams;
    Oid *ptypes; /* types it was prepared with (nparams) */
    struct pg_param *params;
    PGresult *res; /* result of this use, or NULL before the first step */
    int row, nrows, ncols;
    /* Per column of res (ndec slots): its kind (enum col_kind, from the type
     * OID once per result), and the decoded bytea of the current row
     * (PQfreemem). */
    unsigned char *kinds;
    unsigned char **dec;
    size_t *declen;
    int ndec;
    /* The value raw_value() read last: row memo_row, column memo_col (-1: none). */
    int memo_row, memo_col;
    const char *memo_val;
    size_t memo_len;
    /* Streams only (stream set; see "Streams" above). */
    int stream;
    int typed; /* ptypes holds the server's inferred types (else: the binds') */
    enum stream_state state;
    int declared;      /* the cursor was declared */
    int own_tx;        /* counted in c->stream_tx */
    unsigned long txn; /* c->txn when it was declared: the cursor's transaction */
    int rc;            /* the error a FAILED stream returns again */
    char cursor[24];   /* "fc<N>" */
    PGresult *next;    /* the next batch, sent ahead and read by pg__settle(); or NULL */
};

/* How the getters read a column, from its type OID (see "Rows" above). */
enum col_kind { KIND_TEXT = 0, KIND_INT, KIND_DOUBLE, KIND_BOOL, KIND_BYTEA };

static unsigned char kind_of(Oid type)
{
    switch (type) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return KIND_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return KIND_DOUBLE;
    case OID_BOOL:
        return KIND_BOOL;
    case OID_BYTEA:
        return KIND_BYTEA;
    default:
        return KIND_TEXT;
    }
}

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
        pg__settle(c);
        PQclear(PQexec(c->conn, sql));
    }
    e->name[0] = '\0';
}

/* Drop the rows of this use (res freed): no row, no column. */
static void clear_result(struct pg_stmt *e)
{
    free_decoded(e);
    PQclear(e->res);
    e->res = NULL;
    e->row = e->nrows = e->ncols = 0;
    e->memo_col = -1;
}

static void stmt_free(struct pg_conn *c, struct pg_stmt *e, int server)
{
    if (server)
        deallocate(c, e);
    clear_result(e);
    PQclear(e->next);
    free(e->kinds);
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

/* Parse e's SQL on the server as statement name ("" = the unnamed one) with the
 * given types (NULL: all inferred). */
static int parse(struct pg_conn *c, struct pg_stmt *e, const char *name, const Oid *types)
{
    pg__settle(c);
    PGresult *r = PQprepare(c->conn, name, e->sql, e->nparams, types);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg__fail(c, r, NULL, e->sql);
    PQclear(r);
    return rc;
}

/* Read the parameter types the server settled on for statement name into
 * e->ptypes. */
static int describe_params(struct pg_conn *c, struct pg_stmt *e, const char *name)
{
    pg__settle(c);
    PGresult *r = PQdescribePrepared(c->conn, name);
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

/* Prepare e on the server with the given types (NULL: all inferred), then read
 * the parameter types the server settled on. */
static int server_prepare(struct pg_conn *c, struct pg_stmt *e, const Oid *types)
{
    char name[24];
    snprintf(name, sizeof name, "f%lu", ++c->next_name);
    int rc = parse(c, e, name, types);
    if (rc < 0)
        return rc;
    snprintf(e->name, sizeof e->name, "%s", name);
    return describe_params(c, e, name);
}

/* Does the error message say that a parameter's type can only come from its
 * bind? Such SQL is typed at its first step. */
static int untyped_error(const char *msg)
{
    return strstr(msg, "could not determine data type of parameter") ||
           strstr(msg, "inconsistent types deduced for parameter");
}

/* A new statement for sql (copied) with nparams parameters, all NULL. */
static struct pg_stmt *stmt_new(store *s, const char *sql, uint32_t hash, int nparams)
{
    struct pg_stmt *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->base.s = s;
    e->sql = strdup(sql);
    if (!e->sql)
        abort();
    e->hash = hash;
    e->nparams = nparams;
    e->ptypes = pg__xrealloc(NULL, (size_t)nparams * sizeof *e->ptypes);
    e->params = calloc((size_t)nparams + 1, sizeof *e->params);
    if (!e->params)
        abort();
    for (int i = 0; i < nparams; i++)
        e->params[i].isnull = 1;
    return e;
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
    struct pg_stmt *e = stmt_new(s, sql, h, nparams);
    int rc = server_prepare(c, e, NULL);
    if (rc < 0 && !untyped_error(store_errmsg(s))) {
        stmt_free(c, e, 0);
        return rc;
    }
    /* Else a parameter whose type only its bind can tell: prepare at the first step. */
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

/* The parameter types for this use's binds into types (nparams entries). With
 * typed (e->ptypes holds the server's inferred types) each keeps its inferred
 * type unless that cannot take the bind (retype_for), so a function taking
 * integer still matches an integer bind; without, the binds' own types (0, to
 * infer, for NULL and text). */
static void bind_types(const struct pg_stmt *e, int typed, Oid *types)
{
    for (int i = 0; i < e->nparams; i++) {
        const struct pg_param *p = &e->params[i];
        if (!typed) {
            types[i] = p->isnull ? 0 : p->type;
        } else {
            Oid t = retype_for(p, e->ptypes[i]);
            types[i] = t ? t : e->ptypes[i];
        }
    }
}

/* Make sure the server statement suits this use's binds: statements the server
 * could not type without them are prepared now with the binds' types; a
 * parameter whose inferred type cannot take the bind gets the statement
 * prepared again with the bind's type (bind_types). */
static int ensure_types(struct pg_conn *c, struct pg_stmt *e)
{
    int need = !e->name[0];
    for (int i = 0; !need && i < e->nparams; i++)
        if (retype_for(&e->params[i], e->ptypes[i]))
            need = 1;
    if (!need)
        return 0;
    Oid *types = pg__xrealloc(NULL, ((size_t)e->nparams + 1) * sizeof *types);
    bind_types(e, e->name[0] != '\0', types);
    deallocate(c, e);
    int rc = server_prepare(c, e, types);
    free(types);
    return rc;
}

/* This use's binds in the arrays PQexecPrepared and PQexecParams take. The
 * arrays are owned (args_free); the values are borrowed from e's binds. */
struct pg_args {
    const char **vals;
    int *lens, *fmts;
};

static void args_make(const struct pg_stmt *e, struct pg_args *a)
{
    *a = (struct pg_args){0};
    if (e->nparams == 0)
        return;
    a->vals = pg__xrealloc(NULL, (size_t)e->nparams * sizeof *a->vals);
    a->lens = pg__xrealloc(NULL, (size_t)e->nparams * sizeof *a->lens);
    a->fmts = pg__xrealloc(NULL, (size_t)e->nparams * sizeof *a->fmts);
    for (int i = 0; i < e->nparams; i++) {
        const struct pg_param *p = &e->params[i];
        a->vals[i] = p->isnull ? NULL : p->val;
        a->lens[i] = (int)p->len;
        a->fmts[i] = p->isnull ? 0 : p->format;
    }
}

static void args_free(struct pg_args *a)
{
    free(a->vals);
    free(a->lens);
    free(a->fmts);
}

/* Make r (taken) the statement's rows, before the first: the getters read res,
 * row, nrows, ncols and each column's kind; dec has a slot per column. */
static void take_result(struct pg_stmt *e, PGresult *r)
{
    e->res = r;
    e->row = -1;
    e->nrows = PQntuples(r);
    e->ncols = PQnfields(r);
    e->memo_col = -1;
    if (e->ncols > e->ndec) {
        e->kinds = pg__xrealloc(e->kinds, (size_t)e->ncols * sizeof *e->kinds);
        e->dec = pg__xrealloc(e->dec, (size_t)e->ncols * sizeof *e->dec);
        e->declen = pg__xrealloc(e->declen, (size_t)e->ncols * sizeof *e->declen);
        for (int i = e->ndec; i < e->ncols; i++)
            e->dec[i] = NULL;
        e->ndec = e->ncols;
    }
    for (int i = 0; i < e->ncols; i++)
        e->kinds[i] = kind_of(PQftype(r, i));
}

static int execute(struct pg_conn *c, struct pg_stmt *e)
{
    int rc = ensure_types(c, e);
    if (rc < 0)
        return rc;
    struct pg_args a;
    args_make(e, &a);
    pg__settle(c);
    PGresult *r = PQexecPrepared(c->conn, e->name, e->nparams, a.vals, a.lens, a.fmts, 0);
    args_free(&a);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        rc = pg__fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    const char *ct = PQcmdTuples(r);
    c->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
    take_result(e, r);
    return 0;
}

/* ---- streams ------------------------------------------------------------------------------- */

int pg__prepare_stream(store *s, const char *sql, store_stmt **out)
{
    struct pg_conn *c = conn_of(s);
    if (c->in_copy) {
        store__set_errmsg(s, "the connection is in COPY mode (a loader is open)");
        return ERR_INVAL;
    }
    int nparams = 0;
    if (scan_sql(sql, &nparams) < 0) {
        store__set_errmsg(s, "several statements in one prepare (use store_exec): %.300s", sql);
        return ERR_INVAL;
    }
    struct pg_stmt *e = stmt_new(s, sql, 0, nparams);
    e->stream = 1;
    int rc = parse(c, e, "", NULL);
    if (rc == 0)
        rc = describe_params(c, e, "");
    if (rc == 0)
        e->typed = 1;
    else if (!untyped_error(store_errmsg(s))) {
        stmt_free(c, e, 0);
        return rc;
    }
    e->in_use = 1;
    store__lru_push_front(&c->streams, &e->lru);
    *out = &e->base;
    return 0;
}

/* Open e's transaction if the connection is idle, then declare its cursor with
 * this use's binds. */
static int stream_declare(struct pg_conn *c, struct pg_stmt *e)
{
    pg__settle(c);
    PGTransactionStatusType ts = PQtransactionStatus(c->conn);
    PGresult *r;
    int rc;
    if (ts == PQTRANS_IDLE) {
        r = PQexec(c->conn, STREAM_BEGIN);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg__fail(c, r, "stream: begin", NULL);
        PQclear(r);
        if (rc < 0)
            return rc;
        e->own_tx = 1;
    } else if (ts == PQTRANS_INTRANS && c->stream_tx > 0) {
        e->own_tx = 1; /* another stream's transaction: the last one reset ends it */
    }
    if (e->own_tx)
        c->stream_tx++;
    e->txn = c->txn;
    snprintf(e->cursor, sizeof e->cursor, "fc%lu", ++c->next_cursor);

    size_t n = strlen(e->sql) + 64;
    char *sql = pg__xrealloc(NULL, n);
    snprintf(sql, n, "DECLARE %s NO SCROLL CURSOR FOR %s", e->cursor, e->sql);
    Oid *types = pg__xrealloc(NULL, ((size_t)e->nparams + 1) * sizeof *types);
    bind_types(e, e->typed, types);
    struct pg_args a;
    args_make(e, &a);
    r = PQexecParams(c->conn, sql, e->nparams, types, a.vals, a.lens, a.fmts, 0);
    args_free(&a);
    free(types);
    free(sql);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg__fail(c, r, NULL, e->sql);
    PQclear(r);
    if (rc == 0)
        e->declared = 1;
    return rc;
}

/* Read the result of the command in flight and what follows it (nothing, for
 * one FETCH) as one result, taken by the caller: libpq's error (its text kept
 * in the result) when there is none. */
static PGresult *collect(struct pg_conn *c)
{
    PGresult *r = PQgetResult(c->conn), *more;
    if (!r)
        r = PQmakeEmptyPGresult(c->conn, PGRES_FATAL_ERROR);
    if (!r)
        abort();
    while ((more = PQgetResult(c->conn)) != NULL)
        PQclear(more);
    return r;
}

void pg__settle(struct pg_conn *c)
{
    struct pg_stmt *e = c->fetching;
    if (!e)
        return;
    c->fetching = NULL;
    e->next = collect(c);
    if (PQresultStatus(e->next) != PGRES_TUPLES_OK &&
        PQtransactionStatus(c->conn) == PQTRANS_INERROR) {
        const char *state = PQresultErrorField(e->next, PG_DIAG_SQLSTATE);
        if (!state || strcmp(state, "25P02") != 0) /* not itself refused by an aborted one */
            c->fetch_aborted = 1;
    }
}

/* Replace the current batch with the next one: the one sent ahead if there is
 * one (read now if still in flight), else a FETCH now. Then, unless this batch is
 * the last, send the FETCH of the one after it, which the server makes while
 * the caller reads this one. In memory: this batch and at most the next. */
static int stream_fetch(struct pg_conn *c, struct pg_stmt *e)
{
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", STORE_STREAM_BATCH, e->cursor);
    clear_result(e);
    if (c->fetching == e)
        pg__settle(c);
    PGresult *r = e->next;
    e->next = NULL;
    if (!r) {
        pg__settle(c);
        r = PQexec(c->conn, sql);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = pg__fail(c, r, NULL, e->sql);
        PQclear(r);
        return rc;
    }
    take_result(e, r);
    if (e->nrows < STORE_STREAM_BATCH) {
        e->state = STREAM_END;
        return 0;
    }
    pg__settle(c); /* another stream's */
    if (PQsendQuery(c->conn, sql) == 1)
        c->fetching = e;
    /* Else nothing is in flight: the next batch's FETCH runs then, and fails there. */
    return 0;
}

static int stream_step(struct pg_conn *c, struct pg_stmt *e)
{
    free_decoded(e);
    if (e->res && e->row < e->nrows)
        e->row++;
    if (e->res && e->row < e->nrows)
        return STORE_ROW;
    if (e->state == STREAM_END)
        return STORE_DONE;
    if (e->state == STREAM_FAILED) {
        store__set_errmsg(&c->base, "stream: an earlier step failed (reset the statement)");
        return e->rc;
    }
    if (c->in_copy) {
        store__set_errmsg(&c->base, "the connection is in COPY mode (a loader is open)");
        return ERR_INVAL;
    }
    int rc = 0;
    if (e->state == STREAM_NEW) {
        rc = stream_declare(c, e);
        if (rc == 0)
            e->state = STREAM_OPEN;
    }
    if (rc == 0)
        rc = stream_fetch(c, e);
    if (rc < 0) {
        e->state = STREAM_FAILED;
        e->rc = rc;
        return rc;
    }
    e->row = 0;
    return e->nrows > 0 ? STORE_ROW : STORE_DONE;
}

/* The server side of a stream's reset: close the cursor if its transaction is
 * still open and sound, and end the transaction if this is the last stream in
 * one that streams opened. Errors are ignored: a failed COMMIT still ends the
 * transaction, and ROLLBACK follows anything left open. (A loader cannot be open
 * in a stream's READ ONLY transaction, so a reset in COPY mode is always inside
 * the caller's transaction: the cursor is then left to its end.) */
static void stream_end(struct pg_conn *c, struct pg_stmt *e)
{
    pg__settle(c); /* a FETCH in flight; this stream's batch is freed with it */
    int usable = PQstatus(c->conn) == CONNECTION_OK && !c->in_copy;
    int same_tx = e->txn == c->txn;
    if (e->declared && same_tx && usable && PQtransactionStatus(c->conn) == PQTRANS_INTRANS) {
        char sql[48];
        snprintf(sql, sizeof sql, "CLOSE %s", e->cursor);
        PQclear(PQexec(c->conn, sql));
    }
    if (!e->own_tx || !same_tx || c->stream_tx <= 0 || --c->stream_tx > 0)
        return;
    if (usable) {
        int ok = PQtransactionStatus(c->conn) == PQTRANS_INTRANS;
        PQclear(PQexec(c->conn, ok ? "COMMIT" : "ROLLBACK"));
        if (PQtransactionStatus(c->conn) != PQTRANS_IDLE)
            PQclear(PQexec(c->conn, "ROLLBACK"));
    }
    pg__tx_ended(c);
}

int pg__step(store_stmt *stmt)
{
    struct pg_stmt *e = stmt_of(stmt);
    struct pg_conn *c = conn_of(stmt->s);
    if (e->stream)
        return stream_step(c, e);
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
    return stmt_of(stmt)->ncols;
}

const char *pg__column_name(store_stmt *stmt, int col)
{
    return PQfname(stmt_of(stmt)->res, col);
}

/* The current row's value text and its length, or NULL (no row, or SQL NULL).
 * store.c has checked col. The answer is kept for the next call: an export asks
 * store_column_is_null, then store_column_text, of each value. */
static const char *raw_value(struct pg_stmt *e, int col, size_t *len)
{
    if (e->row < 0 || e->row >= e->nrows)
        return NULL;
    if (e->memo_row != e->row || e->memo_col != col) {
        const char *v = PQgetvalue(e->res, e->row, col);
        int n = PQgetlength(e->res, e->row, col);
        if (n == 0 && PQgetisnull(e->res, e->row, col)) /* NULL reads as "" */
            v = NULL;
        e->memo_row = e->row;
        e->memo_col = col;
        e->memo_val = v;
        e->memo_len = (size_t)n;
    }
    *len = e->memo_len;
    return e->memo_val;
}

enum store_type pg__column_type(store_stmt *stmt, int col)
{
    static const enum store_type types[] = {
        [KIND_TEXT] = STORE_TEXT, [KIND_INT] = STORE_INT,    [KIND_DOUBLE] = STORE_DOUBLE,
        [KIND_BOOL] = STORE_INT,  [KIND_BYTEA] = STORE_BLOB,
    };
    struct pg_stmt *e = stmt_of(stmt);
    size_t n;
    if (!raw_value(e, col, &n))
        return STORE_NULL;
    return types[e->kinds[col]];
}

int64_t pg__column_int(store_stmt *stmt, int col)
{
    struct pg_stmt *e = stmt_of(stmt);
    size_t n;
    const char *v = raw_value(e, col, &n);
    if (!v)
        return 0;
    switch (e->kinds[col]) {
    case KIND_BOOL:
        return v[0] == 't';
    case KIND_DOUBLE: {
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
    size_t n;
    const char *v = raw_value(e, col, &n);
    if (!v)
        return 0.0;
    if (e->kinds[col] == KIND_BOOL)
        return v[0] == 't' ? 1.0 : 0.0;
    return strtod(v, NULL);
}

const char *pg__column_text(store_stmt *stmt, int col, size_t *len)
{
    struct pg_stmt *e = stmt_of(stmt);
    size_t n;
    const char *v = raw_value(e, col, &n);
    if (!v)
        return NULL;
    switch (e->kinds[col]) {
    case KIND_BOOL:
        n = 1;
        v = v[0] == 't' ? "1" : "0";
        break;
    case KIND_BYTEA:
        if (!e->dec[col]) {
            e->dec[col] = PQunescapeBytea((const unsigned char *)v, &e->declen[col]);
            if (!e->dec[col])
                abort();
        }
        n = e->declen[col];
        v = (const char *)e->dec[col];
        break;
    default:
        break;
    }
    if (len)
        *len = n;
    return v;
}

void pg__reset(store_stmt *stmt)
{
    struct pg_stmt *e = stmt_of(stmt);
    if (e->stream) {
        struct pg_conn *c = conn_of(stmt->s);
        stream_end(c, e);
        store__lru_unlink(&c->streams, &e->lru);
        stmt_free(c, e, 0);
        return;
    }
    clear_result(e);
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
    while (c->streams.head) /* resetting a stream frees it */
        pg__reset(&lru_stmt(c->streams.head)->base);
}

void pg__stmts_free(struct pg_conn *c)
{
    c->fetching = NULL; /* pg_close settled it; PQfinish would drop it anyway */
    struct store_lru *lists[] = {&c->cache, &c->streams};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct pg_stmt *e = lru_stmt(lists[i]->head);
        while (e) {
            struct pg_stmt *next = lru_stmt(e->lru.next);
            stmt_free(c, e, 0);
            e = next;
        }
        *lists[i] = (struct store_lru){0};
    }
}
