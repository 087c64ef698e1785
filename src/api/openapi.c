/*
 * openapi: serves the embedded OpenAPI document (contract in openapi.h).
 */
#include "api/openapi.h"

#include "core/embed.h"

EMBED_DECLARE(openapi);

const char *openapi_document(size_t *len)
{
    *len = embed_openapi[0].size;
    return embed_openapi[0].data;
}

void openapi_serve(http_req *r)
{
    size_t len;
    const char *doc = openapi_document(&len);
    http_set_header(r, "Cache-Control", "public, max-age=300");
    http_reply(r, 200, "application/json", doc, len);
}
