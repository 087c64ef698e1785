/*
 * hawk_verify: the server side of the Hawk protocol, checking what a client sent.
 *
 *   hawk_authenticate()        an Authorization header, in the reference's order
 *                              (PROTOCOL.md section 7): Host, header, attributes,
 *                              credentials, MAC, payload (section 4), nonce
 *                              (section 9), then skew with ts/tsm (section 5);
 *   hawk_has_bewit()           whether a resource carries a bewit;
 *   hawk_authenticate_bewit()  a bewit in a GET/HEAD URL (section 11.2, and the
 *                              mohawk padding of section 11.3).
 *
 * Both fill the caller's struct hawk_artifacts (what hawk_response_header signs
 * later) and a struct hawk_result with the reference's status, message and
 * WWW-Authenticate (section 8). The parsing, the MACs and the result helpers come
 * from the core, hawk.c, through hawk_int.h.
 *
 * base64 is core/base64: bewits are URL-safe without padding, decoded leniently as
 * the reference does. Nothing is allocated here; the artifacts are fixed arrays.
 */
#include "auth/hawk.h"

#include <stdio.h>
#include <string.h>

#include "auth/hawk_int.h"
#include "core/base64.h"
#include "core/err.h"

/* ---- small helpers ------------------------------------------------------------- */

/* Copy a slice into a fixed array as a C string. Returns 0, or -1 when it does
 * not fit (dst is then ""). */
static int copy_attr(char *dst, size_t cap, struct hawk_attr a)
{
    if (a.n >= cap) {
        dst[0] = '\0';
        return -1;
    }
    if (a.n)
        memcpy(dst, a.p, a.n);
    dst[a.n] = '\0';
    return 0;
}

/* ---- verifying: Authorization header ------------------------------------------- */

/* ts for the skew test: 1 to 31 ASCII digits. Writes the value, capped at 10^15
 * (far outside any skew window, and small enough that ts * 1000 fits). */
static int parse_ts(struct hawk_attr ts, int64_t *out)
{
    if (ts.n == 0 || ts.n > 31)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < ts.n; i++) {
        if (!hawk__is_digit((unsigned char)ts.p[i]))
            return -1;
        if (v < 1000000000000000LL)
            v = v * 10 + (ts.p[i] - '0');
    }
    *out = v > 1000000000000000LL ? 1000000000000000LL : v;
    return 0;
}

static int64_t floor_div1000(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-(ms + 1)) / 1000) - 1;
}

static void fail_stale(struct hawk_result *res, const struct hawk_credentials *c, int64_t now_ms)
{
    char tsm[HAWK_MAC_B64_MAX];
    int64_t now_s = floor_div1000(now_ms);
    if (hawk_ts_mac(c, now_s, tsm) < 0) {
        hawk__fail_status(res, 500, "Internal error");
        return;
    }
    res->ok = 0;
    res->status = 401;
    snprintf(res->message, sizeof res->message, "Stale timestamp");
    snprintf(res->www_authenticate, sizeof res->www_authenticate,
             "Hawk ts=\"%lld\", tsm=\"%s\", error=\"Stale timestamp\"", (long long)now_s, tsm);
}

static void artifacts_clear(struct hawk_artifacts *a)
{
    a->method[0] = a->resource[0] = a->host[0] = a->port[0] = a->ts[0] = '\0';
    a->nonce[0] = a->app[0] = a->dlg[0] = a->ext[0] = a->hash[0] = a->id[0] = '\0';
}

/* Copies the request's side into the artifacts; fails when one does not fit. */
static int request_side(const struct hawk_request *req, struct hawk_artifacts *a,
                        struct hawk_result *res)
{
    if (!req->host || !req->port || copy_attr(a->host, sizeof a->host, hawk_attr_str(req->host)) ||
        copy_attr(a->port, sizeof a->port, hawk_attr_str(req->port))) {
        hawk__fail400(res, "Invalid Host header");
        return -1;
    }
    return 0;
}

static int request_target(const struct hawk_request *req, struct hawk_artifacts *a,
                          struct hawk_result *res)
{
    const char *resource = req->resource ? req->resource : "";
    size_t rn = strnlen(resource, HAWK_HEADER_MAX + 1);
    if (rn > HAWK_HEADER_MAX) {
        hawk__fail400(res, "Resource path exceeds max length");
        return -1;
    }
    memcpy(a->resource, resource, rn);
    a->resource[rn] = '\0';
    if (!req->method || copy_attr(a->method, sizeof a->method, hawk_attr_str(req->method))) {
        hawk__fail400(res, "Invalid method");
        return -1;
    }
    return 0;
}

