/*
 * worker: see worker.h. Each thread loops: claim an upload, load it, record
 * the outcome; sleep on a condition variable (woken by new uploads) or poll.
 * The live progress of running loads sits in a small table under the worker's
 * mutex, one slot per thread plus the inline loads of request threads.
 */
#include "ingest/worker.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "ingest/datafiles.h"
#include "ingest/rawstore.h"

#define MAX_LIVE             64
#define DB_PROGRESS_EVERY_MS 1000

struct live {
    int64_t id; /* 0 = free slot */
    int percent;
    char info[128];
};

struct ingest_worker {
    struct ingest_worker_options opt;
    char *files_dir;
    char owner[128];
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wakeups;
    int stopping;
    atomic_int cancel;
    struct live live[MAX_LIVE];
};

/* ---- live progress ------------------------------------------------------------------- */

static struct live *live_take(ingest_worker *w, int64_t id)
{
    struct live *slot = NULL;
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < MAX_LIVE && !slot; i++)
        if (w->live[i].id == 0) {
            slot = &w->live[i];
            slot->id = id;
            slot->percent = 0;
            snprintf(slot->info, sizeof slot->info, "starting");
        }
    pthread_mutex_unlock(&w->mu);
    return slot;
}

static void live_set(ingest_worker *w, struct live *slot, int percent, const char *info)
{
    if (!slot)
        return;
    pthread_mutex_lock(&w->mu);
    slot->percent = percent;
    snprintf(slot->info, sizeof slot->info, "%s", info);
    pthread_mutex_unlock(&w->mu);
}

static void live_drop(ingest_worker *w, struct live *slot)
{
    if (!slot)
        return;
    pthread_mutex_lock(&w->mu);
    slot->id = 0;
    pthread_mutex_unlock(&w->mu);
}

int ingest_worker_progress(ingest_worker *w, int64_t datafile_id, int *percent, char *info,
                           size_t infolen)
{
    int found = 0;
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (w->live[i].id == datafile_id) {
            *percent = w->live[i].percent;
            snprintf(info, infolen, "%s", w->live[i].info);
            found = 1;
            break;
        }
    pthread_mutex_unlock(&w->mu);
    return found;
}

/* ---- one load ------------------------------------------------------------------------- */

struct job {
    ingest_worker *w;
    store *s;
    int64_t id;
    struct live *slot;
    int64_t last_db_ms;
};

static void job_progress(void *ctx, const struct ingest_progress *p)
{
    struct job *j = ctx;
    char info[128];
    const char *what = p->phase == INGEST_PHASE_CHECK  ? "checking"
                       : p->phase == INGEST_PHASE_LOAD ? "loading"
                                                       : "committing";
    snprintf(info, sizeof info, "%s: %lld rows", what, (long long)p->rows);
    live_set(j->w, j->slot, p->percent, info);
    /* Only pass 1 may touch the connection: pass 2 runs inside the load. */
    int64_t now = clock_now_ms();
    if (p->phase == INGEST_PHASE_CHECK && now - j->last_db_ms >= DB_PROGRESS_EVERY_MS) {
        j->last_db_ms = now;
        datafiles_progress(j->s, j->id, j->w->owner, p->percent, info, j->w->opt.lease_ms);
    }
}

static const char *opt_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The upload's options (JSON written by the upload handler) as ingest options.
 * Strings point into doc, which the caller keeps until the load ends. */
static int options_from_json(json_t *doc, const char *mode, struct ingest_options *o)
{
    if (ingest_mode_parse(mode, &o->mode) < 0)
        return ERR_INVAL;
    o->types = opt_str(doc, "types");
    o->primary_key = opt_str(doc, "primary_key");
    o->key = opt_str(doc, "key");
    o->force = json_is_true(json_object_get(doc, "force"));
    if (csvfile_delimiter_parse(opt_str(doc, "delimiter"), &o->csv.delimiter) < 0 ||
        csvfile_encoding_parse(opt_str(doc, "encoding"), &o->csv.encoding) < 0)
        return ERR_INVAL;
    return 0;
}

static void update_run(store *s, int64_t datafile_id, const char *state,
                       const struct ingest_result *res)
{
    char now[CLOCK_ISO_MAX];
    clock_now_iso(now);
    int done = strcmp(state, "running") != 0;
    struct store_value v[] = {
        SV_TEXT(state),
        SV_TEXT(now),
        done ? SV_TEXT(now) : SV_NULL(),
        SV_INT(res && res->rows > 0 ? res->rows : 0),
        done && res && res->status != INGEST_LOADED && res->status != INGEST_SKIPPED
            ? SV_TEXT(res->message)
            : SV_NULL(),
        SV_INT(datafile_id),
    };
    int rc = store_execv(s,
                         "UPDATE ferry_runs SET state = $1, started_at = COALESCE(started_at, $2), "
                         "finished_at = $3, rows_in = $4, rows_out = $4, error = $5, "
                         "attempt = attempt + (CASE WHEN $1 = 'running' THEN 1 ELSE 0 END) "
                         "WHERE id = (SELECT run_id FROM ferry_datafiles WHERE id = $6)",
                         v, sizeof v / sizeof v[0], NULL);
    if (rc < 0)
        log_warn("cannot update the upload's run", LF_INT("datafile", datafile_id),
                 LF_STR("error", store_errmsg(s)));
}

