/* Unit tests for src/http/server.c: streamed request bodies (ROUTE_STREAM) through a
 * real server on a loopback port, with a route table of the test's own — the guard at
 * the headers, body_observe and the sink per piece, multipart demultiplexing,
 * body_end, limits, a sink that gives up, and a client that leaves mid-upload. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "http/http.h"
#include "http/server.h"

/* ---- what the hooks, sink and handler saw ------------------------------------------- */

#define SEEN_MAX (1u << 20)

static struct {
    char sunk[SEEN_MAX]; /* what the sink got (first SEEN_MAX bytes) */
    size_t nsunk;
    size_t observed; /* bytes body_observe saw */
    atomic_int guard_calls, sink_calls, end_calls, handler_calls, request_ends, states_freed;
    int guard_saw_body; /* the guard ran after some body had arrived */
    char order[16];     /* first calls in order: g guard, o observe, s sink, e end, h handler */
} seen;

/* Record the first time each step happens. */
static void note(char c)
{
    size_t n = strlen(seen.order);
    if (!strchr(seen.order, c) && n + 1 < sizeof seen.order) {
        seen.order[n] = c;
        seen.order[n + 1] = '\0';
    }
}

static void state_free(void *p)
{
    free(p);
    atomic_fetch_add(&seen.states_freed, 1);
}

static int sink(http_req *r, const char *data, size_t n)
{
    atomic_fetch_add(&seen.sink_calls, 1);
    note('s');
    if (!http_req_state(r))
        http_req_set_state(r, malloc(16), state_free);
    size_t room = SEEN_MAX - seen.nsunk;
    memcpy(seen.sunk + seen.nsunk, data, n < room ? n : room);
    seen.nsunk += n < room ? n : room;
    const char *fail = http_req_query(r, "fail_at");
    if (fail && http_req_upload_bytes(r) > strtoull(fail, NULL, 10)) {
        http_reply_error_status(r, 422, "unprocessable", "the sink gave up");
        return -1;
    }
    return 0;
}

static void handler(http_req *r)
{
    atomic_fetch_add(&seen.handler_calls, 1);
    note('h');
    if (!http_req_upload_seen(r)) {
        http_reply_error(r, ERR_INVAL, "no file part in the form");
        return;
    }
    char out[512];
    const char *fn = http_req_upload_filename(r), *ty = http_req_upload_type(r);
    int n = snprintf(out, sizeof out, "bytes=%llu filename=%s type=%s",
                     (unsigned long long)http_req_upload_bytes(r), fn ? fn : "-", ty ? ty : "-");
    http_reply(r, 200, "text/plain", out, (size_t)n);
}

static int guard(http_req *r)
{
    atomic_fetch_add(&seen.guard_calls, 1);
    note('g');
    seen.guard_saw_body = seen.observed > 0 || seen.nsunk > 0;
    if (http_req_header(r, "X-Deny")) {
        http_reply_error(r, ERR_UNAUTHORIZED, NULL);
        return 1;
    }
    return 0;
}

static int body_observe(http_req *r, const char *data, size_t n)
{
    (void)r;
    (void)data;
    note('o');
    seen.observed += n;
    return 0;
}

static int body_end(http_req *r)
{
    atomic_fetch_add(&seen.end_calls, 1);
    note('e');
    if (http_req_header(r, "X-Bad-Hash")) {
        http_reply_error(r, ERR_UNAUTHORIZED, "Bad payload hash");
        return -1;
    }
    return 0;
}

static void request_end(http_req *r)
{
    (void)r;
    atomic_fetch_add(&seen.request_ends, 1);
}

static const struct route routes[] = {
    {"POST", "/up", handler, ROUTE_BODY | ROUTE_STREAM, 8u << 20, "up", NULL, sink},
    {"POST", "/small", handler, ROUTE_BODY | ROUTE_STREAM, 1000, "small", NULL, sink},
};

/* ---- server and client ------------------------------------------------------------- */

static http_server *srv;

static void start(void)
{
    struct http_server_options o = {0};
    char why[256];
    log_set_level(LOG_OFF);
    o.host = "127.0.0.1";
    o.threads = 1;
    o.max_connections = 16;
    o.timeout_sec = 10;
    o.max_header_bytes = 16384;
    o.default_body_limit = 1 << 20;
    o.routes = routes;
    o.nroutes = sizeof routes / sizeof routes[0];
    o.guard = guard;
    o.body_observe = body_observe;
    o.body_end = body_end;
    o.request_end = request_end;
    cr_assert_eq(http_server_start(&o, &srv, why, sizeof why), 0, "%s", why);
}

static void stop(void)
{
    http_server_stop(srv);
}