/* A lookup error other than ERR_NOTFOUND, passed through as a server error. */
static void fail_lookup(struct hawk_result *res, int rc)
{
    int st = err_http_status(rc);
    hawk__fail_status(res, st >= 500 ? st : 500, err_str(rc));
}

static int lookup_creds(hawk_lookup_fn lookup, void *ctx, const char *id, size_t id_n,
                        struct hawk_credentials *c, struct hawk_result *res)
{
    memset(c, 0, sizeof *c);
    int rc = lookup ? lookup(ctx, id, id_n, c) : ERR_NOTFOUND;
    if (rc == ERR_NOTFOUND) {
        hawk__fail401(res, "Unknown credentials");
        return -1;
    }
    if (rc < 0) {
        fail_lookup(res, rc);
        return -1;
    }
    if (!c->key || c->key_len == 0) {
        hawk__fail_status(res, 500, "Invalid credentials");
        return -1;
    }
    if (!hawk__alg_known(c->alg)) {
        hawk__fail_status(res, 500, "Unknown algorithm");
        return -1;
    }
    return 0;
}

void hawk_authenticate(const struct hawk_request *req, int64_t now_ms, int skew_sec,
                       hawk_lookup_fn lookup, void *lookup_ctx, hawk_nonce_fn nonce,
                       void *nonce_ctx, struct hawk_result *res, struct hawk_artifacts *artifacts,
                       struct hawk_credentials *creds_out)
{
    struct hawk_artifacts *a = artifacts;
    struct hawk_header h;
    struct hawk_credentials c;
    char mac[HAWK_MAC_B64_MAX];

    hawk__result_init(res);
    artifacts_clear(a);
    if (creds_out)
        memset(creds_out, 0, sizeof *creds_out);
    if (skew_sec <= 0)
        skew_sec = 60;

    /* 1. Host (parsed by the caller), and the bounds of what the artifacts hold. */
    if (request_side(req, a, res) < 0)
        return;
    /* 2. The header. */
    if (hawk_parse_header(req->authorization, &h, res) < 0)
        return;
    hawk__result_init(res);
    if (request_target(req, a, res) < 0)
        return;
    /* 3. Required attributes. */
    if (!h.id.p || !h.ts.p || !h.nonce.p || !h.mac.p) {
        hawk__fail400(res, "Missing attributes");
        return;
    }
    /* Attributes are at most HAWK_HEADER_MAX long, so they fit (ts may not). */
    copy_attr(a->id, sizeof a->id, h.id);
    copy_attr(a->nonce, sizeof a->nonce, h.nonce);
    copy_attr(a->hash, sizeof a->hash, h.hash);
    copy_attr(a->ext, sizeof a->ext, h.ext);
    copy_attr(a->app, sizeof a->app, h.app);
    if (h.app.p) /* ferry: dlg only counts with app (it is only MACed then) */
        copy_attr(a->dlg, sizeof a->dlg, h.dlg);
    int ts_fits = copy_attr(a->ts, sizeof a->ts, h.ts) == 0;

    /* 4. Credentials. */
    if (lookup_creds(lookup, lookup_ctx, h.id.p, h.id.n, &c, res) < 0)
        return;

    /* 5. MAC. */
    struct hawk_norm n = {
        .type = "header",
        .ts = h.ts,
        .nonce = h.nonce,
        .method = hawk_attr_str(req->method),
        .resource = hawk_attr_str(a->resource),
        .host = hawk_attr_str(req->host),
        .port = hawk_attr_str(req->port),
        .hash = h.hash,
        .ext = h.ext,
        .app = h.app,
        .dlg = h.app.p ? h.dlg : hawk_attr_str(NULL),
    };
    if (hawk_mac(&c, &n, mac) < 0) {
        hawk__fail_status(res, 500, "Internal error");
        return;
    }
    if (!hawk_equal(mac, strlen(mac), h.mac.p, h.mac.n)) {
        hawk__fail401(res, "Bad mac");
        return;
    }

    /* 6. Payload, when the server verifies this body. */
    if (req->check_payload) {
        char ph[HAWK_MAC_B64_MAX];
        if (!h.hash.p) {
            hawk__fail401(res, "Missing required payload hash");
            return;
        }
        hawk_payload_hash(c.alg, req->content_type, req->payload, req->payload_len, ph);
        if (!ph[0]) {
            hawk__fail_status(res, 500, "Internal error");
            return;
        }
        if (!hawk_equal(ph, strlen(ph), h.hash.p, h.hash.n)) {
            hawk__fail401(res, "Bad payload hash");
            return;
        }
    }

