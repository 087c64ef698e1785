/*
 * store_sqlite: the SQLite backend of the store (SQLite >= 3.35 for RETURNING;
 * built and tested against 3.40).
 *
 * Connections
 *   sqlite3_open_v2 with SQLITE_OPEN_NOMUTEX: a store is used by one thread at a
 *   time, so SQLite's own per-connection mutex is not needed. A new database gets
 *   16 KiB pages (PAGE_SIZE_TEXT). Every connection
 *   runs PRAGMA journal_mode=WAL (readers never block the writer), foreign_keys=ON,
 *   synchronous=NORMAL (durable at checkpoints, safe against corruption) and a
 *   busy timeout. Without opt->create a missing file is ERR_NOTFOUND, so a typo
 *   in the URL never silently creates an empty database.
 *
 * Statements and the cache
 *   Callers write $N placeholders; prepare rewrites them to ?N (the same number,
 *   so order and repetition keep their meaning) outside '...' strings, "..."
 *   identifiers and comments. Prepared statements are cached per connection in a
 *   list ordered most recently used first, keyed by the caller's SQL text (with
 *   a hash to skip most string compares). A statement is "in use" from prepare
 *   to reset; a second prepare of the same SQL while the first is in use gets a
 *   second entry. Beyond CACHE_MAX entries the least recently used entry not in
 *   use is finalized.
 *
 * Streams (store_prepare_stream)
 *   SQLite steps lazily, so a stream is an ordinary statement that is not
 *   cached: prepared without SQLITE_PREPARE_PERSISTENT (it runs once), kept in
 *   the connection's list of streams (so that cleaning and closing reach it)
 *   and finalized by its reset. Being its own sqlite3_stmt, it never shares
 *   state with the cached statements in use beside it.
 *
 * Errors
 *   SQLITE_CONSTRAINT* -> ERR_CONSTRAINT, SQLITE_BUSY/LOCKED -> ERR_BUSY,
 *   SQLITE_RANGE -> ERR_INVAL, SQLITE_TOOBIG -> ERR_TOOBIG, anything else ->
 *   ERR_STORE. sqlite3_errmsg() is copied to the handle's errmsg at once (the
 *   next call would overwrite it).
 *
 * Transactions are BEGIN IMMEDIATE: the write lock is taken (waiting up to the
 *   busy timeout) at BEGIN, never upgraded later, so two writers cannot deadlock.
 *
 * The loader is a prepared single-row INSERT reused for every row: with SQLite
 *   in-process there is no round trip to amortise, and the caller's transaction
 *   makes it fast.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store_int.h"

#define CACHE_MAX     64
#define SQL_MAX_BYTES (64u << 20)

/* Page size of new databases: 16 KiB pages take bulk loads (and scans) with a
 * quarter of the pages, page writes and B-tree cells of the 4 KiB default.
 * Measured on a 1M-row, 10-column import: 0.88 s at 4 KiB, 0.67 s at 16 KiB,
 * 0.64 s at 64 KiB (bench/ingest.sh's file). */
#define PAGE_SIZE_TEXT "16384"

struct sq_stmt {
    struct store_stmt base;
    sqlite3_stmt *st;
    char *sql; /* the caller's SQL text (the cache key), owned */
    uint32_t hash;
    int in_use;
    int stream;                /* from store_prepare_stream: not cached, freed by reset */
    struct store_lru_node lru; /* in the connection's cache, or its streams for a stream */
};

struct sq_conn {
    struct store base;
    sqlite3 *db;
    struct store_lru cache;   /* statements, most recently used first */
    struct store_lru streams; /* streams in use (struct sq_stmt with stream set) */
};

/* The loader buffers rows and inserts them LOADER_ROWS at a time with one
 * multi-row INSERT: per-statement work (step, reset, the VDBE's set-up) is then
 * paid once per batch instead of once per row. Text is copied into the
 * loader's buffer (values hold offsets into it until the batch is bound), so
 * the caller's values are free as soon as store_loader_row returns. */
#define LOADER_ROWS       64
#define LOADER_MAX_PARAMS 4096
#define LOADER_TEXT_BYTES (512u << 10) /* flush early past this much text: memory stays flat */

