/* Unit tests for src/api/openapi.c: the embedded OpenAPI document (src/api/openapi.json)
 * against the route table (src/api/routes.c) — every route documented with its method,
 * name, scope and security, nothing documented that is not a route, unique operationIds,
 * every $ref resolving — and the route itself, through a real server on a loopback port.
 * A route added to the table without a line in the document fails here. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "api/openapi.h"
#include "core/err.h"
#include "core/log.h"
#include "http/router.h"
#include "http/server.h"

static json_t *doc;

static void load(void)
{
    size_t len;
    const char *text = openapi_document(&len);
    json_error_t e;
    cr_assert_eq(strlen(text), len, "the document holds a NUL");
    doc = json_loadb(text, len, 0, &e);
    cr_assert_not_null(doc, "src/api/openapi.json, line %d: %s", e.line, e.text);
}

static void unload(void)
{
    json_decref(doc);
    doc = NULL;
}

TestSuite(openapi, .init = load, .fini = unload);

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *const METHODS[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};
#define NMETHODS (sizeof METHODS / sizeof METHODS[0])

static json_t *paths(void)
{
    json_t *p = json_object_get(doc, "paths");
    cr_assert(json_is_object(p), "no paths object");
    return p;
}

/* The operation documenting a route: paths[pattern][method in lower case]. The
 * router's "{name}" parameters are OpenAPI's path templating, so the pattern is the
 * path as it is. */
static json_t *operation_of(const struct route *rt)
{
    char m[16];
    size_t i = 0;
    for (; rt->method[i] && i + 1 < sizeof m; i++)
        m[i] = (char)tolower((unsigned char)rt->method[i]);
    m[i] = '\0';
    return json_object_get(json_object_get(paths(), rt->pattern), m);
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Resolve a local reference ("#/components/parameters/DatasetName"); NULL if it
 * does not. */
static json_t *resolve(const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *at = doc;
    const char *p = ref + 2;
    while (at && *p) {
        char key[256];
        size_t n = 0;
        for (; *p && *p != '/' && n + 1 < sizeof key; p++) {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                key[n++] = p[1] == '0' ? '~' : '/';
                p++;
            } else {
                key[n++] = *p;
            }
        }
        key[n] = '\0';
        at = json_is_array(at) ? json_array_get(at, strtoul(key, NULL, 10))
                               : json_object_get(at, key);
        if (*p == '/')
            p++;
    }
    return at;
}

/* x itself, or what its "$ref" names. */
static json_t *deref(json_t *x)
{
    const char *ref = str(x, "$ref");
    return ref ? resolve(ref) : x;
}

/* Is a path parameter called name (n bytes) declared in params (an array, may be NULL)? */
static int declares_path_param(json_t *params, const char *name, size_t n)
{
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p)
    {
        json_t *d = deref(p);
        const char *pn = str(d, "name"), *in = str(d, "in");
        if (pn && in && strcmp(in, "path") == 0 && strlen(pn) == n && memcmp(pn, name, n) == 0)
            return json_is_true(json_object_get(d, "required"));
    }
    return 0;
}

/* ---- the document ------------------------------------------------------------------------ */

Test(openapi, is_openapi_3_1_with_a_version)
{
    const char *v = str(doc, "openapi");
    cr_assert_not_null(v);
    cr_expect_eq(strncmp(v, "3.1", 3), 0, "openapi is \"%s\"", v);
    json_t *info = json_object_get(doc, "info");
    cr_expect_str_eq(str(info, "title"), "ferry");
    /* The build's version (the VERSION file) took the placeholder's place. Not
     * compared with FERRY_VERSION: this file is not recompiled when VERSION changes. */
    const char *version = str(info, "version");
    cr_expect(version && *version, "info.version is missing");
    size_t len;
    cr_expect_null(strstr(openapi_document(&len), "@FERRY_VERSION@"));
    cr_expect(
        json_is_object(json_object_get(json_object_get(doc, "components"), "securitySchemes")));
}

