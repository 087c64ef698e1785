/*
 * data: the data API handlers (contract in data.h, behaviour in the README).
 *
 * A rows request: find the dataset (catalog), check the caller may see it,
 * parse the query (dquery), build the SQL (dsql), then either
 *
 *   a JSON page: step at most page_size + 1 rows of a cached prepared
 *   statement, writing each value straight into the body (rowenc); the extra
 *   row only says there is a next page, whose cursor holds the sort values of
 *   the page's last row; or
 *
 *   a CSV/NDJSON export: a stream statement (store_prepare_stream) on a
 *   connection held for the response, read by the HTTP server's fill callback
 *   about EXPORT_PIECE bytes at a time, so memory stays flat whatever the size.
 *
 * Nothing from the database reaches a client but values: errors are logged
 * with the store's message and answered with a generic one.
 */
#include "api/data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/dsql.h"
#include "api/guard.h"
#include "api/rowenc.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#define PAGE_BODY_MAX (256u << 20) /* the largest JSON page (10000 wide rows) */
#define EXPORT_PIECE  (256u << 10) /* fill a stream piece up to about this much */
#define ORIGIN_MAX    320
#define ETAG_BYTES    16

/* ---- common ------------------------------------------------------------------------- */

/* The dataset named by the path, if the caller may see it. Answers the request
 * and returns NULL otherwise (store error 503/500, 404, or for an anonymous
 * caller 401 whether the dataset is private or missing). */
static struct catalog_dataset *visible_dataset(http_req *r, store *s)
{
    const char *name = http_req_param(r, "name");
    struct catalog_dataset *d = NULL;
    int rc = catalog_name_valid(name) ? catalog_get(s, name, &d) : ERR_NOTFOUND;
    if (rc == 0 && (d->is_public || !guard_anonymous(r)))
        return d;
    catalog_dataset_free(d);
    if (guard_anonymous(r) && (rc == 0 || rc == ERR_NOTFOUND)) {
        guard_refuse_anonymous(r);
    } else if (rc == ERR_NOTFOUND) {
        char msg[96];
        snprintf(msg, sizeof msg, "no dataset \"%s\"", name);
        http_reply_error(r, ERR_NOTFOUND, msg);
    } else {
        log_error("cannot read the catalog", LF_STR("error", store_errmsg(s)));
        http_reply_error(r, rc == ERR_UNAVAILABLE || rc == ERR_BUSY ? rc : ERR_STORE, NULL);
    }
    return NULL;
}

static store *acquire(http_req *r)
{
    const struct api_ctx *api = http_req_app(r);
    store *s = NULL;
    if (store_pool_acquire(api->pool, api->db_wait_ms, &s) < 0) {
        http_reply_error(r, ERR_UNAVAILABLE, NULL);
        return NULL;
    }
    return s;
}

/* "http://host:port" for links; "" when the Host header is unusable (links
 * are then relative). */
static void origin_of(http_req *r, char out[ORIGIN_MAX])
{
    if (guard_origin(r, out, ORIGIN_MAX) < 0)
        out[0] = '\0';
}

/* Authenticated data is never cached by intermediaries; public data may be,
 * revalidated with its ETag. */
static void set_cache_control(http_req *r)
{
    http_set_header(r, "Cache-Control", guard_anonymous(r) ? "no-cache" : "no-store");
}

static void reply_json(http_req *r, struct buf *body)
{
    set_cache_control(r);
    http_reply_buf(r, 200, "application/json", body);
}

/* ---- catalog ---------------------------------------------------------------------------- */

static void write_link(struct json_writer *w, const char *origin, const char *name,
                       const char *suffix)
{
    char link[ORIGIN_MAX + 128];
    snprintf(link, sizeof link, "%s/api/v1/datasets/%s%s", origin, name, suffix);
    json_string(w, link);
}

static void write_dataset(struct json_writer *w, const struct catalog_dataset *d,
                          const char *origin)
{
    json_object_begin(w);
    catalog_write_members(d, w);
    json_key(w, "links");
    json_object_begin(w);
    json_key(w, "self");
    write_link(w, origin, d->name, "");
    json_key(w, "data");
    write_link(w, origin, d->name, "/data");
    json_object_end(w);
    json_object_end(w);
}