struct sq_loader {
    struct store_loader base;
    sqlite3_stmt *one;   /* INSERT of one row: the rows left over at the end */
    sqlite3_stmt *multi; /* INSERT of `batch` rows; NULL when batch is 1 */
    size_t ncolumns, batch, pending;
    struct store_value *vals; /* batch * ncolumns */
    size_t *off;              /* text offset of each text/blob value */
    char *text;
    size_t text_used, text_cap;
};

static struct sq_conn *conn_of(store *s)
{
    return (struct sq_conn *)s;
}

static const struct sq_conn *cconn_of(const store *s)
{
    return (const struct sq_conn *)s;
}

static struct sq_stmt *stmt_of(store_stmt *st)
{
    return (struct sq_stmt *)st;
}

static struct sq_stmt *lru_stmt(struct store_lru_node *n)
{
    return STORE_LRU_ENTRY(n, struct sq_stmt, lru);
}

/* ---- errors ---------------------------------------------------------------------- */

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_CONSTRAINT:
        return ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_BUSY;
    case SQLITE_RANGE:
        return ERR_INVAL;
    case SQLITE_TOOBIG:
        return ERR_TOOBIG;
    case SQLITE_NOMEM:
        abort(); /* as everywhere else in ferry: out of memory is fatal */
    default:
        return ERR_STORE;
    }
}

/* Record the connection's current error, prefixed with what failed, and map rc. */
static int fail(struct sq_conn *c, int rc, const char *what)
{
    store__set_errmsg(&c->base, "%s: %s", what, sqlite3_errmsg(c->db));
    return map_rc(rc);
}

/* ---- SQL text ------------------------------------------------------------------------ */

static int ident_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$' || ch >= 0x80;
}

/* Copy sql to out with each $N placeholder turned into ?N. Strings, quoted
 * identifiers and comments are copied untouched; so is a '$' that continues an
 * identifier (a$1). */
static int translate_placeholders(const char *sql, struct buf *out)
{
    size_t n = strlen(sql), i = 0, from = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        char ch = sql[i];
        if (ch == '\'' || ch == '"') {
            const char *end = memchr(sql + i + 1, ch, n - i - 1);
            i = end ? (size_t)(end - sql) + 1 : n; /* '' reopens: handled by the next pass */
        } else if (ch == '-' && sql[i + 1] == '-') {
            const char *end = memchr(sql + i, '\n', n - i);
            i = end ? (size_t)(end - sql) + 1 : n;
        } else if (ch == '/' && sql[i + 1] == '*') {
            const char *end = strstr(sql + i + 2, "*/");
            i = end ? (size_t)(end - sql) + 2 : n;
        } else if (ch == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9' &&
                   (i == 0 || !ident_char((unsigned char)sql[i - 1]))) {
            rc = buf_append(out, sql + from, i - from);
            if (rc == 0)
                rc = buf_putc(out, '?');
            from = ++i; /* the digits are copied as they are */
        } else {
            i++;
        }
    }
    if (rc == 0)
        rc = buf_append(out, sql + from, n - from);
    if (rc == 0 && out->len == 0)
        rc = buf_puts(out, ""); /* make data non-NULL */
    return rc;
}

/* ---- statement cache ----------------------------------------------------------------- */

static void stmt_free(struct sq_stmt *e)
{
    sqlite3_finalize(e->st);
    free(e->sql);
    free(e);
}

/* Finalize least recently used entries not in use until the cache fits. */
static void cache_evict(struct sq_conn *c)
{
    struct sq_stmt *e = lru_stmt(c->cache.tail);
    while (c->cache.count > CACHE_MAX && e) {
        struct sq_stmt *prev = lru_stmt(e->lru.prev);
        if (!e->in_use) {
            store__lru_unlink(&c->cache, &e->lru);
            stmt_free(e);
        }
        e = prev;
    }
}

/* Prepare one statement (placeholders translated). Extra statements after the
 * first are refused: they would be silently ignored. */
