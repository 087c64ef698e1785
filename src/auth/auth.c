/*
 * auth: the decision for one request — address, credentials, scope — in the
 * order auth.h describes. Everything here reads settings fixed at start-up, so
 * one auth object serves all threads.
 */
#include "auth/auth.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cidr.h"
#include "core/base64.h"
#include "core/err.h"

#define MAX_SCOPES 64

struct auth {
    int enabled;
    int skew_sec;
    int nonce_check;
    int sign_responses;
    char apikey[AUTH_KEY_MAX];
    size_t apikey_len;
    char *apikey_scope_text; /* owned; the scopes below point into it */
    const char *apikey_scopes[MAX_SCOPES];
    size_t apikey_nscopes;
    char hawk_host[256];
    int hawk_port;
    int xff_depth;
    struct cidr_list allow;
    struct cidr_list proxies;
    auth_lookup_fn lookup;
    auth_release_fn release;
    auth_nonce_fn nonce;
    void *nonce_ctx;
};

/* Split a comma-separated scope list in place (text is modified). */
static size_t split_scopes(char *text, const char **out, size_t max)
{
    size_t n = 0;
    for (char *p = text; *p && n < max;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        out[n++] = p;
        p += len;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

int auth_new(const config *cfg, auth **out, char *err, size_t errlen)
{
    int rc;
    auth *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->enabled = (int)config_int(cfg, CFG_AUTH_ENABLED);
    a->skew_sec = (int)config_int(cfg, CFG_AUTH_HAWK_SKEW_SEC);
    a->nonce_check = (int)config_int(cfg, CFG_AUTH_NONCE_CHECK);
    a->sign_responses = (int)config_int(cfg, CFG_AUTH_SIGN_RESPONSES);
    a->xff_depth = (int)config_int(cfg, CFG_AUTH_XFF_DEPTH);
    a->hawk_port = (int)config_int(cfg, CFG_AUTH_HAWK_PORT);
    const char *key = config_str(cfg, CFG_API_KEY);
    if (strlen(key) >= sizeof a->apikey) {
        snprintf(err, errlen, "api.key is longer than %zu bytes", sizeof a->apikey - 1);
        rc = ERR_INVAL;
        goto out;
    }
    snprintf(a->apikey, sizeof a->apikey, "%s", key);
    a->apikey_len = strlen(a->apikey);
    a->apikey_scope_text = strdup(config_str(cfg, CFG_API_KEY_SCOPES));
    if (!a->apikey_scope_text)
        abort();
    a->apikey_nscopes = split_scopes(a->apikey_scope_text, a->apikey_scopes, MAX_SCOPES);
    const char *host = config_str(cfg, CFG_AUTH_HAWK_HOST);
    if (strlen(host) >= sizeof a->hawk_host) {
        snprintf(err, errlen, "auth.hawk_host is too long");
        rc = ERR_INVAL;
        goto out;
    }
    snprintf(a->hawk_host, sizeof a->hawk_host, "%s", host);
    char why[160];
    rc = cidr_list_parse(config_str(cfg, CFG_AUTH_IP_ALLOWLIST), &a->allow, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "auth.ip_allowlist: %s", why);
        goto out;
    }
    rc = cidr_list_parse(config_str(cfg, CFG_HTTP_TRUSTED_PROXIES), &a->proxies, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "http.trusted_proxies: %s", why);
        goto out;
    }
    *out = a;
    a = NULL;
    rc = 0;
out:
    auth_free(a);
    return rc;
}

void auth_free(auth *a)
{
    if (!a)
        return;
    free(a->apikey_scope_text);
    memset(a->apikey, 0, sizeof a->apikey);
    free(a);
}

void auth_set_lookup(auth *a, auth_lookup_fn lookup, auth_release_fn release)
{
    a->lookup = lookup;
    a->release = release;
}

void auth_set_nonce(auth *a, auth_nonce_fn nonce, void *nonce_ctx)
{
    a->nonce = nonce;
    a->nonce_ctx = nonce_ctx;
}