static int connect_server(void)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)http_server_port(srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server closed: the test looks at what it answered */
        c += w;
        n -= (size_t)w;
    }
}

/* Read until the server closes or ms pass; returns the status code (0: none) and
 * leaves the response in out. */
static int read_response(int fd, char *out, size_t outlen, int ms)
{
    size_t n = 0;
    out[0] = '\0';
    struct pollfd p = {fd, POLLIN, 0};
    while (n + 1 < outlen && poll(&p, 1, ms) > 0) {
        ssize_t r = recv(fd, out + n, outlen - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        out[n] = '\0';
    }
    int status = 0;
    const char *s = strstr(out, "HTTP/1.1 ");
    while (s && strncmp(s + 9, "100", 3) == 0)
        s = strstr(s + 9, "HTTP/1.1 ");
    if (s)
        status = (int)strtol(s + 9, NULL, 10);
    return status;
}

/* POST body (n bytes, sent in pieces of `piece`) to path with extra headers. */
static int post(const char *path, const char *headers, const char *body, size_t n, size_t piece,
                char *out, size_t outlen)
{
    char head[1024];
    int fd = connect_server();
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%sContent-Length: "
                      "%zu\r\n\r\n",
                      path, headers, n);
    send_all(fd, head, (size_t)hn);
    for (size_t off = 0; off < n; off += piece)
        send_all(fd, body + off, n - off < piece ? n - off : piece);
    int status = read_response(fd, out, outlen, 5000);
    close(fd);
    return status;
}

static char *pattern(size_t n)
{
    char *b = malloc(n);
    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (char)('a' + (i * 7) % 26);
    return b;
}

/* Wait (bounded) until *counter reaches want: completion runs after the response. */
static int wait_for(atomic_int *counter, int want)
{
    for (int i = 0; i < 400 && atomic_load(counter) < want; i++)
        usleep(5000);
    return atomic_load(counter);
}

TestSuite(server, .init = start, .fini = stop);

Test(server, raw_body_streams_to_the_sink_after_the_guard)
{
    char out[4096];
    size_t n = 3u << 20;
    char *body = pattern(n);
    int st =
        post("/up", "Content-Type: text/csv; charset=utf-8\r\n", body, n, 70001, out, sizeof out);
    cr_assert_eq(st, 200, "%s", out);
    cr_assert_not_null(strstr(out, "bytes=3145728 filename=- type=text/csv; charset=utf-8"), "%s",
                       out);
    cr_assert_eq(seen.nsunk, SEEN_MAX < n ? SEEN_MAX : n);
    cr_assert_eq(memcmp(seen.sunk, body, seen.nsunk), 0);
    cr_assert_eq(seen.observed, n);
    cr_assert_eq(seen.guard_saw_body, 0, "the guard runs before the body");
    cr_assert_str_eq(seen.order, "goseh");
    cr_assert_eq(wait_for(&seen.states_freed, 1), 1);
    cr_assert_eq(wait_for(&seen.request_ends, 1), 1);
    free(body);
}

Test(server, empty_raw_body_reaches_the_handler)
{
    char out[4096];
    cr_assert_eq(post("/up", "", "", 0, 1, out, sizeof out), 200, "%s", out);
    cr_assert_not_null(strstr(out, "bytes=0 filename=- type=-"), "%s", out);
    cr_assert_eq(seen.sink_calls, 0);
    cr_assert_eq(seen.end_calls, 1);
}

static const char form[] =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
    "a note\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"upload\"; filename=\"d.csv\"\r\n"
    "Content-Type: text/csv\r\n\r\n"
    "id,name\r\n1,ferry\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"2.csv\"\r\n\r\n"
    "second file\r\n"
    "--XyZ--\r\n";

Test(server, multipart_gives_the_sink_the_first_file_part_only)
{
    char out[4096];
    const char *h = "Content-Type: multipart/form-data; boundary=XyZ\r\n";
    for (size_t piece = 1; piece <= sizeof form; piece += piece < 8 ? 1 : 97) {
        seen.nsunk = 0;
        seen.observed = 0;
        cr_assert_eq(post("/up", h, form, sizeof form - 1, piece, out, sizeof out), 200, "%s", out);
        cr_assert_not_null(strstr(out, "bytes=16 filename=d.csv type=text/csv"), "piece %zu: %s",
                           piece, out);
        cr_assert_eq(seen.nsunk, 16);
        cr_assert_eq(memcmp(seen.sunk, "id,name\r\n1,ferry", 16), 0, "piece %zu", piece);
        cr_assert_eq(seen.observed, sizeof form - 1, "the observer sees the raw form");
    }
}

