/*
 * server: the HTTP server, on libmicrohttpd: one daemon (an epoll loop on its own
 * thread) per worker thread, each with its own listening socket bound to the same
 * port with SO_REUSEPORT, so the kernel spreads connections over the threads. (One
 * daemon with MHD's thread pool shares one listening socket, and its threads'
 * non-blocking accepts tend to land a burst of connections - a client's whole
 * keep-alive pool - on a single thread, leaving the others idle.)
 *
 * Life cycle:  http_server_start -> (serving) -> http_server_quiesce (stop
 * accepting) -> the caller waits, bounded, while http_server_inflight() > 0 ->
 * http_server_stop (close everything; frees the server).
 *
 * For each request the server: reads the raw target; assigns the request id
 * (X-Request-Id from the client when it is 1-128 of [A-Za-z0-9._:-], else a
 * random 32-hex id); refuses oversize headers (431); matches the route (404, or
 * 405 with Allow); checks the body size against the route's limit (413, before
 * reading it when Content-Length says so); collects the body (or, on ROUTE_STREAM
 * routes, hands it piece by piece to the route's sink: see http.h); runs the handler;
 * adds X-Request-Id to every response; and, when the response is done, writes one
 * access-log line (method, path, route, status, bytes, microseconds) and records
 * metrics. Connections idle longer than the timeout are closed, so slow clients
 * cannot pin threads.
 */
#ifndef FERRY_HTTP_SERVER_H
#define FERRY_HTTP_SERVER_H

#include <stddef.h>

#include "http/http.h"
#include "http/router.h"

typedef struct http_server http_server;

struct http_server_options {
    const char *host;           /* bind address, IPv4 or IPv6 literal or name */
    int port;                   /* 0 = any free port (see http_server_port) */
    int threads;                /* worker threads; 0 = number of cores */
    int max_connections;        /* concurrent connections */
    int timeout_sec;            /* idle connection timeout */
    size_t max_header_bytes;    /* request line + headers */
    size_t default_body_limit;  /* for ROUTE_BODY routes with body_limit 0 */
    const struct route *routes; /* borrowed; must outlive the server */
    size_t nroutes;
    void *app; /* borrowed; given to handlers by http_req_app */
    /* Runs after the body is read and before the handler of every route without
     * ROUTE_PUBLIC. Returns 0 to go on, or non-zero when it has answered the
     * request itself (401, 403, ...). NULL = every route is open. */
    int (*guard)(http_req *r);
    /* Runs just before any response is queued, to add headers computed over the
     * body (Server-Authorization). body is NULL for a streamed response. */
    void (*before_send)(http_req *r, int status, const char *content_type, const void *body,
                        size_t len);
    /* On ROUTE_STREAM routes the guard ran on (see http.h): body_observe sees each
     * raw piece of the body before the sink (n > 0), body_end runs after the last
     * one, before the handler. Each returns 0 to go on, or <0 when it has answered
     * itself. The server refuses to start when a guarded stream route exists and
     * body_end is NULL (the body could not be authenticated). */
    int (*body_observe)(http_req *r, const char *data, size_t n);
    int (*body_end)(http_req *r);
    /* Runs once for every request the guard ran on, when it is completed or
     * aborted, after the handler's state is freed: releases what the guard kept.
     * May be NULL. */
    void (*request_end)(http_req *r);
};

/* Validate the routes, bind and start serving. On failure returns <0, *out is
 * NULL, and a one-line reason is in errbuf ("cannot listen on 127.0.0.1:8080:
 * Address already in use"). */
int http_server_start(const struct http_server_options *opt, http_server **out, char *errbuf,
                      size_t errlen);

/* The port actually bound. */
int http_server_port(const http_server *s);

/* Requests begun and not yet finished. */
int http_server_inflight(const http_server *s);

/* Stop accepting new connections (the listening socket is closed); requests in
 * progress go on. */
void http_server_quiesce(http_server *s);

/* Stop the server: closes all connections and frees it. Accepts NULL. */
void http_server_stop(http_server *s);

metrics *http_server_metrics(http_server *s);

#endif
