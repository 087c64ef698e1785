/*
 * store: the only way to the database. A backend-neutral interface with one
 * implementation per backend (store_sqlite.c, store_pg.c),
 * chosen by the URL:
 *
 *   sqlite:PATH | sqlite://PATH | PATH ending in .db/.sqlite/.sqlite3   -> SQLite
 *   postgresql://... | postgres://...                                 -> PostgreSQL
 *
 * The SQLite PATH is everything after the scheme, used as it is: sqlite:data/f.db
 * and sqlite://data/f.db are relative, sqlite:///srv/f.db is /srv/f.db.
 * Schemes are matched case-insensitively.
 *
 * Objects and ownership
 *
 *   store       one connection. Used by one thread at a time (never shared
 *               concurrently); get one per thread from a store_pool.
 *   store_stmt  a prepared statement, owned by its store (kept in the store's
 *               statement cache, keyed by SQL text). Never freed by the caller;
 *               store_stmt_reset() ends one use of it. In use from prepare to
 *               reset; preparing the same SQL while it is in use gives a second
 *               statement, so nested use of one query is safe.
 *   store_pool  a bounded set of connections to one database, shared by threads:
 *               acquire waits a bounded time, then fails with ERR_UNAVAILABLE.
 *
 * SQL dialect (what callers write, so that both backends run it unchanged)
 *
 *   - Placeholders are $1, $2, ... (PostgreSQL's form). The SQLite backend maps
 *     them to ?NNN outside string literals and quoted identifiers.
 *   - Identifiers that come from users go through store_quote_ident() and
 *     nowhere else. Values always go through binds, never into SQL text.
 *   - Upserts: INSERT ... ON CONFLICT (...) DO UPDATE SET c = excluded.c.
 *   - RETURNING is allowed on INSERT/UPDATE/DELETE (SQLite >= 3.35).
 *   - Metadata tables are named ferry_* on both backends. On SQLite they live in
 *     the main database; on PostgreSQL in the schema "ferry", which the backend
 *     puts first on each connection's search_path. User datasets are always
 *     addressed with a schema-qualified, quoted name (store_quote_qualified);
 *     on SQLite the user schema is "main".
 *   - Timestamps in metadata are text, ISO-8601 UTC with milliseconds and a Z
 *     ("2026-11-23T11:30:00.000Z"), produced by the caller; they sort as text.
 *   - Migrations are per backend (see migrate.h); everything else is shared SQL.
 *
 * Errors
 *
 *   Functions return 0 (or STORE_ROW / STORE_DONE from store_step) or a negative
 *   ERR_* code: ERR_STORE (anything the database refused), ERR_CONSTRAINT (a
 *   unique/foreign-key/check/not-null violation), ERR_BUSY (locked longer than
 *   the busy timeout), ERR_NOTFOUND (database file missing when not creating),
 *   ERR_UNAVAILABLE (cannot connect / pool exhausted), ERR_INVAL (bad URL, bad
 *   bind index, bad identifier), ERR_UNSUPPORTED (backend not in this build).
 *   The database's own message is kept on the handle: store_errmsg(). It is for
 *   logs only — it can contain SQL and paths, so it never goes to HTTP clients.
 */
#ifndef FERRY_STORE_STORE_H
#define FERRY_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct store store;
typedef struct store_stmt store_stmt;
typedef struct store_pool store_pool;
typedef struct store_loader store_loader;

/* Identifiers longer than this are refused (PostgreSQL's limit). */
#define STORE_IDENT_MAX 63

enum store_backend_kind { STORE_SQLITE = 1, STORE_POSTGRESQL = 2 };

/* Value types, for binds and for reading columns. */
enum store_type {
    STORE_NULL = 0,
    STORE_INT,    /* int64 */
    STORE_DOUBLE, /* double */
    STORE_TEXT,   /* UTF-8 bytes with a length */
    STORE_BLOB,   /* bytes */
    STORE_BOOL    /* bound as 0/1 on SQLite, boolean on PostgreSQL */
};

/* A typed value. Text and blob bytes are borrowed: they must stay valid until the
 * call they are passed to returns. */
