/*
 * api: the HTTP routes of ferry — the one route table — and the context every
 * handler reaches through http_req_app().
 */
#ifndef FERRY_API_API_H
#define FERRY_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "api/cursor.h"
#include "api/dquery.h"
#include "auth/auth.h"
#include "auth/secret.h"
#include "core/config.h"
#include "ingest/worker.h"
#include "http/router.h"
#include "store/store.h"

struct api_ctx {
    const config *cfg;        /* borrowed */
    store_pool *pool;         /* borrowed */
    int db_wait_ms;           /* how long a request waits for a database connection */
    auth *auth;               /* borrowed */
    const secret_key *secret; /* borrowed; decrypts client keys */
    /* CSV uploads */
    ingest_worker *ingest; /* borrowed; the background loaders (may be NULL) */
    const char *files_dir; /* the raw file store */
    int64_t inline_bytes;  /* uploads up to this size load within their request */
    int64_t max_upload;    /* the largest upload (ingest.max_file_bytes; 0 = no limit) */
    /* The data API */
    unsigned char cursor_key[CURSOR_KEY_BYTES]; /* secret_derive("ferry cursor v1") */
    struct dq_limits data_limits;               /* page sizes (api.*) and query bounds */
};

/* The route table (static; valid for the life of the process). */
const struct route *api_routes(size_t *n);

#endif
