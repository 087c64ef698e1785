/*
 * http: what a request handler sees — the request, read-only, and the ways to
 * answer it. The server (server.h) owns the request; a handler borrows it for
 * the duration of the call and must answer exactly once with one of the
 * http_reply_* functions. A handler that returns without answering gets a 500.
 *
 * Everything a handler allocates for the request's lifetime comes from the
 * request's arena (http_req_arena) and is freed in one step when the response
 * has been sent.
 *
 * Errors have one JSON shape: {"error": {"code": "not_found", "message": "..."}}.
 * Messages are for people and never carry internals (SQL, paths, libpq text);
 * log those instead.
 */
#ifndef FERRY_HTTP_HTTP_H
#define FERRY_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/router.h"

typedef struct metrics metrics;

/* ---- the request (all strings borrowed from the request; valid until it ends) ---- */

const char *http_req_method(const http_req *r); /* "GET", "HEAD", "POST", ... */
const char *http_req_target(const http_req *r); /* raw request target: "/a%20b?x=1" */
const char *http_req_path(const http_req *r);   /* raw path, no query: "/a%20b" */
const char *http_req_id(const http_req *r);     /* the X-Request-Id of this request */
const char *http_req_peer(const http_req *r);   /* client address, "127.0.0.1" */
const struct route *http_req_route(const http_req *r);

/* A path parameter of the matched route, percent-decoded. NULL if the route has
 * no such parameter. (A value decoding to a NUL byte is refused with 400 before
 * the handler runs.) */
const char *http_req_param(http_req *r, const char *name);

/* The first value of a query parameter, decoded ('+' is a space). NULL if absent;
 * "" for "?x" or "?x=". */
const char *http_req_query(http_req *r, const char *name);

/* All query parameters in order (for filters). Returns the count; *keys and
 * *values are arrays of decoded strings in the arena. */
size_t http_req_query_all(http_req *r, const char *const **keys, const char *const **values);

/* A request header (case-insensitive name). NULL if absent. */
const char *http_req_header(const http_req *r, const char *name);

/* The request body (whole, within the route's limit). Never NULL; *len may be 0. */
const char *http_req_body(const http_req *r, size_t *len);

struct arena *http_req_arena(http_req *r);

/* The application context given to the server at start (e.g. the api context). */
void *http_req_app(const http_req *r);

/* Per-request state of the guard (the authenticated identity): set by the guard,
 * read by handlers. Borrowed; allocate it from the request's arena. */
void http_req_set_user(http_req *r, void *user);
void *http_req_user(const http_req *r);

/* The server's metrics registry. */
metrics *http_req_metrics(const http_req *r);

/* ---- answering ------------------------------------------------------------------ */

/* Add a response header (copied). Call before the reply. At most 16 per response. */
void http_set_header(http_req *r, const char *name, const char *value);

/* Send body (copied). content_type may be NULL for an empty body. */
void http_reply(http_req *r, int status, const char *content_type, const void *body, size_t len);

/* Send the contents of body, taking them (body is left empty). */
void http_reply_buf(http_req *r, int status, const char *content_type, struct buf *body);

/* Send the JSON error for an ERR_* code: its HTTP status and machine code, with
 * message (NULL = the code's default message). */
void http_reply_error(http_req *r, int err, const char *message);

/* Send a JSON error with an explicit status and machine code. */
void http_reply_error_status(http_req *r, int status, const char *code, const char *message);

/* Stream a body of unknown length (sent chunked). fill is called whenever the
 * connection can take more: it appends the next piece to out (a bounded buf, at
 * most 256 KiB per call is sensible) and returns 0 for "more to come", 1 when
 * this was the last piece, or <0 to abort (the connection is closed; the client
 * sees a truncated chunked body, never a false end). done (may be NULL) is
 * called once with ctx when the response is finished or abandoned. */
typedef int (*http_fill_fn)(void *ctx, struct buf *out);
typedef void (*http_done_fn)(void *ctx);
void http_reply_stream(http_req *r, int status, const char *content_type, http_fill_fn fill,
                       http_done_fn done, void *ctx);

#endif
