/*
 * meta: /healthcheck, /metrics and /api. The health check really asks the
 * database (a pooled connection and SELECT 1), so a load balancer takes a
 * process out when its database is gone, not only when it has crashed.
 */
#include "api/meta.h"

#include <string.h>

#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "http/metrics.h"

#define METRICS_LIMIT (8u << 20)

/* Probe the database: 0 when it answers. */
static int database_ok(const struct api_ctx *ctx)
{
    store *s = NULL;
    int rc = store_pool_acquire(ctx->pool, ctx->db_wait_ms, &s);
    if (rc == 0) {
        rc = store_ping(s);
        if (rc < 0)
            log_warn("healthcheck: database does not answer", LF_STR("error", store_errmsg(s)));
        store_pool_release(ctx->pool, s);
    } else {
        log_warn("healthcheck: no database connection", LF_STR("error", err_str(rc)));
    }
    return rc;
}

void meta_healthcheck(http_req *r)
{
    const struct api_ctx *ctx = http_req_app(r);
    int rc = database_ok(ctx);
    struct buf b;
    struct json_writer w;
    buf_init(&b, 4096);
    json_init(&w, &b);
    json_object_begin(&w);
    json_key(&w, "status");
    json_string(&w, rc == 0 ? "OK" : "FAIL");
    json_key(&w, "database");
    json_string(&w, rc == 0 ? "ok" : "unavailable");
    json_key(&w, "backend");
    json_string(&w, store_pool_backend(ctx->pool) == STORE_POSTGRESQL ? "postgresql" : "sqlite");
    json_key(&w, "version");
    json_string(&w, FERRY_VERSION);
    json_object_end(&w);
    buf_putc(&b, '\n');
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_buf(r, rc == 0 ? 200 : 503, "application/json", &b);
    buf_free(&b);
}

void meta_metrics(http_req *r)
{
    struct buf b;
    buf_init(&b, METRICS_LIMIT);
    if (metrics_render(http_req_metrics(r), &b) < 0) {
        buf_free(&b);
        http_reply_error(r, ERR_INTERNAL, "metrics too large to render");
        return;
    }
    http_reply_buf(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
    buf_free(&b);
}

void meta_liveness(http_req *r)
{
    static const char body[] = "{\"message\": \"Success: Application was running ...\"}\n";
    http_reply(r, 200, "application/json", body, sizeof body - 1);
}
