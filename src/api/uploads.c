/*
 * uploads: POST /api/v1/datasets/{name}/uploads and GET /api/v1/uploads/{id}.
 *
 * The upload route streams (ROUTE_STREAM): the sink writes the body (or the
 * form's file part) into a temporary file of the raw file store while hashing
 * it; nothing is registered until the whole body is in and authenticated.
 * Then the handler names the file by its sha256, registers the upload and its
 * run in one transaction, and either
 *   - loads it at once in this request when it is small (ingest.inline_bytes):
 *     201 loaded, 200 skipped (already loaded), 422 rejected (with the
 *     problems), or
 *   - leaves it to the background workers: 202 with Location and status_url.
 *
 * Options come from the query string: mode, key, primary_key, types,
 * delimiter, encoding, force. They are checked before the first byte is
 * stored, so a bad one costs no upload.
 */
#include "api/uploads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/guard.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http.h"
#include "ingest/catalog.h"
#include "ingest/csvfile.h"
#include "ingest/datafiles.h"
#include "ingest/ingest.h"
#include "ingest/rawstore.h"
#include "ingest/worker.h"

#define OPTION_MAX            4096
#define FILENAME_MAX_         255
#define REGISTER_BUSY_RETRIES 11

struct upload {
    rawstore_writer *file;
};

static void upload_free(void *p)
{
    struct upload *u = p;
    rawstore_writer_abort(u->file);
    free(u);
}

/* Who is asking, as recorded on an upload: "hawk:ID" for a Hawk client,
 * "apikey" for the API key (no client id can collide: the prefix differs),
 * NULL with auth switched off (everyone sees everything then). */
static const char *caller_of(http_req *r, char *buf, size_t len)
{
    const struct auth_result *id = guard_identity(r);
    if (!id)
        return NULL;
    switch (id->method) {
    case AUTH_HAWK:
    case AUTH_BEWIT:
        snprintf(buf, len, "hawk:%s", id->client_id);
        return buf;
    case AUTH_APIKEY:
        return "apikey";
    default:
        return NULL;
    }
}

/* ---- options ------------------------------------------------------------------------- */

static int option_ok(const char *v)
{
    return !v || strlen(v) <= OPTION_MAX;
}

/* Check the dataset name and the query options; answers 400 and returns <0 when
 * one is wrong. */
static int check_options(http_req *r)
{
    const char *name = http_req_param(r, "name");
    const char *mode = http_req_query(r, "mode");
    const char *delim = http_req_query(r, "delimiter");
    const char *enc = http_req_query(r, "encoding");
    enum ingest_mode m;
    char msg[256];
    if (!catalog_name_valid(name)) {
        http_reply_error(r, ERR_INVAL,
                         "invalid dataset name: use a-z, 0-9 and _, starting with a letter");
        return -1;
    }
    if (mode && ingest_mode_parse(mode, &m) < 0) {
        http_reply_error(r, ERR_INVAL, "mode must be append, upsert or replace");
        return -1;
    }
    char d;
    enum csvfile_encoding e;
    if (csvfile_delimiter_parse(delim, &d) < 0) {
        http_reply_error(r, ERR_INVAL, "delimiter must be one of , ; | tab");
        return -1;
    }
    if (csvfile_encoding_parse(enc, &e) < 0) {
        http_reply_error(r, ERR_INVAL, "encoding must be utf-8, latin-1 or cp1252");
        return -1;
    }
    const char *names[] = {"key", "primary_key", "types"};
    for (size_t i = 0; i < 3; i++)
        if (!option_ok(http_req_query(r, names[i]))) {
            snprintf(msg, sizeof msg, "%s is too long", names[i]);
            http_reply_error(r, ERR_INVAL, msg);
            return -1;
        }
    return 0;
}

static int truthy(const char *v)
{
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
                 strcmp(v, "") == 0);
}

/* The options as the JSON the worker reads back (worker.c). */
static int options_json(http_req *r, struct buf *out)
{
    struct json_writer w;
    json_init(&w, out);
    json_object_begin(&w);
    const char *names[] = {"key", "primary_key", "types", "encoding"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = http_req_query(r, names[i]);
        if (v && *v) {
            json_key(&w, names[i]);
            json_string(&w, v);
        }
    }
    const char *d = http_req_query(r, "delimiter");
    if (d && *d) {
        json_key(&w, "delimiter");
        json_string(&w, strcmp(d, "tab") == 0 ? "\t" : d);
    }
    json_key(&w, "force");
    json_bool(&w, truthy(http_req_query(r, "force")));
    json_object_end(&w);
    return json_finish(&w);
}

/* ---- the body ------------------------------------------------------------------------- */