Test(server, multipart_part_named_file_without_a_filename)
{
    static const char f[] = "--bb\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
                            "--bb\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n"
                            "--bb--\r\n";
    char out[4096];
    cr_assert_eq(post("/up", "Content-Type: multipart/form-data; boundary=bb\r\n", f, sizeof f - 1,
                      5, out, sizeof out),
                 200, "%s", out);
    cr_assert_not_null(strstr(out, "bytes=3 filename=- type=-"), "%s", out);
}

Test(server, multipart_without_a_file_part_reaches_the_handler_unseen)
{
    static const char f[] =
        "--bb\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--bb--\r\n";
    char out[4096];
    cr_assert_eq(post("/up", "Content-Type: multipart/form-data; boundary=bb\r\n", f, sizeof f - 1,
                      64, out, sizeof out),
                 400, "%s", out);
    cr_assert_not_null(strstr(out, "no file part in the form"), "%s", out);
    cr_assert_eq(seen.sink_calls, 0);
    cr_assert_eq(seen.handler_calls, 1);
}

Test(server, multipart_without_a_boundary_is_400)
{
    char out[4096];
    cr_assert_eq(post("/up", "Content-Type: multipart/form-data\r\n", "x", 1, 1, out, sizeof out),
                 400, "%s", out);
    cr_assert_eq(seen.handler_calls, 0);
}

Test(server, guard_refusal_is_answered_before_the_body)
{
    char out[4096];
    int fd = connect_server();
    static const char head[] = "POST /up HTTP/1.1\r\nHost: x\r\nX-Deny: 1\r\n"
                               "Content-Length: 5000000\r\n\r\n";
    send_all(fd, head, sizeof head - 1);
    cr_assert_eq(read_response(fd, out, sizeof out, 3000), 401, "%s", out);
    close(fd);
    cr_assert_eq(seen.sink_calls, 0);
    cr_assert_eq(seen.handler_calls, 0);
    cr_assert_eq(wait_for(&seen.request_ends, 1), 1);
}

Test(server, body_end_refusal_stops_the_handler)
{
    char out[4096];
    char *body = pattern(100000);
    cr_assert_eq(post("/up", "X-Bad-Hash: 1\r\n", body, 100000, 4096, out, sizeof out), 401, "%s",
                 out);
    cr_assert_not_null(strstr(out, "Bad payload hash"), "%s", out);
    cr_assert_eq(seen.handler_calls, 0);
    cr_assert_eq(wait_for(&seen.states_freed, 1), 1);
    free(body);
}

Test(server, a_sink_that_gives_up_is_answered_after_the_body)
{
    char out[4096];
    size_t n = 2u << 20;
    char *body = pattern(n);
    cr_assert_eq(post("/up?fail_at=100000", "", body, n, 65536, out, sizeof out), 422, "%s", out);
    cr_assert_not_null(strstr(out, "the sink gave up"), "%s", out);
    cr_assert_eq(seen.handler_calls, 0);
    cr_assert_eq(seen.end_calls, 0);
    cr_assert_lt(seen.nsunk, 200000u, "nothing more reaches the sink");
    cr_assert_eq(wait_for(&seen.states_freed, 1), 1);
    free(body);
}

Test(server, body_limit_applies_up_front_and_to_the_running_total)
{
    char out[4096];
    char *body = pattern(5000);
    cr_assert_eq(post("/small", "", body, 2000, 100, out, sizeof out), 413, "%s", out);
    cr_assert_eq(seen.guard_calls, 0, "refused before the guard");

    int fd = connect_server();
    static const char head[] = "POST /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    send_all(fd, head, sizeof head - 1);
    for (int i = 0; i < 5; i++) {
        send_all(fd, "1f4\r\n", 5); /* 500 bytes */
        send_all(fd, body, 500);
        send_all(fd, "\r\n", 2);
    }
    send_all(fd, "0\r\n\r\n", 5);
    cr_assert_eq(read_response(fd, out, sizeof out, 3000), 413, "%s", out);
    close(fd);
    cr_assert_leq(seen.nsunk, 1000u);
    cr_assert_eq(seen.handler_calls, 0);
    free(body);
}

Test(server, a_client_leaving_mid_upload_frees_the_state)
{
    char *body = pattern(300000);
    int fd = connect_server();
    static const char head[] = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n";
    send_all(fd, head, sizeof head - 1);
    send_all(fd, body, 300000);
    for (int i = 0; i < 400 && seen.nsunk < 300000; i++)
        usleep(5000);
    cr_assert_eq(seen.nsunk, 300000u);
    close(fd);
    cr_assert_eq(wait_for(&seen.states_freed, 1), 1, "the sink's state is freed on abort");
    cr_assert_eq(wait_for(&seen.request_ends, 1), 1, "request_end runs on abort");
    cr_assert_eq(seen.end_calls, 0);
    cr_assert_eq(seen.handler_calls, 0);
    free(body);
}

