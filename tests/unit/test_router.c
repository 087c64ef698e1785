/* Unit tests for src/http/router.c: matching, parameters, 404/405 and table validation. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/err.h"
#include "http/router.h"

static void h(http_req *r)
{
    (void)r;
}

static const struct route table[] = {
    {"GET", "/healthcheck", h, ROUTE_PUBLIC, 0, "healthcheck", NULL, NULL},
    {"GET", "/healthcheck/", h, ROUTE_PUBLIC, 0, "healthcheck", NULL, NULL},
    {"GET", "/api/v1/datasets/{name}", h, 0, 0, "datasets.read", NULL, NULL},
    {"GET", "/api/v1/datasets/{name}/data", h, 0, 0, "data.read", NULL, NULL},
    {"POST", "/api/v1/datasets/{name}/uploads", h, ROUTE_BODY, 1024, "uploads.write", NULL, NULL},
    {"GET", "/api/v1/runs/{id}", h, 0, 0, "runs.read", NULL, NULL},
    {"GET", "/api/v1/runs/latest", h, 0, 0, "runs.latest", NULL, NULL},
    {"DELETE", "/api/v1/runs/{id}", h, 0, 0, "runs.delete", NULL, NULL},
    {"GET", "/", h, 0, 0, "root", NULL, NULL},
};
#define N (sizeof table / sizeof table[0])

static int match(const char *method, const char *path, struct route_match *m, char *allow)
{
    return router_match(table, N, method, path, m, allow, 64);
}

Test(router, table_is_valid)
{
    char why[256] = "";
    cr_assert_eq(router_validate(table, N, why, sizeof why), 0, "%s", why);
}

Test(router, literal_routes_match_exactly)
{
    struct route_match m;
    char allow[64];
    cr_assert_eq(match("GET", "/healthcheck", &m, allow), 0);
    cr_assert_eq(m.index, 0);
    cr_assert_eq(m.nparams, 0);
    cr_assert_eq(match("GET", "/healthcheck/", &m, allow), 0);
    cr_assert_eq(m.index, 1);
    cr_assert_eq(match("GET", "/healthcheckx", &m, allow), ERR_NOTFOUND);
    cr_assert_eq(match("GET", "/Healthcheck", &m, allow), ERR_NOTFOUND);
    cr_assert_eq(match("GET", "/healthcheck//", &m, allow), ERR_NOTFOUND);
    cr_assert_eq(match("GET", "/", &m, allow), 0);
    cr_assert_str_eq(m.route->name, "root");
    cr_assert_eq(match("GET", "", &m, allow), ERR_NOTFOUND);
}

Test(router, parameters_capture_one_raw_segment)
{
    struct route_match m;
    char allow[64];
    cr_assert_eq(match("GET", "/api/v1/datasets/org%2Fdata.set/data", &m, allow), 0);
    cr_assert_str_eq(m.route->name, "data.read");
    cr_assert_eq(m.nparams, 1);
    cr_assert_eq(m.params[0].name_len, 4);
    cr_assert_eq(strncmp(m.params[0].name, "name", 4), 0);
    cr_assert_eq(m.params[0].value_len, strlen("org%2Fdata.set"));
    cr_assert_eq(strncmp(m.params[0].value, "org%2Fdata.set", m.params[0].value_len), 0);
    /* an empty segment never matches a parameter */
    cr_assert_eq(match("GET", "/api/v1/datasets//data", &m, allow), ERR_NOTFOUND);
    cr_assert_eq(match("GET", "/api/v1/datasets/", &m, allow), ERR_NOTFOUND);
    /* a parameter never spans a slash */
    cr_assert_eq(match("GET", "/api/v1/datasets/a/b/data", &m, allow), ERR_NOTFOUND);
}

Test(router, literal_segments_beat_parameters_regardless_of_order)
{
    struct route_match m;
    char allow[64];
    cr_assert_eq(match("GET", "/api/v1/runs/latest", &m, allow), 0);
    cr_assert_str_eq(m.route->name, "runs.latest");
    cr_assert_eq(match("GET", "/api/v1/runs/42", &m, allow), 0);
    cr_assert_str_eq(m.route->name, "runs.read");
}

Test(router, wrong_method_gives_405_with_allow)
{
    struct route_match m;
    char allow[64];
    cr_assert_eq(match("POST", "/healthcheck", &m, allow), ERR_METHOD);
    cr_assert_str_eq(allow, "GET, HEAD");
    cr_assert_eq(match("PUT", "/api/v1/runs/7", &m, allow), ERR_METHOD);
    cr_assert_str_eq(allow, "GET, HEAD, DELETE");
    cr_assert_eq(match("GET", "/api/v1/datasets/x/uploads", &m, allow), ERR_METHOD);
    cr_assert_str_eq(allow, "POST");
}

Test(router, head_is_answered_by_get_routes)
{
    struct route_match m;
    char allow[64];
    cr_assert_eq(match("HEAD", "/healthcheck", &m, allow), 0);
    cr_assert_str_eq(m.route->method, "GET");
    cr_assert_eq(match("HEAD", "/api/v1/datasets/x/uploads", &m, allow), ERR_METHOD);
}

Test(router, allow_is_truncated_safely)
{
    struct route_match m;
    char allow[5];
    cr_assert_eq(router_match(table, N, "PUT", "/api/v1/runs/7", &m, allow, sizeof allow),
                 ERR_METHOD);
    cr_assert_lt(strlen(allow), sizeof allow);
}