static struct upload *upload_state(http_req *r)
{
    struct upload *u = http_req_state(r);
    if (u)
        return u;
    const struct api_ctx *api = http_req_app(r);
    if (check_options(r) < 0)
        return NULL;
    u = calloc(1, sizeof *u);
    if (!u) {
        http_reply_error(r, ERR_NOMEM, NULL);
        return NULL;
    }
    if (rawstore_writer_begin(api->files_dir, &u->file) < 0) {
        log_error("cannot create an upload file", LF_STR("dir", api->files_dir));
        free(u);
        http_reply_error(r, ERR_IO, "cannot store the upload");
        return NULL;
    }
    http_req_set_state(r, u, upload_free);
    return u;
}

int uploads_sink(http_req *r, const char *data, size_t n)
{
    const struct api_ctx *api = http_req_app(r);
    struct upload *u = upload_state(r);
    if (!u)
        return -1;
    if (api->max_upload > 0 && rawstore_writer_size(u->file) + (int64_t)n > api->max_upload) {
        char msg[128];
        snprintf(msg, sizeof msg, "the upload is larger than %lld bytes (ingest.max_file_bytes)",
                 (long long)api->max_upload);
        http_reply_error(r, ERR_TOOBIG, msg);
        return -1;
    }
    if (rawstore_writer_write(u->file, data, n) < 0) {
        log_error("cannot write an upload (disk full?)");
        http_reply_error(r, ERR_IO, "cannot store the upload");
        return -1;
    }
    return 0;
}

/* ---- registering ---------------------------------------------------------------------- */

/* The name to record: the form's filename without any directory, or "upload.csv". */
static void display_name(http_req *r, char *out, size_t outlen)
{
    const char *f = http_req_upload_filename(r);
    if (f) {
        const char *slash = strrchr(f, '/'), *bslash = strrchr(f, '\\');
        if (bslash && (!slash || bslash > slash))
            slash = bslash;
        if (slash)
            f = slash + 1;
    }
    snprintf(out, outlen, "%s", f && *f ? f : "upload.csv");
}

static int register_upload(store *s, http_req *r, const char *sha, int64_t size, int64_t *id)
{
    char name[FILENAME_MAX_ + 1], now[CLOCK_ISO_MAX], who[AUTH_ID_MAX + 8];
    const char *dataset = http_req_param(r, "name");
    const char *mode = http_req_query(r, "mode");
    struct buf opts;
    int rc;
    buf_init(&opts, 4 * OPTION_MAX + 256);
    display_name(r, name, sizeof name);
    clock_now_iso(now);
    if ((rc = options_json(r, &opts)) < 0 || (rc = store_begin(s)) < 0)
        goto out;
    struct datafile_new n = {.dataset = dataset,
                             .name = name,
                             .sha256 = sha,
                             .source = "upload",
                             .mode = mode && *mode ? mode : "append",
                             .options = buf_cstr(&opts),
                             .state = "received",
                             .size = size,
                             .uploaded_by = caller_of(r, who, sizeof who)};
    int64_t run_id = 0;
    char pipeline[64];
    snprintf(pipeline, sizeof pipeline, "upload:%s", dataset);
    struct store_value rv[] = {SV_TEXT(pipeline), SV_TEXT(now)};
    if ((rc = datafiles_insert(s, &n, id)) < 0 ||
        (rc = store_query_int(s,
                              "INSERT INTO ferry_runs (pipeline, mode, state, queued_at) "
                              "VALUES ($1, 'rerun', 'queued', $2) RETURNING id",
                              rv, 2, &run_id)) < 0)
        goto out;
    struct store_value lv[] = {SV_INT(run_id), SV_INT(*id)};
    if ((rc = store_execv(s, "UPDATE ferry_datafiles SET run_id = $1 WHERE id = $2", lv, 2, NULL)) <
            0 ||
        (rc = store_commit(s)) < 0)
        goto out;
out:
    if (rc < 0) {
        log_error("cannot register an upload", LF_STR("error", store_errmsg(s)));
        store_rollback(s);
    }
    buf_free(&opts);
    return rc;
}

/* POST answers {"upload": {...}, "run": {"id", "status_url"}}; GET answers the
 * upload itself (the seed's progress fields at the top level). */
static void write_upload(const struct datafile *d, int envelope, struct buf *b)
{
    struct json_writer w;
    char url[64];
    json_init(&w, b);
    if (!envelope) {
        datafile_write_json(d, &w);
        buf_putc(b, '\n');
        return;
    }
    json_object_begin(&w);
    json_key(&w, "upload");
    datafile_write_json(d, &w);
    json_key(&w, "run");
    json_object_begin(&w);
    json_key(&w, "id");
    if (d->run_id > 0)
        json_int(&w, d->run_id);
    else
        json_null(&w);
    snprintf(url, sizeof url, "/api/v1/uploads/%lld", (long long)d->id);
    json_key(&w, "status_url");
    json_string(&w, url);
    json_object_end(&w);
    json_object_end(&w);
    buf_putc(b, '\n');
}