int auth_enabled(const auth *a)
{
    return a->enabled;
}

void auth_result_wipe(struct auth_result *res)
{
    memset(res->key, 0, sizeof res->key);
    res->key_len = 0;
}

/* ---- outcomes ---------------------------------------------------------------------- */

static void deny(struct auth_result *res, int status, const char *reason, const char *message)
{
    res->status = status;
    res->reason = reason;
    res->code = status == 400   ? "bad_request"
                : status == 403 ? "forbidden"
                : status == 503 ? "unavailable"
                : status == 500 ? "internal"
                                : "unauthorized";
    snprintf(res->message, sizeof res->message, "%s", message);
    if (status == 401 && !res->www_authenticate[0])
        snprintf(res->www_authenticate, sizeof res->www_authenticate, "Hawk");
}

static int has_scope(const char *const *scopes, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(scopes[i], "*") == 0 || strcmp(scopes[i], want) == 0)
            return 1;
    return 0;
}

static void require_scope(struct auth_result *res, const char *const *scopes, size_t n,
                          const char *want)
{
    if (want && !has_scope(scopes, n, want)) {
        char msg[128];
        snprintf(msg, sizeof msg, "this client may not use this route (scope %s)", want);
        deny(res, 403, "scope", msg);
    }
}

/* Map a hawk verdict to the result; reason labels for metrics. */
static const char *hawk_reason(const struct hawk_result *h)
{
    static const struct {
        const char *message, *reason;
    } map[] = {
        {"Unknown credentials", "unknown_client"},
        {"Bad mac", "bad_mac"},
        {"Missing required payload hash", "payload"},
        {"Bad payload hash", "payload"},
        {"Invalid nonce", "replay"},
        {"Stale timestamp", "stale"},
        {"Access expired", "expired"},
        {"Nonce store unavailable", "nonce_store"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(h->message, map[i].message) == 0)
            return map[i].reason;
    return h->status == 400 ? "bad_header" : h->status == 401 ? "missing" : "error";
}

static void from_hawk(struct auth_result *res, const struct hawk_result *h)
{
    snprintf(res->www_authenticate, sizeof res->www_authenticate, "%s", h->www_authenticate);
    deny(res, h->status, hawk_reason(h), h->message);
    if (h->status == 401 && !h->www_authenticate[0])
        res->www_authenticate[0] = '\0'; /* e.g. bewit errors without a challenge */
}

/* ---- the client's address ---------------------------------------------------------- */

#define XFF_MAX_ENTRIES 64

/* The depth-th comma-separated entry of xff from the right, trimmed. Returns 0,
 * or -1 when there are fewer entries (or absurdly many) or it is empty. */
static int xff_entry(const char *xff, int depth, char *out, size_t outlen)
{
    const char *start[XFF_MAX_ENTRIES];
    size_t len[XFF_MAX_ENTRIES], n = 0;
    for (const char *p = xff;; p += len[n - 1] + 1) {
        if (n == XFF_MAX_ENTRIES)
            return -1;
        start[n] = p;
        len[n] = strcspn(p, ",");
        n++;
        if (!p[len[n - 1]])
            break;
    }
    if (depth < 1 || (size_t)depth > n)
        return -1;
    const char *s = start[n - (size_t)depth];
    size_t l = len[n - (size_t)depth];
    while (l && (*s == ' ' || *s == '\t')) {
        s++;
        l--;
    }
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
        l--;
    if (l == 0 || l >= outlen)
        return -1;
    memcpy(out, s, l);
    out[l] = '\0';
    return 0;
}

static int client_address(const auth *a, const struct auth_input *in, struct auth_result *res)
{
    if (a->xff_depth == 0) {
        snprintf(res->client_addr, sizeof res->client_addr, "%s", in->peer ? in->peer : "");
        return 0;
    }
    if (!in->x_forwarded_for || xff_entry(in->x_forwarded_for, a->xff_depth, res->client_addr,
                                          sizeof res->client_addr) < 0) {
        deny(res, 401, "ip", "the client address could not be determined");
        return -1;
    }
    return 0;
}

/* ---- credentials -------------------------------------------------------------------- */

static void check_apikey(const auth *a, const struct auth_input *in, struct auth_result *res)
{
    if (!hawk_equal(in->apikey, strlen(in->apikey), a->apikey, a->apikey_len)) {
        deny(res, 401, "apikey", "invalid API key");
        res->www_authenticate[0] = '\0';
        return;
    }
    res->method = AUTH_APIKEY;
    snprintf(res->client_id, sizeof res->client_id, "apikey");
    require_scope(res, a->apikey_scopes, a->apikey_nscopes, in->scope);
}

/* The lookup and the client it found, shared by the hawk callbacks below. */
struct lookup_state {
    const auth *a;
    void *ctx;
    struct auth_client client;
    int found;
};

static int hawk_lookup(void *cls, const char *id, size_t id_len, struct hawk_credentials *out)
{
    struct lookup_state *st = cls;
    if (!st->a->lookup)
        return ERR_NOTFOUND;
    int rc = st->a->lookup(st->ctx, id, id_len, &st->client);
    if (rc < 0)
        return rc;
    st->found = 1;
    if (!st->client.enabled)
        return ERR_NOTFOUND; /* a disabled client is as good as unknown */
    *out = st->client.creds;
    return 0;
}

static int hawk_nonce(void *cls, const char *id, const char *nonce, const char *ts)
{
    const auth *a = cls;
    return a->nonce(a->nonce_ctx, id, nonce, ts);
}

/* Host and port to verify against (see auth.h). Returns 0 or -1 (400 set). */
static int hawk_host_port(const auth *a, const struct auth_input *in, struct auth_result *res,
                          char *host, size_t hlen, char *port, size_t plen)
{
    if (a->hawk_host[0]) {
        snprintf(host, hlen, "%s", a->hawk_host);
        snprintf(port, plen, "%d", a->hawk_port ? a->hawk_port : 80);
        return 0;
    }
    const char *h = in->host;
    int tls = 0;
    int proxied = in->peer && cidr_list_contains(&a->proxies, in->peer);
    if (proxied && in->x_forwarded_host)
        h = in->x_forwarded_host;
    if (proxied && in->x_forwarded_proto)
        tls = strcmp(in->x_forwarded_proto, "https") == 0;
    if (!h || hawk_parse_host(h, tls, host, hlen, port, plen) < 0) {
        deny(res, 400, "bad_header", "Invalid Host header");
        return -1;
    }
    if (proxied && in->x_forwarded_port && strspn(in->x_forwarded_port, "0123456789") > 0 &&
        in->x_forwarded_port[strspn(in->x_forwarded_port, "0123456789")] == '\0')
        snprintf(port, plen, "%s", in->x_forwarded_port);
    if (a->hawk_port)
        snprintf(port, plen, "%d", a->hawk_port);
    return 0;
}

static int host_chars_ok(const char *h)
{
    return *h && strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-_:") == strlen(h);
}

int auth_origin(const auth *a, const struct auth_input *in, char *out, size_t outlen)
{
    char host[256], port[8];
    const char *h = in->host;
    int tls = 0;
    int proxied = in->peer && cidr_list_contains(&a->proxies, in->peer);
    if (proxied && in->x_forwarded_host)
        h = in->x_forwarded_host;
    if (proxied && in->x_forwarded_proto)
        tls = strcmp(in->x_forwarded_proto, "https") == 0;
    if (!h || hawk_parse_host(h, tls, host, sizeof host, port, sizeof port) < 0 ||
        !host_chars_ok(host))
        return ERR_INVAL;
    const char *xp = proxied ? in->x_forwarded_port : NULL;
    if (xp && *xp && strspn(xp, "0123456789") == strlen(xp) && strlen(xp) < sizeof port)
        snprintf(port, sizeof port, "%s", xp);
    int default_port = strcmp(port, tls ? "443" : "80") == 0;
    int v6 = strchr(host, ':') != NULL;
    int n = snprintf(out, outlen, "%s://%s%s%s%s%s", tls ? "https" : "http", v6 ? "[" : "", host,
                     v6 ? "]" : "", default_port ? "" : ":", default_port ? "" : port);
    return n < 0 || (size_t)n >= outlen ? ERR_INVAL : 0;
}

/* Does the Authorization header carry a hash attribute? */
static int header_has_hash(const char *authorization)
{
    struct hawk_header h;
    struct hawk_result r;
    return hawk_parse_header(authorization, &h, &r) == 0 && h.hash.p != NULL;
}

static void check_hawk(const auth *a, const struct auth_input *in, int64_t now_ms, void *ctx,
                       struct auth_result *res)
{
    char host[256], port[16];
    if (hawk_host_port(a, in, res, host, sizeof host, port, sizeof port) < 0)
        return;
    struct hawk_request req = {0};
    req.method = in->method;
    req.resource = in->target;
    req.host = host;
    req.port = port;
    req.authorization = in->authorization;
    req.content_type = in->content_type;
    req.payload = in->body;
    req.payload_len = in->body_len;
    struct lookup_state st = {a, ctx, {{0}, 0, 0, 0, 0}, 0};
    struct hawk_result h = {0};
    struct hawk_credentials creds = {0};
    int bewit = !in->authorization;
    if (bewit) {
        hawk_authenticate_bewit(&req, now_ms, hawk_lookup, &st, &h, &res->artifacts);
    } else {
        int has_body = in->body_len > 0 || (in->content_type && in->content_type[0]);
        req.check_payload =
            !in->payload_deferred && (has_body || header_has_hash(in->authorization));
        hawk_authenticate(&req, now_ms, a->skew_sec, hawk_lookup, &st,
                          a->nonce_check && a->nonce ? hawk_nonce : NULL, (void *)a, &h,
                          &res->artifacts, &creds);
        /* Deferred: the policy half of the payload check, once the MAC (which covers
         * the hash attribute) has held; the hash is checked as the body streams. */
        if (h.ok && in->payload_deferred && has_body && !res->artifacts.hash[0]) {
            h.ok = 0;
            h.status = 401;
            snprintf(h.message, sizeof h.message, "Missing required payload hash");
            snprintf(h.www_authenticate, sizeof h.www_authenticate, "Hawk error=\"%s\"", h.message);
        }
    }
    if (!h.ok) {
        from_hawk(res, &h);
    } else {
        res->method = bewit ? AUTH_BEWIT : AUTH_HAWK;
        res->alg = st.client.creds.alg;
        snprintf(res->client_id, sizeof res->client_id, "%.128s", res->artifacts.id);
        require_scope(res, st.client.scopes, st.client.nscopes, in->scope);
        if (res->status == 0 && !bewit && st.client.creds.key_len <= sizeof res->key) {
            memcpy(res->key, st.client.creds.key, st.client.creds.key_len);
            res->key_len = st.client.creds.key_len;
            res->can_sign = a->sign_responses;
        }
    }
    if (st.found && a->release)
        a->release(ctx, &st.client);
}

void auth_check(const auth *a, const struct auth_input *in, int64_t now_ms, void *lookup_ctx,
                struct auth_result *res)
{
    memset(res, 0, offsetof(struct auth_result, artifacts));
    res->key_len = 0;
    res->artifacts.id[0] = '\0';
    if (!a->enabled) {
        res->method = AUTH_OPEN;
        return;
    }
    if (client_address(a, in, res) < 0)
        return;
    if (a->allow.n && !cidr_list_contains(&a->allow, res->client_addr)) {
        deny(res, 401, "ip", "this address is not allowed");
        return;
    }
    if (a->apikey_len && in->apikey) {
        check_apikey(a, in, res);
        return;
    }
    int bewit = in->target && hawk_has_bewit(in->target);
    if (!in->authorization && !bewit) {
        if (in->anonymous_ok) {
            res->method = AUTH_NONE;
            return;
        }
        deny(res, 401, "missing", "authentication required");
        return;
    }
    check_hawk(a, in, now_ms, lookup_ctx, res);
}

void auth_refuse_anonymous(struct auth_result *res)
{
    deny(res, 401, "missing", "authentication required");
}

int auth_sign_response(const auth *a, const struct auth_result *res, const char *content_type,
                       const void *payload, size_t len, char *out, size_t outlen)
{
    if (!a->sign_responses || !res->can_sign || res->status != 0)
        return ERR_NOTFOUND;
    struct hawk_credentials c = {res->artifacts.id, res->key, res->key_len, res->alg};
    return hawk_response_header(&res->artifacts, &c, content_type, payload, len, NULL, out, outlen);
}

int auth_apikey_matches(const auth *a, const char *header)
{
    return a->apikey_len && header && hawk_equal(header, strlen(header), a->apikey, a->apikey_len);
}

/* ---- streamed payloads ------------------------------------------------------------ */

struct auth_payload {
    EVP_MD_CTX *md;
    char *expected; /* the header's hash attribute */
    int err;        /* OpenSSL failed */
};

void auth_payload_free(auth_payload *p)
{
    if (!p)
        return;
    EVP_MD_CTX_free(p->md);
    free(p->expected);
    free(p);
}

int auth_payload_begin(const struct auth_result *res, const char *content_type, auth_payload **out)
{
    int rc = ERR_INTERNAL;
    auth_payload *p = NULL;
    char *prefix = NULL;
    *out = NULL;
    if (res->status != 0 || res->method != AUTH_HAWK || !res->artifacts.hash[0])
        return 0;
    p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->expected = strdup(res->artifacts.hash);
    if (!p->expected)
        abort();
    p->md = EVP_MD_CTX_new();
    if (!p->md ||
        !EVP_DigestInit_ex(p->md, res->alg == HAWK_SHA1 ? EVP_sha1() : EVP_sha256(), NULL))
        goto out;
    /* "hawk.1.payload\n<type>\n" exactly as hawk normalizes it: hawk writes the
     * string for an empty body, "...<type>\n\n", and the last "\n" waits for the end. */
    size_t cap = (content_type ? strlen(content_type) : 0) + 32;
    prefix = malloc(cap);
    if (!prefix)
        abort();
    int n = hawk_payload_normalized(content_type, "", 0, prefix, cap);
    if (n < 1 || !EVP_DigestUpdate(p->md, prefix, (size_t)n - 1))
        goto out;
    *out = p;
    p = NULL;
    rc = 0;
out:
    free(prefix);
    auth_payload_free(p);
    return rc;
}

void auth_payload_update(auth_payload *p, const void *data, size_t n)
{
    if (n > 0 && !p->err && !EVP_DigestUpdate(p->md, data, n))
        p->err = 1;
}

int auth_payload_end(auth_payload *p)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    char got[HAWK_MAC_B64_MAX];
    int rc = ERR_INTERNAL;
    if (!p->err && EVP_DigestUpdate(p->md, "\n", 1) && EVP_DigestFinal_ex(p->md, d, &dn) &&
        base64_encode(d, dn, 0, got, sizeof got) > 0)
        rc = hawk_equal(got, strlen(got), p->expected, strlen(p->expected)) ? 0 : ERR_UNAUTHORIZED;
    auth_payload_free(p);
    return rc;
}

void auth_fail_payload(struct auth_result *res)
{
    struct hawk_result h = {0};
    h.status = 401;
    snprintf(h.message, sizeof h.message, "Bad payload hash");
    snprintf(h.www_authenticate, sizeof h.www_authenticate, "Hawk error=\"%s\"", h.message);
    from_hawk(res, &h);
    res->can_sign = 0;
    auth_result_wipe(res);
}
