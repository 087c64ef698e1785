/*
 * request: `ferry request [--method M] URL --client-id ID --client-key KEY ...` —
 * a Hawk-signing HTTP client (the seeds' hawk_api_request), on libcurl.
 *
 * One request: sign it (ts = now, a fresh 8-character nonce, the payload hash
 * always included, even for an empty GET body), send it, buffer the response
 * (at most RESPONSE_MAX bytes: its hash covers the whole body), verify the
 * Server-Authorization header, then print "REQUEST RESPONSE <status>" and the
 * body on stdout.
 *
 * A 401 carrying a WWW-Authenticate ts/tsm (stale timestamp) whose tsm verifies
 * with our key is retried once with the server's clock offset; a tsm that does
 * not verify is not trusted.
 *
 * Verification: a 2xx response must carry a valid Server-Authorization (or
 * --no-verify): otherwise the body is not printed. A non-2xx response with a
 * Server-Authorization must verify too; one without it (the server could not
 * authenticate us, so it cannot sign) is printed with a note on stderr. A
 * streamed (chunked) response, whose signature went out before its body (CSV
 * and NDJSON exports), carries no payload hash: only its MAC is checked.
 *
 * Exit: 0 for a verified 2xx, 1 for 4xx/5xx, a transport failure or a response
 * that did not verify, 2 for usage errors.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "auth/hawk.h"
#include "cli/cli.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"

#define RESPONSE_MAX    (64u << 20) /* largest response body we buffer and verify */
#define REQUEST_MAX     (64u << 20) /* largest --data body */
#define HEADER_LINE_MAX 8192        /* a captured response header value */
#define MAX_HEADERS     64          /* --header options */
#define CONNECT_TIMEOUT 10L

static const char request_usage[] =
    "usage: ferry request [--method M] URL --client-id ID --client-key KEY [OPTIONS]\n\n"
    "Send one Hawk-signed HTTP request, verify the signed response, and print\n"
    "\"REQUEST RESPONSE <status>\" and the response body.\n\n"
    "  --method M           HTTP method (default GET; POST when --data is given)\n"
    "  --client-id ID       Hawk id\n"
    "  --client-key KEY     Hawk key (the shared secret)\n"
    "  --algorithm A        sha256 (default) or sha1\n"
    "  --data BODY|@FILE    request body; @FILE reads a file, @- standard input\n"
    "  --content-type T     Content-Type of the body (default application/json with --data)\n"
    "  --header 'N: V'      extra request header (repeatable)\n"
    "  --timeout SEC        whole-request timeout (default 60; connect: 10)\n"
    "  --no-verify          do not require a valid Server-Authorization on the response\n\n"
    "exit: 0 for a verified 2xx; 1 for 4xx/5xx, a failed request or a response that does\n"
    "not verify; 2 for bad usage. The response body is buffered up to 64 MiB.\n";

/* What one exchange produced. */
struct response {
    long status;
    struct buf body;
    int too_big;
    char server_auth[HEADER_LINE_MAX]; /* "" when absent */
    char www_auth[HEADER_LINE_MAX];
    char content_type[HEADER_LINE_MAX];
    char transfer_encoding[HEADER_LINE_MAX];
};

/* Everything signed and sent, fixed for both attempts except ts and nonce. */
struct request {
    struct hawk_credentials creds;
    const char *method;
    char *url;      /* owned (curl_free) */
    char *resource; /* owned: path and query */
    char host[256]; /* signed host, without IPv6 brackets */
    char port[16];
    const char *content_type; /* "" when none */
    struct buf body;
    struct curl_slist *headers; /* the user's --header lines (owned) */
    long timeout;
};

/* ---- argument handling ------------------------------------------------------------- */

/* Move every --header value out of argv (cli_setup takes an option once), copying
 * the rest to rest[]. The value of one of our own options is never taken for a
 * --header. Returns CLI_OK or CLI_USAGE. */
