/*
 * openapi: GET /api/v1/openapi.json, the OpenAPI 3.1 description of ferry's
 * HTTP API. The document is src/api/openapi.json, written by hand and compiled
 * into the binary by the build (tools/embed.c, group "openapi", with the
 * build's version for @FERRY_VERSION@). tests/unit/test_openapi.c checks it
 * against the route table, so a route added without documenting it fails the
 * unit tests.
 */
#ifndef FERRY_API_OPENAPI_H
#define FERRY_API_OPENAPI_H

#include <stddef.h>

#include "http/http.h"

/* The document: static, NUL-terminated JSON; its length (without the NUL) in
 * *len. Never NULL. */
const char *openapi_document(size_t *len);

/* GET /api/v1/openapi.json: 200 application/json with the document, cacheable
 * by anyone for five minutes (it changes only with the binary). */
void openapi_serve(http_req *r);

#endif