    /* ferry: a ts that is not 1 to 31 digits is stale; it never reaches the store. */
    int64_t ts;
    if (!ts_fits || parse_ts(h.ts, &ts) < 0) {
        fail_stale(res, &c, now_ms);
        return;
    }

    /* 7. Nonce: recorded before the skew test, as the reference does. */
    if (nonce) {
        int rc = nonce(nonce_ctx, a->id, a->nonce, a->ts);
        if (rc == ERR_CONFLICT) {
            hawk__fail401(res, "Invalid nonce");
            return;
        }
        if (rc < 0) {
            hawk__fail_status(res, 503, "Nonce store unavailable");
            return;
        }
    }

    /* 8. Skew, in milliseconds. now_ms is clamped to [0, 10^18] so nothing overflows. */
    int64_t now = now_ms < 0 ? 0 : now_ms > 1000000000000000000LL ? 1000000000000000000LL : now_ms;
    int64_t diff = ts * 1000 - now;
    if (diff < 0)
        diff = -diff;
    if (diff > (int64_t)skew_sec * 1000) {
        fail_stale(res, &c, now_ms);
        return;
    }

    res->ok = 1;
    if (creds_out)
        *creds_out = c;
}

/* ---- verifying: bewit -------------------------------------------------------------- */

int hawk_has_bewit(const char *resource)
{
    return resource && (strstr(resource, "?bewit=") || strstr(resource, "&bewit="));
}

struct bewit_loc {
    size_t sep;          /* index of the '?' or '&' before "bewit=" */
    size_t val, val_n;   /* the value */
    size_t rest, rest_n; /* what follows the '&' after the value; rest_n 0 if none */
};

/* ^(\/.*)([\?&])bewit\=([^&$]*)(?:&(.+))?$ with . excluding CR and LF: the last
 * "?bewit=" / "&bewit=" (before any CR/LF) whose tail fits. */
static int find_bewit(const char *r, size_t n, struct bewit_loc *b)
{
    if (n == 0 || r[0] != '/')
        return -1;
    size_t lt = 0; /* first line terminator */
    while (lt < n && r[lt] != '\n' && r[lt] != '\r')
        lt++;
    for (size_t p = lt; p-- > 1;) {
        if ((r[p] != '?' && r[p] != '&') || n - p - 1 < 6 || memcmp(r + p + 1, "bewit=", 6) != 0)
            continue;
        size_t v = p + 7, e = v;
        while (e < n && r[e] != '&' && r[e] != '$')
            e++;
        if (e == n) {
            *b = (struct bewit_loc){p, v, e - v, 0, 0};
            return 0;
        }
        if (r[e] != '&' || e + 1 == n)
            continue;
        size_t k = e + 1;
        while (k < n && r[k] != '\n' && r[k] != '\r')
            k++;
        if (k != n)
            continue;
        *b = (struct bewit_loc){p, v, e - v, e + 1, n - e - 1};
        return 0;
    }
    return -1;
}

/* Expiry: all digits, at most 15 significant, not zero. */
static int parse_exp(const unsigned char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    if (n == 0)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (!hawk__is_digit(p[k]))
            return -1;
    while (i < n && p[i] == '0')
        i++;
    if (n - i > 15 || i == n)
        return -1;
    int64_t v = 0;
    for (; i < n; i++)
        v = v * 10 + (p[i] - '0');
    *out = v;
    return 0;
}

void hawk_authenticate_bewit(const struct hawk_request *req, int64_t now_ms, hawk_lookup_fn lookup,
                             void *lookup_ctx, struct hawk_result *res,
                             struct hawk_artifacts *artifacts)
{
    struct hawk_artifacts *a = artifacts;
    struct hawk_credentials c;
    struct bewit_loc b;
    unsigned char tok[HAWK_HEADER_MAX * 3 / 4 + 4];
    char mac[HAWK_MAC_B64_MAX], expbuf[24];

