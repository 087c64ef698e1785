/*
 * serve: `ferry serve` — check the database, start the HTTP server, and on
 * SIGTERM or SIGINT shut down gracefully:
 *
 *   1. stop accepting connections (the listening socket is closed at once, so a
 *      load balancer sees the process leave);
 *   2. let in-flight requests finish, for at most http.shutdown_timeout_sec
 *      (a second signal cuts the wait short);
 *   3. close connections and the database, exit 0.
 *
 * Signals are blocked in every thread and taken synchronously by the main
 * thread with sigwait, so no work happens in a signal handler.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/guard.h"
#include "auth/auth.h"
#include "auth/nonce.h"
#include "auth/secret.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "core/err.h"
#include "core/log.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ingest/rawstore.h"
#include "ingest/worker.h"
#include "store/migrate.h"

/* How long a request waits for a pooled database connection. */
#define DB_WAIT_MS 5000

static const char serve_usage[] =
    "usage: ferry serve [--migrate] [OPTIONS]\n\n"
    "Serve the HTTP API. Refuses to start on a database with pending migrations\n"
    "unless --migrate is given. SIGTERM or SIGINT stops it gracefully.\n\n"
    "  --migrate              create the database if needed and apply pending migrations\n"
    "  --demo                 load a demo dataset and client if missing, and print a command\n"
    "                         that reads it (what `make run` does)\n";

static void log_migration(const struct migration *m, void *ctx)
{
    (void)ctx;
    log_info("migration applied", LF_INT("version", m->version), LF_STR("name", m->name));
}

/* What serve owns besides the server: freed in this order by serve_close. */
struct serve {
    store_pool *pool;
    secret_key *secret;
    nonce_cache *nonces;
    auth *auth;
    ingest_worker *ingest;
};

static void serve_close(struct serve *sv)
{
    ingest_worker_stop(sv->ingest);
    auth_free(sv->auth);
    nonce_cache_close(sv->nonces);
    secret_key_free(sv->secret);
    store_pool_close(sv->pool);
}

/* The server secret: loaded (or created on a database that never had one) and
 * checked against the database, so a lost or replaced secret stops the start. */