void data_list(http_req *r)
{
    store *s = acquire(r);
    if (!s)
        return;
    const struct api_ctx *api = http_req_app(r);
    struct catalog_dataset **list = NULL;
    size_t n = 0;
    if (catalog_list(s, &list, &n) < 0) {
        log_error("cannot read the catalog", LF_STR("error", store_errmsg(s)));
        store_pool_release(api->pool, s);
        http_reply_error(r, ERR_STORE, NULL);
        return;
    }
    store_pool_release(api->pool, s);
    char origin[ORIGIN_MAX];
    origin_of(r, origin);
    int anonymous = guard_anonymous(r);
    struct buf body;
    struct json_writer w;
    buf_init(&body, PAGE_BODY_MAX);
    json_init(&w, &body);
    json_object_begin(&w);
    json_key(&w, "datasets");
    json_array_begin(&w);
    for (size_t i = 0; i < n; i++)
        if (list[i]->is_public || !anonymous)
            write_dataset(&w, list[i], origin);
    json_array_end(&w);
    json_object_end(&w);
    catalog_list_free(list, n);
    if (json_finish(&w) < 0)
        http_reply_error(r, ERR_INTERNAL, NULL);
    else
        reply_json(r, &body);
    buf_free(&body);
}

void data_read(http_req *r)
{
    store *s = acquire(r);
    if (!s)
        return;
    const struct api_ctx *api = http_req_app(r);
    struct catalog_dataset *d = visible_dataset(r, s);
    store_pool_release(api->pool, s);
    if (!d)
        return;
    char origin[ORIGIN_MAX];
    origin_of(r, origin);
    struct buf body;
    struct json_writer w;
    buf_init(&body, PAGE_BODY_MAX);
    json_init(&w, &body);
    write_dataset(&w, d, origin);
    catalog_dataset_free(d);
    if (json_finish(&w) < 0)
        http_reply_error(r, ERR_INTERNAL, NULL);
    else
        reply_json(r, &body);
    buf_free(&body);
}

/* The key of a column in a records row or an NDJSON line: its name escaped and
 * quoted once, written as it is for every row. From a (or malloc when a is
 * NULL: NULL when out of memory). Column names are at most 63 bytes, so the
 * writer cannot run out of room. */
static char *quoted_key(const char *name, struct arena *a, size_t *len)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 4096);
    json_init(&w, &b);
    json_string(&w, name);
    char *out = NULL;
    if (json_finish(&w) == 0)
        out = a ? arena_strndup(a, b.data, b.len) : strndup(b.data, b.len);
    *len = b.len;
    buf_free(&b);
    return out;
}

/* ---- the next link ------------------------------------------------------------------------ */

static int put_query_part(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~,", *p);
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int rc = plain ? buf_putc(out, (char)*p) : buf_append(out, enc, 3);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* origin + path + every parameter of the request but the position ones, then
 * the new cursor. */
static int build_next(http_req *r, const char *origin, const char *cursor, struct buf *out)
{
    const char *const *keys, *const *values;
    size_t n = http_req_query_all(r, &keys, &values);
    int rc = buf_puts(out, origin);
    if (rc == 0)
        rc = buf_puts(out, http_req_path(r));
    char sep = '?';
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!strcmp(keys[i], "cursor") || !strcmp(keys[i], "next-id") || !strcmp(keys[i], "bewit"))
            continue;
        rc = buf_putc(out, sep);
        if (rc == 0)
            rc = put_query_part(out, keys[i]);
        if (rc == 0)
            rc = buf_putc(out, '=');
        if (rc == 0)
            rc = put_query_part(out, values[i]);
        sep = '&';
    }
    if (rc == 0)
        rc = buf_putc(out, sep);
    if (rc == 0)
        rc = buf_puts(out, "cursor=");
    if (rc == 0)
        rc = buf_puts(out, cursor);
    return rc;
}

/* ---- a JSON page ------------------------------------------------------------------- */

struct page {
    const struct catalog_dataset *d;
    const struct dq_query *q;
    const struct dsql *sql;
    enum store_backend_kind backend;
    struct json_writer w;
    struct store_value *last; /* sort values of the last row written (arena) */
    char **keys;              /* records: the quoted output column names (arena) */
    size_t *key_len;
    int more; /* a row beyond the page exists */
};

static void write_headers(struct page *pg)
{
    json_array_begin(&pg->w);
    for (size_t i = 0; i < pg->sql->nout; i++)
        json_string(&pg->w, pg->d->cols[pg->sql->cols[i]].name);
    json_array_end(&pg->w);
}