    hawk__result_init(res);
    artifacts_clear(a);
    if (request_side(req, a, res) < 0)
        return;
    const char *r = req->resource ? req->resource : "";
    size_t rn = strnlen(r, HAWK_HEADER_MAX + 1);
    if (rn > HAWK_HEADER_MAX) {
        hawk__fail400(res, "Resource path exceeds max length");
        return;
    }
    if (find_bewit(r, rn, &b) < 0) {
        hawk__fail401(res, NULL);
        return;
    }
    if (b.val_n == 0) {
        hawk__fail401(res, "Empty bewit");
        return;
    }
    if (!req->method || (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)) {
        hawk__fail401(res, "Invalid method");
        return;
    }
    if (req->authorization && req->authorization[0]) {
        hawk__fail400(res, "Multiple authentications");
        return;
    }
    /* ferry extension: mohawk pads its bewits; drop up to two '=' or %3D. */
    size_t vn = b.val_n;
    for (int pad = 0; pad < 2; pad++) {
        if (vn >= 1 && r[b.val + vn - 1] == '=')
            vn -= 1;
        else if (vn >= 3 && r[b.val + vn - 3] == '%' && r[b.val + vn - 2] == '3' &&
                 (r[b.val + vn - 1] == 'D' || r[b.val + vn - 1] == 'd'))
            vn -= 3;
        else
            break;
    }
    /* Decoded as the reference's Buffer.from(s, 'base64') does for [A-Za-z0-9_-]:
     * bits that do not make a byte are dropped. */
    long tn = base64_decode(r + b.val, vn, BASE64_URL | BASE64_NOPAD | BASE64_LOOSE_TAIL, tok,
                            sizeof tok);
    if (tn < 0) {
        hawk__fail400(res, "Invalid bewit encoding");
        return;
    }
    /* id \ exp \ mac \ ext: exactly three backslashes. */
    size_t cut[3], nc = 0;
    for (size_t k = 0; k < (size_t)tn; k++) {
        if (tok[k] == '\\') {
            if (nc == 3) {
                nc = 4;
                break;
            }
            cut[nc++] = k;
        }
    }
    if (nc != 3) {
        hawk__fail400(res, "Invalid bewit structure");
        return;
    }
    struct hawk_attr id = {(const char *)tok, cut[0]};
    const unsigned char *expp = tok + cut[0] + 1;
    size_t expn = cut[1] - cut[0] - 1;
    struct hawk_attr bmac = {(const char *)tok + cut[1] + 1, cut[2] - cut[1] - 1};
    struct hawk_attr ext = {(const char *)tok + cut[2] + 1, (size_t)tn - cut[2] - 1};
    int64_t exp;
    if (id.n == 0 || bmac.n == 0 || parse_exp(expp, expn, &exp) < 0) {
        hawk__fail400(res, "Missing bewit attributes");
        return;
    }
    /* The ext as UTF-8 must fit the artifacts. */
    size_t ext_utf8 = ext.n;
    for (size_t k = 0; k < ext.n; k++)
        ext_utf8 += (unsigned char)ext.p[k] >= 0x80;
    if (ext_utf8 > HAWK_ATTR_MAX || id.n > HAWK_ATTR_MAX) {
        hawk__fail400(res, "Invalid bewit structure");
        return;
    }
    /* The URL without the bewit. */
    size_t un = b.sep;
    memcpy(a->resource, r, un);
    if (b.rest_n) {
        a->resource[un++] = r[b.sep];
        memcpy(a->resource + un, r + b.rest, b.rest_n);
        un += b.rest_n;
    }
    a->resource[un] = '\0';
    copy_attr(a->id, sizeof a->id, id);
    snprintf(expbuf, sizeof expbuf, "%lld", (long long)exp);
    memcpy(a->ts, expbuf, strlen(expbuf) + 1);
    {
        size_t o = 0;
        for (size_t k = 0; k < ext.n; k++) {
            unsigned char ch = (unsigned char)ext.p[k];
            if (ch >= 0x80) {
                a->ext[o++] = (char)(0xc0 | (ch >> 6));
                a->ext[o++] = (char)(0x80 | (ch & 0x3f));
            } else {
                a->ext[o++] = (char)ch;
            }
        }
        a->ext[o] = '\0';
    }
    if (copy_attr(a->method, sizeof a->method, hawk_attr_str(req->method)) < 0) {
        hawk__fail401(res, "Invalid method");
        return;
    }

    /* Expiry before the lookup and the MAC (8.0.0 order). */
    if (exp * 1000 <= now_ms) {
        hawk__fail401(res, "Access expired");
        return;
    }
    if (lookup_creds(lookup, lookup_ctx, id.p, id.n, &c, res) < 0)
        return;
    struct hawk_norm n = {
        .type = "bewit",
        .ts = hawk_attr_str(expbuf),
        .method = hawk_attr_str("GET"),
        .resource = hawk_attr_str(a->resource),
        .host = hawk_attr_str(req->host),
        .port = hawk_attr_str(req->port),
        .ext = ext,
        .ext_latin1 = 1,
    };
    if (hawk_mac(&c, &n, mac) < 0) {
        hawk__fail_status(res, 500, "Internal error");
        return;
    }
    if (!hawk_equal(mac, strlen(mac), bmac.p, bmac.n)) {
        hawk__fail401(res, "Bad mac");
        return;
    }
    res->ok = 1;
}
