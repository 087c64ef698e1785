/* Unit tests for src/auth/auth.c: the deferred payload check of streamed bodies
 * (auth_check with payload_deferred, and the incremental auth_payload_* verifier,
 * checked against hawk_payload_hash and the Hawk payload vectors split in pieces). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/hawk.h"
#include "core/config.h"
#include "core/err.h"

#define REF_FILE   "tests/data/hawk/reference-vectors.json"
#define FERRY_FILE "tests/data/hawk/ferry-vectors.json"

/* ---- the verifier against the payload vectors ---------------------------------------- */

/* An allowed Hawk result whose header carried hash, as auth_check leaves it. */
static void hawk_result_with(struct auth_result *res, enum hawk_alg alg, const char *hash)
{
    memset(res, 0, sizeof *res);
    res->method = AUTH_HAWK;
    res->alg = alg;
    snprintf(res->artifacts.hash, sizeof res->artifacts.hash, "%s", hash);
}

/* Feed payload to a fresh verifier in pieces of `step` bytes (0: split once at
 * `cut`) and return auth_payload_end's verdict. */
static int verify_split(const struct auth_result *res, const char *ct, const char *payload,
                        size_t len, size_t step, size_t cut)
{
    auth_payload *p = NULL;
    cr_assert_eq(auth_payload_begin(res, ct, &p), 0);
    cr_assert_not_null(p);
    if (step == 0) {
        auth_payload_update(p, payload, cut);
        auth_payload_update(p, payload + cut, len - cut);
    } else {
        for (size_t off = 0; off < len; off += step)
            auth_payload_update(p, payload + off, len - off < step ? len - off : step);
    }
    return auth_payload_end(p);
}

static int vector_cases(const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", path, jerr.text);
    const json_t *cases = json_object_get(root, "payload_hash_cases"), *c;
    size_t i;
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *ct = json_string_value(json_object_get(c, "content_type")); /* may be NULL */
        const json_t *pj = json_object_get(c, "payload");
        const char *payload = json_string_value(pj);
        size_t len = json_string_length(pj);
        const char *want = json_string_value(json_object_get(c, "hash"));
        enum hawk_alg alg;
        cr_assert_eq(hawk_alg_parse(json_string_value(json_object_get(c, "algorithm")), &alg), 0);

        /* the one-shot hash agrees with the vector ... */
        char whole[HAWK_MAC_B64_MAX];
        hawk_payload_hash(alg, ct, payload, len, whole);
        cr_assert_str_eq(whole, want, "%s", name);

        /* ... and the streamed one with both, however the body is cut */
        struct auth_result res;
        hawk_result_with(&res, alg, want);
        for (size_t cut = 0; cut <= len; cut++)
            cr_expect_eq(verify_split(&res, ct, payload, len, 0, cut), 0, "%s: cut at %zu", name,
                         cut);
        for (size_t step = 1; step <= 3; step++)
            cr_expect_eq(verify_split(&res, ct, payload, len, step, 0), 0, "%s: step %zu", name,
                         step);

        /* a body one byte longer, or a hash for another body, does not match */
        char longer[256];
        cr_assert_lt(len + 1, sizeof longer);
        memcpy(longer, payload, len);
        longer[len] = 'x';
        cr_expect_eq(verify_split(&res, ct, longer, len + 1, 1, 0), ERR_UNAUTHORIZED, "%s", name);
        char other[HAWK_MAC_B64_MAX];
        hawk_payload_hash(alg, ct, longer, len + 1, other);
        hawk_result_with(&res, alg, other);
        cr_expect_eq(verify_split(&res, ct, payload, len, 0, len / 2), ERR_UNAUTHORIZED, "%s",
                     name);
    }
    int n = (int)json_array_size(cases);
    json_decref(root);
    return n;
}

Test(auth, payload_stream_matches_reference_vectors)
{
    cr_expect_geq(vector_cases(REF_FILE), 8);
}