static int split_headers(int argc, char **argv, char **rest, int *nrest, const char **hdrs,
                         size_t *nhdrs)
{
    static const char *const takes_value[] = {
        "--method",       "--client-id", "--client-key", "--algorithm", "--data",
        "--content-type", "--timeout",   "--config",     "--host",      "--port",
        "--threads",      "--log-level", "--database"};
    *nrest = 0;
    *nhdrs = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        if (strcmp(a, "--header") == 0) {
            if (i + 1 >= argc) {
                cli_error("option --header needs a value");
                return CLI_USAGE;
            }
            value = argv[++i];
        } else if (strncmp(a, "--header=", 9) == 0) {
            value = a + 9;
        }
        if (value) {
            if (*nhdrs == MAX_HEADERS) {
                cli_error("too many --header options (at most %d)", MAX_HEADERS);
                return CLI_USAGE;
            }
            hdrs[(*nhdrs)++] = value;
            continue;
        }
        rest[(*nrest)++] = argv[i];
        for (size_t k = 0; k < sizeof takes_value / sizeof takes_value[0]; k++)
            if (strcmp(a, takes_value[k]) == 0 && i + 1 < argc) {
                rest[(*nrest)++] = argv[++i];
                break;
            }
    }
    return CLI_OK;
}

/* Read @FILE (or @- for stdin) into b. */
static int read_body_file(const char *path, struct buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = CLI_OK;
    if (!f) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        return CLI_USAGE;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(b, chunk, n) < 0) {
            cli_error("%s is larger than %u MiB", path, REQUEST_MAX >> 20);
            rc = CLI_USAGE;
            break;
        }
    if (rc == CLI_OK && ferror(f)) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        rc = CLI_USAGE;
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Check a --header line ("Name: value"); returns its value, or NULL. */
static const char *header_value(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

static int valid_header(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return 0;
    for (const char *p = h; *p; p++)
        if (*p == '\r' || *p == '\n' || (p < colon && (*p == ' ' || *p == '\t')))
            return 0;
    return 1;
}

/* Split the URL into what is signed; req->url is what curl sends (the same parse,
 * so the signed resource is the one on the wire). */
static int parse_url(const char *url, struct request *req)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int rc = CLI_USAGE;
    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        cli_error("bad URL '%s' (expected http://HOST[:PORT]/PATH or https://...)", url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        cli_error("bad URL '%s': no host", url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    size_t hl = strlen(host);
    const char *h = host;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        h = host + 1;
        hl -= 2;
    }
    if (hl >= sizeof req->host || strlen(port) >= sizeof req->port) {
        cli_error("bad URL '%s': host too long", url);
        goto out;
    }
    for (size_t i = 0; i < hl; i++)
        req->host[i] = (char)tolower((unsigned char)h[i]);
    req->host[hl] = '\0';
    snprintf(req->port, sizeof req->port, "%s", port);
    struct buf r;
    buf_init(&r, HAWK_HEADER_MAX);
    if (buf_puts(&r, path[0] ? path : "/") < 0 ||
        (query && (buf_putc(&r, '?') < 0 || buf_puts(&r, query) < 0))) {
        buf_free(&r);
        cli_error("URL path and query longer than %d bytes", HAWK_HEADER_MAX);
        goto out;
    }
    req->resource = buf_take(&r, NULL);
    if (curl_url_get(u, CURLUPART_URL, &req->url, 0) != CURLUE_OK) {
        cli_error("bad URL '%s'", url);
        goto out;
    }
    rc = CLI_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}

/* ---- the exchange ---------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct response *res = ctx;
    if (buf_append(&res->body, p, size * n) < 0) {
        res->too_big = 1;
        return 0; /* abort the transfer */
    }
    return size * n;
}

/* Keep the value of a header we need (the last response's: a new status line
 * clears them, so a 100 Continue does not count). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct response *res = ctx;
    size_t len = size * n;
    static const struct {
        const char *name;
        size_t off;
    } want[] = {
        {"server-authorization", offsetof(struct response, server_auth)},
        {"www-authenticate", offsetof(struct response, www_auth)},
        {"content-type", offsetof(struct response, content_type)},
        {"transfer-encoding", offsetof(struct response, transfer_encoding)},
    };
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        res->server_auth[0] = res->www_auth[0] = res->content_type[0] = '\0';
        res->transfer_encoding[0] = '\0';
        return len;
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t nl = strlen(want[i].name);
        if (len <= nl || p[nl] != ':' || strncasecmp(p, want[i].name, nl) != 0)
            continue;
        const char *v = p + nl + 1, *end = p + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        snprintf((char *)res + want[i].off, HEADER_LINE_MAX, "%.*s", (int)(end - v), v);
    }
    return len;
}

/* 8 random base64url characters. */
static int make_nonce(char out[9])
{
    unsigned char r[6];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    return base64_encode(r, sizeof r, BASE64_URL | BASE64_NOPAD, out, 9) == 8 ? 0 : -1;
}