static int prepare_raw(struct sq_conn *c, const char *sql, unsigned flags, sqlite3_stmt **out)
{
    struct buf b;
    sqlite3_stmt *st = NULL, *extra = NULL;
    const char *tail = NULL;
    int rc;

    *out = NULL;
    buf_init(&b, SQL_MAX_BYTES);
    rc = translate_placeholders(sql, &b);
    if (rc < 0) {
        store__set_errmsg(&c->base, "SQL text too long");
        goto out;
    }
    int sqlrc = sqlite3_prepare_v3(c->db, b.data, (int)b.len + 1, flags, &st, &tail);
    if (sqlrc != SQLITE_OK) {
        store__set_errmsg(&c->base, "%s (in: %.300s)", sqlite3_errmsg(c->db), sql);
        rc = map_rc(sqlrc);
        goto out;
    }
    if (!st) {
        store__set_errmsg(&c->base, "empty SQL statement");
        rc = ERR_INVAL;
        goto out;
    }
    if (tail && *tail) {
        sqlrc = sqlite3_prepare_v2(c->db, tail, -1, &extra, NULL);
        if (sqlrc != SQLITE_OK || extra) {
            store__set_errmsg(&c->base,
                              "several statements in one prepare (use store_exec): %.300s", sql);
            rc = ERR_INVAL;
            goto out;
        }
    }
    *out = st;
    st = NULL;
    rc = 0;
out:
    sqlite3_finalize(extra);
    sqlite3_finalize(st);
    buf_free(&b);
    return rc;
}

/* A prepared statement in use, not yet in a list: the cache's or the streams'. */
static int stmt_new(store *s, const char *sql, unsigned flags, struct sq_stmt **out)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare_raw(conn_of(s), sql, flags, &st);
    if (rc < 0)
        return rc;
    struct sq_stmt *e = calloc(1, sizeof *e);
    char *copy = strdup(sql);
    if (!e || !copy)
        abort();
    e->base.s = s;
    e->st = st;
    e->sql = copy;
    e->in_use = 1;
    *out = e;
    return 0;
}

static int sq_prepare(store *s, const char *sql, store_stmt **out)
{
    struct sq_conn *c = conn_of(s);
    uint32_t h = store__hash_sql(sql);
    for (struct sq_stmt *e = lru_stmt(c->cache.head); e; e = lru_stmt(e->lru.next)) {
        if (e->hash == h && !e->in_use && strcmp(e->sql, sql) == 0) {
            store__lru_unlink(&c->cache, &e->lru);
            store__lru_push_front(&c->cache, &e->lru);
            e->in_use = 1;
            *out = &e->base;
            return 0;
        }
    }
    struct sq_stmt *e = NULL;
    int rc = stmt_new(s, sql, SQLITE_PREPARE_PERSISTENT, &e);
    if (rc < 0)
        return rc;
    e->hash = h;
    store__lru_push_front(&c->cache, &e->lru);
    cache_evict(c);
    *out = &e->base;
    return 0;
}

static int sq_prepare_stream(store *s, const char *sql, store_stmt **out)
{
    struct sq_conn *c = conn_of(s);
    struct sq_stmt *e = NULL;
    int rc = stmt_new(s, sql, 0, &e);
    if (rc < 0)
        return rc;
    e->stream = 1;
    store__lru_push_front(&c->streams, &e->lru);
    *out = &e->base;
    return 0;
}

/* ---- binds and rows ---------------------------------------------------------------- */

/* Bind one value. lifetime is SQLITE_TRANSIENT (SQLite copies text and blobs) or
 * SQLITE_STATIC (the caller keeps them valid until the statement is reset: the
 * loader binds and steps within one call, so it saves the copy). */
static int bind_value(sqlite3_stmt *st, int idx, const struct store_value *v,
                      sqlite3_destructor_type lifetime)
{
    switch (v->type) {
    case STORE_NULL:
        return sqlite3_bind_null(st, idx);
    case STORE_INT:
        return sqlite3_bind_int64(st, idx, v->v.i);
    case STORE_DOUBLE:
        return sqlite3_bind_double(st, idx, v->v.d);
    case STORE_BOOL:
        return sqlite3_bind_int(st, idx, v->v.b ? 1 : 0);
    case STORE_TEXT:
        if (!v->v.s.p && v->v.s.n > 0)
            return SQLITE_MISUSE;
        return sqlite3_bind_text64(st, idx, v->v.s.p ? v->v.s.p : "", v->v.s.n, lifetime,
                                   SQLITE_UTF8);
    case STORE_BLOB:
        if (v->v.s.n == 0)
            return sqlite3_bind_zeroblob(st, idx, 0); /* a NULL pointer would bind NULL */
        if (!v->v.s.p)
            return SQLITE_MISUSE;
        return sqlite3_bind_blob64(st, idx, v->v.s.p, v->v.s.n, lifetime);
    }
    return SQLITE_MISUSE;
}