struct store_value {
    enum store_type type;
    union {
        int64_t i;
        double d;
        int b;
        struct {
            const char *p;
            size_t n;
        } s;
    } v;
};

#define SV_NULL()      ((struct store_value){.type = STORE_NULL})
#define SV_INT(x)      ((struct store_value){.type = STORE_INT, .v.i = (int64_t)(x)})
#define SV_DOUBLE(x)   ((struct store_value){.type = STORE_DOUBLE, .v.d = (double)(x)})
#define SV_BOOL(x)     ((struct store_value){.type = STORE_BOOL, .v.b = !!(x)})
#define SV_TEXTN(x, n) ((struct store_value){.type = STORE_TEXT, .v.s = {(x), (n)}})
#define SV_TEXT(x)     store_value_text(x) /* NULL -> SV_NULL() */
#define SV_BLOB(x, n)  ((struct store_value){.type = STORE_BLOB, .v.s = {(x), (n)}})

struct store_value store_value_text(const char *s);

/* Options for opening a connection. Zero-initialise, then set what you need. */
struct store_options {
    int create;          /* create the database (SQLite: the file and its parent dirs) */
    int busy_timeout_ms; /* wait this long on a locked database; 0 = 5000 */
    int readonly;        /* open read-only */
    /* PostgreSQL: the schema of user datasets (store_default_schema); NULL means
     * "public". Borrowed for the call (a pool keeps its own copy). SQLite: unused
     * (always "main"). */
    const char *main_schema;
};

/* ---- connections ------------------------------------------------------------ */

/* Open one connection. On failure returns <0, *out is NULL (nothing to close), and
 * a one-line reason is written to errbuf (without secrets: no password). */
int store_open(const char *url, const struct store_options *opt, store **out, char *errbuf,
               size_t errlen);

/* Wait for the database server to accept connections: try to connect, and
 * while the failure is one that goes away by itself (connection refused, the
 * server starting up: ERR_UNAVAILABLE) retry with a growing pause (100 ms up to
 * 2 s) for at most wait_sec seconds, logging a warning at most every 5 s.
 * Fails at once on anything else (wrong password, missing database, bad URL).
 * Returns 0 when a connection succeeded (it is closed again), or the last
 * error with its one-line reason in errbuf. SQLite: returns 0 at once (there
 * is no server to wait for; store_open reports file problems). */
int store_wait(const char *url, const struct store_options *opt, int wait_sec, char *errbuf,
               size_t errlen);

/* Close a connection and its cached statements. Accepts NULL. Rolls back an open
 * transaction. */
void store_close(store *s);

enum store_backend_kind store_backend(const store *s);
const char *store_backend_name(const store *s); /* "sqlite" | "postgresql" */

/* The last error message from the database (for logs). Never NULL. */
const char *store_errmsg(const store *s);

/* Check the connection answers (SELECT 1). Returns 0 or <0. */
int store_ping(store *s);

/* Run SQL text with no parameters and no result rows; may hold several
 * statements separated by ';' (used for migrations). */
int store_exec(store *s, const char *sql);

/* Run one statement with parameters; no result rows are read. Writes the number
 * of rows changed to *changes if not NULL. params may be NULL when n is 0. */
int store_execv(store *s, const char *sql, const struct store_value *params, size_t n,
                int64_t *changes);

/* ---- prepared statements and rows ------------------------------------------ */

/* Prepare (or fetch from the cache) one statement; SQL holding several statements
 * is refused (ERR_INVAL: use store_exec). The statement is owned by s. It stays
 * valid while in use (until store_stmt_reset). After a reset it may be bound and
 * stepped again, but a later store_prepare() of other SQL on the same connection
 * may evict it from the cache: prepare again (cheap, it comes from the cache)
 * rather than keeping the pointer across other statements. Returns 0 or <0
 * (ERR_STORE for a syntax error, with the message in store_errmsg). */
int store_prepare(store *s, const char *sql, store_stmt **out);

/* Bind parameter idx (1-based, $idx in the SQL). Text and blobs are copied. */
int store_bind(store_stmt *st, int idx, struct store_value v);
int store_bind_all(store_stmt *st, const struct store_value *params, size_t n);

/* Advance to the next row. Returns STORE_ROW, STORE_DONE, or <0. The first call
 * executes the statement. */