static const char *validate_one(const struct route *r, size_t n)
{
    static char why[256];
    why[0] = '\0';
    return router_validate(r, n, why, sizeof why) == 0 ? NULL : why;
}

Test(router, validation_rejects_bad_tables)
{
    const struct route bad_method[] = {{"FETCH", "/x", h, 0, 0, "x", NULL, NULL}};
    const struct route no_slash[] = {{"GET", "x", h, 0, 0, "x", NULL, NULL}};
    const struct route half_param[] = {{"GET", "/a/{id", h, 0, 0, "x", NULL, NULL}};
    const struct route inner_param[] = {{"GET", "/a/x{id}", h, 0, 0, "x", NULL, NULL}};
    const struct route bad_name[] = {{"GET", "/a/{1d}", h, 0, 0, "x", NULL, NULL}};
    const struct route twice[] = {{"GET", "/a/{id}/{id}", h, 0, 0, "x", NULL, NULL}};
    const struct route empty_seg[] = {{"GET", "/a//b", h, 0, 0, "x", NULL, NULL}};
    const struct route no_handler[] = {{"GET", "/a", NULL, 0, 0, "x", NULL, NULL}};
    const struct route no_name[] = {{"GET", "/a", h, 0, 0, "", NULL, NULL}};
    const struct route limit_no_body[] = {{"GET", "/a", h, 0, 10, "x", NULL, NULL}};
    const struct route dup[] = {{"GET", "/a/{x}", h, 0, 0, "x", NULL, NULL},
                                {"GET", "/a/{y}", h, 0, 0, "y", NULL, NULL}};
    const struct route bad_char[] = {{"GET", "/a b", h, 0, 0, "x", NULL, NULL}};
    cr_assert_not_null(validate_one(bad_method, 1));
    cr_assert_not_null(validate_one(no_slash, 1));
    cr_assert_not_null(validate_one(half_param, 1));
    cr_assert_not_null(validate_one(inner_param, 1));
    cr_assert_not_null(validate_one(bad_name, 1));
    cr_assert_not_null(strstr(validate_one(twice, 1), "twice"));
    cr_assert_not_null(validate_one(empty_seg, 1));
    cr_assert_not_null(validate_one(no_handler, 1));
    cr_assert_not_null(validate_one(no_name, 1));
    cr_assert_not_null(validate_one(limit_no_body, 1));
    cr_assert_not_null(strstr(validate_one(dup, 2), "same as route 0"));
    cr_assert_not_null(validate_one(bad_char, 1));
    /* same shape with different methods is fine */
    const struct route ok[] = {{"GET", "/a/{x}", h, 0, 0, "x", NULL, NULL},
                               {"PUT", "/a/{y}", h, 0, 0, "y", NULL, NULL}};
    cr_assert_null(validate_one(ok, 2));
}

static int sink(http_req *r, const char *data, size_t n)
{
    (void)r;
    (void)data;
    (void)n;
    return 0;
}

Test(router, stream_routes_need_a_body_and_a_sink)
{
    const struct route ok[] = {
        {"POST", "/u/{name}", h, ROUTE_BODY | ROUTE_STREAM, 1u << 30, "u", NULL, sink},
        {"PUT", "/p", h, ROUTE_BODY | ROUTE_STREAM | ROUTE_PUBLIC, 0, "p", NULL, sink},
    };
    const struct route no_body[] = {{"POST", "/u", h, ROUTE_STREAM, 0, "u", NULL, sink}};
    const struct route no_sink[] = {
        {"POST", "/u", h, ROUTE_BODY | ROUTE_STREAM, 0, "u", NULL, NULL}};
    const struct route sink_only[] = {{"POST", "/u", h, ROUTE_BODY, 0, "u", NULL, sink}};
    const struct route sink_get[] = {{"GET", "/u", h, 0, 0, "u", NULL, sink}};
    cr_assert_null(validate_one(ok, 2));
    cr_assert_not_null(strstr(validate_one(no_body, 1), "ROUTE_STREAM without ROUTE_BODY"));
    cr_assert_not_null(strstr(validate_one(no_sink, 1), "ROUTE_STREAM without a sink"));
    cr_assert_not_null(strstr(validate_one(sink_only, 1), "a sink without ROUTE_STREAM"));
    cr_assert_not_null(strstr(validate_one(sink_get, 1), "a sink without ROUTE_STREAM"));
}

Test(router, anonymous_routes_are_guarded_routes)
{
    const struct route ok[] = {{"GET", "/d", h, ROUTE_ANON, 0, "d", "datasets:read", NULL}};
    const struct route both[] = {{"GET", "/d", h, ROUTE_ANON | ROUTE_PUBLIC, 0, "d", NULL, NULL}};
    cr_assert_null(validate_one(ok, 1));
    cr_assert_not_null(strstr(validate_one(both, 1), "ROUTE_ANON on a public route"));
}

Test(router, stream_routes_match_like_others)
{
    const struct route t[] = {
        {"POST", "/api/v1/datasets/{name}/uploads", h, ROUTE_BODY | ROUTE_STREAM, 0, "up", NULL,
         sink},
    };
    struct route_match m;
    char allow[64];
    cr_assert_eq(router_match(t, 1, "POST", "/api/v1/datasets/d1/uploads", &m, allow, 64), 0);
    cr_assert_eq(m.route->sink, sink);
    cr_assert_eq(router_match(t, 1, "GET", "/api/v1/datasets/d1/uploads", &m, allow, 64),
                 ERR_METHOD);
    cr_assert_str_eq(allow, "POST");
}
