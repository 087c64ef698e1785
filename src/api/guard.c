/*
 * guard: see guard.h. The client lookup borrows one pooled database connection
 * for the duration of auth_check and gives it back before the handler runs, so
 * authentication never holds a connection the handler is waiting for.
 */
#include "api/guard.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "auth/clients.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "http/metrics.h"

/* What the guard keeps on a request (http_req_user), in its arena. */
struct guard_req {
    struct auth_result res;
    auth_payload *payload; /* a streamed body's hash check, until body_end */
};

struct lookup_ctx {
    const struct api_ctx *api;
    store *conn; /* acquired on first use */
};

static int lookup_client(void *cls, const char *id, size_t id_len, struct auth_client *out)
{
    struct lookup_ctx *lc = cls;
    if (!lc->conn) {
        int rc = store_pool_acquire(lc->api->pool, lc->api->db_wait_ms, &lc->conn);
        if (rc < 0)
            return rc;
    }
    struct client *c = NULL;
    int rc = clients_get(lc->conn, lc->api->secret, id, id_len, &c);
    if (rc < 0) {
        if (rc != ERR_NOTFOUND)
            log_error("client lookup failed", LF_STR("error", store_errmsg(lc->conn)));
        return rc;
    }
    out->creds.id = c->id;
    out->creds.key = c->key;
    out->creds.key_len = c->key_len;
    out->creds.alg = c->alg;
    out->scopes = (const char *const *)c->scopes;
    out->nscopes = c->nscopes;
    out->enabled = c->enabled;
    out->owner = c;
    return 0;
}

static void release_client(void *cls, struct auth_client *c)
{
    (void)cls;
    client_free(c->owner);
}

/* The id a refused Hawk header claimed, for the log (never the key or MAC). */
static void claimed_id(const char *authorization, char *out, size_t outlen)
{
    struct hawk_header h;
    struct hawk_result r;
    out[0] = '\0';
    if (authorization && hawk_parse_header(authorization, &h, &r) == 0 && h.id.p)
        snprintf(out, outlen, "%.*s", (int)(h.id.n > 128 ? 128 : h.id.n), h.id.p);
}

static void refuse(http_req *r, const struct auth_result *res, const char *authorization)
{
    char id[132];
    claimed_id(authorization, id, sizeof id);
    log_warn("authentication refused", LF_STR("reason", res->reason),
             LF_STR("message", res->message), LF_STR("client", id[0] ? id : NULL),
             LF_STR("address", res->client_addr), LF_STR("route", http_req_route(r)->name));
    metrics_auth_failure(http_req_metrics(r), res->reason);
    if (res->www_authenticate[0])
        http_set_header(r, "WWW-Authenticate", res->www_authenticate);
    http_reply_error_status(r, res->status, res->code, res->message);
}

/* The body length the headers of a streamed request announce (auth_input). */
static size_t announced_length(const http_req *r)
{
    const char *cl = http_req_header(r, "Content-Length");
    if (cl)
        return strspn(cl, "0") == strlen(cl) ? 0 : 1; /* the server checked it is a number */
    return http_req_header(r, "Transfer-Encoding") ? SIZE_MAX : 0;
}

/* The parts of the request every auth question needs. */
static void input_from_request(const http_req *r, struct auth_input *in)
{
    memset(in, 0, sizeof *in);
    in->method = http_req_method(r);
    in->target = http_req_target(r);
    in->peer = http_req_peer(r);
    in->host = http_req_header(r, "Host");
    in->x_forwarded_for = http_req_header(r, "X-Forwarded-For");
    in->x_forwarded_host = http_req_header(r, "X-Forwarded-Host");
    in->x_forwarded_proto = http_req_header(r, "X-Forwarded-Proto");
    in->x_forwarded_port = http_req_header(r, "X-Forwarded-Port");
}