/* Sign and send once at ts; fills res and *o (what was signed, for verification;
 * o->ts and o->nonce point into ts_buf and nonce). Returns CLI_OK or CLI_FAIL. */
static int exchange(const struct request *req, int64_t ts, char *ts_buf, size_t ts_len,
                    char nonce[9], struct hawk_client_options *o, struct response *res)
{
    char auth[HAWK_HEADER_MAX + 32];
    struct curl_slist *hdrs = NULL;
    CURL *curl = NULL;
    int rc = CLI_FAIL;

    snprintf(ts_buf, ts_len, "%" PRId64, ts);
    if (make_nonce(nonce) < 0) {
        cli_error("no randomness for the nonce: %s", strerror(errno));
        return CLI_FAIL;
    }
    memset(o, 0, sizeof *o);
    o->ts = ts_buf;
    o->nonce = nonce;
    o->hash_payload = 1;
    o->content_type = req->content_type;
    o->payload = req->body.data ? req->body.data : "";
    o->payload_len = req->body.len;
    memcpy(auth, "Authorization: ", 15);
    int err = hawk_client_header(&req->creds, req->method, req->resource, req->host, req->port, o,
                                 auth + 15, sizeof auth - 15);
    if (err < 0) {
        cli_error("cannot sign the request: %s (check the id, the method and the URL)",
                  err_str(err));
        return CLI_FAIL;
    }

    for (const struct curl_slist *h = req->headers; h; h = h->next)
        hdrs = curl_slist_append(hdrs, h->data);
    hdrs = curl_slist_append(hdrs, auth);
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (req->content_type[0]) {
        char ct[HEADER_LINE_MAX];
        snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type);
        hdrs = curl_slist_append(hdrs, ct);
    } else {
        hdrs = curl_slist_append(hdrs, "Content-Type:");
    }
    curl = curl_easy_init();
    if (!curl || !hdrs)
        abort();

    buf_free(&res->body);
    buf_init(&res->body, RESPONSE_MAX);
    res->too_big = 0;
    res->status = 0;
    res->server_auth[0] = res->www_auth[0] = res->content_type[0] = '\0';

    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, res);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") != 0 || req->body.len) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body.len || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
            strcmp(req->method, "PATCH") == 0) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body.data ? req->body.data : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
        }
    }

    CURLcode cc = curl_easy_perform(curl);
    if (res->too_big) {
        cli_error("response body larger than %u MiB: not shown (its signature covers the whole "
                  "body, so it cannot be verified)",
                  RESPONSE_MAX >> 20);
        goto out;
    }
    if (cc != CURLE_OK) {
        cli_error("request to %s failed: %s", req->url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    rc = CLI_OK;
out:
    curl_easy_cleanup(curl);
    curl_slist_free_all(hdrs);
    return rc;
}

/* Find attribute name="value" in a Hawk WWW-Authenticate value; copies it to out.
 * Returns 0 or -1 (absent or malformed). */
static int www_attr(const char *h, const char *name, char *out, size_t outlen)
{
    if (strncasecmp(h, "Hawk", 4) != 0)
        return -1;
    const char *p = h + 4;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            return -1;
        const char *n = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            p++;
        size_t nl = (size_t)(p - n);
        if (nl == 0 || p[0] != '=' || p[1] != '"')
            return -1;
        p += 2;
        const char *v = strchr(p, '"');
        if (!v)
            return -1;
        if (nl == strlen(name) && memcmp(n, name, nl) == 0) {
            if ((size_t)(v - p) >= outlen)
                return -1;
            memcpy(out, p, (size_t)(v - p));
            out[v - p] = '\0';
            return 0;
        }
        p = v + 1;
    }
}

/* The server's time from a stale-timestamp 401, when its tsm verifies with our
 * key. Returns 0 and writes *server_ts, or -1. */