#define STORE_ROW  1
#define STORE_DONE 0
int store_step(store_stmt *st);

/* Rows changed by the last INSERT/UPDATE/DELETE executed on the statement's
 * connection; read it after store_step returned STORE_DONE. */
int64_t store_changes(store_stmt *st);

/* Columns of the current row (valid between STORE_ROW and the next step/reset). */
int store_column_count(store_stmt *st);
const char *store_column_name(store_stmt *st, int col);
enum store_type store_column_type(store_stmt *st, int col); /* type of this row's value */
int store_column_is_null(store_stmt *st, int col);
int64_t store_column_int(store_stmt *st, int col);
double store_column_double(store_stmt *st, int col);
/* Text of the value (any type converts); borrowed until the next step/reset. NULL
 * for SQL NULL. Writes the byte length to *len if not NULL. */
const char *store_column_text(store_stmt *st, int col, size_t *len);

/* End this use of the statement: discard remaining rows and clear the binds. */
void store_stmt_reset(store_stmt *st);

/* Prepare a statement for a result too big to hold in memory (a whole-table
 * export): bind and step it like any statement, end it with store_stmt_reset.
 * Memory stays bounded whatever the number of rows.
 *
 *   SQLite      the same as store_prepare (SQLite steps lazily). A read holds a
 *               snapshot while it lasts (WAL: writers go on; checkpoints wait).
 *   PostgreSQL  the first step declares a NO SCROLL cursor for the SQL with its
 *               binds and fetches STORE_STREAM_BATCH rows at a time. Outside a
 *               transaction it first opens one (BEGIN ISOLATION LEVEL REPEATABLE
 *               READ, READ ONLY), so every row comes from one snapshot;
 *               store_stmt_reset closes the cursor and ends the transaction it
 *               opened (inside the caller's transaction it only closes the
 *               cursor). While the stream is open the connection may run other
 *               statements (they see the same snapshot). In a transaction the
 *               stream opened they are read-only too, and until the reset
 *               store_in_transaction is 1 and store_begin fails (ERR_INVAL).
 *
 * The statement is not cached: each call prepares a new one, freed by
 * store_stmt_reset. SELECT statements only (ERR_INVAL for others is not
 * promised; the database refuses what a cursor cannot run). */
#define STORE_STREAM_BATCH 2000
int store_prepare_stream(store *s, const char *sql, store_stmt **out);

/* Convenience: run a query expected to return at most one row, and read its first
 * column. out is reset, then receives the value's text (copied). Returns 1 if a
 * row was found, 0 if none or the value is SQL NULL, <0 on error. */
int store_query_text(store *s, const char *sql, const struct store_value *params, size_t n,
                     struct buf *out);
/* Likewise for an integer column; out may be NULL (an existence test). Returns 1
 * if found, 0 if no row or NULL, <0. */
int store_query_int(store *s, const char *sql, const struct store_value *params, size_t n,
                    int64_t *out);

/* ---- transactions ------------------------------------------------------------ */

/* Begin a write transaction (SQLite: BEGIN IMMEDIATE, so a writer waits for the
 * lock up front instead of failing at its first write). Not nestable: ERR_INVAL
 * if one is open. store_commit without one is ERR_INVAL too. If commit fails the
 * transaction may still be open: roll back. */
int store_begin(store *s);
int store_commit(store *s);
/* Roll back if a transaction is open; otherwise a no-op. Always safe in cleanup. */
int store_rollback(store *s);
int store_in_transaction(const store *s);

/* ---- identifiers and introspection ------------------------------------------ */

/* Append the quoted form of an identifier ("a""b") to out. Refuses empty names,
 * names longer than STORE_IDENT_MAX bytes, invalid UTF-8 and control characters
 * (C0, DEL, C1) with ERR_INVAL; ERR_TOOBIG if out is full. out is unchanged on
 * error. The one function through which identifiers enter SQL. */
int store_quote_ident(const char *name, struct buf *out);
/* The same for a name with a length (from JSON, say), which may hold NUL bytes:
 * those are refused. */
int store_quote_identn(const char *name, size_t len, struct buf *out);

