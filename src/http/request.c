/*
 * request: the handler-facing side of a request — accessors, decoding, and the
 * replies, including streamed bodies. The libmicrohttpd life cycle is in
 * server.c; the shared struct is in http_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http_int.h"

/* Largest piece a streaming fill may leave pending at once. */
#define STREAM_PIECE_LIMIT (4u << 20)
/* Chunk size libmicrohttpd asks the reader for. */
#define STREAM_BLOCK       65536

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *http_decode(struct arena *a, const char *s, size_t n, int plus, size_t *len)
{
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}

/* ---- accessors -------------------------------------------------------------------- */

const char *http_req_method(const http_req *r)
{
    return r->method;
}

const char *http_req_target(const http_req *r)
{
    return r->target;
}

const char *http_req_path(const http_req *r)
{
    return r->path;
}

const char *http_req_id(const http_req *r)
{
    return r->id;
}

const char *http_req_peer(const http_req *r)
{
    return r->peer;
}

const struct route *http_req_route(const http_req *r)
{
    return r->matched ? r->match.route : NULL;
}

const char *http_req_param(http_req *r, const char *name)
{
    if (!r->matched)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < r->match.nparams; i++)
        if (r->match.params[i].name_len == n && memcmp(r->match.params[i].name, name, n) == 0)
            return r->params[i];
    return NULL;
}

/* Split the raw query into decoded key/value arrays, once. */
static void parse_query(http_req *r)
{
    if (r->query_parsed)
        return;
    r->query_parsed = 1;
    size_t count = 0;
    for (const char *p = r->query; *p; p++)
        count += *p == '&';
    count++;
    r->query_keys = arena_calloc(&r->arena, count, sizeof *r->query_keys);
    r->query_values = arena_calloc(&r->arena, count, sizeof *r->query_values);
    const char *p = r->query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t kn = eq ? (size_t)(eq - p) : n;
            r->query_keys[r->nquery] = http_decode(&r->arena, p, kn, 1, NULL);
            r->query_values[r->nquery] =
                eq ? http_decode(&r->arena, eq + 1, n - kn - 1, 1, NULL) : "";
            r->nquery++;
        }
        p += n + (end != NULL);
    }
}

const char *http_req_query(http_req *r, const char *name)
{
    parse_query(r);
    for (size_t i = 0; i < r->nquery; i++)
        if (strcmp(r->query_keys[i], name) == 0)
            return r->query_values[i];
    return NULL;
}

size_t http_req_query_all(http_req *r, const char *const **keys, const char *const **values)
{
    parse_query(r);
    *keys = r->query_keys;
    *values = r->query_values;
    return r->nquery;
}

const char *http_req_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_body(const http_req *r, size_t *len)
{
    *len = r->body.len;
    return buf_cstr(&r->body);
}

struct arena *http_req_arena(http_req *r)
{
    return &r->arena;
}

void *http_req_app(const http_req *r)
{
    return r->srv->opt.app;
}

void http_req_set_user(http_req *r, void *user)
{
    r->user = user;
}

void *http_req_user(const http_req *r)
{
    return r->user;
}

void http_req_set_state(http_req *r, void *state, void (*free_fn)(void *state))
{
    void *old = r->state;
    void (*old_free)(void *) = r->state_free;
    r->state = state;
    r->state_free = free_fn;
    if (old && old_free && old != state)
        old_free(old);
}

void *http_req_state(const http_req *r)
{
    return r->state;
}

void http_req_state_release(http_req *r)
{
    void *state = r->state;
    void (*free_fn)(void *) = r->state_free;
    r->state = NULL;
    r->state_free = NULL;
    if (state && free_fn)
        free_fn(state);
}

int http_req_upload_seen(const http_req *r)
{
    return r->upload_seen;
}

const char *http_req_upload_filename(const http_req *r)
{
    return r->upload_filename;
}

const char *http_req_upload_type(const http_req *r)
{
    return r->upload_type;
}

uint64_t http_req_upload_bytes(const http_req *r)
{
    return r->upload_bytes;
}

metrics *http_req_metrics(const http_req *r)
{
    return r->srv->metrics;
}

/* ---- replies ---------------------------------------------------------------------- */

void http_set_header(http_req *r, const char *name, const char *value)
{
    if (r->nheaders == HTTP_MAX_RESPONSE_HEADERS) {
        log_error("too many response headers", LF_STR("header", name));
        return;
    }
    r->headers[r->nheaders].name = arena_strdup(&r->arena, name);
    r->headers[r->nheaders].value = arena_strdup(&r->arena, value);
    r->nheaders++;
}

