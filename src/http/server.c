/*
 * server: libmicrohttpd glue. Owns the listening sockets (bound here, so that a
 * port in use is a clear error and port 0 can be resolved; one per worker
 * thread, see server.h), the daemons, and each request's life cycle (see the
 * states in http_int.h):
 *
 *   uri_begin        MHD's URI-log callback: the first thing MHD tells us about a
 *                    request; allocates it with its raw target (before MHD
 *                    unescapes anything, as Hawk needs it verbatim).
 *   on_access        called for the headers, then for each body piece, then once
 *                    more at the end; runs the checks and the handler. On a
 *                    ROUTE_STREAM route the guard runs at the headers and each
 *                    piece goes to body_observe and the route's sink (through the
 *                    multipart demultiplexer for a form) instead of a buffer.
 *   on_completed     after the response (or an abort): access log, metrics, free.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "http/http_int.h"

/* A body this many times over its limit is not worth reading to the end just to
 * answer 413: the connection is closed instead. */
#define DISCARD_FACTOR 4
#define DISCARD_MIN    (1u << 20)
#define DISCARD_STREAM (64u << 20)
/* Buffer of the multipart/form-data demultiplexer (part headers; data pieces). */
#define FORM_BUFFER    (64u << 10)

static const char *const request_id_header = "X-Request-Id";

/* ---- request id ------------------------------------------------------------------- */

static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= HTTP_REQUEST_ID_MAX)
            return 0;
    }
    return n > 0;
}

static void assign_request_id(http_req *r)
{
    const char *given = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, request_id_header);
    if (given && request_id_ok(given)) {
        snprintf(r->id, sizeof r->id, "%s", given);
        return;
    }
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        /* Not security-relevant: fall back to time and address entropy. */
        uint64_t t = clock_mono_us() ^ (uint64_t)(uintptr_t)r;
        memcpy(raw, &t, sizeof t);
        memcpy(raw + 8, &t, sizeof t);
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        r->id[2 * i] = hex[raw[i] >> 4];
        r->id[2 * i + 1] = hex[raw[i] & 15];
    }
    r->id[2 * sizeof raw] = '\0';
}

static void read_peer(http_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(r->peer, sizeof r->peer, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->peer,
                  sizeof r->peer);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->peer,
                  sizeof r->peer);
}

/* ---- the checks before a handler runs ---------------------------------------------- */

struct header_sum {
    size_t bytes;
};

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct header_sum *sum = cls;
    (void)kind;
    sum->bytes += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

/* Split the raw target into path and query. Absolute-form targets
 * ("http://host/path") are reduced to their path. Returns 0 or ERR_INVAL. */
static int split_target(http_req *r)
{
    const char *t = r->target;
    if (t[0] != '/') {
        const char *scheme_end = strstr(t, "://");
        if (!scheme_end)
            return ERR_INVAL;
        t = strchr(scheme_end + 3, '/');
        if (!t)
            t = "/";
    }
    const char *q = strchr(t, '?');
    r->path = q ? arena_strndup(&r->arena, t, (size_t)(q - t)) : t;
    r->query = q ? q + 1 : "";
    return 0;
}

/* Decode the matched route's parameters; a parameter decoding to a NUL byte is
 * refused. Returns 0 or ERR_INVAL. */
static int decode_params(http_req *r)
{
    for (size_t i = 0; i < r->match.nparams; i++) {
        size_t len;
        const struct route_param *p = &r->match.params[i];
        r->params[i] = http_decode(&r->arena, p->value, p->value_len, 0, &len);
        if (strlen(r->params[i]) != len)
            return ERR_INVAL;
    }
    return 0;
}

static void set_early(http_req *r, int err, const char *msg)
{
    if (!r->early_err) {
        r->early_err = err;
        r->early_msg = msg;
    }
}

