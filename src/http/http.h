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

/* The request body (whole, within the route's limit). Never NULL; *len may be 0.
 * Always empty on a ROUTE_STREAM route: its body went to the sink. */
const char *http_req_body(const http_req *r, size_t *len);

struct arena *http_req_arena(http_req *r);

/* The application context given to the server at start (e.g. the api context). */
void *http_req_app(const http_req *r);

/* Per-request state of the guard (the authenticated identity): set by the guard,
 * read by handlers. Borrowed; allocate it from the request's arena. */
void http_req_set_user(http_req *r, void *user);
void *http_req_user(const http_req *r);

/* Per-request state of a handler or sink (an upload's temporary file, say).
 * state is taken: free_fn (may be NULL) runs with it exactly once, when the request
 * is completed or aborted (the client went away mid-upload), or when the state is
 * replaced by another call. */
void http_req_set_state(http_req *r, void *state, void (*free_fn)(void *state));
/* The state set by http_req_set_state, or NULL. Borrowed. */
void *http_req_state(const http_req *r);

/* The server's metrics registry. */
metrics *http_req_metrics(const http_req *r);

/* ---- streamed request bodies (ROUTE_STREAM) -------------------------------------
 *
 * A stream route's request goes:
 *
 *   headers in -> guard (authentication and scope, with no body; a refusal is
 *   answered at once) -> for each piece of the body: the server's body_observe hook
 *   (raw bytes: the Hawk payload hash), then the route's sink -> end of the body:
 *   the server's body_end hook (payload hash mismatch -> 401) -> the handler, which
 *   answers as on any route.
 *
 * The body is only authenticated at its end, so a sink must keep what it writes
 * private (a temporary file) and the handler makes it visible. A sink or hook that
 * fails answers the request itself and returns <0; the rest of the body is then
 * read and dropped (up to a bound, beyond which the connection is closed), the
 * handler does not run, and the answer goes out once the body is in.
 *
 * Raw body: the sink gets every byte. multipart/form-data: the sink gets only the
 * contents of the file part, unwrapped: the first part with a filename= in its
 * Content-Disposition, or the first part named "file"; other parts are dropped.
 * A form without such a part (or whose file part is empty) still reaches the
 * handler, with http_req_upload_seen() 0: answer 400 "no file part in the form". */

/* 1 when the sink has been given the upload: always for a raw body (even empty);
 * for a form, once its file part has begun. 0 on other routes. */
int http_req_upload_seen(const http_req *r);

/* The file part's filename as the client sent it (may hold any path; never use it
 * as one), or NULL for a raw body or before the part has begun. */
const char *http_req_upload_filename(const http_req *r);

/* The file part's Content-Type, or for a raw body the request's Content-Type; NULL
 * when there is none. */
const char *http_req_upload_type(const http_req *r);

/* Bytes given to the sink so far. */
uint64_t http_req_upload_bytes(const http_req *r);

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