void http_queue(http_req *r, int status, struct MHD_Response *resp)
{
    if (!resp) {
        log_error("cannot create response");
        r->queue_failed = 1;
        return;
    }
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    r->status = status;
    if (r->in_body) {
        r->pending = resp; /* queued by http_queue_pending once the body is in */
        r->pending_status = status;
        return;
    }
    if (MHD_queue_response(r->conn, (unsigned)status, resp) != MHD_YES)
        r->queue_failed = 1;
    MHD_destroy_response(resp);
}

void http_queue_pending(http_req *r)
{
    struct MHD_Response *resp = r->pending;
    if (!resp)
        return;
    r->pending = NULL;
    if (MHD_queue_response(r->conn, (unsigned)r->pending_status, resp) != MHD_YES)
        r->queue_failed = 1;
    MHD_destroy_response(resp);
}

/* Let the server's hook add headers computed over the body. */
static void before_send(http_req *r, int status, const char *content_type, const void *body,
                        size_t len)
{
    if (r->srv->opt.before_send)
        r->srv->opt.before_send(r, status, content_type, body, len);
}

static int already_answered(http_req *r)
{
    if (r->status == 0)
        return 0;
    log_error("handler answered twice", LF_INT("status", r->status));
    return 1;
}

void http_reply(http_req *r, int status, const char *content_type, const void *body, size_t len)
{
    if (already_answered(r))
        return;
    before_send(r, status, content_type, body, len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (resp && content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    r->bytes_out = len;
    http_queue(r, status, resp);
}

void http_reply_buf(http_req *r, int status, const char *content_type, struct buf *body)
{
    if (already_answered(r))
        return;
    before_send(r, status, content_type, body->data ? body->data : "", body->len);
    size_t len;
    char *data = buf_take(body, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, data, free);
    if (!resp)
        free(data);
    else if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    r->bytes_out = len;
    http_queue(r, status, resp);
}

void http_reply_error_status(http_req *r, int status, const char *code, const char *message)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 4096 + strlen(message) * 6);
    json_init(&w, &b);
    json_object_begin(&w);
    json_key(&w, "error");
    json_object_begin(&w);
    json_key(&w, "code");
    json_string(&w, code);
    json_key(&w, "message");
    json_string(&w, message);
    json_object_end(&w);
    json_object_end(&w);
    buf_putc(&b, '\n');
    http_reply_buf(r, status, "application/json", &b);
    buf_free(&b);
}

void http_reply_error(http_req *r, int err, const char *message)
{
    http_reply_error_status(r, err_http_status(err), err_code(err),
                            message ? message : err_str(err));
}

/* ---- streaming ---------------------------------------------------------------------- */

struct http_stream {
    http_req *req; /* NULL once the request has completed */
    http_fill_fn fill;
    http_done_fn done;
    void *ctx;
    struct buf pending;
    size_t off; /* bytes of pending already sent */
    int finished;
};

void http_stream_detach(struct http_stream *s)
{
    if (s)
        s->req = NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct http_stream *s = cls;
    (void)pos;
    if (s->off == s->pending.len) {
        if (s->finished)
            return MHD_CONTENT_READER_END_OF_STREAM;
        buf_reset(&s->pending);
        s->off = 0;
        int rc = s->fill(s->ctx, &s->pending);
        if (rc < 0 || (rc == 0 && s->pending.len == 0)) {
            log_error("stream aborted", LF_INT("rc", rc));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        s->finished = rc == 1;
        if (s->pending.len == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->pending.len - s->off;
    if (n > max)
        n = max;
    memcpy(out, s->pending.data + s->off, n);
    s->off += n;
    if (s->req)
        s->req->bytes_out += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct http_stream *s = cls;
    if (s->req)
        s->req->stream = NULL;
    if (s->done)
        s->done(s->ctx);
    buf_free(&s->pending);
    free(s);
}

void http_reply_stream(http_req *r, int status, const char *content_type, http_fill_fn fill,
                       http_done_fn done, void *ctx)
{
    if (already_answered(r)) {
        if (done)
            done(ctx);
        return;
    }
    before_send(r, status, content_type, NULL, 0);
    struct http_stream *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->req = r;
    s->fill = fill;
    s->done = done;
    s->ctx = ctx;
    buf_init(&s->pending, STREAM_PIECE_LIMIT);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                                  stream_read, s, stream_free);
    if (!resp) {
        stream_free(s);
        http_queue(r, status, NULL);
        return;
    }
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    r->stream = s;
    http_queue(r, status, resp);
}