static void write_row(struct page *pg, store_stmt *st)
{
    const struct dsql *sql = pg->sql;
    int records = pg->q->orientation == DQ_RECORDS;
    int flat = !records && sql->nout == 1;
    if (records)
        json_object_begin(&pg->w);
    else if (!flat)
        json_array_begin(&pg->w);
    for (size_t i = 0; i < sql->nout; i++) {
        const struct catalog_column *c = &pg->d->cols[sql->cols[i]];
        if (records)
            json_key_quoted(&pg->w, pg->keys[i], pg->key_len[i]);
        rowenc_json(&pg->w, st, (int)i, c->type, pg->backend);
    }
    if (records)
        json_object_end(&pg->w);
    else if (!flat)
        json_array_end(&pg->w);
}

/* Keep the sort values of the current row (copied: the row goes at the next step). */
static void keep_last(struct page *pg, store_stmt *st, struct arena *a)
{
    for (size_t i = 0; i < pg->q->nsort; i++) {
        size_t at = pg->sql->sort_at[i];
        enum coltype t = pg->d->cols[pg->sql->cols[at]].type;
        struct store_value v = rowenc_value(st, (int)at, t, pg->backend);
        if (v.type == STORE_TEXT)
            v.v.s.p = arena_strndup(a, v.v.s.p, v.v.s.n);
        pg->last[i] = v;
    }
}

/* The cursor of a last row whose sort values are too long to carry (a long
 * text): its key values and which sort values were NULL (dquery.h, after_row). */
static int encode_row_cursor(const unsigned char *key, const struct dq_query *q,
                             const struct store_value *last, struct arena *a, struct buf *out)
{
    struct store_value *v = arena_calloc(a, q->nkey + 1, sizeof *v);
    uint32_t nulls = 0;
    for (size_t i = 0; i < q->nsort; i++)
        if (last[i].type == STORE_NULL)
            nulls |= 1u << i;
    for (size_t k = 0; k < q->nkey; k++)
        for (size_t i = 0; i < q->nsort; i++)
            if (q->sort[i].col == q->key_cols[k])
                v[k] = last[i];
    v[q->nkey] = SV_INT(nulls);
    return cursor_encode(key, q->row_cursor_scope, v, q->nkey + 1, out);
}

/* Step the page's rows into the "values"/"results" array. */
static int write_rows(struct page *pg, store_stmt *st, struct arena *a)
{
    int64_t n = 0;
    int rc;
    json_array_begin(&pg->w);
    while ((rc = store_step(st)) == STORE_ROW) {
        if (n == pg->q->page_size) {
            pg->more = 1;
            break;
        }
        write_row(pg, st);
        if (++n == pg->q->page_size)
            keep_last(pg, st, a);
    }
    json_array_end(&pg->w);
    return rc < 0 ? rc : 0;
}

static int run_count(store *s, const struct catalog_dataset *d, const struct dq_query *q,
                     struct arena *a, int64_t *out)
{
    if (q->count == DQ_COUNT_ESTIMATED && q->nfilters == 0) {
        *out = d->row_count;
        return 0;
    }
    struct dsql sql;
    int rc = dsql_count(d, store_backend(s), q, a, &sql);
    if (rc == 0)
        rc = store_query_int(s, sql.sql, sql.params, sql.nparams, out);
    return rc < 0 ? rc : 0;
}

/* The ETag of a page: a 128-bit hash of its bytes, in hex. Not a MAC (nothing
 * depends on it being unforgeable: a client that forged a collision would
 * only fool its own cache), so a fast multiply-xorshift over 8-byte words in
 * four independent lanes rather than SHA-256, which the Hawk response hash
 * already spends once per page. */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static void etag_of(const struct buf *body, char out[2 * ETAG_BYTES + 3])
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)body->data;
    size_t n = body->len;
    uint64_t lane[4] = {0x9e3779b97f4a7c15ULL ^ n, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL,
                        0x2545f4914f6cdd1dULL};
    for (; n >= 32; p += 32, n -= 32) {
        for (int i = 0; i < 4; i++) {
            uint64_t w;
            memcpy(&w, p + 8 * i, 8);
            lane[i] = (lane[i] ^ w) * 0x9fb21c651e98df25ULL;
            lane[i] ^= lane[i] >> 29;
        }
    }
    for (size_t i = 0; i < n; i++)
        lane[i & 3] = (lane[i & 3] ^ p[i]) * 0x100000001b3ULL;
    uint64_t h[2] = {mix64(lane[0] ^ mix64(lane[1])), mix64(lane[2] ^ mix64(lane[3] ^ lane[0]))};
    out[0] = '"';
    for (int i = 0; i < ETAG_BYTES; i++) {
        unsigned byte = (unsigned)(h[i / 8] >> (8 * (i % 8))) & 0xffu;
        out[1 + 2 * i] = hex[byte >> 4];
        out[2 + 2 * i] = hex[byte & 15];
    }
    out[2 * ETAG_BYTES + 1] = '"';
    out[2 * ETAG_BYTES + 2] = '\0';
}

