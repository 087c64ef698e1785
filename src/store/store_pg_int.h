/*
 * store_pg_int: internals shared by the three files of the PostgreSQL backend of
 * the store (libpq; built and tested against PostgreSQL 15). Only
 * src/store/store_pg*.c include this header; store.c reaches the backend through
 * store_pg_backend (store_int.h), every other module through store.h.
 *
 *   store_pg.c       connections: open (one-line connection errors), close, ping,
 *                    the mapping of server errors to ERR_* codes, exec,
 *                    transactions, cleaning for the pool, introspection, and the
 *                    vtable instance store_pg_backend;
 *   store_pg_stmt.c  prepared statements and their per-connection cache, binds
 *                    and the parameter types, result rows and the column getters
 *                    (bytea decoded), and streams (cursors fetched in batches);
 *   store_pg_copy.c  the bulk loader, COPY ... FROM STDIN in text format.
 *
 * The one object the files share is the connection, struct pg_conn below. A
 * statement (struct pg_stmt) is private to store_pg_stmt.c and a loader to
 * store_pg_copy.c: the connection only holds the statement cache's list and the
 * list of open streams (struct store_lru, store_int.h), which store_pg.c empties
 * or resets through pg__stmts_free() and pg__stmts_reset(), the bookkeeping of
 * the transaction streams opened (stream_tx, txn), which store_pg.c's commit and
 * rollback update through pg__tx_ended(), and the stream whose FETCH is in
 * flight (fetching), which every file settles through pg__settle().
 *
 * While a loader is open (in_copy) the connection is in COPY mode: prepare, step
 * and exec refuse with ERR_INVAL, dropping a statement skips its DEALLOCATE, and
 * cleaning the connection ends the COPY first (pg__copy_finish).
 *
 * A stream sends the FETCH of its next batch ahead (PQsendQuery) while its
 * caller reads the current one, so at most one stream (fetching) has a command
 * in flight on the connection. The rule for all three files: before anything
 * that talks to the server (PQexec, PQprepare, PQdescribePrepared,
 * PQexecPrepared, PQexecParams, PQsendQuery, PQputCopy*, PQfinish), call
 * pg__settle(c), which collects that FETCH's result into its stream for later.
 * While it is in flight PQtransactionStatus says PQTRANS_ACTIVE: the cursor's
 * transaction is open.
 *
 * What one file exports to another is named pg__ so that it is visibly not API;
 * everything else in each file is static. The vtable operations are declared here
 * only because the instance in store_pg.c names them; their contracts are those of
 * struct store_backend in store_int.h.
 */
#ifndef FERRY_STORE_STORE_PG_INT_H
#define FERRY_STORE_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"

struct pg_stmt; /* store_pg_stmt.c */

/* A connection: the common header, then libpq's. */
struct pg_conn {
    struct store base;
    PGconn *conn;
    struct store_lru cache;    /* statements (struct pg_stmt), most recently used first */
    struct store_lru streams;  /* streams in use (struct pg_stmt), not cached */
    unsigned long next_name;   /* the last server statement name was "f<next_name>" */
    unsigned long next_cursor; /* the last cursor name was "fc<next_cursor>" */
    /* Streams open in a transaction that a stream opened (BEGIN ... READ ONLY);
     * the last of them to be reset ends it. 0: no such transaction. */
    int stream_tx;
    /* Transactions ended through the backend so far (commit, rollback, a
     * stream's end): a cursor lives in the transaction whose number it
     * recorded, and is gone once this moves on. */
    unsigned long txn;
    int64_t changes; /* rows changed by the last statement or COPY */
    int in_copy;     /* a loader is open */
    /* The stream whose FETCH is in flight (sent, result not read yet), or NULL;
     * pg__settle() reads it. */
    struct pg_stmt *fetching;
    /* A FETCH that pg__settle() read failed and aborted the transaction: later
     * statements in it fail with "current transaction is aborted", and errmsg
     * says why. Cleared when the transaction ends (pg__tx_ended). */
    int fetch_aborted;
    char schema[STORE_IDENT_MAX + 1];
};

static inline struct pg_conn *conn_of(store *s)
{
    return (struct pg_conn *)s;
}

static inline const struct pg_conn *cconn_of(const store *s)
{
    return (const struct pg_conn *)s;
}

/* ---- store_pg.c ------------------------------------------------------------------------- */

/* realloc that aborts on out-of-memory; n == 0 still returns a block. Takes p. */
void *pg__xrealloc(void *p, size_t n);

/* Record the error of r (borrowed; NULL or without a message: the connection's)
 * in c->base.errmsg as one line - "prefix: " when prefix is not NULL, the primary
 * message (libpq's own message for an error it made itself), the detail in
 * parentheses, and "(in: sql)" with the first 300 bytes of sql when sql is not
 * NULL. Returns the ERR_* code of its SQLSTATE (see the design comment of
 * store_pg.c); ERR_UNAVAILABLE when the connection is bad. */
int pg__fail(struct pg_conn *c, const PGresult *r, const char *prefix, const char *sql);

/* Note that the transaction open on c has ended (committed or rolled back): the
 * cursors of streams in it are gone and no stream owns a transaction. */
void pg__tx_ended(struct pg_conn *c);

/* ---- store_pg_stmt.c -------------------------------------------------------------------- */

/* Write into out the text form of d that float8in reads back exactly ("NaN",
 * "Infinity", "-Infinity" or %.17g). Returns what snprintf returns. */
int pg__format_double(double d, char *out, size_t outlen);

/* Reset every cached statement still in use and every open stream (as
 * store_stmt_reset would: a stream's cursor is closed, the transaction it opened
 * ended, and it is freed). */
void pg__stmts_reset(struct pg_conn *c);

/* Free every cached statement and stream without DEALLOCATE or CLOSE (closing
 * the session drops them on the server); both lists are empty afterwards. */
void pg__stmts_free(struct pg_conn *c);

/* Make the connection idle for a command: if a stream's FETCH is in flight
 * (c->fetching), wait for its result and keep it in that stream, which returns
 * its rows, or its error, at the step that reaches that batch; c->fetching is
 * NULL afterwards. Cheap when nothing is in flight. Call it before every command
 * sent on c (see the rule above). */
void pg__settle(struct pg_conn *c);

int pg__prepare(store *s, const char *sql, store_stmt **out);
int pg__prepare_stream(store *s, const char *sql, store_stmt **out);
int pg__bind(store_stmt *stmt, int idx, struct store_value v);
int pg__step(store_stmt *stmt);
int64_t pg__changes(store_stmt *stmt);
int pg__column_count(store_stmt *stmt);
const char *pg__column_name(store_stmt *stmt, int col);
enum store_type pg__column_type(store_stmt *stmt, int col);
int64_t pg__column_int(store_stmt *stmt, int col);
double pg__column_double(store_stmt *stmt, int col);
const char *pg__column_text(store_stmt *stmt, int col, size_t *len);
void pg__reset(store_stmt *stmt);

/* ---- store_pg_copy.c -------------------------------------------------------------------- */

/* End a COPY left open: send the end (errormsg not NULL: abort it with that
 * message, borrowed) and read the results, errors ignored. Clears c->in_copy. */
void pg__copy_finish(struct pg_conn *c, const char *errormsg);

int pg__loader_begin(store *s, const char *schema, const char *table, const char *const *columns,
                     size_t ncolumns, store_loader **out);
int pg__loader_row(store_loader *base, const struct store_value *values);
int pg__loader_end(store_loader *base, int64_t *rows);
void pg__loader_abort(store_loader *base);

#endif
