/* Unit tests for src/auth/nonce.c: the memory store in process, the Redis store
 * against a redis-server each test starts (or REDIS_TEST_URL for the shared
 * test). redis-server missing is a failure: `make test` installs it. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "auth/nonce.h"
#include "core/err.h"

/* ---- helpers ------------------------------------------------------------------------- */

static int64_t fake_now(void *ctx)
{
    return *(int64_t *)ctx;
}

static nonce_cache *open_memory(int ttl, size_t max)
{
    nonce_cache *c = NULL;
    char err[256];
    cr_assert_eq(nonce_cache_open(NULL, ttl, max, &c, err, sizeof err), 0, "%s", err);
    cr_assert_not_null(c);
    return c;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- memory store -------------------------------------------------------------------- */

Test(nonce, memory_fresh_then_replay)
{
    nonce_cache *c = open_memory(60, 1000);
    cr_assert_eq(nonce_cache_check(c, "alice", "n1", "1353832234"), 0);
    cr_assert_eq(nonce_cache_check(c, "alice", "n1", "1353832234"), ERR_CONFLICT);
    cr_assert_eq(nonce_cache_check(c, "alice", "n1", "1353832234"), ERR_CONFLICT);
    cr_assert_eq(nonce_cache_count(c), 1);
    nonce_cache_close(c);
}

Test(nonce, memory_any_difference_is_fresh)
{
    nonce_cache *c = open_memory(60, 1000);
    cr_assert_eq(nonce_cache_check(c, "alice", "n1", "100"), 0);
    cr_assert_eq(nonce_cache_check(c, "alice", "n1", "101"), 0, "other ts");
    cr_assert_eq(nonce_cache_check(c, "bob", "n1", "100"), 0, "other id");
    cr_assert_eq(nonce_cache_check(c, "alice", "n2", "100"), 0, "other nonce");
    /* The boundaries between the fields matter. */
    cr_assert_eq(nonce_cache_check(c, "ab", "c", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "a", "bc", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "a", "b", "c1"), 0);
    cr_assert_eq(nonce_cache_check(c, "", "", ""), 0);
    cr_assert_eq(nonce_cache_check(c, "", "", ""), ERR_CONFLICT);
    cr_assert_eq(nonce_cache_count(c), 8);
    nonce_cache_close(c);
}

Test(nonce, memory_expires_after_ttl_injected_clock)
{
    int64_t now = 1000000;
    nonce_cache *c = open_memory(5, 10);
    nonce_cache_set_clock(c, fake_now, &now);
    cr_assert_eq(nonce_cache_check(c, "id", "n", "1"), 0);
    now += 4999;
    cr_assert_eq(nonce_cache_check(c, "id", "n", "1"), ERR_CONFLICT, "still within ttl");
    now += 1;
    cr_assert_eq(nonce_cache_check(c, "id", "n", "1"), 0, "expired after exactly ttl");
    cr_assert_eq(nonce_cache_count(c), 1);
    nonce_cache_close(c);
}

Test(nonce, memory_expires_after_ttl_real_clock)
{
    nonce_cache *c = open_memory(1, 10);
    cr_assert_eq(nonce_cache_check(c, "id", "n", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "id", "n", "1"), ERR_CONFLICT);
    usleep(1100 * 1000);
    cr_assert_eq(nonce_cache_check(c, "id", "n", "1"), 0);
    nonce_cache_close(c);
}

Test(nonce, memory_full_fails_closed)
{
    int64_t now = 0;
    char why[256];
    nonce_cache *c = open_memory(10, 3);
    nonce_cache_set_clock(c, fake_now, &now);
    cr_assert_str_eq(nonce_cache_error(c, why, sizeof why), "");
    cr_assert_eq(nonce_cache_check(c, "id", "a", "1"), 0);
    now += 1000;
    cr_assert_eq(nonce_cache_check(c, "id", "b", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "id", "c", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "id", "d", "1"), ERR_UNAVAILABLE, "full: fail closed");
    cr_assert(strstr(nonce_cache_error(c, why, sizeof why), "full") != NULL, "%s", why);
    /* Live entries were not evicted: they are still replays. */
    cr_assert_eq(nonce_cache_check(c, "id", "a", "1"), ERR_CONFLICT);
    cr_assert_eq(nonce_cache_check(c, "id", "c", "1"), ERR_CONFLICT);
    now += 9000; /* "a" expires, room for one */
    cr_assert_eq(nonce_cache_check(c, "id", "d", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "id", "e", "1"), ERR_UNAVAILABLE);
    cr_assert_eq(nonce_cache_count(c), 3);
    nonce_cache_close(c);
}

/* A naive model (a list with expiry times) against the cache over a random
 * workload with a small table: exercises probing, wrap-around of the ring and
 * backward-shift deletion. */
Test(nonce, memory_matches_model_under_churn)
{
    enum { MAX = 8, UNIVERSE = 24, STEPS = 200000, TTL = 3 };
    int64_t now = 0;
    int64_t exp[UNIVERSE] = {0}; /* model: expiry of each triple, 0 = absent */
    unsigned seed = 12345;
    nonce_cache *c = open_memory(TTL, MAX);
    nonce_cache_set_clock(c, fake_now, &now);
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 16) % UNIVERSE);
        if ((seed >> 8) % 4 == 0)
            now += (int64_t)((seed >> 4) % 700);
        char nonce[16];
        snprintf(nonce, sizeof nonce, "n%d", k);
        int live = 0;
        for (int i = 0; i < UNIVERSE; i++) {
            if (exp[i] && exp[i] <= now)
                exp[i] = 0;
            live += exp[i] != 0;
        }
        int want = exp[k] ? ERR_CONFLICT : live == MAX ? ERR_UNAVAILABLE : 0;
        if (want == 0)
            exp[k] = now + TTL * 1000;
        int got = nonce_cache_check(c, "id", nonce, "1");
        cr_assert_eq(got, want, "step %d key %d: got %d want %d", step, k, got, want);
    }
    nonce_cache_close(c);
}