/* The first access call: everything decided from the request line and headers. */
static void begin_request(http_req *r, const char *method)
{
    struct http_server *srv = r->srv;
    r->headers_seen = 1;
    r->method = arena_strdup(&r->arena, method);
    assign_request_id(r);
    read_peer(r);

    struct header_sum sum = {strlen(r->target) + strlen(method) + 12};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_header_size, &sum);
    if (sum.bytes > srv->opt.max_header_bytes) {
        set_early(r, ERR_HEADER_TOOBIG, NULL);
        return;
    }
    if (split_target(r) < 0) {
        r->path = "-";
        r->query = "";
        set_early(r, ERR_INVAL, "request target must be a path");
        return;
    }
    int rc = router_match(srv->opt.routes, srv->opt.nroutes, method, r->path, &r->match, r->allow,
                          sizeof r->allow);
    if (rc == ERR_METHOD) {
        http_set_header(r, "Allow", r->allow);
        set_early(r, rc, NULL);
        return;
    }
    if (rc < 0) {
        set_early(r, rc, NULL);
        return;
    }
    r->matched = 1;
    if (decode_params(r) < 0) {
        set_early(r, ERR_INVAL, "invalid path parameter");
        return;
    }
    const struct route *route = r->match.route;
    r->body_limit = 0;
    if (route->flags & ROUTE_BODY)
        r->body_limit = route->body_limit ? route->body_limit : srv->opt.default_body_limit;
    buf_init(&r->body, r->body_limit);

    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || cl[0] == '-' || n > r->body_limit)
            set_early(r, ERR_TOOBIG,
                      r->body_limit ? "request body too large" : "this route takes no body");
    }
    r->streaming = (route->flags & ROUTE_STREAM) && !r->early_err;
}

static void reply_early(http_req *r)
{
    log_debug("request refused", LF_STR("error", err_name(r->early_err)));
    http_reply_error(r, r->early_err, r->early_msg);
}

/* Answer 500 when who returned failure without answering. */
static void ensure_answered(http_req *r, const char *who)
{
    if (r->status == 0) {
        log_error("refused without answering", LF_STR("by", who),
                  LF_STR("route", r->match.route->name));
        http_reply_error(r, ERR_INTERNAL, NULL);
    }
}

/* Run the guard on a route that is not public. Returns 0 to go on, or -1 when it
 * refused (answered). */
static int run_guard(http_req *r)
{
    if ((r->match.route->flags & ROUTE_PUBLIC) || !r->srv->opt.guard)
        return 0;
    r->guarded = 1;
    if (r->srv->opt.guard(r) == 0)
        return 0;
    ensure_answered(r, "guard");
    return -1;
}

static void call_handler(http_req *r)
{
    r->match.route->handler(r);
    if (r->status == 0) {
        log_error("handler did not answer", LF_STR("route", r->match.route->name));
        http_reply_error(r, ERR_INTERNAL, NULL);
    }
}

static void run_handler(http_req *r)
{
    if (run_guard(r) < 0)
        return;
    call_handler(r);
}

/* ---- streamed bodies (ROUTE_STREAM) --------------------------------------------------- */