Test(openapi, every_route_is_documented)
{
    size_t n;
    const struct route *routes = api_routes(&n);
    json_t *schemes = json_object_get(json_object_get(doc, "components"), "securitySchemes");
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &routes[i];
        json_t *op = operation_of(rt);
        if (!op) {
            cr_expect_fail("%s %s (route \"%s\") is not documented in src/api/openapi.json",
                           rt->method, rt->pattern, rt->name);
            continue;
        }
        /* The name: x-route-name is the table's; operationId too, or with a suffix
         * where two routes share a name ("healthcheck", "healthcheck.slash"). */
        const char *xname = str(op, "x-route-name"), *opid = str(op, "operationId");
        size_t nlen = strlen(rt->name);
        cr_expect(xname && strcmp(xname, rt->name) == 0,
                  "%s %s: x-route-name is \"%s\", not \"%s\"", rt->method, rt->pattern,
                  xname ? xname : "(none)", rt->name);
        cr_expect(opid && strncmp(opid, rt->name, nlen) == 0 &&
                      (opid[nlen] == '\0' || (opid[nlen] == '.' && opid[nlen + 1])),
                  "%s %s: operationId \"%s\" is not the route's name \"%s\"", rt->method,
                  rt->pattern, opid ? opid : "(none)", rt->name);

        /* The scope. */
        const char *xscope = str(op, "x-scope");
        if (rt->scope)
            cr_expect(xscope && strcmp(xscope, rt->scope) == 0,
                      "%s %s: x-scope is \"%s\", the route needs \"%s\"", rt->method, rt->pattern,
                      xscope ? xscope : "(none)", rt->scope);
        else
            cr_expect_null(json_object_get(op, "x-scope"), "%s %s has an x-scope, the route none",
                           rt->method, rt->pattern);

        /* Security: none on public routes; on guarded ones, schemes that exist, each
         * requiring the route's scope, and the empty requirement (anonymous access)
         * exactly on ROUTE_ANON routes. */
        json_t *sec = json_object_get(op, "security");
        cr_expect(json_is_array(sec), "%s %s: no security array", rt->method, rt->pattern);
        if (rt->flags & ROUTE_PUBLIC) {
            cr_expect_eq(json_array_size(sec), 0, "%s %s is public: security must be []",
                         rt->method, rt->pattern);
        } else {
            int anonymous = 0, schemes_listed = 0;
            size_t k;
            json_t *req;
            json_array_foreach(sec, k, req)
            {
                if (json_object_size(req) == 0)
                    anonymous++;
                const char *scheme;
                json_t *roles;
                json_object_foreach(req, scheme, roles)
                {
                    schemes_listed++;
                    cr_expect_not_null(json_object_get(schemes, scheme),
                                       "%s %s: no security scheme \"%s\"", rt->method, rt->pattern,
                                       scheme);
                    size_t want = rt->scope ? 1 : 0;
                    const char *role = json_string_value(json_array_get(roles, 0));
                    cr_expect(json_array_size(roles) == want &&
                                  (!rt->scope || (role && strcmp(role, rt->scope) == 0)),
                              "%s %s: scheme \"%s\" must require [%s]", rt->method, rt->pattern,
                              scheme, rt->scope ? rt->scope : "");
                }
            }
            cr_expect_gt(schemes_listed, 0, "%s %s is guarded: security lists no scheme",
                         rt->method, rt->pattern);
            cr_expect_eq(anonymous, (rt->flags & ROUTE_ANON) ? 1 : 0,
                         "%s %s: {} (anonymous access) must be in security exactly when the "
                         "route is ROUTE_ANON",
                         rt->method, rt->pattern);
        }

        /* Every {param} of the pattern is a declared, required path parameter. */
        json_t *item = json_object_get(paths(), rt->pattern);
        for (const char *p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
            const char *end = strchr(p, '}');
            cr_assert_not_null(end);
            size_t plen = (size_t)(end - p - 1);
            cr_expect(declares_path_param(json_object_get(item, "parameters"), p + 1, plen) ||
                          declares_path_param(json_object_get(op, "parameters"), p + 1, plen),
                      "%s %s: path parameter {%.*s} is not declared (required, in: path)",
                      rt->method, rt->pattern, (int)plen, p + 1);
        }
        cr_expect(json_is_object(json_object_get(op, "responses")), "%s %s: no responses",
                  rt->method, rt->pattern);
    }
}

Test(openapi, documents_no_route_that_does_not_exist)
{
    size_t n;
    const struct route *routes = api_routes(&n);
    const char *path;
    json_t *item;
    cr_assert_gt(json_object_size(paths()), 0);
    json_object_foreach(paths(), path, item)
    {
        for (size_t m = 0; m < NMETHODS; m++) {
            if (!json_object_get(item, METHODS[m]))
                continue;
            int found = 0;
            for (size_t i = 0; i < n && !found; i++)
                found = strcmp(routes[i].pattern, path) == 0 &&
                        strcasecmp(routes[i].method, METHODS[m]) == 0;
            cr_expect(found, "src/api/openapi.json documents %s %s, which is not a route",
                      METHODS[m], path);
        }
    }
}