/* Overlay the progress of a load running in this process. */
static void overlay_live(const struct api_ctx *api, struct datafile *d)
{
    int pct;
    char info[128];
    if (strcmp(d->state, "loading") != 0 ||
        !ingest_worker_progress(api->ingest, d->id, &pct, info, sizeof info))
        return;
    char *copy = strdup(info);
    if (!copy)
        return;
    d->progress = pct;
    free(d->info);
    d->info = copy;
}

/* Answer with the upload's current record; ERR_NOTFOUND (nothing sent) if there
 * is none. */
static int reply_upload(http_req *r, store *s, int64_t id, int status, int envelope)
{
    const struct api_ctx *api = http_req_app(r);
    struct datafile *d = NULL;
    int rc = datafiles_get(s, id, &d);
    if (rc < 0)
        return rc;
    /* CLI imports are not uploads; an upload is its sender's (with auth off,
     * everyone's) */
    char who[AUTH_ID_MAX + 8];
    const char *caller = caller_of(r, who, sizeof who);
    if (strcmp(d->source, "upload") != 0 ||
        (caller && (!d->uploaded_by || strcmp(d->uploaded_by, caller) != 0))) {
        datafile_free(d);
        return ERR_NOTFOUND;
    }
    overlay_live(api, d);
    struct buf b;
    buf_init(&b, 1u << 20);
    write_upload(d, envelope, &b);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/uploads/%lld", (long long)id);
    if (status == 202 || status == 201)
        http_set_header(r, "Location", loc);
    http_reply_buf(r, status, "application/json", &b);
    buf_free(&b);
    datafile_free(d);
    return 0;
}

void uploads_create(http_req *r)
{
    const struct api_ctx *api = http_req_app(r);
    if (!http_req_upload_seen(r)) {
        http_reply_error(r, ERR_INVAL, "no file part in the form");
        return;
    }
    struct upload *u = upload_state(r); /* an empty raw body never reached the sink */
    if (!u)
        return;
    char sha[65];
    int64_t size = rawstore_writer_size(u->file);
    int rc = rawstore_writer_commit(u->file, sha);
    u->file = NULL;
    if (rc < 0) {
        http_reply_error(r, ERR_IO, "cannot store the upload");
        return;
    }
    store *s = NULL;
    if (store_pool_acquire(api->pool, api->db_wait_ms, &s) < 0) {
        http_reply_error(r, ERR_UNAVAILABLE, NULL);
        return;
    }
    int64_t id = 0;
    int status = 202;
    /* On SQLite a running load holds the database for its whole transaction:
     * the upload is stored already, so wait for it (each try waits
     * database.busy_timeout_ms) rather than fail it. */
    int reg = register_upload(s, r, sha, size, &id);
    for (int i = 0; reg == ERR_BUSY && i < REGISTER_BUSY_RETRIES; i++)
        reg = register_upload(s, r, sha, size, &id);
    if (reg < 0) {
        http_reply_error(r, ERR_STORE, NULL);
        goto out;
    }
    log_info("upload received", LF_INT("datafile", id),
             LF_STR("dataset", http_req_param(r, "name")), LF_INT("bytes", size));
    if (size <= api->inline_bytes && api->ingest) {
        struct ingest_result *res = malloc(sizeof *res);
        int loaded = res ? ingest_worker_load_now(api->ingest, s, id, res) : 0;
        if (loaded == 1)
            status = res->status == INGEST_LOADED     ? 201
                     : res->status == INGEST_SKIPPED  ? 200
                     : res->status == INGEST_REJECTED ? 422
                                                      : 202;
        free(res);
        if (status != 202)
            goto answer;
    }
    ingest_worker_wake(api->ingest);
answer:
    if (reply_upload(r, s, id, status, 1) < 0)
        http_reply_error(r, ERR_STORE, NULL);
out:
    store_pool_release(api->pool, s);
}

void uploads_read(http_req *r)
{
    const struct api_ctx *api = http_req_app(r);
    const char *ids = http_req_param(r, "id");
    char *end = NULL;
    long long id = strtoll(ids, &end, 10);
    if (!*ids || *end || id <= 0) {
        http_reply_error(r, ERR_NOTFOUND, "no such upload");
        return;
    }
    store *s = NULL;
    if (store_pool_acquire(api->pool, api->db_wait_ms, &s) < 0) {
        http_reply_error(r, ERR_UNAVAILABLE, NULL);
        return;
    }
    int rc = reply_upload(r, s, id, 200, 0);
    if (rc == ERR_NOTFOUND)
        http_reply_error(r, ERR_NOTFOUND, "no such upload");
    else if (rc < 0)
        http_reply_error(r, ERR_STORE, NULL);
    store_pool_release(api->pool, s);
}