/* Is ct multipart/form-data (any case, parameters after)? */
static int is_form(const char *ct)
{
    static const char form[] = "multipart/form-data";
    size_t n = sizeof form - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, form, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* A sink or hook gave up: drop the rest of the body. */
static void stop_stream(http_req *r, const char *who)
{
    r->stream_stopped = 1;
    ensure_answered(r, who);
}

/* MHD's post processor calls this for each piece of each part of a form. The
 * first part with a filename (or named "file") is the upload; a part starts at
 * offset 0, so a new part beginning at 0 ends the upload. */
static enum MHD_Result on_form_data(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    http_req *r = cls;
    (void)kind;
    (void)transfer_encoding;
    if (r->status || r->stream_stopped)
        return MHD_NO;
    if (r->upload_done)
        return MHD_YES;
    key = key ? key : "";
    if (r->upload_seen) {
        if (off == 0 && (r->upload_bytes > 0 || strcmp(key, r->upload_key) != 0)) {
            r->upload_done = 1;
            return MHD_YES;
        }
    } else {
        if (!filename && strcmp(key, "file") != 0)
            return MHD_YES;
        r->upload_seen = 1;
        r->upload_key = arena_strdup(&r->arena, key);
        r->upload_filename = arena_strdup(&r->arena, filename);
        r->upload_type = arena_strdup(&r->arena, content_type);
    }
    if (size == 0)
        return MHD_YES;
    r->upload_bytes += size;
    if (r->match.route->sink(r, data, size) < 0) {
        stop_stream(r, "sink");
        return MHD_NO;
    }
    return MHD_YES;
}

/* The headers of a stream request are in: authenticate, and set up the form
 * demultiplexer when the body is a form. */
static void start_stream(http_req *r)
{
    if (run_guard(r) < 0)
        return;
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    if (ct && is_form(ct)) {
        r->pp = MHD_create_post_processor(r->conn, FORM_BUFFER, on_form_data, r);
        if (!r->pp)
            http_reply_error(r, ERR_INVAL, "multipart/form-data without a boundary");
        return;
    }
    r->upload_seen = 1;
    r->upload_type = ct;
}

/* Drop n bytes of a body nobody wants (after an early error, or a stream whose
 * sink or hook gave up: read on so that the client gets the answer); returns
 * MHD_NO to close a connection whose body goes on far beyond its limit. */
static enum MHD_Result discard(http_req *r, size_t n)
{
    r->discarded += n;
    /* A stream route's limit can be huge (an upload's is checked by its sink):
     * what a refused stream may still send is bounded by DISCARD_STREAM. */
    uint64_t limit = r->body_limit;
    if (limit > UINT64_MAX / DISCARD_FACTOR)
        limit = UINT64_MAX / DISCARD_FACTOR;
    uint64_t cap = limit * DISCARD_FACTOR;
    if (r->match.route && (r->match.route->flags & ROUTE_STREAM) && cap > DISCARD_STREAM)
        cap = DISCARD_STREAM;
    if (cap < DISCARD_MIN)
        cap = DISCARD_MIN;
    return r->discarded > cap ? MHD_NO : MHD_YES;
}

/* One piece of a stream body: count it, let the observer see it, feed the sink. */
static enum MHD_Result stream_body(http_req *r, const char *data, size_t n)
{
    const struct http_server_options *opt = &r->srv->opt;
    if (r->status || r->stream_stopped)
        return discard(r, n);
    r->stream_total += n;
    if (r->stream_total > r->body_limit) {
        http_reply_error(r, ERR_TOOBIG, "request body too large");
        stop_stream(r, "limit");
        return discard(r, n);
    }
    if (r->guarded && opt->body_observe && opt->body_observe(r, data, n) < 0) {
        stop_stream(r, "body_observe");
        return MHD_YES;
    }
    if (r->pp) {
        if (MHD_post_process(r->pp, data, n) != MHD_YES && !r->stream_stopped) {
            if (!r->status)
                http_reply_error(r, ERR_INVAL, "malformed multipart/form-data body");
            stop_stream(r, "form");
        }
        return MHD_YES;
    }
    r->upload_bytes += n;
    if (r->match.route->sink(r, data, n) < 0)
        stop_stream(r, "sink");
    return MHD_YES;
}

/* The whole stream body is in: close the form, let body_end check it (the
 * payload hash), run the handler. */
static void finish_stream(http_req *r)
{
    const struct http_server_options *opt = &r->srv->opt;
    if (r->pp) {
        enum MHD_Result ok = MHD_destroy_post_processor(r->pp);
        r->pp = NULL;
        if (ok != MHD_YES) {
            http_reply_error(r, ERR_INVAL, "malformed multipart/form-data body");
            return;
        }
    }
    if (r->guarded && opt->body_end && opt->body_end(r) != 0) {
        ensure_answered(r, "body_end");
        return;
    }
    call_handler(r);
}

/* Take one piece of the body; returns MHD_NO to close a connection whose body is
 * far beyond its limit. */
static enum MHD_Result take_body(http_req *r, const char *data, size_t n)
{
    if (!r->early_err && r->status == 0) {
        if (buf_append(&r->body, data, n) == 0)
            return MHD_YES;
        buf_free(&r->body);
        set_early(r, ERR_TOOBIG,
                  r->body_limit ? "request body too large" : "this route takes no body");
    }
    return discard(r, n);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
    http_req *r = *con_cls;
    enum MHD_Result result = MHD_YES;
    (void)cls;
    (void)url;
    (void)version;
    if (!r)
        return MHD_NO; /* uri_begin always runs first; be safe */
    r->conn = conn;
    log_set_request_id(r->id);
    if (!r->headers_seen) {
        begin_request(r, method);
        /* Refuse now, before any body is read, when the answer is already known. */
        if (r->early_err)
            reply_early(r);
        else if (r->streaming)
            start_stream(r);
        r->in_body = r->status == 0;
    } else if (*upload_size) {
        if (r->streaming)
            result = stream_body(r, upload_data, *upload_size);
        else
            result = take_body(r, upload_data, *upload_size);
        *upload_size = 0;
    } else {
        r->in_body = 0;
        if (r->pending)
            http_queue_pending(r); /* answered while the body was coming */
        else if (r->status == 0 && r->early_err)
            reply_early(r);
        else if (r->status == 0 && r->streaming)
            finish_stream(r);
        else if (r->status == 0)
            run_handler(r);
    }
    if (r->queue_failed)
        result = MHD_NO;
    log_set_request_id(NULL);
    return result;
}

static void *uri_begin(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *srv = cls;
    http_req *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    arena_init(&r->arena);
    r->srv = srv;
    r->conn = conn;
    r->start_usec = clock_mono_us();
    r->target = arena_strdup(&r->arena, uri ? uri : "");
    r->path = "-";
    r->query = "";
    buf_init(&r->body, 0);
    metrics_request_begin(srv->metrics);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct http_server *srv = cls;
    http_req *r = *con_cls;
    (void)conn;
    if (!r)
        return;
    *con_cls = NULL;
    if (r->stream)
        http_stream_detach(r->stream);
    log_set_request_id(r->headers_seen ? r->id : NULL);
    if (r->pending) /* answered mid-body, and the client left before the end */
        MHD_destroy_response(r->pending);
    r->pending = NULL;
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    r->pp = NULL;
    http_req_state_release(r);
    if (r->guarded && srv->opt.request_end)
        srv->opt.request_end(r);
    uint64_t usec = clock_mono_us() - r->start_usec;
    const char *route = r->matched ? r->match.route->name : "none";
    const char *method = r->method ? r->method : "-";
    struct log_field f[] = {
        LF_STR("method", method),
        LF_STR("path", r->path),
        LF_STR("route", route),
        LF_INT("status", r->status),
        LF_UINT("bytes", r->bytes_out),
        LF_UINT("usec", usec),
        LF_STR("peer", r->peer[0] ? r->peer : "-"),
        LF_BOOL("complete", why == MHD_REQUEST_TERMINATED_COMPLETED_OK),
    };
    log_emit(LOG_INFO, "request", f, sizeof f / sizeof f[0]);
    log_set_request_id(NULL);
    metrics_request_end(srv->metrics, r->matched ? r->match.index : (size_t)-1, method, r->status,
                        usec, r->bytes_out);
    buf_free(&r->body);
    arena_free(&r->arena);
    free(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("libmicrohttpd", LF_STR("detail", msg));
}

/* ---- listening ---------------------------------------------------------------------- */

/* Bind and listen on host:port (port 0: any free port, written to *port_out).
 * reuseport: join the port's SO_REUSEPORT group (the server's other sockets). */
static int listen_on(const char *host, int port, int reuseport, int *fd_out, int *port_out,
                     char *errbuf, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    char service[16];
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port, gai_strerror(gai));
        return ERR_IO;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuseport)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port, strerror(saved));
        return ERR_IO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *port_out = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *fd_out = fd;
    return 0;
}

