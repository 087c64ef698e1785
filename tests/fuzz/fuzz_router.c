/*
 * fuzz_router: arbitrary paths and methods against a route table like ferry's must
 * either match (with parameters inside the path) or give 404/405, never read out
 * of bounds; and validation of arbitrary patterns must not crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(http_req *r)
{
    (void)r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size + 1);
    memcpy(path, data, size);
    path[size] = '\0';
    static const struct route routes[] = {
        {"GET", "/healthcheck", h, 0, 0, "healthcheck", NULL, NULL},
        {"GET", "/healthcheck/", h, 0, 0, "healthcheck", NULL, NULL},
        {"GET", "/api/v1/datasets/{name}/data", h, 0, 0, "data", NULL, NULL},
        {"GET", "/api/v1/runs/{id}", h, 0, 0, "run", NULL, NULL},
        {"GET", "/api/v1/runs/latest", h, 0, 0, "latest", NULL, NULL},
        {"POST", "/api/v1/datasets/{name}/uploads", h, ROUTE_BODY, 0, "upload", NULL, NULL},
        {"GET", "/", h, 0, 0, "root", NULL, NULL},
    };
    size_t n = sizeof routes / sizeof routes[0];
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "BREW", NULL};
    struct route_match m;
    char allow[16];
    int rc = router_match(routes, n, methods[size % 6], path, &m, allow, sizeof allow);
    if (rc == 0) {
        for (size_t i = 0; i < m.nparams; i++)
            if (m.params[i].value < path || m.params[i].value + m.params[i].value_len > path + size)
                abort();
    } else if (rc != ERR_NOTFOUND && rc != ERR_METHOD) {
        abort();
    }
    struct route one[2] = {{"GET", path, h, 0, 0, "x", NULL, NULL},
                           {"GET", "/x/{a}", h, 0, 0, "y", NULL, NULL}};
    char why[128];
    if (router_validate(one, 2, why, sizeof why) == 0)
        (void)router_match(one, 2, "GET", "/x/1", &m, allow, sizeof allow);
    free(path);
    return 0;
}