Test(nonce, memory_large_striped)
{
    enum { N = 200000 };
    nonce_cache *c = open_memory(60, N);
    char nonce[32];
    for (int i = 0; i < N; i++) {
        snprintf(nonce, sizeof nonce, "%d", i);
        cr_assert_eq(nonce_cache_check(c, "id", nonce, "1"), 0);
    }
    for (int i = 0; i < N; i += 997) {
        snprintf(nonce, sizeof nonce, "%d", i);
        cr_assert_eq(nonce_cache_check(c, "id", nonce, "1"), ERR_CONFLICT);
    }
    cr_assert_eq(nonce_cache_count(c), N);
    cr_assert_eq(nonce_cache_check(c, "id", "one more", "1"), ERR_UNAVAILABLE, "exact bound");
    nonce_cache_close(c);
}

enum { THREADS = 4, PER_THREAD = 10000 };

struct worker {
    nonce_cache *c;
    int index;
    int *fresh; /* PER_THREAD counters, shared */
    int conflicts;
    int others;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    char nonce[32];
    for (int n = 0; n < PER_THREAD; n++) {
        /* Each thread walks the same triples in its own order. */
        int k = (n * 7919 + w->index * 2503) % PER_THREAD;
        snprintf(nonce, sizeof nonce, "nonce-%d", k);
        int rc = nonce_cache_check(w->c, "client", nonce, "1353832234");
        if (rc == 0)
            __atomic_add_fetch(&w->fresh[k], 1, __ATOMIC_RELAXED);
        else if (rc == ERR_CONFLICT)
            w->conflicts++;
        else
            w->others++;
    }
    return NULL;
}

static void run_concurrent(size_t max)
{
    nonce_cache *c = open_memory(60, max);
    int *fresh = calloc(PER_THREAD, sizeof *fresh);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.c = c, .index = i, .fresh = fresh};
        cr_assert_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    int conflicts = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        conflicts += w[i].conflicts;
        cr_assert_eq(w[i].others, 0);
    }
    for (int k = 0; k < PER_THREAD; k++)
        cr_assert_eq(fresh[k], 1, "triple %d reported fresh %d times", k, fresh[k]);
    cr_assert_eq(conflicts, (THREADS - 1) * PER_THREAD);
    free(fresh);
    nonce_cache_close(c);
}