static int sq_bind(store_stmt *stmt, int idx, struct store_value v)
{
    struct sq_stmt *e = stmt_of(stmt);
    int rc = bind_value(e->st, idx, &v, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        return 0;
    if (rc == SQLITE_RANGE) {
        store__set_errmsg(stmt->s, "bind index %d out of range (the statement has %d)", idx,
                          sqlite3_bind_parameter_count(e->st));
        return ERR_INVAL;
    }
    if (rc == SQLITE_MISUSE) {
        store__set_errmsg(stmt->s, "bind %d: invalid value", idx);
        return ERR_INVAL;
    }
    return fail(conn_of(stmt->s), rc, "bind");
}

static int sq_step(store_stmt *stmt)
{
    struct sq_stmt *e = stmt_of(stmt);
    int rc = sqlite3_step(e->st);
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE)
        return STORE_DONE;
    store__set_errmsg(stmt->s, "%s (in: %.300s)", sqlite3_errmsg(conn_of(stmt->s)->db), e->sql);
    return map_rc(rc);
}

static int64_t sq_changes(store_stmt *stmt)
{
    return sqlite3_changes64(conn_of(stmt->s)->db);
}

static int sq_column_count(store_stmt *stmt)
{
    return sqlite3_column_count(stmt_of(stmt)->st);
}

static const char *sq_column_name(store_stmt *stmt, int col)
{
    return sqlite3_column_name(stmt_of(stmt)->st, col);
}

static enum store_type sq_column_type(store_stmt *stmt, int col)
{
    switch (sqlite3_column_type(stmt_of(stmt)->st, col)) {
    case SQLITE_INTEGER:
        return STORE_INT;
    case SQLITE_FLOAT:
        return STORE_DOUBLE;
    case SQLITE_TEXT:
        return STORE_TEXT;
    case SQLITE_BLOB:
        return STORE_BLOB;
    default:
        return STORE_NULL;
    }
}

static int64_t sq_column_int(store_stmt *stmt, int col)
{
    return sqlite3_column_int64(stmt_of(stmt)->st, col);
}

static double sq_column_double(store_stmt *stmt, int col)
{
    return sqlite3_column_double(stmt_of(stmt)->st, col);
}

static const char *sq_column_text(store_stmt *stmt, int col, size_t *len)
{
    sqlite3_stmt *st = stmt_of(stmt)->st;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const unsigned char *p = sqlite3_column_text(st, col); /* text first, then bytes */
    int n = sqlite3_column_bytes(st, col);
    if (!p) {
        if (sqlite3_errcode(conn_of(stmt->s)->db) == SQLITE_NOMEM)
            abort();
        p = (const unsigned char *)"";
        n = 0;
    }
    if (len)
        *len = (size_t)n;
    return (const char *)p;
}

static void sq_reset(store_stmt *stmt)
{
    struct sq_stmt *e = stmt_of(stmt);
    if (e->stream) {
        store__lru_unlink(&conn_of(stmt->s)->streams, &e->lru);
        stmt_free(e);
        return;
    }
    sqlite3_reset(e->st);
    sqlite3_clear_bindings(e->st);
    e->in_use = 0;
}

/* ---- connections ------------------------------------------------------------------- */

/* Create the directories above path (mkdir -p of its parent). */
static int make_parents(const char *path, char *errbuf, size_t errlen)
{
    char *dir = strdup(path);
    if (!dir)
        abort();
    int rc = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            store__errbuf(errbuf, errlen, "cannot create directory %s: %s", dir, strerror(errno));
            rc = ERR_IO;
            break;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}

static int is_memory(const char *path)
{
    return strcmp(path, ":memory:") == 0;
}

static void sq_close(store *s);