/* Does If-None-Match (a list of tags, or *) name this tag? */
static int etag_matches(const char *header, const char *tag)
{
    if (!header)
        return 0;
    if (strcmp(header, "*") == 0)
        return 1;
    size_t n = strlen(tag);
    for (const char *p = strstr(header, tag); p; p = strstr(p + 1, tag)) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ')
            return 1;
    }
    return 0;
}

static void reply_page(http_req *r, struct buf *body)
{
    char tag[2 * ETAG_BYTES + 3];
    etag_of(body, tag);
    http_set_header(r, "ETag", tag);
    if (etag_matches(http_req_header(r, "If-None-Match"), tag)) {
        set_cache_control(r);
        http_reply(r, 304, NULL, NULL, 0);
        return;
    }
    reply_json(r, body);
}

/* The body of a JSON page into body; 0 or <0 (logged by the caller). */
static int build_page(http_req *r, store *s, const struct catalog_dataset *d,
                      const struct dq_query *q, struct buf *body)
{
    const struct api_ctx *api = http_req_app(r);
    struct arena *a = http_req_arena(r);
    struct dsql sql;
    store_stmt *st = NULL;
    int64_t count = 0;
    int rc = 0;
    if (q->after_row) { /* a row cursor: its row must still be there */
        rc = dsql_row_exists(d, store_backend(s), q, a, &sql);
        if (rc == 0 && (rc = store_query_int(s, sql.sql, sql.params, sql.nparams, NULL)) == 0)
            return ERR_CONFLICT;
        if (rc < 0)
            return rc;
    }
    rc = dsql_rows(d, store_backend(s), q, q->page_size + 1, a, &sql);
    if (rc == 0 && q->count != DQ_COUNT_NONE)
        rc = run_count(s, d, q, a, &count);
    if (rc == 0)
        rc = store_prepare(s, sql.sql, &st);
    if (rc == 0)
        rc = store_bind_all(st, sql.params, sql.nparams);
    if (rc < 0)
        goto out;
    struct page pg = {.d = d, .q = q, .sql = &sql, .backend = store_backend(s)};
    pg.last = arena_calloc(a, q->nsort, sizeof *pg.last);
    if (q->orientation == DQ_RECORDS) {
        pg.keys = arena_calloc(a, sql.nout, sizeof *pg.keys);
        pg.key_len = arena_calloc(a, sql.nout, sizeof *pg.key_len);
        for (size_t i = 0; i < sql.nout; i++)
            pg.keys[i] = quoted_key(d->cols[sql.cols[i]].name, a, &pg.key_len[i]);
    }
    json_init(&pg.w, body);
    json_object_begin(&pg.w);
    if (q->orientation == DQ_TABULAR) {
        json_key(&pg.w, "headers");
        write_headers(&pg);
        json_key(&pg.w, "values");
    } else {
        json_key(&pg.w, "results");
    }
    if ((rc = write_rows(&pg, st, a)) < 0)
        goto out;
    json_key(&pg.w, "next");
    if (pg.more) {
        struct buf cursor, next;
        char origin[ORIGIN_MAX];
        buf_init(&cursor, CURSOR_MAX_CHARS);
        buf_init(&next, 64u << 10);
        origin_of(r, origin);
        rc = cursor_encode(api->cursor_key, q->cursor_scope, pg.last, q->nsort, &cursor);
        if (rc == ERR_TOOBIG)
            rc = encode_row_cursor(api->cursor_key, q, pg.last, a, &cursor);
        if (rc == 0)
            rc = build_next(r, origin, buf_cstr(&cursor), &next);
        if (rc == 0)
            json_stringn(&pg.w, next.data, next.len);
        buf_free(&cursor);
        buf_free(&next);
        if (rc < 0)
            goto out;
    } else {
        json_null(&pg.w);
    }
    if (q->count != DQ_COUNT_NONE) {
        json_key(&pg.w, "count");
        json_int(&pg.w, count);
    }
    json_object_end(&pg.w);
    rc = json_finish(&pg.w);
out:
    if (st)
        store_stmt_reset(st);
    return rc;
}

