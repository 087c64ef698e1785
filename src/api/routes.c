/*
 * routes: the one route table of ferry. Every HTTP route is a line here: method,
 * pattern, handler, flags (see router.h) and body limit. The server validates the
 * table at start-up. Route names are stable: they label metrics and, once auth
 * lands, they are what client scopes grant.
 */
#include "api/admin.h"
#include "api/api.h"
#include "api/data.h"
#include "api/identity.h"
#include "api/meta.h"
#include "api/openapi.h"
#include "api/uploads.h"

/* Body limit of POST /api/v1/whoami: enough to test payload signing. */
#define WHOAMI_BODY_LIMIT (64u << 10)

static const struct route routes[] = {
    /* method, pattern, handler, flags, body limit, name, scope, sink */
    {"GET", "/healthcheck", meta_healthcheck, ROUTE_PUBLIC, 0, "healthcheck", NULL, NULL},
    {"GET", "/healthcheck/", meta_healthcheck, ROUTE_PUBLIC, 0, "healthcheck", NULL, NULL},
    {"GET", "/metrics", meta_metrics, ROUTE_PUBLIC, 0, "metrics", NULL, NULL},
    {"GET", "/api", meta_liveness, ROUTE_PUBLIC, 0, "liveness", NULL, NULL},
    {"GET", "/apikey", identity_apikey, ROUTE_PUBLIC, 0, "apikey", NULL, NULL},
    {"GET", "/api/v1/whoami", identity_whoami, 0, 0, "whoami", NULL, NULL},
    {"POST", "/api/v1/whoami", identity_whoami, ROUTE_BODY, WHOAMI_BODY_LIMIT, "whoami", NULL,
     NULL},
    {"GET", "/api/v1/clients", admin_clients_list, 0, 0, "clients.list", "admin", NULL},
    /* The data API: anonymous callers reach these too, for public datasets. */
    {"GET", "/api/v1/datasets", data_list, ROUTE_ANON, 0, "datasets.list", "datasets:read", NULL},
    {"GET", "/api/v1/datasets/{name}", data_read, ROUTE_ANON, 0, "datasets.read", "datasets:read",
     NULL},
    {"GET", "/api/v1/datasets/{name}/data", data_rows, ROUTE_ANON, 0, "datasets.data",
     "datasets:read", NULL},
    /* The upload's size limit is ingest.max_file_bytes, checked by the sink. */
    {"POST", "/api/v1/datasets/{name}/uploads", uploads_create, ROUTE_BODY | ROUTE_STREAM, SIZE_MAX,
     "uploads.create", "datasets:write", uploads_sink},
    {"GET", "/api/v1/uploads/{id}", uploads_read, 0, 0, "uploads.read", "datasets:write", NULL},
    {"GET", "/api/v1/openapi.json", openapi_serve, ROUTE_PUBLIC, 0, "openapi", NULL, NULL},
};

const struct route *api_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