int guard_origin(const http_req *r, char *out, size_t outlen)
{
    const struct api_ctx *api = http_req_app(r);
    struct auth_input in;
    input_from_request(r, &in);
    return auth_origin(api->auth, &in, out, outlen);
}

int guard_check(http_req *r)
{
    const struct api_ctx *api = http_req_app(r);
    struct guard_req *g = arena_calloc(http_req_arena(r), 1, sizeof *g);
    struct auth_result *res = &g->res;
    int stream = (http_req_route(r)->flags & ROUTE_STREAM) != 0;
    struct auth_input in;
    input_from_request(r, &in);
    in.authorization = http_req_header(r, "Authorization");
    in.apikey = http_req_header(r, "APIKEY");
    in.content_type = http_req_header(r, "Content-Type");
    if (stream) {
        in.payload_deferred = 1;
        in.body_len = announced_length(r);
    } else {
        in.body = http_req_body(r, &in.body_len);
    }
    in.scope = http_req_route(r)->scope;
    in.anonymous_ok = (http_req_route(r)->flags & ROUTE_ANON) != 0;

    struct lookup_ctx lc = {api, NULL};
    auth_check(api->auth, &in, clock_now_ms(), &lc, res);
    store_pool_release(api->pool, lc.conn);
    http_req_set_user(r, g);
    if (res->status != 0) {
        refuse(r, res, in.authorization);
        return 1;
    }
    if (stream && auth_payload_begin(res, in.content_type, &g->payload) < 0) {
        log_error("cannot start the payload hash");
        http_reply_error(r, ERR_INTERNAL, NULL);
        return 1;
    }
    return 0;
}

int guard_body_observe(http_req *r, const char *data, size_t n)
{
    struct guard_req *g = http_req_user(r);
    if (g && g->payload)
        auth_payload_update(g->payload, data, n);
    return 0;
}

int guard_body_end(http_req *r)
{
    struct guard_req *g = http_req_user(r);
    if (!g || !g->payload)
        return 0;
    int rc = auth_payload_end(g->payload);
    g->payload = NULL;
    if (rc == 0)
        return 0;
    if (rc != ERR_UNAUTHORIZED) {
        log_error("payload hash failed");
        http_reply_error(r, ERR_INTERNAL, NULL);
        return -1;
    }
    auth_fail_payload(&g->res);
    refuse(r, &g->res, http_req_header(r, "Authorization"));
    return -1;
}

void guard_request_end(http_req *r)
{
    struct guard_req *g = http_req_user(r);
    if (!g)
        return;
    auth_payload_free(g->payload);
    g->payload = NULL;
    auth_result_wipe(&g->res);
}

void guard_hooks(struct http_server_options *opt)
{
    opt->guard = guard_check;
    opt->before_send = guard_before_send;
    opt->body_observe = guard_body_observe;
    opt->body_end = guard_body_end;
    opt->request_end = guard_request_end;
}

void guard_before_send(http_req *r, int status, const char *content_type, const void *body,
                       size_t len)
{
    struct guard_req *g = http_req_user(r);
    const struct api_ctx *api = http_req_app(r);
    char header[512];
    (void)status;
    if (!g)
        return;
    if (auth_sign_response(api->auth, &g->res, content_type, body, len, header, sizeof header) == 0)
        http_set_header(r, "Server-Authorization", header);
    auth_result_wipe(&g->res); /* the key copy is not needed after the one response */
}

int guard_anonymous(const http_req *r)
{
    const struct guard_req *g = http_req_user(r);
    return g && g->res.status == 0 && g->res.method == AUTH_NONE;
}

void guard_refuse_anonymous(http_req *r)
{
    struct guard_req *g = http_req_user(r);
    auth_refuse_anonymous(&g->res);
    refuse(r, &g->res, NULL);
}

const struct auth_result *guard_identity(const http_req *r)
{
    const struct guard_req *g = http_req_user(r);
    return g ? &g->res : NULL;
}

void guard_install(auth *a)
{
    auth_set_lookup(a, lookup_client, release_client);
}