Test(openapi, operation_ids_are_unique)
{
    const char *seen[256];
    size_t nseen = 0;
    const char *path;
    json_t *item;
    json_object_foreach(paths(), path, item)
    {
        for (size_t m = 0; m < NMETHODS; m++) {
            json_t *op = json_object_get(item, METHODS[m]);
            if (!op)
                continue;
            const char *id = str(op, "operationId");
            cr_expect_not_null(id, "%s %s has no operationId", METHODS[m], path);
            if (!id)
                continue;
            for (size_t i = 0; i < nseen; i++)
                cr_expect_str_neq(seen[i], id, "operationId \"%s\" is used twice", id);
            cr_assert_lt(nseen, sizeof seen / sizeof seen[0]);
            seen[nseen++] = id;
        }
    }
}

/* Every "$ref" under x resolves; returns how many were checked. */
static int check_refs(json_t *x, const char *where)
{
    int n = 0;
    if (json_is_object(x)) {
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v)
        {
            if (strcmp(k, "$ref") == 0 && json_is_string(v)) {
                cr_expect_not_null(resolve(json_string_value(v)), "%s: $ref \"%s\" names nothing",
                                   where, json_string_value(v));
                n++;
            } else {
                n += check_refs(v, k);
            }
        }
    } else if (json_is_array(x)) {
        size_t i;
        json_t *v;
        json_array_foreach(x, i, v) n += check_refs(v, where);
    }
    return n;
}

Test(openapi, every_ref_resolves)
{
    cr_expect_gt(check_refs(doc, "(top)"), 0);
}

/* ---- the route ------------------------------------------------------------------------------ */

/* The real route table behind a guard that lets no one in: a 200 proves the route
 * is public. */
static int refuse(http_req *r)
{
    http_reply_error(r, ERR_UNAUTHORIZED, NULL);
    return 1;
}

static int body_ok(http_req *r)
{
    (void)r;
    return 0;
}

/* Send a request (method, path) and read the whole response (until the server
 * closes) into a malloc'd string. */
static char *fetch(http_server *srv, const char *method, const char *path)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)http_server_port(srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int rn = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                      method, path);
    cr_assert_eq(send(fd, req, (size_t)rn, MSG_NOSIGNAL), rn);
    size_t cap = 1u << 16, n = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 5000) > 0) {
        if (n + 1 == cap) {
            out = realloc(out, cap *= 2);
            cr_assert_not_null(out);
        }
        ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    out[n] = '\0';
    close(fd);
    return out;
}

Test(openapi, is_served_to_anyone_with_its_cache_control)
{
    struct http_server_options o = {0};
    http_server *srv = NULL;
    char why[256];
    log_set_level(LOG_OFF);
    o.host = "127.0.0.1";
    o.threads = 1;
    o.max_connections = 4;
    o.timeout_sec = 10;
    o.max_header_bytes = 16384;
    o.default_body_limit = 1 << 20;
    o.routes = api_routes(&o.nroutes);
    o.guard = refuse;
    o.body_end = body_ok;
    cr_assert_eq(http_server_start(&o, &srv, why, sizeof why), 0, "%s", why);

    char *res = fetch(srv, "GET", "/api/v1/openapi.json");
    cr_expect_eq(strncmp(res, "HTTP/1.1 200", 12), 0, "%.200s", res);
    cr_expect_not_null(strcasestr(res, "\r\nContent-Type: application/json\r\n"), "%.400s", res);
    cr_expect_not_null(strcasestr(res, "\r\nCache-Control: public, max-age=300\r\n"), "%.400s",
                       res);
    const char *body = strstr(res, "\r\n\r\n");
    size_t len;
    const char *want = openapi_document(&len);
    cr_expect(body && strcmp(body + 4, want) == 0, "the body is not the document");
    free(res);

    res = fetch(srv, "HEAD", "/api/v1/openapi.json");
    cr_expect_eq(strncmp(res, "HTTP/1.1 200", 12), 0, "%.200s", res);
    free(res);

    /* The guard does refuse what is not public. */
    res = fetch(srv, "GET", "/api/v1/whoami");
    cr_expect_eq(strncmp(res, "HTTP/1.1 401", 12), 0, "%.200s", res);
    free(res);
    http_server_stop(srv);
}
