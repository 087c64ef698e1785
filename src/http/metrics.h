/*
 * metrics: request counters and latency histograms per route, and the
 * Prometheus text rendering of them plus build and process figures.
 *
 * Recording is lock-free (relaxed atomics), so it costs a few increments per
 * request. Routes sharing a name (e.g. "/healthcheck" and "/healthcheck/") share
 * their series. Requests that matched no route are recorded as route "none".
 *
 *   ferry_http_requests_total{route,method,status}            counter
 *   ferry_http_request_duration_seconds{route} (_bucket/_sum/_count) histogram
 *   ferry_http_response_bytes_total{route}                    counter
 *   ferry_http_requests_in_flight                             gauge
 *   ferry_auth_failures_total{reason}                         counter
 *   ferry_build_info{version,revision,backend}                gauge, always 1
 *   process_resident_memory_bytes, process_cpu_seconds_total,
 *   process_open_fds, process_start_time_seconds              (Linux /proc)
 */
#ifndef FERRY_HTTP_METRICS_H
#define FERRY_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/router.h"

typedef struct metrics metrics;

/* A registry for these routes (borrowed; must outlive it). Never NULL. */
metrics *metrics_new(const struct route *routes, size_t n);
void metrics_free(metrics *m); /* accepts NULL */

/* Label for ferry_build_info; copied. Default "none". */
void metrics_set_backend(metrics *m, const char *backend);

void metrics_request_begin(metrics *m);
/* route_index: position in the table, or (size_t)-1 for no route. method is a
 * known method name (others are counted as "OTHER"). */
void metrics_request_end(metrics *m, size_t route_index, const char *method, int status,
                         uint64_t usec, uint64_t bytes);

int64_t metrics_inflight(const metrics *m);

/* Count a refused authentication. reason is one of the labels auth uses
 * ("missing", "bad_header", "unknown_client", "bad_mac", "payload", "replay",
 * "stale", "expired", "nonce_store", "apikey", "ip", "scope"); others count as
 * "other". */
void metrics_auth_failure(metrics *m, const char *reason);

/* Append the Prometheus text exposition (version 0.0.4). Returns 0 or ERR_TOOBIG. */
int metrics_render(const metrics *m, struct buf *out);

#endif