static int load_secret(const struct cli *c, store *s, secret_key **out)
{
    char why[512];
    if (secret_setup(s, config_str(c->cfg, CFG_AUTH_SECRET),
                     config_str(c->cfg, CFG_AUTH_SECRET_FILE), 1, out, why, sizeof why) < 0) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* Check (and with migrate, bring) the schema to this binary's version, then load
 * the server secret. */
static int prepare_database(const struct cli *c, int migrate, secret_key **secret)
{
    store *s = NULL;
    struct migrate_status st;
    int rc = cli_open_store(c, migrate, &s);
    if (rc != CLI_OK) {
        if (rc == CLI_NOT_READY)
            cli_hint_missing_database(
                c, "create it with `ferry db init`, or start with `ferry serve --migrate`");
        return rc;
    }
    if (migrate_get_status(s, &st) < 0) {
        cli_error("cannot read the schema version: %s", store_errmsg(s));
        rc = CLI_FAIL;
    } else if (st.unknown) {
        cli_error("database %s has a newer schema (version %d) than this ferry knows (%d); "
                  "upgrade ferry",
                  cli_database_display(c), st.current, st.latest);
        rc = CLI_NOT_READY;
    } else if (st.pending && !migrate) {
        cli_error("database %s has %d pending migration%s (schema version %d, latest %d); run "
                  "`ferry db migrate` or start with `ferry serve --migrate`",
                  cli_database_display(c), st.pending, st.pending == 1 ? "" : "s", st.current,
                  st.latest);
        rc = CLI_NOT_READY;
    } else if (st.pending && migrate_apply(s, NULL, log_migration, NULL) < 0) {
        cli_error("migration failed: %s", store_errmsg(s));
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK)
        rc = load_secret(c, s, secret);
    store_close(s);
    return rc;
}

/* The replay cache and the auth decision maker, from the config. */
static int setup_auth(const struct cli *c, struct serve *sv)
{
    char why[512];
    const config *cfg = c->cfg;
    if (config_int(cfg, CFG_AUTH_NONCE_CHECK) &&
        nonce_cache_open(
            config_str(cfg, CFG_CACHE_URL), (int)config_int(cfg, CFG_AUTH_NONCE_TTL_SEC),
            (size_t)config_int(cfg, CFG_AUTH_NONCE_MAX), &sv->nonces, why, sizeof why) < 0) {
        cli_error("cannot open the nonce cache: %s", why);
        return CLI_FAIL;
    }
    if (auth_new(cfg, &sv->auth, why, sizeof why) < 0) {
        cli_error("%s", why);
        return CLI_USAGE;
    }
    guard_install(sv->auth);
    if (sv->nonces)
        auth_set_nonce(sv->auth, nonce_cache_check, sv->nonces);
    if (!auth_enabled(sv->auth))
        log_warn("auth.enabled is 0: every route is open to anyone");
    return CLI_OK;
}

static double elapsed_sec(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* After the first signal: wait for in-flight requests, bounded. */
static void drain(http_server *srv, const sigset_t *sigs, int timeout_sec)
{
    struct timespec start, tick = {0, 50 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (http_server_inflight(srv) > 0) {
        if (elapsed_sec(&start) >= timeout_sec) {
            log_warn("shutdown timeout: abandoning requests",
                     LF_INT("in_flight", http_server_inflight(srv)));
            return;
        }
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig > 0) {
            log_warn("second signal: stopping now", LF_STR("signal", strsignal(sig)),
                     LF_INT("in_flight", http_server_inflight(srv)));
            return;
        }
    }
}

/* The raw file store and the upload workers (they resume uploads left
 * unfinished by a previous run). */
static int start_ingest(const struct cli *c, struct serve *sv)
{
    char why[512];
    const char *dir = config_str(c->cfg, CFG_INGEST_FILES_DIR);
    if (rawstore_prepare(dir, why, sizeof why) < 0) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    struct ingest_worker_options o = {
        .pool = sv->pool,
        .files_dir = dir,
        .threads = (int)config_int(c->cfg, CFG_INGEST_WORKERS),
        .lease_ms = config_int(c->cfg, CFG_INGEST_LEASE_SEC) * 1000,
        .limits = {.max_field = (size_t)config_int(c->cfg, CFG_INGEST_MAX_FIELD_BYTES),
                   .max_columns = (size_t)config_int(c->cfg, CFG_INGEST_MAX_COLUMNS),
                   .max_record = (size_t)config_int(c->cfg, CFG_INGEST_MAX_LINE_BYTES)},
    };
    if (ingest_worker_start(&o, &sv->ingest) < 0) {
        cli_error("cannot start the upload workers");
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int run_server(const struct cli *c, const struct serve *sv, const char *demo_key)
{
    const config *cfg = c->cfg;
    store_pool *pool = sv->pool;
    struct api_ctx ctx = {
        .cfg = cfg,
        .pool = pool,
        .db_wait_ms = DB_WAIT_MS,
        .auth = sv->auth,
        .secret = sv->secret,
        .ingest = sv->ingest,
        .files_dir = config_str(cfg, CFG_INGEST_FILES_DIR),
        .inline_bytes = config_int(cfg, CFG_INGEST_INLINE_BYTES),
        .max_upload = config_int(cfg, CFG_INGEST_MAX_FILE_BYTES),
    };
    secret_derive(sv->secret, "ferry cursor v1", ctx.cursor_key);
    dq_limits_default(&ctx.data_limits);
    ctx.data_limits.page_size_default = config_int(cfg, CFG_API_PAGE_SIZE);
    ctx.data_limits.page_size_max = config_int(cfg, CFG_API_MAX_PAGE_SIZE);
    struct http_server_options opt = {0};
    char why[512];
    http_server *srv = NULL;
    sigset_t sigs;
    int sig = 0;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* inherited by the server's threads */
    signal(SIGPIPE, SIG_IGN);

    opt.host = config_str(cfg, CFG_HTTP_HOST);
    opt.port = (int)config_int(cfg, CFG_HTTP_PORT);
    opt.threads = (int)config_int(cfg, CFG_HTTP_THREADS);
    opt.max_connections = (int)config_int(cfg, CFG_HTTP_MAX_CONNECTIONS);
    opt.timeout_sec = (int)config_int(cfg, CFG_HTTP_TIMEOUT_SEC);
    opt.max_header_bytes = (size_t)config_int(cfg, CFG_HTTP_MAX_HEADER_BYTES);
    opt.default_body_limit = (size_t)config_int(cfg, CFG_HTTP_MAX_BODY_BYTES);
    opt.routes = api_routes(&opt.nroutes);
    opt.app = &ctx;
    guard_hooks(&opt);
    if (http_server_start(&opt, &srv, why, sizeof why) < 0) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    metrics_set_backend(http_server_metrics(srv),
                        store_pool_backend(pool) == STORE_POSTGRESQL ? "postgresql" : "sqlite");
    log_info("listening", LF_STR("host", opt.host), LF_INT("port", http_server_port(srv)),
             LF_STR("database", cli_database_display(c)), LF_STR("version", FERRY_VERSION),
             LF_INT("pid", getpid()));
    if (demo_key)
        demo_print(opt.host, http_server_port(srv), demo_key);

    while (sigwait(&sigs, &sig) != 0)
        ;
    log_info("shutting down", LF_STR("signal", strsignal(sig)),
             LF_INT("in_flight", http_server_inflight(srv)));
    /* Running loads roll back now and go back to the queue, rather than hold
     * the shutdown for as long as they take. */
    ingest_worker_cancel(sv->ingest);
    http_server_quiesce(srv);
    drain(srv, &sigs, (int)config_int(cfg, CFG_HTTP_SHUTDOWN_TIMEOUT_SEC));
    http_server_stop(srv);
    log_info("stopped");
    return CLI_OK;
}

int cli_serve(int argc, char **argv)
{
    struct cli c;
    struct serve sv = {0};
    int migrate = 0, demo = 0;
    struct buf demo_key;
    const struct cli_opt opts[] = {{"--migrate", NULL, &migrate, "apply pending migrations"},
                                   {"--demo", NULL, &demo, "load the demo dataset and client"}};
    buf_init(&demo_key, 1024);
    int rc = cli_setup(argc, argv, opts, 2, 0, serve_usage, &c);
    if (rc < 0)
        return CLI_OK;
    if (rc != CLI_OK)
        return rc;
    rc = prepare_database(&c, migrate, &sv.secret);
    if (rc != CLI_OK)
        goto out;
    rc = setup_auth(&c, &sv);
    if (rc != CLI_OK)
        goto out;
    if (demo && (rc = demo_prepare(&c, sv.secret, &demo_key)) != CLI_OK)
        goto out;

    char why[512];
    struct store_options sopt = {0};
    sopt.busy_timeout_ms = (int)config_int(c.cfg, CFG_DATABASE_BUSY_TIMEOUT_MS);
    sopt.main_schema = config_str(c.cfg, CFG_DATABASE_MAIN_SCHEMA);
    int pool_size = (int)config_int(c.cfg, CFG_DATABASE_POOL_SIZE);
    if (pool_size == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int threads = (int)config_int(c.cfg, CFG_HTTP_THREADS);
        pool_size = (threads ? threads : (int)(cores > 0 ? cores : 1)) + 2 +
                    (int)config_int(c.cfg, CFG_INGEST_WORKERS);
    }
    if (store_pool_open(config_str(c.cfg, CFG_DATABASE_URL), &sopt, pool_size, &sv.pool, why,
                        sizeof why) < 0) {
        cli_error("cannot open database %s: %s", cli_database_display(&c), why);
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = start_ingest(&c, &sv)) != CLI_OK)
        goto out;
    rc = run_server(&c, &sv, demo ? buf_cstr(&demo_key) : NULL);
out:
    if (demo_key.data)
        memset(demo_key.data, 0, demo_key.len);
    buf_free(&demo_key);
    serve_close(&sv);
    cli_free(&c);
    return rc;
}
