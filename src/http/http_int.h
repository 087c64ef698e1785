/*
 * http_int.h: internals shared by server.c (libmicrohttpd glue) and request.c
 * (the handler-facing request and reply functions). No other module includes it.
 *
 * A request's states:
 *
 *   begun (URI callback: raw target stored, in-flight counted)
 *     -> headers (first access call: id, header size, route, body limit)
 *     -> body (zero or more upload chunks into `body`, or discarded after an error;
 *        on a stream route: guard first, then each chunk to body_observe and the sink)
 *     -> answered (handler or early error queued exactly one MHD response; an answer
 *        given while the body is still coming is held in `pending` and queued once
 *        it is in, as libmicrohttpd takes responses only before or after the body)
 *     -> completed (notify-completed callback: access log, metrics, freed)
 */
#ifndef FERRY_HTTP_HTTP_INT_H
#define FERRY_HTTP_HTTP_INT_H

#include <microhttpd.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

#define HTTP_MAX_RESPONSE_HEADERS 16
#define HTTP_REQUEST_ID_MAX       128

struct http_header {
    const char *name;
    const char *value;
};

struct http_server {
    /* One daemon per worker thread, each with its own listening socket on the
     * same port (SO_REUSEPORT): the kernel spreads new connections over them. */
    struct MHD_Daemon **daemons;
    int *listen_fds; /* -1 once quiesced */
    unsigned ndaemons;
    int port;
    struct http_server_options opt;
    metrics *metrics;
};

struct http_req {
    struct arena arena;
    struct http_server *srv;
    struct MHD_Connection *conn;
    uint64_t start_usec;

    const char *method;
    const char *target; /* raw request target */
    const char *path;   /* raw path (arena copy, up to '?') */
    const char *query;  /* raw query after '?', or "" */
    char id[HTTP_REQUEST_ID_MAX + 1];
    char peer[64];

    int headers_seen; /* the first access call happened */
    struct route_match match;
    int matched;                           /* match is valid */
    const char *params[ROUTER_MAX_PARAMS]; /* decoded values of match.params */
    size_t body_limit;
    struct buf body;
    uint64_t discarded;    /* body bytes dropped after an early error */
    int early_err;         /* ERR_* decided before the handler (413, 404, ...), 0 if none */
    const char *early_msg; /* message for early_err, or NULL */
    char allow[64];        /* Allow header for 405 */

    struct http_header headers[HTTP_MAX_RESPONSE_HEADERS];
    size_t nheaders;
    int status;         /* queued status, 0 until answered */
    int queue_failed;   /* MHD refused the response */
    uint64_t bytes_out; /* body bytes (counted when known or streamed) */

    struct http_stream *stream; /* the streaming body, while both exist */
    void *user;                 /* the guard's per-request state */
    int guarded;                /* the guard ran (request_end is owed) */

    /* Answers given while the body is being read wait here (see above). */
    int in_body; /* between the headers call and the final call */
    struct MHD_Response *pending;
    int pending_status;

    /* ROUTE_STREAM: the body goes to the sink (server.c). */
    int streaming;                /* a stream route that passed the header checks */
    int stream_stopped;           /* a sink or hook answered: drop the rest */
    uint64_t stream_total;        /* raw body bytes so far (against body_limit) */
    struct MHD_PostProcessor *pp; /* multipart/form-data demultiplexer, or NULL */
    int upload_seen;              /* the sink has been given the upload */
    int upload_done;              /* the form's file part is over */
    const char *upload_key;       /* the file part's name (arena) */
    const char *upload_filename;  /* (arena) or NULL */
    const char *upload_type;      /* (arena or MHD's) or NULL */
    uint64_t upload_bytes;        /* given to the sink */

    void *state; /* the handler's, with its free function */
    void (*state_free)(void *state);

    int query_parsed;
    size_t nquery;
    const char **query_keys;
    const char **query_values;
};

/* A streamed response body (request.c); freed by libmicrohttpd's free callback. */
struct http_stream;

/* Detach the request from its stream when the request completes first. */
void http_stream_detach(struct http_stream *s);

/* Percent-decode n bytes of s into the arena; '+' becomes a space when plus is
 * set. Invalid escapes are kept literally. Writes the decoded length to *len.
 * Never NULL. */
char *http_decode(struct arena *a, const char *s, size_t n, int plus, size_t *len);

/* Add the standard headers (X-Request-Id and those set by the handler) to resp
 * and queue it; records the status. Takes resp (destroys our reference). While the
 * body is being read (r->in_body) the response is kept in r->pending instead. */
void http_queue(http_req *r, int status, struct MHD_Response *resp);

/* Queue the response held in r->pending, if any (the body is in now). */
void http_queue_pending(http_req *r);

/* Run and clear the handler's state free function (completion or abort). */
void http_req_state_release(http_req *r);

#endif