Test(nonce, memory_concurrent_one_stripe)
{
    run_concurrent(PER_THREAD); /* small: one lock */
}

Test(nonce, memory_concurrent_striped)
{
    run_concurrent(1000000); /* large: lock stripes */
}

Test(nonce, open_rejects_bad_arguments)
{
    nonce_cache *c = (nonce_cache *)1;
    char err[256];
    cr_assert_eq(nonce_cache_open(NULL, 0, 10, &c, err, sizeof err), ERR_INVAL);
    cr_assert_null(c);
    cr_assert_eq(nonce_cache_open("", 10, 0, &c, err, sizeof err), ERR_INVAL);
    cr_assert_eq(nonce_cache_open(NULL, 10, 10, NULL, err, sizeof err), ERR_INVAL);
    c = open_memory(10, 10);
    cr_assert_eq(nonce_cache_check(c, NULL, "n", "1"), ERR_INVAL);
    cr_assert_eq(nonce_cache_check(c, "id", NULL, "1"), ERR_INVAL);
    cr_assert_eq(nonce_cache_check(c, "id", "n", NULL), ERR_INVAL);
    cr_assert_eq(nonce_cache_check(NULL, "id", "n", "1"), ERR_INVAL);
    nonce_cache_close(c);
    nonce_cache_close(NULL);
}

Test(nonce, open_rejects_bad_urls_without_showing_password)
{
    static const char *bad[] = {
        "http://:hunter2@host:6379",  "rediss://:hunter2@host:6379", "redis://:hunter2@",
        "redis://:hunter2@host:0",    "redis://:hunter2@host:99999", "redis://:hunter2@host:x",
        "redis://:hunter2@host:1/x",  "redis://hunter2@host:1",      "redis://:@host:1",
        "redis://:hunter2%zz@host:1", "redis://:hunter2@[::1:1",     "redis://:hunter2@host:1/0?a",
        "redis://:hunter2%00@host:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nonce_cache *c = NULL;
        char err[256];
        cr_assert_eq(nonce_cache_open(bad[i], 10, 10, &c, err, sizeof err), ERR_INVAL, "%s",
                     bad[i]);
        cr_assert_null(c);
        cr_assert(err[0] != '\0', "%s: no message", bad[i]);
        cr_assert(strstr(err, "hunter2") == NULL, "%s: message shows the password: %s", bad[i],
                  err);
    }
}

/* ---- Redis --------------------------------------------------------------------------- */

struct redis_srv {
    pid_t pid;
    int port;
    char dir[64];
};

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int can_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static const char *redis_server_path(void)
{
    static char path[4096];
    const char *env = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/bin:/usr/sbin:/usr/local/bin", env ? env : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/redis-server", d);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* Start redis-server on a free loopback port (port 0) or on port, with extra
 * arguments (NULL-terminated, up to 4). It dies with the test process. */
static void redis_start(struct redis_srv *s, int port, const char *const *extra)
{
    const char *bin = redis_server_path();
    cr_assert_not_null(bin, "redis-server is not installed: the Redis tests need it "
                            "(`make test` / `make deps` installs the redis-server package)");
    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "/tmp/ferry-redis-XXXXXX");
        cr_assert_not_null(mkdtemp(s->dir));
    }
    s->port = port ? port : free_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", s->port);
    const char *argv[16] = {bin, "--port",       portstr, "--bind", "127.0.0.1", "--save",
                            "",  "--appendonly", "no",    "--dir",  s->dir,      "--daemonize",
                            "no"};
    int n = 13;
    for (int i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    s->pid = fork();
    cr_assert(s->pid >= 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (can_connect(s->port))
            return;
        int status;
        cr_assert_eq(waitpid(s->pid, &status, WNOHANG), 0, "redis-server exited at start-up");
        usleep(10 * 1000);
    }
    cr_assert_fail("redis-server did not start on port %d", s->port);
}

