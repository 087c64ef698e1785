/*
 * metrics: fixed-size, lock-free counters per route name.
 *
 * Each distinct route name gets a slot (plus a last slot, "none", for requests
 * that matched no route). A slot holds, per method, a small open table of
 * (status, count) pairs claimed with compare-and-swap the first time a status is
 * seen, and one latency histogram. Nothing is allocated after metrics_new().
 */
#include "http/metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef FERRY_VERSION
#define FERRY_VERSION "dev"
#endif
#ifndef FERRY_GIT_REV
#define FERRY_GIT_REV "unknown"
#endif

static const char *const method_names[] = {"GET",   "HEAD",   "POST", "PUT",
                                           "PATCH", "DELETE", "OTHER"};
#define NMETHODS (sizeof method_names / sizeof method_names[0])
#define NSTATUS  16

/* Histogram upper bounds in microseconds; a final +Inf bucket follows. */
static const uint64_t bucket_usec[] = {100,     250,     500,     1000,    2500,   5000,
                                       10000,   25000,   50000,   100000,  250000, 500000,
                                       1000000, 2500000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_usec / sizeof bucket_usec[0] + 1)

static const char *const auth_reasons[] = {
    "missing", "bad_header",  "unknown_client", "bad_mac", "payload", "replay", "stale",
    "expired", "nonce_store", "apikey",         "ip",      "scope",   "other"};
#define NREASONS (sizeof auth_reasons / sizeof auth_reasons[0])

struct status_count {
    atomic_int status; /* 0 = free entry */
    atomic_uint_fast64_t count;
};

struct slot {
    const char *name; /* borrowed from the route table, or "none" */
    struct status_count status[NMETHODS][NSTATUS];
    atomic_uint_fast64_t status_other[NMETHODS]; /* when the table is full */
    atomic_uint_fast64_t buckets[NBUCKETS];
    atomic_uint_fast64_t sum_usec;
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t bytes;
};

struct metrics {
    size_t nroutes;
    size_t *route_slot; /* route index -> slot */
    size_t nslots;      /* including "none", which is last */
    struct slot *slots;
    atomic_int_fast64_t inflight;
    atomic_uint_fast64_t auth_failures[NREASONS];
    char backend[32];
    double start_time; /* Unix seconds */
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

metrics *metrics_new(const struct route *routes, size_t n)
{
    metrics *m = xcalloc(1, sizeof *m);
    m->nroutes = n;
    m->route_slot = xcalloc(n, sizeof *m->route_slot);
    m->slots = xcalloc(n + 1, sizeof *m->slots);
    for (size_t i = 0; i < n; i++) {
        size_t s = 0;
        while (s < m->nslots && strcmp(m->slots[s].name, routes[i].name) != 0)
            s++;
        if (s == m->nslots)
            m->slots[m->nslots++].name = routes[i].name;
        m->route_slot[i] = s;
    }
    m->slots[m->nslots++].name = "none";
    snprintf(m->backend, sizeof m->backend, "none");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    m->start_time = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    return m;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    free(m->route_slot);
    free(m->slots);
    free(m);
}

void metrics_set_backend(metrics *m, const char *backend)
{
    snprintf(m->backend, sizeof m->backend, "%s", backend);
}

void metrics_request_begin(metrics *m)
{
    atomic_fetch_add_explicit(&m->inflight, 1, memory_order_relaxed);
}

int64_t metrics_inflight(const metrics *m)
{
    return atomic_load_explicit(&m->inflight, memory_order_relaxed);
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < NMETHODS; i++)
        if (strcmp(method, method_names[i]) == 0)
            return i;
    return NMETHODS - 1;
}

static void count_status(struct slot *s, size_t mi, int status)
{
    struct status_count *t = s->status[mi];
    for (size_t i = 0; i < NSTATUS; i++) {
        int cur = atomic_load_explicit(&t[i].status, memory_order_acquire);
        if (cur == 0) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&t[i].status, &expected, status))
                cur = status;
            else
                cur = expected; /* another thread claimed it: maybe for our status */
        }
        if (cur == status) {
            atomic_fetch_add_explicit(&t[i].count, 1, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&s->status_other[mi], 1, memory_order_relaxed);
}