/* "schema"."table"; schema NULL means the backend's default user schema. */
int store_quote_qualified(store *s, const char *schema, const char *table, struct buf *out);

/* The default schema for user datasets ("main" on SQLite; the configured main
 * schema on PostgreSQL). Never NULL. */
const char *store_default_schema(const store *s);

struct store_column_info {
    char *name; /* owned by the array */
    char *type; /* declared type, lower case, e.g. "integer", "text", "varchar(100)" */
    int notnull;
    int pk; /* position in the primary key, 1-based; 0 if not part of it */
};

/* Does the table (or view) exist? Writes 1 or 0 to *exists (0 as well when the
 * schema does not exist). Names are checked like store_quote_ident (ERR_INVAL). */
int store_table_exists(store *s, const char *schema, const char *table, int *exists);

/* The columns of a table in order. On success *cols is a malloc'd array of *n
 * entries, freed with store_columns_free(). ERR_NOTFOUND if there is no table. */
int store_table_columns(store *s, const char *schema, const char *table,
                        struct store_column_info **cols, size_t *n);
void store_columns_free(struct store_column_info *cols, size_t n);

/* ---- bulk load ------------------------------------------------------------------ */

/* Start loading rows into an existing table (schema NULL = default), columns in the
 * given order. The caller runs the load inside its own transaction (store_begin)
 * when it wants all-or-nothing. SQLite: a prepared INSERT reused for each row;
 * PostgreSQL: COPY FROM STDIN. While a loader is open, use the connection for
 * nothing else (on PostgreSQL it is in COPY mode). */
int store_loader_begin(store *s, const char *schema, const char *table, const char *const *columns,
                       size_t ncolumns, store_loader **out);

/* Add one row of ncolumns values (values borrowed for the call). On error the row
 * number (1-based, counting every call) is in the store's errmsg. After an error
 * call store_loader_abort and roll back: a backend may report a bad row only at
 * store_loader_end (COPY does), so rows are not skippable. */
int store_loader_row(store_loader *ld, const struct store_value *values);

/* Finish: flush and free the loader; writes rows loaded to *rows if not NULL.
 * Returns 0 or <0 (with the row in errmsg when known). The loader is freed
 * either way. */
int store_loader_end(store_loader *ld, int64_t *rows);

/* Abandon a load and free the loader. Accepts NULL. */
void store_loader_abort(store_loader *ld);

/* ---- pools ---------------------------------------------------------------------- */

/* A pool of at most max_size (1..10000) connections to url. One connection is
 * opened at once, so a bad URL or a missing database (ERR_NOTFOUND) is reported
 * here; the others are opened when needed. On failure writes a one-line reason
 * to errbuf. The pool owns its connections. */
int store_pool_open(const char *url, const struct store_options *opt, int max_size,
                    store_pool **out, char *errbuf, size_t errlen);

/* Close every connection; all must have been released. Accepts NULL. */
void store_pool_close(store_pool *p);

/* Borrow a connection for the calling thread, waiting at most timeout_ms for one
 * to be free (0: do not wait). Returns 0, ERR_UNAVAILABLE (none free in time, or
 * cannot connect). Thread-safe. On PostgreSQL a connection idle for more than a
 * second is pinged and replaced if the server dropped it; one used within the
 * last second is handed out without that round trip, so after a server restart
 * it fails one query with ERR_UNAVAILABLE and is closed when it is released. */
int store_pool_acquire(store_pool *p, int timeout_ms, store **out);

/* Give a connection back: resets statements left in use and rolls back any open
 * transaction. Accepts NULL. Thread-safe. */
void store_pool_release(store_pool *p, store *s);

/* The backend of the pool's URL. */
enum store_backend_kind store_pool_backend(const store_pool *p);

/* ---- URLs ------------------------------------------------------------------------ */

/* Which backend a URL names; <0 (ERR_INVAL) if none. */
int store_url_backend(const char *url, enum store_backend_kind *out);

/* Append the URL to out with any password (user info, or a password=/sslpassword=
 * query parameter) replaced by "***" (for logs, config show). Returns 0, ERR_INVAL
 * or ERR_TOOBIG (out unchanged). */
int store_url_redact(const char *url, struct buf *out);

#endif