static int sq_open(const char *path, const struct store_options *opt, store **out, char *errbuf,
                   size_t errlen)
{
    struct sq_conn *c = NULL;
    int rc;
    struct stat sb;

    if (!is_memory(path) && (!opt->create || opt->readonly) && stat(path, &sb) < 0) {
        if (errno == ENOENT) {
            store__errbuf(errbuf, errlen, "database file %s does not exist (run `ferry db init`)",
                          path);
            return ERR_NOTFOUND;
        }
        store__errbuf(errbuf, errlen, "cannot access database file %s: %s", path, strerror(errno));
        return ERR_IO;
    }
    if (!is_memory(path) && opt->create && !opt->readonly) {
        rc = make_parents(path, errbuf, errlen);
        if (rc < 0)
            return rc;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->base.be = &store_sqlite_backend;
    c->base.default_schema = "main";
    int flags = SQLITE_OPEN_NOMUTEX;
    if (opt->readonly)
        flags |= SQLITE_OPEN_READONLY;
    else
        flags |= SQLITE_OPEN_READWRITE | (opt->create ? SQLITE_OPEN_CREATE : 0);
    int sqlrc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (sqlrc != SQLITE_OK) {
        store__errbuf(errbuf, errlen, "cannot open database %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(sqlrc));
        rc = sqlrc == SQLITE_CANTOPEN ? ERR_IO : map_rc(sqlrc);
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, opt->busy_timeout_ms);
    /* page_size only takes effect on a new, empty database (before WAL mode
     * fixes it): existing databases keep theirs. */
    const char *pragmas = opt->readonly ? "PRAGMA foreign_keys=ON"
                                        : "PRAGMA page_size=" PAGE_SIZE_TEXT
                                          "; PRAGMA journal_mode=WAL; "
                                          "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL";
    sqlrc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (sqlrc != SQLITE_OK) {
        store__errbuf(errbuf, errlen, "cannot open database %s: %s", path, sqlite3_errmsg(c->db));
        rc = map_rc(sqlrc);
        goto fail;
    }
    *out = &c->base;
    return 0;
fail:
    sq_close(&c->base);
    return rc;
}

static void sq_close(store *s)
{
    struct sq_conn *c = conn_of(s);
    struct store_lru *lists[] = {&c->cache, &c->streams};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct sq_stmt *e = lru_stmt(lists[i]->head);
        while (e) {
            struct sq_stmt *next = lru_stmt(e->lru.next);
            stmt_free(e);
            e = next;
        }
    }
    /* close_v2: a loader left open by a caller keeps the handle alive until it is
     * finalized, instead of failing here. SQLite rolls back an open transaction. */
    sqlite3_close_v2(c->db);
    free(c);
}

static int sq_exec(store *s, const char *sql)
{
    struct sq_conn *c = conn_of(s);
    char *err = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK)
        return 0;
    store__set_errmsg(s, "%s", err ? err : sqlite3_errmsg(c->db));
    sqlite3_free(err);
    return map_rc(rc);
}

static int sq_ping(store *s)
{
    /* Reading the schema touches the file (SELECT 1 alone would not), so a
     * database that became unreadable or corrupt fails the ping. */
    return sq_exec(s, "SELECT count(*) FROM sqlite_schema");
}

static int sq_begin(store *s)
{
    return sq_exec(s, "BEGIN IMMEDIATE");
}

static int sq_commit(store *s)
{
    return sq_exec(s, "COMMIT");
}

static int sq_rollback(store *s)
{
    return sq_exec(s, "ROLLBACK");
}

static int sq_in_transaction(const store *s)
{
    return !sqlite3_get_autocommit(cconn_of(s)->db);
}

static void sq_clean(store *s)
{
    struct sq_conn *c = conn_of(s);
    for (struct sq_stmt *e = lru_stmt(c->cache.head); e; e = lru_stmt(e->lru.next))
        if (e->in_use)
            sq_reset(&e->base);
    while (c->streams.head) /* resetting a stream frees it */
        sq_reset(&lru_stmt(c->streams.head)->base);
    if (sq_in_transaction(s))
        sq_rollback(s);
}

/* ---- introspection --------------------------------------------------------------- */

/* Does the attached database (schema) exist? 1, 0 or <0. */
static int schema_exists(store *s, const char *schema)
{
    struct store_value v = SV_TEXT(schema);
    return store_query_int(s, "SELECT 1 FROM pragma_database_list WHERE name = $1 COLLATE NOCASE",
                           &v, 1, NULL);
}

static int sq_table_exists(store *s, const char *schema, const char *table, int *exists)
{
    struct buf sql;
    int rc = schema_exists(s, schema);
    if (rc <= 0)
        return rc;
    buf_init(&sql, 1024);
    rc = buf_puts(&sql, "SELECT 1 FROM ");
    if (rc == 0)
        rc = store_quote_ident(schema, &sql);
    if (rc == 0)
        rc = buf_puts(&sql, ".sqlite_schema WHERE type IN ('table', 'view') AND name = $1 "
                            "COLLATE NOCASE");
    if (rc == 0) {
        struct store_value v = SV_TEXT(table);
        rc = store_query_int(s, buf_cstr(&sql), &v, 1, NULL);
        if (rc >= 0) {
            *exists = rc;
            rc = 0;
        }
    }
    buf_free(&sql);
    return rc;
}

