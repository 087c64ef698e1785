/*
 * store_pg: the PostgreSQL backend of the store (libpq; built and tested
 * against PostgreSQL 15). This file holds the connection and the vtable instance;
 * statements are in store_pg_stmt.c, the loader in store_pg_copy.c, and what they
 * share in store_pg_int.h.
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
 *   resolve to the ferry schema), bytea_output=hex, TimeZone=UTC and
 *   DateStyle=ISO (timestamptz values read back as "YYYY-MM-DD HH:MM:SS+00",
 *   whatever the server's default zone). Notices are discarded.
 *   Closing frees the cached statements and streams without DEALLOCATE or
 *   CLOSE and lets the server roll back an open transaction; cleaning for the
 *   pool ends an abandoned COPY, resets statements and streams left in use (a
 *   stream's reset ends the transaction it opened) and rolls back. Every
 *   command here (run, commit, close) first settles a stream's FETCH in flight
 *   (pg__settle, store_pg_int.h).
 *
 * Errors (pg__fail, for all three files)
 *   SQLSTATE class 23 -> ERR_CONSTRAINT; 40P01, 55P03, 40001 -> ERR_BUSY;
 *   class 08, 57P01-57P03 and a bad connection -> ERR_UNAVAILABLE; 54000, 54001
 *   -> ERR_TOOBIG; else ERR_STORE. errmsg is one line: the primary message, the
 *   detail, and the SQL (truncated) where it helps. A statement that fails
 *   because a stream's FETCH sent ahead aborted the transaction says so (the
 *   FETCH's own error goes to the stream's step).
 *
 * Transactions: BEGIN / COMMIT / ROLLBACK; store_in_transaction is
 *   PQtransactionStatus (in a block, or in a failed block, or active: a
 *   stream's FETCH in flight). COMMIT of a failed transaction rolls back, and
 *   store_commit says so (ERR_STORE). A stream outside a transaction opens one
 *   (store_pg_stmt.c); while it is open store_in_transaction says so and
 *   store_begin is refused. Commit and rollback that end a transaction tell
 *   the streams (pg__tx_ended): their cursors are gone, and their reset must
 *   neither CLOSE them nor end a later transaction.
 *
 * Introspection asks pg_catalog through the public query API, so its statements
 *   are cached like any caller's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store_pg_int.h"

/* realloc that aborts on out-of-memory (tiny internal allocations, STYLE.md rule 8). */
void *pg__xrealloc(void *p, size_t n)
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
 * prefix and SQL, and map it to an ERR_* code (the contract is in store_pg_int.h). */
int pg__fail(struct pg_conn *c, const PGresult *r, const char *prefix, const char *sql)
{
    char primary[600], detail[300];
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    /* An error libpq made itself has no fields but keeps its text: a FETCH read
     * by pg__settle() is reported later, when the connection says something else. */
    const char *own = r ? PQresultErrorMessage(r) : NULL;
    one_line(primary, sizeof primary, msg ? msg : own && *own ? own : PQerrorMessage(c->conn));
    if (!primary[0])
        snprintf(primary, sizeof primary, "unknown error");
    one_line(detail, sizeof detail, r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL);
    int rc = map_sqlstate(state);
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        rc = ERR_UNAVAILABLE;
        if (!msg)
            snprintf(primary, sizeof primary, "connection to the database server lost");
    }
    /* Say who aborted the transaction when it was a FETCH sent ahead: its error
     * is reported by the stream's step that reaches that batch. */
    const char *why = state && strcmp(state, "25P02") == 0 && c->fetch_aborted
                          ? " (the FETCH of a stream failed in this transaction)"
                          : "";
    store__set_errmsg(&c->base, "%s%s%s%s%s%s%s%s%.300s%s", prefix ? prefix : "",
                      prefix ? ": " : "", primary, why, detail[0] ? " (" : "", detail,
                      detail[0] ? ")" : "", sql ? " (in: " : "", sql ? sql : "", sql ? ")" : "");
    return rc;
}

void pg__tx_ended(struct pg_conn *c)
{
    c->stream_tx = 0;
    c->fetch_aborted = 0;
    c->txn++;
}

/* Run a command with PQexec; 0 or <0 with the error recorded. */
static int run(struct pg_conn *c, const char *sql, const char *prefix)
{
    pg__settle(c);
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = pg__fail(c, r, prefix, NULL);
    PQclear(r);
    return rc;
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
        rc = buf_puts(&sql, ", ferry; SET bytea_output TO hex; SET TimeZone TO 'UTC'; "
                            "SET DateStyle TO ISO");
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
    pg__settle(c);     /* a stream's FETCH in flight is read, then freed with it */
    pg__stmts_free(c); /* the server drops them with the session */
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

static int pg_in_transaction(const store *s);

static int pg_commit(store *s)
{
    struct pg_conn *c = conn_of(s);
    pg__settle(c);
    PGTransactionStatusType ts = PQtransactionStatus(c->conn);
    PGresult *r = PQexec(c->conn, "COMMIT");
    if (!pg_in_transaction(s))
        pg__tx_ended(c);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg__fail(c, r, "commit", NULL);
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
    struct pg_conn *c = conn_of(s);
    int rc = run(c, "ROLLBACK", "rollback");
    if (!pg_in_transaction(s))
        pg__tx_ended(c);
    return rc;
}

static int pg_in_transaction(const store *s)
{
    /* ACTIVE: a stream's FETCH is in flight, in the transaction of its cursor. */
    PGTransactionStatusType ts = PQtransactionStatus(cconn_of(s)->conn);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR || ts == PQTRANS_ACTIVE;
}

static void pg_clean(store *s)
{
    struct pg_conn *c = conn_of(s);
    if (c->in_copy)
        pg__copy_finish(c, "abandoned by ferry");
    pg__stmts_reset(c);
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
    return store__table_columns(
        s,
        "SELECT a.attname, lower(pg_catalog.format_type(a.atttypid, a.atttypmod)), "
        "a.attnotnull, COALESCE((SELECT k.n FROM pg_catalog.pg_index i, "
        "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, n) "
        "WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum), 0) "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        schema, table, 0, cols, n);
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
    .prepare = pg__prepare,
    .prepare_stream = pg__prepare_stream,
    .bind = pg__bind,
    .step = pg__step,
    .changes = pg__changes,
    .column_count = pg__column_count,
    .column_name = pg__column_name,
    .column_type = pg__column_type,
    .column_int = pg__column_int,
    .column_double = pg__column_double,
    .column_text = pg__column_text,
    .reset = pg__reset,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .clean = pg_clean,
    .broken = pg_broken,
    .table_exists = pg_table_exists,
    .table_columns = pg_table_columns,
    .loader_begin = pg__loader_begin,
    .loader_row = pg__loader_row,
    .loader_end = pg__loader_end,
    .loader_abort = pg__loader_abort,
};