static int stale_server_ts(const struct request *req, const char *www, int64_t *server_ts)
{
    char ts[32], tsm[HAWK_MAC_B64_MAX + 8], want[HAWK_MAC_B64_MAX];
    if (www_attr(www, "ts", ts, sizeof ts) < 0 || www_attr(www, "tsm", tsm, sizeof tsm) < 0)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(ts, &end, 10);
    if (errno || end == ts || *end || v <= 0)
        return -1;
    if (hawk_ts_mac(&req->creds, (int64_t)v, want) < 0 ||
        !hawk_equal(want, strlen(want), tsm, strlen(tsm))) {
        cli_error("the server's timestamp (WWW-Authenticate tsm) does not verify with this key: "
                  "not using it");
        return -1;
    }
    *server_ts = (int64_t)v;
    return 0;
}

static void print_response(const struct response *res)
{
    printf("REQUEST RESPONSE %ld\n", res->status);
    if (res->body.len) {
        fwrite(res->body.data, 1, res->body.len, stdout);
        if (res->body.data[res->body.len - 1] != '\n')
            putchar('\n');
    }
    fflush(stdout);
}

/* ---- the command ----------------------------------------------------------------- */

static int setup_request(struct cli *c, const char *method, const char *id, const char *key,
                         const char *alg, const char *data, const char *ctype, const char *timeout,
                         const char **hdrs, size_t nhdrs, struct request *req)
{
    if (c->nargs != 1 || !id || !key || !id[0] || !key[0]) {
        cli_error("usage: ferry request [--method M] URL --client-id ID --client-key KEY "
                  "(see --help)");
        return CLI_USAGE;
    }
    req->creds.id = id;
    req->creds.key = key;
    req->creds.key_len = strlen(key);
    if (hawk_alg_parse(alg ? alg : "sha256", &req->creds.alg) < 0) {
        cli_error("unknown --algorithm '%s' (sha256 or sha1)", alg);
        return CLI_USAGE;
    }
    req->timeout = 60;
    if (timeout) {
        char *end;
        errno = 0;
        long t = strtol(timeout, &end, 10);
        if (errno || end == timeout || *end || t < 1 || t > 86400) {
            cli_error("--timeout must be 1 to 86400 seconds");
            return CLI_USAGE;
        }
        req->timeout = t;
    }
    if (data) {
        int rc = data[0] == '@'                   ? read_body_file(data + 1, &req->body)
                 : buf_puts(&req->body, data) < 0 ? CLI_USAGE
                                                  : CLI_OK;
        if (rc != CLI_OK) {
            if (data[0] != '@')
                cli_error("--data is larger than %u MiB", REQUEST_MAX >> 20);
            return rc;
        }
    }
    req->method = method ? method : data ? "POST" : "GET";
    for (const char *p = req->method; *p; p++)
        if (!isupper((unsigned char)*p) || p - req->method >= 15) {
            cli_error("--method must be an upper-case HTTP method, such as GET or POST");
            return CLI_USAGE;
        }
    if (!req->method[0]) {
        cli_error("--method must not be empty");
        return CLI_USAGE;
    }
    req->content_type = ctype ? ctype : data ? "application/json" : "";
    int rc = parse_url(c->args[0], req);
    if (rc != CLI_OK)
        return rc;
    for (size_t i = 0; i < nhdrs; i++) {
        const char *v;
        if (!valid_header(hdrs[i])) {
            cli_error("bad --header '%s' (expected 'Name: value')", hdrs[i]);
            return CLI_USAGE;
        }
        if (header_value(hdrs[i], "Authorization") || header_value(hdrs[i], "Content-Length")) {
            cli_error("--header '%s': ferry sets that header itself", hdrs[i]);
            return CLI_USAGE;
        }
        if ((v = header_value(hdrs[i], "Content-Type")) != NULL) {
            if (ctype) {
                cli_error("give the content type once (--content-type or --header)");
                return CLI_USAGE;
            }
            req->content_type = v; /* signed and sent once, below */
            continue;
        }
        if ((v = header_value(hdrs[i], "Host")) != NULL &&
            hawk_parse_host(v, strncmp(req->url, "https:", 6) == 0, req->host, sizeof req->host,
                            req->port, sizeof req->port) < 0) {
            cli_error("bad --header '%s'", hdrs[i]);
            return CLI_USAGE;
        }
        req->headers = curl_slist_append(req->headers, hdrs[i]);
        if (!req->headers)
            abort();
    }
    return CLI_OK;
}

