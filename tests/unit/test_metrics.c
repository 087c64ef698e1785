/* Unit tests for src/http/metrics.c: counting per route name and status, and the
 * exposition text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "http/metrics.h"

static void h(http_req *r)
{
    (void)r;
}

static const struct route routes[] = {
    {"GET", "/healthcheck", h, 0, 0, "healthcheck", NULL, NULL},
    {"GET", "/healthcheck/", h, 0, 0, "healthcheck", NULL, NULL},
    {"GET", "/api", h, 0, 0, "liveness", NULL, NULL},
};

static char *render(metrics *m)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(metrics_render(m, &b), 0);
    return buf_take(&b, NULL);
}

Test(metrics, counts_by_route_name_method_and_status)
{
    metrics *m = metrics_new(routes, 3);
    for (int i = 0; i < 3; i++) {
        metrics_request_begin(m);
        metrics_request_end(m, (size_t)i % 2, "GET", 200, 1500, 10);
    }
    metrics_request_begin(m);
    metrics_request_end(m, 2, "HEAD", 503, 20, 0);
    metrics_request_begin(m);
    metrics_request_end(m, (size_t)-1, "BREW", 404, 5, 3);
    metrics_request_begin(m); /* still in flight */
    char *t = render(m);
    cr_assert_not_null(strstr(
        t, "ferry_http_requests_total{route=\"healthcheck\",method=\"GET\",status=\"200\"} 3\n"));
    cr_assert_not_null(strstr(
        t, "ferry_http_requests_total{route=\"liveness\",method=\"HEAD\",status=\"503\"} 1\n"));
    cr_assert_not_null(
        strstr(t, "ferry_http_requests_total{route=\"none\",method=\"OTHER\",status=\"404\"} 1\n"));
    cr_assert_not_null(strstr(
        t, "ferry_http_request_duration_seconds_bucket{route=\"healthcheck\",le=\"0.001\"} 0\n"));
    cr_assert_not_null(strstr(
        t, "ferry_http_request_duration_seconds_bucket{route=\"healthcheck\",le=\"0.0025\"} 3\n"));
    cr_assert_not_null(strstr(
        t, "ferry_http_request_duration_seconds_bucket{route=\"healthcheck\",le=\"+Inf\"} 3\n"));
    cr_assert_not_null(
        strstr(t, "ferry_http_request_duration_seconds_sum{route=\"healthcheck\"} 0.004500\n"));
    cr_assert_not_null(strstr(t, "ferry_http_response_bytes_total{route=\"healthcheck\"} 30\n"));
    cr_assert_not_null(strstr(t, "ferry_http_requests_in_flight 1\n"));
    cr_assert_not_null(strstr(t, "ferry_build_info{version=\""));
    free(t);
    metrics_free(m);
}

Test(metrics, many_distinct_statuses_overflow_into_other)
{
    metrics *m = metrics_new(routes, 3);
    for (int s = 200; s < 240; s++) {
        metrics_request_begin(m);
        metrics_request_end(m, 2, "GET", s, 1, 0);
    }
    char *t = render(m);
    cr_assert_not_null(strstr(
        t, "ferry_http_requests_total{route=\"liveness\",method=\"GET\",status=\"200\"} 1\n"));
    cr_assert_not_null(strstr(
        t, "ferry_http_requests_total{route=\"liveness\",method=\"GET\",status=\"other\"} 24\n"));
    free(t);
    metrics_free(m);
}

Test(metrics, render_fails_cleanly_when_the_buffer_is_too_small)
{
    metrics *m = metrics_new(routes, 3);
    struct buf b;
    buf_init(&b, 100);
    cr_assert_lt(metrics_render(m, &b), 0);
    buf_free(&b);
    metrics_free(m);
}

Test(metrics, auth_failures_by_reason)
{
    metrics *m = metrics_new(routes, 3);
    metrics_auth_failure(m, "bad_mac");
    metrics_auth_failure(m, "bad_mac");
    metrics_auth_failure(m, "scope");
    metrics_auth_failure(m, "no-such-reason");
    char *t = render(m);
    cr_assert_not_null(strstr(t, "ferry_auth_failures_total{reason=\"bad_mac\"} 2\n"));
    cr_assert_not_null(strstr(t, "ferry_auth_failures_total{reason=\"scope\"} 1\n"));
    cr_assert_not_null(strstr(t, "ferry_auth_failures_total{reason=\"other\"} 1\n"));
    cr_assert_not_null(strstr(t, "ferry_auth_failures_total{reason=\"replay\"} 0\n"));
    free(t);
    metrics_free(m);
}
