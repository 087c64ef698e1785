/*
 * store_pg_copy: the bulk loader of the PostgreSQL backend. The connection,
 * errors (pg__fail) and the vtable are in store_pg.c; see store_pg_int.h for how
 * the files divide the backend.
 *
 * The loader runs COPY "schema"."table" (cols) FROM STDIN in text format: each
 *   row is escaped into one reused buffer (\\, tab, newline, CR escaped; \N is
 *   NULL; blobs as \\x hex) that is sent with PQputCopyData every 64 KiB, so
 *   there is no round trip and no allocation per row. The server reports a bad
 *   row only at the end (store_loader_end), as "line N" in its context: that
 *   line is the row number, and errmsg says "row N".
 *
 * While the loader is open the connection is in COPY mode (c->in_copy): one
 * loader per connection, and no statement or exec on it until the loader ends.
 * Like every command, COPY first settles a stream's FETCH in flight
 * (pg__settle): the stream gets that batch after the load, and none is sent
 * during it (a stream's step refuses in COPY mode), so the calls before
 * PQputCopy* find nothing to settle; they are there for the rule's sake.
 * loader_end and loader_abort end the COPY and free the loader; a loader
 * abandoned in a pooled connection is ended by the pool's clean
 * (pg__copy_finish).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store_pg_int.h"

#define SQL_MAX_BYTES (64u << 20)
#define COPY_CHUNK    (64u << 10)

struct pg_loader {
    struct store_loader base;
    size_t ncolumns;
    char *buf; /* escaped rows not yet sent */
    size_t len, cap;
};

/* End a COPY left open: send the end (or a failure) and read the results. */
void pg__copy_finish(struct pg_conn *c, const char *errormsg)
{
    pg__settle(c);
    if (PQstatus(c->conn) == CONNECTION_OK)
        PQputCopyEnd(c->conn, errormsg);
    PGresult *r;
    while ((r = PQgetResult(c->conn)) != NULL)
        PQclear(r);
    c->in_copy = 0;
}

/* ---- loader -------------------------------------------------------------------------------- */

int pg__loader_begin(store *s, const char *schema, const char *table, const char *const *columns,
                     size_t ncolumns, store_loader **out)
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
        rc = store__append_target(s, schema, table, columns, ncolumns, &sql);
    if (rc == 0)
        rc = buf_puts(&sql, " FROM STDIN");
    if (rc < 0) {
        store__set_errmsg(s, "loader: invalid table or column names");
        goto out;
    }
    pg__settle(c); /* a stream's FETCH in flight: its batch waits in the stream */
    PGresult *r = PQexec(c->conn, buf_cstr(&sql));
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = pg__fail(c, r, "loader", NULL);
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
    ld->buf = pg__xrealloc(NULL, ld->cap);
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
    ld->buf = pg__xrealloc(ld->buf, ld->cap);
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
    pg__settle(c);
    if (PQputCopyData(c->conn, ld->buf, (int)ld->len) != 1) {
        int rc = pg__fail(c, NULL, NULL, NULL);
        char msg[STORE_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", c->base.errmsg);
        store__set_errmsg(&c->base, "row %lld: %s", (long long)ld->base.seen, msg);
        return rc;
    }
    ld->len = 0;
    return 0;
}

/* v in decimal at the end of out (outlen >= 21); returns its length. Faster than
 * snprintf for the millions of integers a load sends. */
static int format_int(int64_t v, char *out, size_t outlen)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = out + outlen;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return (int)(out + outlen - p);
}

int pg__loader_row(store_loader *base, const struct store_value *values)
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
            n = format_int(v->v.i, tmp, sizeof tmp);
            ld_reserve(ld, (size_t)n); /* digits and '-' need no escaping */
            memcpy(ld->buf + ld->len, tmp + sizeof tmp - n, (size_t)n);
            ld->len += (size_t)n;
            break;
        case STORE_DOUBLE:
            n = pg__format_double(v->v.d, tmp, sizeof tmp);
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
    int rc = pg__fail(c, r, NULL, NULL);
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

int pg__loader_end(store_loader *base, int64_t *rows)
{
    struct pg_loader *ld = (struct pg_loader *)base;
    struct pg_conn *c = conn_of(base->s);
    int rc = ld_flush(ld);
    if (rc < 0) {
        pg__copy_finish(c, "aborted by ferry");
        goto out;
    }
    pg__settle(c);
    if (PQputCopyEnd(c->conn, NULL) != 1) {
        rc = pg__fail(c, NULL, "loader", NULL);
        pg__copy_finish(c, NULL);
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

void pg__loader_abort(store_loader *base)
{
    struct pg_loader *ld = (struct pg_loader *)base;
    pg__copy_finish(conn_of(base->s), "aborted by ferry");
    loader_free(ld);
}