static void serve_page(http_req *r, store *s, const struct catalog_dataset *d,
                       const struct dq_query *q)
{
    const struct api_ctx *api = http_req_app(r);
    struct buf body;
    buf_init(&body, PAGE_BODY_MAX);
    int rc = build_page(r, s, d, q, &body);
    if (rc < 0 && rc != ERR_CONFLICT)
        log_error("cannot read a page", LF_STR("dataset", d->name), LF_INT("rc", rc),
                  LF_STR("error", store_errmsg(s)));
    store_pool_release(api->pool, s);
    if (rc == 0)
        reply_page(r, &body);
    else if (rc == ERR_CONFLICT)
        http_reply_error(r, ERR_CONFLICT,
                         "the row this cursor points at no longer exists (the dataset changed): "
                         "start again from the first page");
    else if (rc == ERR_TOOBIG)
        http_reply_error_status(r, 500, "too_large",
                                "the page is too large: ask for a smaller page_size");
    else
        http_reply_error(r, rc == ERR_UNAVAILABLE || rc == ERR_BUSY ? rc : ERR_STORE, NULL);
    buf_free(&body);
}

/* ---- exports --------------------------------------------------------------------------------- */

struct export
{
    store_pool *pool;
    store *s;
    store_stmt *st;
    enum dq_format format;
    enum store_backend_kind backend;
    size_t ncols;
    enum coltype *types;
    char **names; /* NDJSON keys, quoted */
    size_t *name_len;
    struct buf head; /* the CSV header line, sent first */
    int pending;     /* the statement is on a row not yet written */
    int done;        /* no more rows */
    int64_t rows;
};

static void export_free(void *ctx)
{
    struct export *e = ctx;
    if (e->st)
        store_stmt_reset(e->st);
    store_pool_release(e->pool, e->s);
    for (size_t i = 0; e->names && i < e->ncols; i++)
        free(e->names[i]);
    free(e->names);
    free(e->name_len);
    free(e->types);
    buf_free(&e->head);
    free(e);
}

static int export_row(struct export *e, struct buf *out)
{
    if (e->format == DQ_FORMAT_CSV) {
        for (size_t i = 0; i < e->ncols; i++) {
            if (i && buf_putc(out, ',') < 0)
                return ERR_TOOBIG;
            if (rowenc_csv(out, e->st, (int)i, e->types[i], e->backend) < 0)
                return ERR_TOOBIG;
        }
        return buf_puts(out, "\r\n");
    }
    struct json_writer w;
    json_init(&w, out);
    json_object_begin(&w);
    for (size_t i = 0; i < e->ncols; i++) {
        json_key_quoted(&w, e->names[i], e->name_len[i]);
        rowenc_json(&w, e->st, (int)i, e->types[i], e->backend);
    }
    json_object_end(&w);
    int rc = json_error(&w);
    return rc < 0 ? rc : buf_putc(out, '\n');
}

/* The stream's fill: whole rows until the piece is big enough. A row that does
 * not fit is kept for the next piece (the statement stays on it); one that does
 * not fit an empty piece ends the stream with an error. */
static int export_fill(void *ctx, struct buf *out)
{
    struct export *e = ctx;
    if (e->head.len) {
        if (buf_append(out, e->head.data, e->head.len) < 0)
            return ERR_TOOBIG;
        buf_reset(&e->head);
    }
    while (!e->done && out->len < EXPORT_PIECE) {
        if (!e->pending) {
            int rc = store_step(e->st);
            if (rc < 0) {
                log_error("export failed", LF_INT("rows", e->rows),
                          LF_STR("error", store_errmsg(e->s)));
                return rc;
            }
            e->done = rc == STORE_DONE;
            e->pending = rc == STORE_ROW;
            continue;
        }
        size_t mark = out->len;
        if (export_row(e, out) < 0) {
            buf_truncate(out, mark);
            if (mark > 0)
                return 0;
            log_error("export row too large", LF_INT("rows", e->rows));
            return ERR_TOOBIG;
        }
        e->pending = 0;
        e->rows++;
    }
    return e->done ? 1 : 0;
}