static unsigned pool_threads(int threads)
{
    if (threads > 0)
        return (unsigned)threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

/* A guarded stream route needs body_end: without it, a body signed with a payload
 * hash would reach the handler unchecked. */
static int check_stream_hooks(const struct http_server_options *opt, char *errbuf, size_t errlen)
{
    if (!opt->guard || opt->body_end)
        return 0;
    for (size_t i = 0; i < opt->nroutes; i++) {
        const struct route *rt = &opt->routes[i];
        if ((rt->flags & ROUTE_STREAM) && !(rt->flags & ROUTE_PUBLIC)) {
            snprintf(errbuf, errlen,
                     "route %s %s streams its body, but the server has no body_end hook to "
                     "authenticate it",
                     rt->method, rt->pattern);
            return ERR_INVAL;
        }
    }
    return 0;
}

/* The listening sockets, one per daemon. The port is checked (and port 0
 * resolved) by a plain socket first: one without SO_REUSEPORT cannot join
 * another process's group, so a port in use is still an error. */
static int listen_all(struct http_server *srv, char *errbuf, size_t errlen)
{
    const struct http_server_options *opt = &srv->opt;
    int probe = -1;
    int rc = listen_on(opt->host, opt->port, 0, &probe, &srv->port, errbuf, errlen);
    if (rc < 0)
        return rc;
    if (srv->ndaemons == 1) {
        srv->listen_fds[0] = probe;
        return 0;
    }
    close(probe);
    for (unsigned i = 0; i < srv->ndaemons; i++) {
        int port = srv->port;
        rc = listen_on(opt->host, port, 1, &srv->listen_fds[i], &port, errbuf, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static struct MHD_Daemon *start_daemon(struct http_server *srv, int fd)
{
    const struct http_server_options *opt = &srv->opt;
    size_t mem = opt->max_header_bytes * 2 + 32768;
    unsigned limit = (unsigned)opt->max_connections / srv->ndaemons;
    /* The logger must be the first option, or MHD logs the others' errors itself. */
    /* clang-format off */
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_access, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, limit ? limit : 1u,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt->timeout_sec,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
        MHD_OPTION_URI_LOG_CALLBACK, uri_begin, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_END);
    /* clang-format on */
}

static void server_free(struct http_server *srv)
{
    for (unsigned i = 0; i < srv->ndaemons; i++) {
        if (srv->daemons[i])
            MHD_stop_daemon(srv->daemons[i]); /* closes its listening socket */
        else if (srv->listen_fds[i] >= 0)
            close(srv->listen_fds[i]);
    }
    free(srv->daemons);
    free(srv->listen_fds);
    metrics_free(srv->metrics);
    free(srv);
}

int http_server_start(const struct http_server_options *opt, http_server **out, char *errbuf,
                      size_t errlen)
{
    int rc;
    struct http_server *srv = NULL;
    *out = NULL;
    rc = router_validate(opt->routes, opt->nroutes, errbuf, errlen);
    if (rc < 0)
        return rc;
    rc = check_stream_hooks(opt, errbuf, errlen);
    if (rc < 0)
        return rc;
    srv = calloc(1, sizeof *srv);
    if (!srv)
        abort();
    srv->opt = *opt;
    srv->ndaemons = pool_threads(opt->threads);
    srv->daemons = calloc(srv->ndaemons, sizeof *srv->daemons);
    srv->listen_fds = malloc(srv->ndaemons * sizeof *srv->listen_fds);
    if (!srv->daemons || !srv->listen_fds)
        abort();
    for (unsigned i = 0; i < srv->ndaemons; i++)
        srv->listen_fds[i] = -1;
    srv->metrics = metrics_new(opt->routes, opt->nroutes);
    rc = listen_all(srv, errbuf, errlen);
    for (unsigned i = 0; rc == 0 && i < srv->ndaemons; i++) {
        srv->daemons[i] = start_daemon(srv, srv->listen_fds[i]);
        if (!srv->daemons[i]) {
            snprintf(errbuf, errlen, "cannot start the HTTP server on %s:%d", opt->host, srv->port);
            rc = ERR_IO;
        }
    }
    if (rc < 0) {
        server_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

int http_server_inflight(const http_server *s)
{
    return (int)metrics_inflight(s->metrics);
}

metrics *http_server_metrics(http_server *s)
{
    return s->metrics;
}

void http_server_quiesce(http_server *s)
{
    for (unsigned i = 0; i < s->ndaemons; i++) {
        if (s->listen_fds[i] < 0)
            continue;
        MHD_socket fd = MHD_quiesce_daemon(s->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        s->listen_fds[i] = -1;
    }
}

void http_server_stop(http_server *s)
{
    if (s)
        server_free(s);
}