Test(auth, payload_stream_matches_ferry_vectors)
{
    cr_expect_geq(vector_cases(FERRY_FILE), 3);
}

Test(auth, payload_stream_large_body_in_uneven_pieces)
{
    static char body[300000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)(i * 31 + 7);
    const char *ct = " Text/CSV ; charset=utf-8";
    char want[HAWK_MAC_B64_MAX];
    struct auth_result res;
    for (int alg = HAWK_SHA256; alg <= HAWK_SHA1; alg++) {
        hawk_payload_hash((enum hawk_alg)alg, ct, body, sizeof body, want);
        hawk_result_with(&res, (enum hawk_alg)alg, want);
        cr_expect_eq(verify_split(&res, ct, body, sizeof body, 65521, 0), 0);
        cr_expect_eq(verify_split(&res, ct, body, sizeof body, 0, 12345), 0);
        /* the content type is part of the hash */
        cr_expect_eq(verify_split(&res, "text/plain", body, sizeof body, 0, 1), ERR_UNAUTHORIZED);
    }
}

Test(auth, payload_nothing_to_verify)
{
    struct auth_result res;
    auth_payload *p = (auth_payload *)&res; /* must be overwritten */
    hawk_result_with(&res, HAWK_SHA256, "");
    cr_assert_eq(auth_payload_begin(&res, "text/csv", &p), 0);
    cr_assert_null(p, "no hash attribute: nothing to verify");
    hawk_result_with(&res, HAWK_SHA256, "abc=");
    res.method = AUTH_APIKEY;
    cr_assert_eq(auth_payload_begin(&res, "text/csv", &p), 0);
    cr_assert_null(p, "API key: nothing to verify");
    hawk_result_with(&res, HAWK_SHA256, "abc=");
    res.status = 401;
    cr_assert_eq(auth_payload_begin(&res, "text/csv", &p), 0);
    cr_assert_null(p, "refused: nothing to verify");
    auth_payload_free(NULL);
    /* freeing an unfinished verifier (an aborted upload) leaks nothing */
    hawk_result_with(&res, HAWK_SHA256, "abc=");
    cr_assert_eq(auth_payload_begin(&res, NULL, &p), 0);
    auth_payload_update(p, "abc", 3);
    auth_payload_free(p);
}

Test(auth, fail_payload_is_the_bad_payload_hash_refusal)
{
    struct auth_result res;
    hawk_result_with(&res, HAWK_SHA256, "abc=");
    res.can_sign = 1;
    res.key_len = 3;
    memcpy(res.key, "key", 3);
    auth_fail_payload(&res);
    cr_assert_eq(res.status, 401);
    cr_assert_str_eq(res.code, "unauthorized");
    cr_assert_str_eq(res.message, "Bad payload hash");
    cr_assert_str_eq(res.reason, "payload");
    cr_assert_str_eq(res.www_authenticate, "Hawk error=\"Bad payload hash\"");
    cr_assert_eq(res.can_sign, 0);
    cr_assert_eq(res.key_len, 0);
}

/* ---- auth_check with a deferred payload ----------------------------------------------- */

static const struct hawk_credentials client = {"streamer", "werxhqb98rpaxn39848xrunpaw3489ruxn", 34,
                                               HAWK_SHA256};
static const char *const all_scopes[] = {"*"};

static int lookup(void *ctx, const char *id, size_t id_len, struct auth_client *out)
{
    (void)ctx;
    if (id_len != strlen(client.id) || memcmp(id, client.id, id_len) != 0)
        return ERR_NOTFOUND;
    memset(out, 0, sizeof *out);
    out->creds = client;
    out->scopes = all_scopes;
    out->nscopes = 1;
    out->enabled = 1;
    return 0;
}

#define NOW_MS 1353832234000LL

struct signed_request {
    char header[HAWK_HEADER_MAX];
    struct auth_input in;
};