Test(server, a_guarded_stream_route_needs_body_end)
{
    struct http_server_options o = {0};
    http_server *s = NULL;
    char why[256] = "";
    o.host = "127.0.0.1";
    o.threads = 1;
    o.max_connections = 4;
    o.timeout_sec = 5;
    o.max_header_bytes = 8192;
    o.routes = routes;
    o.nroutes = 1;
    o.guard = guard;
    cr_assert_eq(http_server_start(&o, &s, why, sizeof why), ERR_INVAL);
    cr_assert_null(s);
    cr_assert_not_null(strstr(why, "no body_end hook"), "%s", why);
}

/* ---- worker threads ------------------------------------------------------------------ */

static pthread_t t_threads[64];
static atomic_int t_nthreads;

/* Records the thread that answered. */
static void which_thread(http_req *r)
{
    int i = atomic_fetch_add(&t_nthreads, 1);
    if (i < 64)
        t_threads[i] = pthread_self();
    http_reply(r, 200, "text/plain", "ok", 2);
}

static const struct route thread_routes[] = {
    {"GET", "/t", which_thread, ROUTE_PUBLIC, 0, "t", NULL, NULL},
};

static http_server *start_threads(int threads, int port, char *why, size_t whylen)
{
    struct http_server_options o = {0};
    http_server *s = NULL;
    o.host = "127.0.0.1";
    o.port = port;
    o.threads = threads;
    o.max_connections = 64;
    o.timeout_sec = 10;
    o.max_header_bytes = 16384;
    o.default_body_limit = 1 << 20;
    o.routes = thread_routes;
    o.nroutes = 1;
    return http_server_start(&o, &s, why, whylen) == 0 ? s : NULL;
}

/* A client's pool of keep-alive connections, opened at once, must not pile up
 * on one worker thread: one MHD thread pool sharing a listening socket put
 * about two thirds of them on one thread (its threads' accepts are LIFO). With
 * a listening socket per thread the kernel spreads them: 48 over 4 threads
 * give about 12 each, and half of them on one thread has odds below 1e-4. */
/* Listening sockets on 127.0.0.1:port, from /proc/net/tcp (state 0A). */
static int listening_sockets(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512], want[32];
    int n = 0;
    cr_assert_not_null(f);
    snprintf(want, sizeof want, "0100007F:%04X", port);
    while (fgets(line, sizeof line, f)) {
        char local[64], remote[64], state[8];
        if (sscanf(line, "%*s %63s %63s %7s", local, remote, state) == 3 &&
            strcmp(local, want) == 0 && strcmp(state, "0A") == 0)
            n++;
    }
    fclose(f);
    return n;
}

#define BURST 48
Test(server_threads, a_burst_of_connections_is_spread_over_the_threads)
{
    char why[256], out[1024];
    log_set_level(LOG_OFF);
    http_server *s = start_threads(4, 0, why, sizeof why);
    cr_assert_not_null(s, "%s", why);
    cr_assert_eq(listening_sockets(http_server_port(s)), 4, "one listening socket per thread");
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)http_server_port(s));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fds[BURST];
    for (int i = 0; i < BURST; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
    }
    static const char req[] = "GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < BURST; i++) {
        send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL);
        struct pollfd p = {fds[i], POLLIN, 0};
        cr_assert_gt(poll(&p, 1, 5000), 0);
        cr_assert_gt(recv(fds[i], out, sizeof out, 0), 0);
        close(fds[i]);
    }
    cr_assert_eq(atomic_load(&t_nthreads), BURST);
    int most = 0;
    for (int i = 0; i < BURST; i++) {
        int same = 0;
        for (int j = 0; j < BURST; j++)
            same += pthread_equal(t_threads[i], t_threads[j]) != 0;
        most = same > most ? same : most;
    }
    cr_assert_lt(most, BURST / 2, "%d of %d connections went to one of 4 threads", most, BURST);

    /* the port is taken: a second server on it (any number of threads) fails */
    int port = http_server_port(s);
    cr_assert_null(start_threads(4, port, why, sizeof why));
    cr_assert_not_null(strstr(why, "cannot listen"), "%s", why);
    cr_assert_null(start_threads(1, port, why, sizeof why));
    http_server_quiesce(s);
    cr_assert_eq(listening_sockets(port), 0, "quiesce closes every listening socket");
    http_server_stop(s);
}
