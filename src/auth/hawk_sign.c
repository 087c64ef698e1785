/*
 * hawk_sign: making Hawk values, and the client's check of the server's answer.
 *
 *   hawk_client_header()           the Authorization header (PROTOCOL.md sections
 *                                  2 and 3, with the payload hash of section 4);
 *   hawk_response_header()         the server's Server-Authorization (section 10);
 *   hawk_client_verify_response()  the client's check of that header (section 10);
 *   hawk_bewit()                   a bewit token (section 11.1).
 *
 * Every value written into a header is checked against the attribute grammar of
 * section 2.2 and refused (ERR_INVAL) rather than escaped; a bewit's ext must fit
 * Latin-1. The MACs come from the core, hawk.c, through hawk_int.h.
 *
 * base64 is core/base64: bewits are URL-safe without padding. Output goes to the
 * caller's bounded buffer (ERR_TOOBIG past it); nothing is allocated here.
 */
#include "auth/hawk.h"

#include <stdio.h>
#include <string.h>

#include "auth/hawk_int.h"
#include "core/base64.h"
#include "core/err.h"

/* ---- signing ------------------------------------------------------------------------ */

/* Bounded string builder for header values. */
struct out {
    char *p;
    size_t cap, len;
    int err;
};

static void out_put(struct out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->err || n >= o->cap - o->len) {
        o->err = ERR_TOOBIG;
        return;
    }
    memcpy(o->p + o->len, s, n + 1);
    o->len += n;
}

static void out_attr(struct out *o, const char *sep, const char *name, const char *val)
{
    out_put(o, sep);
    out_put(o, name);
    out_put(o, "=\"");
    out_put(o, val);
    out_put(o, "\"");
}

static int valid_cstr_value(const char *s)
{
    return s && hawk__valid_value(s, strlen(s));
}

static int creds_valid(const struct hawk_credentials *c)
{
    return c && c->key && c->key_len > 0 && hawk__alg_known(c->alg);
}

static int nonempty(const char *s)
{
    return s && s[0];
}

/* The normalized-string fields a client knows of its own request (hash and ext
 * are the caller's: the request's own, or the response's). app and dlg follow the
 * rule of PROTOCOL.md section 3: dlg only with app. */
static struct hawk_norm client_norm(const char *type, const struct hawk_client_options *o,
                                    const char *method, const char *resource, const char *host,
                                    const char *port)
{
    int app = nonempty(o->app);
    struct hawk_norm n = {
        .type = type,
        .ts = hawk_attr_str(o->ts),
        .nonce = hawk_attr_str(o->nonce),
        .method = hawk_attr_str(method),
        .resource = hawk_attr_str(resource),
        .host = hawk_attr_str(host),
        .port = hawk_attr_str(port),
        .app = hawk_attr_str(app ? o->app : NULL),
        .dlg = hawk_attr_str(app ? o->dlg : NULL),
    };
    return n;
}

int hawk_client_header(const struct hawk_credentials *c, const char *method, const char *resource,
                       const char *host, const char *port, const struct hawk_client_options *o,
                       char *out, size_t outlen)
{
    char mac[HAWK_MAC_B64_MAX], hash[HAWK_MAC_B64_MAX] = "";
    if (!out || outlen == 0)
        return ERR_TOOBIG;
    out[0] = '\0';
    if (!creds_valid(c) || !o || !method || !method[0] || !resource || !host || !port ||
        !valid_cstr_value(c->id) || !valid_cstr_value(o->ts) || !valid_cstr_value(o->nonce))
        return ERR_INVAL;
    if ((nonempty(o->ext) && !valid_cstr_value(o->ext)) ||
        (nonempty(o->app) && !valid_cstr_value(o->app)) ||
        (nonempty(o->app) && nonempty(o->dlg) && !valid_cstr_value(o->dlg)))
        return ERR_INVAL;
    if (o->hash_payload) {
        hawk_payload_hash(c->alg, o->content_type, o->payload, o->payload_len, hash);
        if (!hash[0])
            return ERR_INTERNAL;
    }
    struct hawk_norm n = client_norm("header", o, method, resource, host, port);
    n.hash = hawk_attr_str(hash);
    n.ext = hawk_attr_str(o->ext);
    int rc = hawk_mac(c, &n, mac);
    if (rc < 0)
        return rc;
    struct out w = {out, outlen, 0, 0};
    out_put(&w, "Hawk");
    out_attr(&w, " ", "id", c->id);
    out_attr(&w, ", ", "ts", o->ts);
    out_attr(&w, ", ", "nonce", o->nonce);
    if (hash[0])
        out_attr(&w, ", ", "hash", hash);
    if (nonempty(o->ext))
        out_attr(&w, ", ", "ext", o->ext);
    out_attr(&w, ", ", "mac", mac);
    if (nonempty(o->app)) {
        out_attr(&w, ", ", "app", o->app);
        if (nonempty(o->dlg))
            out_attr(&w, ", ", "dlg", o->dlg);
    }
    if (w.err)
        out[0] = '\0';
    return w.err;
}