/* A Hawk-signed POST /u; with hash, the header carries the payload hash of
 * (ct, body). The input announces announced body bytes and has no body. */
static void sign(struct signed_request *s, int hash, const char *ct, const char *body,
                 size_t announced)
{
    struct hawk_client_options o = {0};
    o.ts = "1353832234";
    o.nonce = "j4h3g2";
    o.hash_payload = hash;
    o.content_type = ct;
    o.payload = body;
    o.payload_len = body ? strlen(body) : 0;
    cr_assert_eq(hawk_client_header(&client, "POST", "/u", "example.com", "8080", &o, s->header,
                                    sizeof s->header),
                 0);
    memset(&s->in, 0, sizeof s->in);
    s->in.method = "POST";
    s->in.target = "/u";
    s->in.peer = "127.0.0.1";
    s->in.host = "example.com:8080";
    s->in.authorization = s->header;
    s->in.content_type = ct;
    s->in.body_len = announced;
    s->in.payload_deferred = 1;
}

static auth *new_auth(void)
{
    config *cfg = config_new();
    cr_assert_not_null(cfg);
    cr_assert_eq(config_set(cfg, CFG_AUTH_NONCE_CHECK, "0", "test"), 0);
    char err[256];
    auth *a = NULL;
    cr_assert_eq(auth_new(cfg, &a, err, sizeof err), 0, "%s", err);
    config_free(cfg);
    auth_set_lookup(a, lookup, NULL);
    return a;
}

Test(auth, deferred_checks_everything_but_the_body)
{
    auth *a = new_auth();
    struct signed_request s;
    struct auth_result res;
    const char *body = "id,name\n1,ferry\n";

    sign(&s, 1, "text/csv", body, strlen(body));
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 0, "%s", res.message);
    cr_assert_eq(res.method, AUTH_HAWK);
    auth_payload *p = NULL;
    cr_assert_eq(auth_payload_begin(&res, "text/csv", &p), 0);
    cr_assert_not_null(p);
    auth_payload_update(p, body, 5);
    auth_payload_update(p, body + 5, strlen(body) - 5);
    cr_assert_eq(auth_payload_end(p), 0);
    p = NULL;
    cr_assert_eq(auth_payload_begin(&res, "text/csv", &p), 0);
    auth_payload_update(p, "id,name\n1,ferrx\n", strlen(body));
    cr_assert_eq(auth_payload_end(p), ERR_UNAUTHORIZED);

    /* the MAC covers the hash attribute: swapping it is a bad mac, not a bad payload */
    char *h = strstr(s.header, "hash=\"");
    cr_assert_not_null(h);
    h[6] = h[6] == 'A' ? 'B' : 'A';
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 401);
    cr_assert_str_eq(res.message, "Bad mac");

    /* skew still applies */
    sign(&s, 1, "text/csv", body, strlen(body));
    auth_check(a, &s.in, NOW_MS + 3600 * 1000LL, NULL, &res);
    cr_assert_eq(res.status, 401);
    cr_assert_str_eq(res.message, "Stale timestamp");
    auth_free(a);
}

Test(auth, deferred_body_without_hash_is_refused)
{
    auth *a = new_auth();
    struct signed_request s;
    struct auth_result res;

    /* announced body, no content type */
    sign(&s, 0, NULL, NULL, 10);
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 401);
    cr_assert_str_eq(res.message, "Missing required payload hash");
    cr_assert_str_eq(res.reason, "payload");
    cr_assert_str_eq(res.www_authenticate, "Hawk error=\"Missing required payload hash\"");

    /* chunked (length unknown) */
    sign(&s, 0, NULL, NULL, SIZE_MAX);
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_str_eq(res.message, "Missing required payload hash");

    /* a content type and no body */
    sign(&s, 0, "text/csv", NULL, 0);
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_str_eq(res.message, "Missing required payload hash");

    /* no body, no content type, no hash: allowed, nothing to verify */
    sign(&s, 0, NULL, NULL, 0);
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 0, "%s", res.message);
    auth_payload *p = (auth_payload *)&res;
    cr_assert_eq(auth_payload_begin(&res, NULL, &p), 0);
    cr_assert_null(p);

    /* an empty body signed with the empty payload's hash is verified at the end */
    sign(&s, 1, NULL, "", 0);
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 0, "%s", res.message);
    cr_assert_eq(auth_payload_begin(&res, NULL, &p), 0);
    cr_assert_not_null(p);
    cr_assert_eq(auth_payload_end(p), 0);
    auth_free(a);
}