static void redis_kill(struct redis_srv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static void redis_stop(struct redis_srv *s)
{
    redis_kill(s);
    if (s->dir[0]) {
        DIR *d = opendir(s->dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char p[512];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", s->dir, e->d_name);
            unlink(p);
        }
        if (d)
            closedir(d);
        rmdir(s->dir);
        s->dir[0] = '\0';
    }
}

static void unique_id(char *out, size_t n)
{
    unsigned char r[8];
    cr_assert_eq(getrandom(r, sizeof r, 0), (ssize_t)sizeof r);
    snprintf(out, n, "test-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
             r[6], r[7]);
}

static nonce_cache *open_url(const char *url, int ttl)
{
    nonce_cache *c = NULL;
    char err[256];
    cr_assert_eq(nonce_cache_open(url, ttl, 0, &c, err, sizeof err), 0, "open: %s", err);
    return c;
}

Test(nonce, redis_shared_between_handles)
{
    struct redis_srv s = {0};
    char url[128], id[64];
    const char *env = getenv("REDIS_TEST_URL");
    if (env && env[0]) {
        snprintf(url, sizeof url, "%s", env);
    } else {
        redis_start(&s, 0, NULL);
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    }
    unique_id(id, sizeof id);
    nonce_cache *a = open_url(url, 60), *b = open_url(url, 60);
    cr_assert_eq(nonce_cache_check(a, id, "n1", "100"), 0);
    cr_assert_eq(nonce_cache_check(b, id, "n1", "100"), ERR_CONFLICT, "seen by the other handle");
    cr_assert_eq(nonce_cache_check(a, id, "n1", "100"), ERR_CONFLICT);
    cr_assert_eq(nonce_cache_check(b, id, "n1", "101"), 0, "other ts");
    cr_assert_eq(nonce_cache_check(b, id, "n2", "100"), 0, "other nonce");
    char id2[80];
    snprintf(id2, sizeof id2, "%s-2", id);
    cr_assert_eq(nonce_cache_check(b, id2, "n1", "100"), 0, "other id");
    cr_assert_eq(nonce_cache_check(a, id2, "n1", "100"), ERR_CONFLICT);
    /* Fields cannot run into each other: nonce "a:1" ts "2" vs nonce "a" ts "1:2". */
    cr_assert_eq(nonce_cache_check(a, id, "a:1", "2"), 0);
    cr_assert_eq(nonce_cache_check(a, id, "a", "1:2"), 0);
    /* Expiry: Redis drops the key after ttl. */
    nonce_cache *short_ttl = open_url(url, 1);
    cr_assert_eq(nonce_cache_check(short_ttl, id, "short", "1"), 0);
    cr_assert_eq(nonce_cache_check(short_ttl, id, "short", "1"), ERR_CONFLICT);
    usleep(1200 * 1000);
    cr_assert_eq(nonce_cache_check(short_ttl, id, "short", "1"), 0);
    nonce_cache_close(short_ttl);
    nonce_cache_close(a);
    nonce_cache_close(b);
    redis_stop(&s);
}

Test(nonce, redis_password_user_and_db)
{
    struct redis_srv s = {0};
    static const char *const extra[] = {"--requirepass", "s3cr3t pw", NULL};
    char url[160], why[256];
    nonce_cache *c = NULL;
    redis_start(&s, 0, extra);

    /* redis://:password@host:port/db, percent-encoded space */
    snprintf(url, sizeof url, "redis://:s3cr3t%%20pw@127.0.0.1:%d/3", s.port);
    c = open_url(url, 60);
    cr_assert_eq(nonce_cache_check(c, "alice", "n:1", "100"), 0);
    cr_assert_eq(nonce_cache_check(c, "alice", "n:1", "100"), ERR_CONFLICT);
    nonce_cache_close(c);

    /* The key is in database 3, in the documented form, with the TTL. */
    redisContext *r = redisConnect("127.0.0.1", s.port);
    cr_assert(r && !r->err);
    freeReplyObject(redisCommand(r, "AUTH %s", "s3cr3t pw"));
    freeReplyObject(redisCommand(r, "SELECT 3"));
    redisReply *ttl = redisCommand(r, "TTL %s", "ferry:nonce:5:alice:3:n:1:100");
    cr_assert(ttl && ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 50 && ttl->integer <= 60,
              "key missing or without TTL");
    freeReplyObject(ttl);
    redisFree(r);

    /* redis://user:password@host:port (Redis 6 ACL; "default" is the requirepass user) */
    snprintf(url, sizeof url, "redis://default:s3cr3t%%20pw@127.0.0.1:%d", s.port);
    c = open_url(url, 60);
    cr_assert_eq(nonce_cache_check(c, "alice", "n:1", "100"), 0, "database 0 is separate");
    nonce_cache_close(c);

    /* Wrong or missing password: a clear start-up error without the password. */
    char err[256];
    snprintf(url, sizeof url, "redis://:wrongpass@127.0.0.1:%d", s.port);
    cr_assert_eq(nonce_cache_open(url, 60, 0, &c, err, sizeof err), ERR_UNAVAILABLE);
    cr_assert_null(c);
    cr_assert(strstr(err, "AUTH") != NULL, "%s", err);
    cr_assert(strstr(err, "wrongpass") == NULL, "%s", err);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    cr_assert_eq(nonce_cache_open(url, 60, 0, &c, err, sizeof err), ERR_UNAVAILABLE);
    cr_assert(strstr(err, "PING") != NULL, "%s", err);
    (void)why;
    redis_stop(&s);
}

Test(nonce, redis_down_fails_closed_fast)
{
    struct redis_srv s = {0};
    char url[128], err[256], why[256];
    nonce_cache *c = NULL;

    /* Nothing listening at start-up: a clear error. */
    int port = free_port();
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    cr_assert_eq(nonce_cache_open(url, 60, 0, &c, err, sizeof err), ERR_UNAVAILABLE);
    cr_assert(strstr(err, "cannot connect to Redis at 127.0.0.1:") != NULL, "%s", err);

    redis_start(&s, 0, NULL);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    c = open_url(url, 60);
    cr_assert_eq(nonce_cache_check(c, "id", "before", "1"), 0);
    redis_kill(&s);
    double t0 = now_sec();
    cr_assert_eq(nonce_cache_check(c, "id", "after", "1"), ERR_UNAVAILABLE);
    cr_assert_eq(nonce_cache_check(c, "id", "after2", "1"), ERR_UNAVAILABLE);
    double took = now_sec() - t0;
    cr_assert(took < 0.5, "took %.3f s", took);
    cr_assert(strstr(nonce_cache_error(c, why, sizeof why), "Redis at 127.0.0.1") != NULL, "%s",
              why);
    nonce_cache_close(c);
    redis_stop(&s);
}

Test(nonce, redis_reconnects_after_restart)
{
    struct redis_srv s = {0};
    char url[128];
    redis_start(&s, 0, NULL);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    nonce_cache *c = open_url(url, 60);
    cr_assert_eq(nonce_cache_check(c, "id", "one", "1"), 0);
    redis_kill(&s);
    redis_start(&s, s.port, NULL);
    /* The pooled connection is dead; the check retries once on a new one. */
    cr_assert_eq(nonce_cache_check(c, "id", "two", "1"), 0);
    cr_assert_eq(nonce_cache_check(c, "id", "two", "1"), ERR_CONFLICT);
    nonce_cache_close(c);
    redis_stop(&s);
}

static void *redis_worker(void *arg)
{
    struct worker *w = arg;
    char nonce[32];
    for (int n = 0; n < 500; n++) {
        int k = (n * 7919 + w->index * 2503) % 500;
        snprintf(nonce, sizeof nonce, "nonce-%d", k);
        int rc = nonce_cache_check(w->c, "client", nonce, "1");
        if (rc == 0)
            __atomic_add_fetch(&w->fresh[k], 1, __ATOMIC_RELAXED);
        else if (rc != ERR_CONFLICT)
            w->others++;
    }
    return NULL;
}

Test(nonce, redis_concurrent_threads)
{
    struct redis_srv s = {0};
    char url[128];
    redis_start(&s, 0, NULL);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    nonce_cache *c = open_url(url, 60);
    int fresh[500] = {0};
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.c = c, .index = i, .fresh = fresh};
        cr_assert_eq(pthread_create(&t[i], NULL, redis_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].others, 0);
    }
    for (int k = 0; k < 500; k++)
        cr_assert_eq(fresh[k], 1, "triple %d fresh %d times", k, fresh[k]);
    nonce_cache_close(c);
    redis_stop(&s);
}
