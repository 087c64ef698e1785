/*
 * router: the static route table and the matcher. Pure: no I/O, no allocation.
 *
 * Routes are declared once, in one array (src/api/routes.c), each with its
 * method, path pattern, handler, flags and body limit. The server validates the
 * table at start-up (router_validate) and refuses to start on a bad one, so a
 * typo in a pattern is a start-up error, not a silent 404.
 *
 * Patterns are literal segments and {name} parameters, one per whole segment:
 * "/api/v1/datasets/{name}/data". A parameter matches one non-empty segment
 * (never a '/'). Matching is on the raw (still percent-encoded) path, so an
 * encoded "%2F" stays inside its parameter; the server decodes parameter values.
 * Literal segments must match exactly (case-sensitive). A trailing slash is
 * significant: "/healthcheck" and "/healthcheck/" are two routes.
 *
 * A GET route also answers HEAD. When the path matches some route but not with
 * this method, the result is ERR_METHOD and `allow` lists the methods that would
 * match ("GET, HEAD"); when no pattern matches at all, ERR_NOTFOUND.
 */
#ifndef FERRY_HTTP_ROUTER_H
#define FERRY_HTTP_ROUTER_H

#include <stddef.h>

typedef struct http_req http_req;
typedef void (*http_handler)(http_req *r);

/* A stream route's sink: takes the next n bytes of the upload (borrowed for the
 * call; n > 0). Returns 0 to go on, or <0 after it has answered the request itself
 * (http_reply_error ...): the rest of the body is then read and dropped and the
 * handler does not run. See http.h for the whole life of a streamed request. */
typedef int (*http_body_fn)(http_req *r, const char *data, size_t n);

/* Route flags. */
/* The route takes a request body; without this flag a request carrying a body
 * gets 413 before the handler runs. */
#define ROUTE_BODY   (1u << 0)
/* The route is open to anyone (health checks, liveness, metrics); every other
 * route goes through the server's guard (authentication and scope) first. */
#define ROUTE_PUBLIC (1u << 1)
/* With ROUTE_BODY only: the body is not buffered but handed, piece by piece, to
 * the route's sink as it arrives; the guard runs as soon as the headers are in.
 * For a multipart/form-data body the sink gets only the bytes of the file part.
 * body_limit still applies (Content-Length up front, then the running total). */
#define ROUTE_STREAM (1u << 2)
/* A guarded route that callers without any credentials may also reach, as
 * anonymous (public datasets): the guard lets them through without a scope
 * check and the handler decides (guard_anonymous, guard_refuse). */
#define ROUTE_ANON   (1u << 3)

#define ROUTER_MAX_PARAMS   8
#define ROUTER_MAX_SEGMENTS 32

struct route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern; /* "/api/v1/runs/{id}" */
    http_handler handler;
    unsigned flags;    /* ROUTE_* */
    size_t body_limit; /* with ROUTE_BODY: largest body; 0 = the configured default */
    const char *name;  /* stable name for metrics and logs: "runs.read" */
    /* The scope a client needs ("datasets:read"); NULL = any caller who
     * authenticated. Not used on ROUTE_PUBLIC routes. */
    const char *scope;
    /* With ROUTE_STREAM: takes the body as it arrives; the handler runs after the
     * last piece. NULL on every other route. */
    http_body_fn sink;
};

struct route_param {
    const char *name; /* points into the pattern; not NUL-terminated */
    size_t name_len;
    const char *value; /* points into the path (raw); not NUL-terminated */
    size_t value_len;
};

struct route_match {
    const struct route *route;
    size_t index; /* position of the route in the table */
    size_t nparams;
    struct route_param params[ROUTER_MAX_PARAMS];
};

/* Check the table: known methods, patterns that start with '/', well-formed
 * {params} (identifier names, unique within a pattern, whole segments, at most
 * ROUTER_MAX_PARAMS), a handler and a name on every route, no two routes with
 * the same method and the same shape, body limits only with ROUTE_BODY,
 * ROUTE_STREAM only with ROUTE_BODY and with a sink, a sink only with ROUTE_STREAM.
 * Returns 0, or ERR_INVAL with a one-line reason in errbuf. */
int router_validate(const struct route *routes, size_t n, char *errbuf, size_t errlen);

/* Find the route for method and raw path (no query string). Returns 0 and fills
 * *m; ERR_METHOD and writes the allowed methods to allow (", "-separated,
 * truncated to allow_len); or ERR_NOTFOUND. When several patterns match, the one
 * with the most literal segments first wins (so "/runs/latest" beats
 * "/runs/{id}"), then table order. */
int router_match(const struct route *routes, size_t n, const char *method, const char *path,
                 struct route_match *m, char *allow, size_t allow_len);

#endif