/* ---- anonymous callers and the origin of links ------------------------------------------ */

Test(auth, anonymous_ok_lets_only_credential_less_requests_through)
{
    auth *a = new_auth();
    struct signed_request s;
    struct auth_result res;

    sign(&s, 0, NULL, NULL, 0);
    s.in.scope = "datasets:read";
    s.in.anonymous_ok = 1;
    s.in.authorization = NULL;
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 0, "%s", res.message);
    cr_assert_eq(res.method, AUTH_NONE);
    cr_assert_eq(res.can_sign, 0);

    /* refused later by the handler: the 401 of a request without credentials */
    auth_refuse_anonymous(&res);
    cr_assert_eq(res.status, 401);
    cr_assert_str_eq(res.www_authenticate, "Hawk");

    /* credentials that are present are still checked: a bad MAC is refused */
    sign(&s, 0, NULL, NULL, 0);
    s.in.anonymous_ok = 1;
    char *mac = strstr(s.header, "mac=\"");
    mac[5] = mac[5] == 'A' ? 'B' : 'A';
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 401);

    /* without anonymous_ok, no credentials is a 401 */
    sign(&s, 0, NULL, NULL, 0);
    s.in.authorization = NULL;
    auth_check(a, &s.in, NOW_MS, NULL, &res);
    cr_assert_eq(res.status, 401);
    auth_free(a);
}

static auth *auth_with_proxy(const char *proxies)
{
    config *cfg = config_new();
    cr_assert_eq(config_set(cfg, CFG_HTTP_TRUSTED_PROXIES, proxies, "test"), 0);
    char err[256];
    auth *a = NULL;
    cr_assert_eq(auth_new(cfg, &a, err, sizeof err), 0, "%s", err);
    config_free(cfg);
    return a;
}

Test(auth, origin_believes_forwarded_headers_only_from_trusted_proxies)
{
    auth *a = auth_with_proxy("10.0.0.0/8");
    char out[128];
    struct auth_input in = {.peer = "192.0.2.1", .host = "Example.org:8080"};
    in.x_forwarded_host = "evil.example";
    in.x_forwarded_proto = "https";
    cr_assert_eq(auth_origin(a, &in, out, sizeof out), 0);
    cr_assert_str_eq(out, "http://example.org:8080");

    in.peer = "10.1.2.3";
    cr_assert_eq(auth_origin(a, &in, out, sizeof out), 0);
    cr_assert_str_eq(out, "https://evil.example");
    in.x_forwarded_port = "8443";
    cr_assert_eq(auth_origin(a, &in, out, sizeof out), 0);
    cr_assert_str_eq(out, "https://evil.example:8443");

    struct auth_input v6 = {.peer = "::1", .host = "[::1]:80"};
    cr_assert_eq(auth_origin(a, &v6, out, sizeof out), 0);
    cr_assert_str_eq(out, "http://[::1]");

    struct auth_input bad = {.peer = "::1", .host = "a\"b"};
    cr_assert_eq(auth_origin(a, &bad, out, sizeof out), ERR_INVAL);
    bad.host = NULL;
    cr_assert_eq(auth_origin(a, &bad, out, sizeof out), ERR_INVAL);
    auth_free(a);
}