int cli_request(int argc, char **argv)
{
    const char *method = NULL, *id = NULL, *key = NULL, *alg = NULL, *data = NULL;
    const char *ctype = NULL, *timeout = NULL;
    int no_verify = 0;
    const struct cli_opt opts[] = {
        {"--method", &method, NULL, "HTTP method"},
        {"--client-id", &id, NULL, "Hawk id"},
        {"--client-key", &key, NULL, "Hawk key"},
        {"--algorithm", &alg, NULL, "sha256 or sha1"},
        {"--data", &data, NULL, "request body, @FILE or @-"},
        {"--content-type", &ctype, NULL, "body content type"},
        {"--timeout", &timeout, NULL, "seconds"},
        {"--no-verify", NULL, &no_verify, "skip response verification"},
    };
    const char *hdrs[MAX_HEADERS];
    size_t nhdrs;
    int nrest;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    struct request req;
    struct response res;
    struct cli c;
    int rc;

    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    memset(&c, 0, sizeof c);
    buf_init(&req.body, REQUEST_MAX);
    buf_init(&res.body, RESPONSE_MAX);
    if (!rest)
        abort();
    rc = split_headers(argc, argv, rest, &nrest, hdrs, &nhdrs);
    if (rc != CLI_OK)
        goto out;
    rc = cli_setup(nrest, rest, opts, sizeof opts / sizeof opts[0], 1, request_usage, &c);
    if (rc < 0) {
        rc = CLI_OK;
        goto out;
    }
    if (rc != CLI_OK)
        goto out;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_error("cannot initialise libcurl");
        rc = CLI_FAIL;
        goto out;
    }
    rc = setup_request(&c, method, id, key, alg, data, ctype, timeout, hdrs, nhdrs, &req);
    if (rc != CLI_OK)
        goto out_curl;

    char ts_buf[32], nonce[9];
    struct hawk_client_options o;
    int64_t offset = 0;
    for (int attempt = 0;; attempt++) {
        rc = exchange(&req, (int64_t)time(NULL) + offset, ts_buf, sizeof ts_buf, nonce, &o, &res);
        if (rc != CLI_OK)
            goto out_curl;
        int64_t server_ts;
        if (attempt == 0 && res.status == 401 && res.www_auth[0] &&
            stale_server_ts(&req, res.www_auth, &server_ts) == 0) {
            offset = server_ts - (int64_t)time(NULL);
            cli_error("stale timestamp: this clock is %" PRId64 " s %s the server's; retrying "
                      "once with the server's time",
                      offset < 0 ? -offset : offset, offset < 0 ? "ahead of" : "behind");
            continue;
        }
        break;
    }

    int ok_status = res.status >= 200 && res.status < 300;
    if (!no_verify && (res.server_auth[0] || ok_status)) {
        char why[256];
        if (!res.server_auth[0]) {
            cli_error("the response has no Server-Authorization header: it cannot be verified "
                      "(body not shown; --no-verify to see it)");
            rc = CLI_FAIL;
            goto out_curl;
        }
        /* A streamed (chunked) response is signed before its body exists: its
         * Server-Authorization has no hash, and only the MAC is checked. */
        int streamed = strstr(res.transfer_encoding, "chunked") != NULL;
        if (hawk_client_verify_response(&req.creds, req.method, req.resource, req.host, req.port,
                                        &o, res.server_auth, res.content_type,
                                        streamed        ? NULL
                                        : res.body.data ? res.body.data
                                                        : "",
                                        res.body.len, why, sizeof why) < 0) {
            cli_error("the response's Server-Authorization does not verify: %s (body not shown; "
                      "--no-verify to see it)",
                      why);
            rc = CLI_FAIL;
            goto out_curl;
        }
    }
    print_response(&res);
    if (!ok_status && !res.server_auth[0] && !no_verify)
        cli_error("HTTP %ld (response not signed by the server)", res.status);
    rc = ok_status ? CLI_OK : CLI_FAIL;
out_curl:
    curl_global_cleanup();
out:
    curl_free(req.url);
    free(req.resource);
    curl_slist_free_all(req.headers);
    buf_free(&req.body);
    buf_free(&res.body);
    cli_free(&c);
    free(rest);
    return rc;
}
