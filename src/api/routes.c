/*
 * routes: the one route table of ferry. Every HTTP route is a line here: method,
 * pattern, handler, flags (see router.h) and body limit. The server validates the
 * table at start-up. Route names are stable: they label metrics and, once auth
 * lands, they are what client scopes grant.
 */
#include "api/api.h"
#include "api/meta.h"

static const struct route routes[] = {
    /* method, pattern, handler, flags, body limit, name */
    {"GET", "/healthcheck", meta_healthcheck, ROUTE_PUBLIC, 0, "healthcheck"},
    {"GET", "/healthcheck/", meta_healthcheck, ROUTE_PUBLIC, 0, "healthcheck"},
    {"GET", "/metrics", meta_metrics, ROUTE_PUBLIC, 0, "metrics"},
    {"GET", "/api", meta_liveness, ROUTE_PUBLIC, 0, "liveness"},
};

const struct route *api_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