int hawk_response_header(const struct hawk_artifacts *a, const struct hawk_credentials *c,
                         const char *content_type, const void *payload, size_t payload_len,
                         const char *ext, char *out, size_t outlen)
{
    char mac[HAWK_MAC_B64_MAX], hash[HAWK_MAC_B64_MAX] = "";
    if (!out || outlen == 0)
        return ERR_TOOBIG;
    out[0] = '\0';
    if (!a || !creds_valid(c) || (nonempty(ext) && !valid_cstr_value(ext)))
        return ERR_INVAL;
    if (payload) {
        hawk_payload_hash(c->alg, content_type, payload, payload_len, hash);
        if (!hash[0])
            return ERR_INTERNAL;
    }
    int app = a->app[0] != '\0';
    struct hawk_norm n = {
        .type = "response",
        .ts = hawk_attr_str(a->ts),
        .nonce = hawk_attr_str(a->nonce),
        .method = hawk_attr_str(a->method),
        .resource = hawk_attr_str(a->resource),
        .host = hawk_attr_str(a->host),
        .port = hawk_attr_str(a->port),
        .hash = hawk_attr_str(hash),
        .ext = hawk_attr_str(ext),
        .app = hawk_attr_str(app ? a->app : NULL),
        .dlg = hawk_attr_str(app ? a->dlg : NULL),
    };
    int rc = hawk_mac(c, &n, mac);
    if (rc < 0)
        return rc;
    struct out w = {out, outlen, 0, 0};
    out_put(&w, "Hawk");
    out_attr(&w, " ", "mac", mac);
    if (hash[0])
        out_attr(&w, ", ", "hash", hash);
    if (nonempty(ext))
        out_attr(&w, ", ", "ext", ext);
    if (w.err)
        out[0] = '\0';
    return w.err;
}

static void why_set(char *why, size_t why_len, const char *msg, const char *detail)
{
    if (!why || why_len == 0)
        return;
    if (detail)
        snprintf(why, why_len, "%s (%s)", msg, detail);
    else
        snprintf(why, why_len, "%s", msg);
}