void metrics_request_end(metrics *m, size_t route_index, const char *method, int status,
                         uint64_t usec, uint64_t bytes)
{
    atomic_fetch_sub_explicit(&m->inflight, 1, memory_order_relaxed);
    struct slot *s =
        &m->slots[route_index < m->nroutes ? m->route_slot[route_index] : m->nslots - 1];
    count_status(s, method_index(method), status);
    size_t b = 0;
    while (b < NBUCKETS - 1 && usec > bucket_usec[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_usec, usec, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bytes, bytes, memory_order_relaxed);
}

void metrics_auth_failure(metrics *m, const char *reason)
{
    size_t i = 0;
    while (i + 1 < NREASONS && strcmp(auth_reasons[i], reason ? reason : "") != 0)
        i++;
    atomic_fetch_add_explicit(&m->auth_failures[i], 1, memory_order_relaxed);
}

/* ---- rendering --------------------------------------------------------------------- */

/* Output with a sticky error, so the renderers need not check every line. */
struct out {
    struct buf *b;
    int err;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
    if (o->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    o->err = buf_vprintf(o->b, fmt, ap);
    va_end(ap);
}

static uint64_t load(const atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(const metrics *m, struct out *out)
{
    outf(out, "# HELP ferry_http_requests_total HTTP requests by route, method and status.\n"
              "# TYPE ferry_http_requests_total counter\n");
    for (size_t s = 0; s < m->nslots; s++) {
        const struct slot *sl = &m->slots[s];
        for (size_t mi = 0; mi < NMETHODS; mi++) {
            for (size_t i = 0; i < NSTATUS; i++) {
                int st = atomic_load_explicit(&sl->status[mi][i].status, memory_order_acquire);
                if (st == 0)
                    break;
                outf(out,
                     "ferry_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                     "%llu\n",
                     sl->name, method_names[mi], st,
                     (unsigned long long)load(&sl->status[mi][i].count));
            }
            uint64_t other = load(&sl->status_other[mi]);
            if (other)
                outf(out,
                     "ferry_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"}"
                     " %llu\n",
                     sl->name, method_names[mi], (unsigned long long)other);
        }
    }
}

static void render_latency(const metrics *m, struct out *out)
{
    outf(out, "# HELP ferry_http_request_duration_seconds Time from the request line to the "
              "response sent.\n# TYPE ferry_http_request_duration_seconds histogram\n");
    for (size_t s = 0; s < m->nslots; s++) {
        const struct slot *sl = &m->slots[s];
        uint64_t count = load(&sl->count);
        if (count == 0)
            continue;
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += load(&sl->buckets[b]);
            if (b < NBUCKETS - 1)
                outf(out,
                     "ferry_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                     "%llu\n",
                     sl->name, (double)bucket_usec[b] / 1e6, (unsigned long long)cum);
            else
                outf(out,
                     "ferry_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                     "%llu\n",
                     sl->name, (unsigned long long)cum);
        }
        outf(out, "ferry_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", sl->name,
             (double)load(&sl->sum_usec) / 1e6);
        outf(out, "ferry_http_request_duration_seconds_count{route=\"%s\"} %llu\n", sl->name,
             (unsigned long long)count);
    }
    outf(out, "# HELP ferry_http_response_bytes_total Response body bytes sent.\n"
              "# TYPE ferry_http_response_bytes_total counter\n");
    for (size_t s = 0; s < m->nslots; s++)
        if (load(&m->slots[s].count))
            outf(out, "ferry_http_response_bytes_total{route=\"%s\"} %llu\n", m->slots[s].name,
                 (unsigned long long)load(&m->slots[s].bytes));
}

/* Resident set size in bytes from /proc/self/statm; 0 if unavailable. */
static uint64_t process_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return resident * (uint64_t)(page > 0 ? page : 4096);
}

static long process_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own descriptor */
}

static void render_auth(const metrics *m, struct out *out)
{
    outf(out, "# HELP ferry_auth_failures_total Refused authentications by reason.\n"
              "# TYPE ferry_auth_failures_total counter\n");
    for (size_t i = 0; i < NREASONS; i++)
        outf(out, "ferry_auth_failures_total{reason=\"%s\"} %llu\n", auth_reasons[i],
             (unsigned long long)load(&m->auth_failures[i]));
}

static void render_process(const metrics *m, struct out *out)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    outf(out,
         "# HELP ferry_http_requests_in_flight Requests begun and not yet finished.\n"
         "# TYPE ferry_http_requests_in_flight gauge\n"
         "ferry_http_requests_in_flight %lld\n"
         "# HELP ferry_build_info Build of this ferry process.\n"
         "# TYPE ferry_build_info gauge\n"
         "ferry_build_info{version=\"%s\",revision=\"%s\",backend=\"%s\"} 1\n"
         "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
         "# TYPE process_resident_memory_bytes gauge\n"
         "process_resident_memory_bytes %llu\n"
         "# HELP process_cpu_seconds_total User and system CPU time in seconds.\n"
         "# TYPE process_cpu_seconds_total counter\n"
         "process_cpu_seconds_total %.3f\n"
         "# HELP process_open_fds Open file descriptors.\n"
         "# TYPE process_open_fds gauge\n"
         "process_open_fds %ld\n"
         "# HELP process_start_time_seconds Start time since the Unix epoch in seconds.\n"
         "# TYPE process_start_time_seconds gauge\n"
         "process_start_time_seconds %.3f\n",
         (long long)metrics_inflight(m), FERRY_VERSION, FERRY_GIT_REV, m->backend,
         (unsigned long long)process_rss(), cpu, process_open_fds(), m->start_time);
}

int metrics_render(const metrics *m, struct buf *out)
{
    struct out o = {out, 0};
    render_requests(m, &o);
    render_latency(m, &o);
    render_auth(m, &o);
    render_process(m, &o);
    return o.err;
}
