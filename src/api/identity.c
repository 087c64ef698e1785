/*
 * identity: /api/v1/whoami and /apikey.
 */
#include "api/identity.h"

#include "api/api.h"
#include "api/guard.h"
#include "core/json.h"

static const char *method_name(enum auth_method m)
{
    switch (m) {
    case AUTH_HAWK:
        return "hawk";
    case AUTH_BEWIT:
        return "bewit";
    case AUTH_APIKEY:
        return "apikey";
    case AUTH_OPEN:
        return "open";
    default:
        return "none";
    }
}

void identity_whoami(http_req *r)
{
    const struct auth_result *id = guard_identity(r);
    struct buf b;
    struct json_writer w;
    buf_init(&b, 8192);
    json_init(&w, &b);
    json_object_begin(&w);
    json_key(&w, "client");
    json_string(&w, id && id->client_id[0] ? id->client_id : NULL);
    json_key(&w, "auth");
    json_string(&w, method_name(id ? id->method : AUTH_NONE));
    json_key(&w, "address");
    json_string(&w, id && id->client_addr[0] ? id->client_addr : http_req_peer(r));
    size_t len;
    http_req_body(r, &len);
    if (http_req_route(r)->flags & ROUTE_BODY) {
        json_key(&w, "payload");
        json_object_begin(&w);
        json_key(&w, "bytes");
        json_uint(&w, len);
        json_key(&w, "content_type");
        json_string(&w, http_req_header(r, "Content-Type"));
        json_object_end(&w);
    }
    json_object_end(&w);
    buf_putc(&b, '\n');
    http_reply_buf(r, 200, "application/json", &b);
    buf_free(&b);
}

void identity_apikey(http_req *r)
{
    static const char ok[] =
        "{\"message\": \"Success: Connect with the apikey, the application was running ...\"}\n";
    static const char no[] = "{\"message\": \"Error: Unauthorised with 'APIKEY'\"}\n";
    const struct api_ctx *api = http_req_app(r);
    if (auth_apikey_matches(api->auth, http_req_header(r, "APIKEY")))
        http_reply(r, 200, "application/json", ok, sizeof ok - 1);
    else
        http_reply(r, 401, "application/json", no, sizeof no - 1);
}