static int sq_table_columns(store *s, const char *schema, const char *table,
                            struct store_column_info **cols, size_t *n)
{
    int exists = 0;
    int rc = sq_table_exists(s, schema, table, &exists);
    if (rc < 0)
        return rc;
    if (!exists) {
        store__set_errmsg(s, "no table %s.%s", schema, table);
        return ERR_NOTFOUND;
    }
    return store__table_columns(
        s,
        "SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo($2, $1) "
        "WHERE hidden <> 1 ORDER BY cid",
        schema, table, STORE__COLUMNS_LOWER_TYPES, cols, n);
}

/* ---- loader ------------------------------------------------------------------------ */

/* INSERT INTO target (columns) VALUES ($1, ...), (...), ... for rows rows. */
static int prepare_insert(store *s, const char *schema, const char *table,
                          const char *const *columns, size_t ncolumns, size_t rows,
                          sqlite3_stmt **out)
{
    struct buf sql;
    int rc;
    buf_init(&sql, SQL_MAX_BYTES);
    rc = buf_puts(&sql, "INSERT INTO ");
    if (rc == 0)
        rc = store__append_target(s, schema, table, columns, ncolumns, &sql);
    if (rc == 0)
        rc = buf_puts(&sql, " VALUES ");
    for (size_t r = 0; rc == 0 && r < rows; r++) {
        rc = buf_puts(&sql, r > 0 ? ", (" : "(");
        for (size_t i = 0; rc == 0 && i < ncolumns; i++)
            rc = buf_printf(&sql, "%s$%zu", i > 0 ? ", " : "", r * ncolumns + i + 1);
        if (rc == 0)
            rc = buf_putc(&sql, ')');
    }
    if (rc < 0) {
        store__set_errmsg(s, "loader: invalid table or column names");
        goto out;
    }
    rc = prepare_raw(conn_of(s), buf_cstr(&sql), SQLITE_PREPARE_PERSISTENT, out);
    if (rc < 0) {
        char msg[STORE_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", s->errmsg);
        store__set_errmsg(s, "loader: %s", msg);
    }
out:
    buf_free(&sql);
    return rc;
}

static void loader_free(struct sq_loader *ld)
{
    sqlite3_finalize(ld->one);
    sqlite3_finalize(ld->multi);
    free(ld->vals);
    free(ld->off);
    free(ld->text);
    free(ld);
}

static int sq_loader_begin(store *s, const char *schema, const char *table,
                           const char *const *columns, size_t ncolumns, store_loader **out)
{
    struct sq_loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        abort();
    ld->base.s = s;
    ld->ncolumns = ncolumns;
    ld->batch = LOADER_MAX_PARAMS / (ncolumns ? ncolumns : 1);
    if (ld->batch > LOADER_ROWS)
        ld->batch = LOADER_ROWS;
    if (ld->batch < 1)
        ld->batch = 1;
    int rc = prepare_insert(s, schema, table, columns, ncolumns, 1, &ld->one);
    if (rc == 0 && ld->batch > 1)
        rc = prepare_insert(s, schema, table, columns, ncolumns, ld->batch, &ld->multi);
    if (rc < 0) {
        loader_free(ld);
        return rc;
    }
    ld->vals = calloc(ld->batch * ncolumns, sizeof *ld->vals);
    ld->off = calloc(ld->batch * ncolumns, sizeof *ld->off);
    if (!ld->vals || !ld->off)
        abort();
    *out = &ld->base;
    return 0;
}

static int is_bytes(const struct store_value *v)
{
    return v->type == STORE_TEXT || v->type == STORE_BLOB;
}

/* Bind rows [first, first + n) of the buffer to st (from parameter 1) and run it. */
static int insert_rows(struct sq_loader *ld, sqlite3_stmt *st, size_t first, size_t n)
{
    struct sq_conn *c = conn_of(ld->base.s);
    long long row0 = (long long)(ld->base.seen - (int64_t)ld->pending + (int64_t)first + 1);
    int rc = SQLITE_OK;
    for (size_t k = 0; rc == SQLITE_OK && k < n * ld->ncolumns; k++) {
        struct store_value v = ld->vals[first * ld->ncolumns + k];
        if (is_bytes(&v))
            v.v.s.p = ld->text + ld->off[first * ld->ncolumns + k];
        rc = bind_value(st, (int)k + 1, &v, SQLITE_STATIC);
        if (rc != SQLITE_OK) {
            store__set_errmsg(&c->base, "row %lld, column %zu: %s",
                              row0 + (long long)(k / ld->ncolumns), k % ld->ncolumns + 1,
                              rc == SQLITE_MISUSE ? "invalid value" : sqlite3_errmsg(c->db));
            sqlite3_reset(st);
            return rc == SQLITE_MISUSE ? ERR_INVAL : map_rc(rc);
        }
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        if (n == 1)
            store__set_errmsg(&c->base, "row %lld: %s", row0, sqlite3_errmsg(c->db));
        else
            store__set_errmsg(&c->base, "rows %lld-%lld: %s", row0, row0 + (long long)n - 1,
                              sqlite3_errmsg(c->db));
        return map_rc(rc);
    }
    return 0;
}

static int flush_rows(struct sq_loader *ld)
{
    int rc = 0;
    if (ld->pending == ld->batch && ld->multi)
        rc = insert_rows(ld, ld->multi, 0, ld->pending);
    else
        for (size_t r = 0; rc == 0 && r < ld->pending; r++)
            rc = insert_rows(ld, ld->one, r, 1);
    ld->pending = 0;
    ld->text_used = 0;
    return rc;
}

static int sq_loader_row(store_loader *base, const struct store_value *values)
{
    struct sq_loader *ld = (struct sq_loader *)base;
    size_t need = 0;
    for (size_t i = 0; i < ld->ncolumns; i++) {
        if (!is_bytes(&values[i]))
            continue;
        if (!values[i].v.s.p && values[i].v.s.n > 0) {
            store__set_errmsg(base->s, "row %lld, column %zu: invalid value", (long long)base->seen,
                              i + 1);
            return ERR_INVAL;
        }
        need += values[i].v.s.n;
    }
    if (ld->text_used + need > ld->text_cap) {
        size_t cap = ld->text_cap ? ld->text_cap : 1u << 16;
        while (cap < ld->text_used + need)
            cap *= 2;
        char *t = realloc(ld->text, cap);
        if (!t)
            return ERR_NOMEM;
        ld->text = t;
        ld->text_cap = cap;
    }
    struct store_value *row = &ld->vals[ld->pending * ld->ncolumns];
    size_t *off = &ld->off[ld->pending * ld->ncolumns];
    for (size_t i = 0; i < ld->ncolumns; i++) {
        row[i] = values[i];
        if (!is_bytes(&values[i]))
            continue;
        if (values[i].v.s.n)
            memcpy(ld->text + ld->text_used, values[i].v.s.p, values[i].v.s.n);
        off[i] = ld->text_used;
        ld->text_used += values[i].v.s.n;
    }
    ld->pending++;
    if (ld->pending < ld->batch && ld->text_used < LOADER_TEXT_BYTES)
        return 0;
    int rc = flush_rows(ld);
    if (ld->text_cap > 2 * LOADER_TEXT_BYTES) { /* one huge row grew it: give it back */
        free(ld->text);
        ld->text = NULL;
        ld->text_cap = 0;
    }
    return rc;
}

static int sq_loader_end(store_loader *base, int64_t *rows)
{
    struct sq_loader *ld = (struct sq_loader *)base;
    int rc = flush_rows(ld);
    if (rows)
        *rows = base->rows;
    loader_free(ld);
    return rc;
}

static void sq_loader_abort(store_loader *base)
{
    loader_free((struct sq_loader *)base);
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .kind = STORE_SQLITE,
    .ping_on_acquire = 0, /* a local file does not drop its connection */
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .errmsg = NULL,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .prepare_stream = sq_prepare_stream,
    .bind = sq_bind,
    .step = sq_step,
    .changes = sq_changes,
    .column_count = sq_column_count,
    .column_name = sq_column_name,
    .column_type = sq_column_type,
    .column_int = sq_column_int,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .reset = sq_reset,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .in_transaction = sq_in_transaction,
    .clean = sq_clean,
    .table_exists = sq_table_exists,
    .table_columns = sq_table_columns,
    .loader_begin = sq_loader_begin,
    .loader_row = sq_loader_row,
    .loader_end = sq_loader_end,
    .loader_abort = sq_loader_abort,
};