/* The output columns' types and names, and the CSV header line. */
static int export_columns(struct export *e, const struct catalog_dataset *d, const struct dsql *sql)
{
    e->ncols = sql->nout;
    e->types = calloc(e->ncols, sizeof *e->types);
    e->names = calloc(e->ncols, sizeof *e->names);
    e->name_len = calloc(e->ncols, sizeof *e->name_len);
    if (!e->types || !e->names || !e->name_len)
        return ERR_NOMEM;
    for (size_t i = 0; i < e->ncols; i++) {
        const struct catalog_column *c = &d->cols[sql->cols[i]];
        e->types[i] = c->type;
        if (!(e->names[i] = quoted_key(c->name, NULL, &e->name_len[i])))
            return ERR_NOMEM;
        if (e->format == DQ_FORMAT_CSV && ((i && buf_putc(&e->head, ',') < 0) ||
                                           rowenc_csv_text(&e->head, c->name, strlen(c->name)) < 0))
            return ERR_NOMEM;
    }
    if (e->format == DQ_FORMAT_CSV && buf_puts(&e->head, "\r\n") < 0)
        return ERR_NOMEM;
    return 0;
}

/* Start the export: the statement runs, and its first row is read, before the
 * 200 goes out, so a failing query is still a clean 500. Takes s. */
static void serve_export(http_req *r, store *s, const struct catalog_dataset *d,
                         const struct dq_query *q)
{
    const struct api_ctx *api = http_req_app(r);
    struct dsql sql;
    struct export *e = calloc(1, sizeof *e);
    if (!e) {
        store_pool_release(api->pool, s);
        http_reply_error(r, ERR_NOMEM, NULL);
        return;
    }
    e->pool = api->pool, e->s = s, e->format = q->format, e->backend = store_backend(s);
    buf_init(&e->head, 1u << 20);
    int rc = dsql_rows(d, e->backend, q, 0, http_req_arena(r), &sql);
    if (rc == 0)
        rc = export_columns(e, d, &sql);
    if (rc == 0)
        rc = store_prepare_stream(s, sql.sql, &e->st);
    if (rc == 0)
        rc = store_bind_all(e->st, sql.params, sql.nparams);
    if (rc == 0 && (rc = store_step(e->st)) >= 0) {
        e->pending = rc == STORE_ROW;
        e->done = rc == STORE_DONE;
        rc = 0;
    }
    if (rc < 0) {
        log_error("cannot start an export", LF_STR("dataset", d->name), LF_INT("rc", rc),
                  LF_STR("error", store_errmsg(s)));
        export_free(e);
        http_reply_error(r, rc == ERR_UNAVAILABLE || rc == ERR_BUSY ? rc : ERR_STORE, NULL);
        return;
    }
    const char *type = "application/x-ndjson";
    if (q->format == DQ_FORMAT_CSV) {
        char disposition[96];
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s.csv\"", d->name);
        http_set_header(r, "Content-Disposition", disposition);
        type = "text/csv; charset=utf-8";
    }
    set_cache_control(r);
    http_reply_stream(r, 200, type, export_fill, export_free, e);
}

/* ---- the rows route ---------------------------------------------------------------- */

static void reply_bad_query(http_req *r, const struct dq_error *err)
{
    char msg[sizeof err->param + sizeof err->message + 4];
    if (err->param[0])
        snprintf(msg, sizeof msg, "%s: %s", err->param, err->message);
    else
        snprintf(msg, sizeof msg, "%s", err->message);
    http_reply_error_status(r, err->status ? err->status : 400, "invalid_parameter", msg);
}

void data_rows(http_req *r)
{
    const struct api_ctx *api = http_req_app(r);
    store *s = acquire(r);
    if (!s)
        return;
    struct catalog_dataset *d = visible_dataset(r, s);
    if (!d) {
        store_pool_release(api->pool, s);
        return;
    }
    const char *const *keys, *const *values;
    size_t n = http_req_query_all(r, &keys, &values);
    struct dq_query q;
    struct dq_error err = {0};
    int rc = dq_parse(d, store_backend(s), keys, values, n, &api->data_limits, api->cursor_key,
                      http_req_arena(r), &q, &err);
    if (rc < 0) {
        store_pool_release(api->pool, s);
        if (rc == ERR_INVAL)
            reply_bad_query(r, &err);
        else
            http_reply_error(r, rc, NULL);
    } else if (q.format == DQ_FORMAT_JSON) {
        serve_page(r, s, d, &q); /* releases s */
    } else {
        serve_export(r, s, d, &q); /* takes s */
    }
    catalog_dataset_free(d);
}