int hawk_client_verify_response(const struct hawk_credentials *c, const char *method,
                                const char *resource, const char *host, const char *port,
                                const struct hawk_client_options *o, const char *header,
                                const char *content_type, const void *payload, size_t payload_len,
                                char *why, size_t why_len)
{
    struct hawk_header h;
    struct hawk_result r;
    char mac[HAWK_MAC_B64_MAX];
    why_set(why, why_len, "", NULL);
    if (!creds_valid(c) || !o || !method || !resource || !host || !port) {
        why_set(why, why_len, "Invalid arguments", NULL);
        return ERR_INVAL;
    }
    if (!header || !header[0]) {
        why_set(why, why_len, "Missing Server-Authorization header", NULL);
        return ERR_UNAUTHORIZED;
    }
    if (hawk__parse_response_header(header, &h, &r) < 0) {
        why_set(why, why_len, "Invalid Server-Authorization header", r.message);
        return ERR_UNAUTHORIZED;
    }
    struct hawk_norm n = client_norm("response", o, method, resource, host, port);
    n.hash = h.hash;
    n.ext = h.ext;
    int rc = hawk_mac(c, &n, mac);
    if (rc < 0) {
        why_set(why, why_len, "Internal error", NULL);
        return rc;
    }
    if (!h.mac.p || !hawk_equal(mac, strlen(mac), h.mac.p, h.mac.n)) {
        why_set(why, why_len, "Bad response mac", NULL);
        return ERR_UNAUTHORIZED;
    }
    if (!payload)
        return 0;
    if (!h.hash.p) {
        why_set(why, why_len, "Missing response hash attribute", NULL);
        return ERR_UNAUTHORIZED;
    }
    char ph[HAWK_MAC_B64_MAX];
    hawk_payload_hash(c->alg, content_type, payload, payload_len, ph);
    if (!ph[0] || !hawk_equal(ph, strlen(ph), h.hash.p, h.hash.n)) {
        why_set(why, why_len, "Bad response payload mac", NULL);
        return ERR_UNAUTHORIZED;
    }
    return 0;
}

/* Decode one UTF-8 character of s (NUL-terminated); returns its length, or 0 when
 * it is malformed. Writes the code point. */
static size_t utf8_char(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80) {
        *cp = (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
        return 2;
    }
    if (s[0] >= 0xe0 && s[0] <= 0xf4) {
        /* Valid or not, a lead byte of three or more is above U+00FF: the caller
         * refuses it without reading on. */
        *cp = 0x100;
        return 1;
    }
    return 0;
}

int hawk_bewit(const struct hawk_credentials *c, const char *resource, const char *host,
               const char *port, int64_t exp_sec, const char *ext, char *out, size_t outlen)
{
    char mac[HAWK_MAC_B64_MAX], expbuf[24];
    if (!out || outlen == 0)
        return ERR_TOOBIG;
    out[0] = '\0';
    if (!creds_valid(c) || !c->id || !c->id[0] || strchr(c->id, '\\') || !resource || !host ||
        !port || exp_sec <= 0 || exp_sec > 999999999999999LL)
        return ERR_INVAL;
    if (!ext)
        ext = "";
    /* ext: UTF-8, every character at most U+00FF, no backslash. */
    for (const unsigned char *p = (const unsigned char *)ext; *p;) {
        unsigned cp = 0;
        size_t k = utf8_char(p, &cp);
        if (k == 0 || cp > 0xff || cp == '\\')
            return ERR_INVAL;
        p += k;
    }
    snprintf(expbuf, sizeof expbuf, "%lld", (long long)exp_sec);
    struct hawk_norm n = {
        .type = "bewit",
        .ts = hawk_attr_str(expbuf),
        .method = hawk_attr_str("GET"),
        .resource = hawk_attr_str(resource),
        .host = hawk_attr_str(host),
        .port = hawk_attr_str(port),
        .ext = hawk_attr_str(ext),
    };
    int rc = hawk_mac(c, &n, mac);
    if (rc < 0)
        return rc;
    /* The token id\exp\mac\ext, the ext as Latin-1, encoded once. Longer than
     * HAWK_HEADER_MAX it could never be verified (the resource limit). */
    char tok[HAWK_HEADER_MAX];
    int tn = snprintf(tok, sizeof tok, "%s\\%s\\%s\\", c->id, expbuf, mac);
    if (tn < 0 || (size_t)tn >= sizeof tok)
        return ERR_TOOBIG;
    for (const unsigned char *p = (const unsigned char *)ext; *p;) {
        unsigned cp = 0;
        size_t k = utf8_char(p, &cp);
        if ((size_t)tn == sizeof tok)
            return ERR_TOOBIG;
        tok[tn++] = (char)cp; /* Latin-1 in the token */
        p += k;
    }
    long len = base64_encode(tok, (size_t)tn, BASE64_URL | BASE64_NOPAD, out, outlen);
    return len < 0 ? (int)len : 0;
}