/* Load a claimed datafile: read its row, find its file, run ingest_file. */
static int load_claimed(ingest_worker *w, store *s, int64_t id, struct ingest_result *res)
{
    struct datafile *df = NULL;
    json_t *doc = NULL;
    char path[RAWSTORE_PATH_MAX];
    struct job j = {.w = w, .s = s, .id = id};
    int rc = datafiles_get(s, id, &df);
    memset(res, 0, sizeof *res);
    res->status = INGEST_FAILED;
    if (rc < 0)
        goto out;
    json_error_t jerr;
    doc = json_loads(df->options ? df->options : "{}", 0, &jerr);
    struct ingest_options o = {0};
    if (!doc || options_from_json(doc, df->mode, &o) < 0 ||
        rawstore_path(w->files_dir, df->sha256, path, sizeof path) < 0) {
        snprintf(res->message, sizeof res->message, "the upload's record is damaged");
        datafiles_finish(s, id, w->owner, "failed", -1, res->message, res->message, NULL);
        rc = ERR_INVAL;
        goto out;
    }
    o.csv.max_field = w->opt.limits.max_field;
    o.csv.max_columns = w->opt.limits.max_columns;
    o.csv.max_record = w->opt.limits.max_record;
    o.source = "upload";
    o.file_name = df->name;
    o.sha256 = df->sha256; /* the raw store names the file by it */
    o.datafile_id = id;
    o.owner = w->owner;
    o.progress = job_progress;
    o.progress_ctx = &j;
    o.cancel = &w->cancel;
    o.lease_ms = w->opt.lease_ms;
    j.slot = live_take(w, id);
    update_run(s, id, "running", NULL);
    log_info("loading upload", LF_INT("datafile", id), LF_STR("dataset", df->dataset),
             LF_INT("bytes", df->size));
    rc = ingest_file(s, path, df->dataset, &o, res);
    if (res->interrupted) {
        if (datafiles_release(s, id, w->owner) == 1)
            update_run(s, id, "queued", NULL);
        log_info("upload load interrupted; it will run again", LF_INT("datafile", id));
    } else if (res->abandoned) {
        log_warn("upload taken over by another worker", LF_INT("datafile", id));
    } else {
        update_run(s, id,
                   res->status == INGEST_LOADED || res->status == INGEST_SKIPPED ? "success"
                                                                                 : "failed",
                   res);
        log_info("upload done", LF_INT("datafile", id), LF_STR("dataset", df->dataset),
                 LF_STR("result", res->message));
    }
    live_drop(w, j.slot);
out:
    json_decref(doc);
    datafile_free(df);
    return rc;
}

int ingest_worker_load_now(ingest_worker *w, store *s, int64_t datafile_id,
                           struct ingest_result *res)
{
    if (atomic_load(&w->cancel))
        return 0; /* shutting down: the upload waits in the queue */
    int rc = datafiles_claim_id(s, datafile_id, w->owner, w->opt.lease_ms);
    if (rc <= 0)
        return rc;
    load_claimed(w, s, datafile_id, res);
    return 1;
}

/* ---- threads ----------------------------------------------------------------------------- */

/* Claim and load uploads until there are none. */
static void drain_queue(ingest_worker *w)
{
    store *s = NULL;
    if (store_pool_acquire(w->opt.pool, 5000, &s) < 0)
        return;
    datafiles_fail_abandoned(s, NULL);
    struct ingest_result *res = malloc(sizeof *res);
    while (res && !atomic_load(&w->cancel)) {
        int64_t id = 0;
        int rc = datafiles_claim(s, w->owner, w->opt.lease_ms, &id);
        if (rc < 0)
            log_warn("cannot claim uploads", LF_STR("error", store_errmsg(s)));
        if (rc <= 0)
            break;
        load_claimed(w, s, id, res);
    }
    free(res);
    store_pool_release(w->opt.pool, s);
}

static void *worker_main(void *arg)
{
    ingest_worker *w = arg;
    for (;;) {
        drain_queue(w);
        pthread_mutex_lock(&w->mu);
        if (!w->stopping && w->wakeups == 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += w->opt.poll_ms / 1000;
            until.tv_nsec += (long)(w->opt.poll_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cv, &w->mu, &until);
        }
        if (w->wakeups > 0)
            w->wakeups--;
        int stop = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            return NULL;
    }
}

int ingest_worker_start(const struct ingest_worker_options *o, ingest_worker **out)
{
    ingest_worker *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return ERR_NOMEM;
    w->opt = *o;
    if (w->opt.lease_ms <= 0)
        w->opt.lease_ms = 60000;
    if (w->opt.poll_ms <= 0)
        w->opt.poll_ms = 2000;
    w->files_dir = strdup(o->files_dir);
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(w->owner, sizeof w->owner, "%s:%d:%lld", host, (int)getpid(),
             (long long)clock_now_ms());
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    atomic_init(&w->cancel, 0);
    if (!w->files_dir)
        goto fail;
    if (o->threads > 0 && !(w->threads = calloc((size_t)o->threads, sizeof *w->threads)))
        goto fail;
    /* The threads start with every signal blocked (they inherit the mask), so a
     * SIGTERM meant for serve's sigwait is never delivered to a worker. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 0; i < o->threads; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (w->nthreads < o->threads)
        goto fail;
    *out = w;
    return 0;
fail:
    ingest_worker_stop(w);
    return ERR_NOMEM;
}

void ingest_worker_wake(ingest_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->wakeups++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void ingest_worker_cancel(ingest_worker *w)
{
    if (w)
        atomic_store(&w->cancel, 1);
}

void ingest_worker_stop(ingest_worker *w)
{
    if (!w)
        return;
    atomic_store(&w->cancel, 1);
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    free(w->threads);
    free(w->files_dir);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
