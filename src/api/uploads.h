/*
 * uploads: CSV uploads over HTTP (see uploads.c for the life of an upload).
 *
 *   POST /api/v1/datasets/{name}/uploads   uploads_sink + uploads_create
 *   GET  /api/v1/uploads/{id}              uploads_read
 */
#ifndef FERRY_API_UPLOADS_H
#define FERRY_API_UPLOADS_H

#include <stddef.h>

#include "http/router.h"

/* The stream route's sink: the body (or the form's file part) into the raw
 * file store. */
int uploads_sink(http_req *r, const char *data, size_t n);

/* After the body: register the upload, load it now (small) or queue it. */
void uploads_create(http_req *r);

/* The upload's state, progress, info, rows and problems. */
void uploads_read(http_req *r);

#endif
