/*
 * hawk: the Hawk protocol as @hapi/hawk 8.0.0 behaves (see hawk.h for the contract
 * and the deliberate differences). Layout of this file:
 *
 *   sink         where a normalized string goes: an HMAC or digest context
 *                (streamed, no buffer) or a bounded buffer (tests);
 *   normalized   the one writer of the request/response/bewit strings and of the
 *                payload string, used by both the MAC and the test functions;
 *   parsing      the Authorization header (a replay of the reference's regex
 *                scan), the Host header and the bewit parameter;
 *   verifying    hawk_authenticate, hawk_authenticate_bewit;
 *   signing      hawk_client_header, hawk_response_header, hawk_bewit and the
 *                client's response check.
 *
 * base64 is core/base64: standard with padding for MACs and hashes, URL-safe
 * without padding for bewits, decoded leniently as the reference does.
 *
 * Every input is bounded before it is read (HAWK_HEADER_MAX), scans never go past
 * a slice's length, and nothing is allocated here: OpenSSL allocates its own
 * contexts.
 */
#include "auth/hawk.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/err.h"

#define DIGEST_MAX 32 /* SHA-256 */

/* ---- small helpers ------------------------------------------------------------- */

/* JavaScript's \s over Latin-1 characters (the reference sees header bytes as
 * Latin-1): TAB LF VT FF CR SP and NBSP. */
static int is_ws(unsigned char c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0xa0;
}

/* JavaScript's \w: [A-Za-z0-9_]. */
static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* A character allowed in an attribute value (VCHAR-HAWK, section 2.2): printable
 * ASCII and space, except the double quote and the backslash. */
static int is_value_char(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

static int valid_value(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_value_char((unsigned char)p[i]))
            return 0;
    return 1;
}

static int valid_cstr_value(const char *s)
{
    return s && valid_value(s, strlen(s));
}

static unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static unsigned char to_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

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

struct hawk_attr hawk_attr_str(const char *s)
{
    struct hawk_attr a = {s, s ? strlen(s) : 0};
    return a;
}

int hawk_equal(const char *a, size_t an, const char *b, size_t bn)
{
    /* The lengths of MACs and hashes are public; only the contents are compared
     * in constant time. */
    if (an != bn)
        return 0;
    if (an == 0)
        return 1;
    return CRYPTO_memcmp(a, b, an) == 0;
}

int hawk_alg_parse(const char *name, enum hawk_alg *out)
{
    if (name && strcmp(name, "sha256") == 0) {
        *out = HAWK_SHA256;
        return 0;
    }
    if (name && strcmp(name, "sha1") == 0) {
        *out = HAWK_SHA1;
        return 0;
    }
    return ERR_INVAL;
}

const char *hawk_alg_name(enum hawk_alg alg)
{
    switch (alg) {
    case HAWK_SHA256:
        return "sha256";
    case HAWK_SHA1:
        return "sha1";
    }
    return "unknown";
}

static int alg_known(enum hawk_alg alg)
{
    return alg == HAWK_SHA256 || alg == HAWK_SHA1;
}

static const char *alg_digest(enum hawk_alg alg)
{
    return alg == HAWK_SHA1 ? "SHA1" : "SHA256";
}

/* ---- sink ---------------------------------------------------------------------- */

struct sink {
    EVP_MAC_CTX *mac; /* one of mac, md, buf */
    EVP_MD_CTX *md;
    char *buf; /* bounded buffer, kept NUL-terminated */
    size_t cap, len;
    int err;
};

static void put(struct sink *s, const void *p, size_t n)
{
    if (n == 0 || s->err)
        return;
    if (s->mac) {
        if (!EVP_MAC_update(s->mac, p, n))
            s->err = ERR_INTERNAL;
    } else if (s->md) {
        if (!EVP_DigestUpdate(s->md, p, n))
            s->err = ERR_INTERNAL;
    } else {
        if (n >= s->cap - s->len) {
            s->err = ERR_TOOBIG;
            return;
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
        s->buf[s->len] = '\0';
    }
}

static void puts_(struct sink *s, const char *str)
{
    put(s, str, strlen(str));
}

static void put_nl(struct sink *s)
{
    put(s, "\n", 1);
}

/* Put with a per-byte mapping, in small chunks. */
static void put_mapped(struct sink *s, struct hawk_attr a, unsigned char (*map)(unsigned char))
{
    unsigned char tmp[128];
    size_t i = 0;
    while (i < a.n) {
        size_t k = 0;
        while (k < sizeof tmp && i < a.n)
            tmp[k++] = map((unsigned char)a.p[i++]);
        put(s, tmp, k);
    }
}

/* ext line: \ -> \\, LF -> \n; with latin1, bytes >= 0x80 become UTF-8. */
static void put_ext(struct sink *s, struct hawk_attr a, int latin1)
{
    size_t run = 0; /* start of the pending run of plain bytes */
    if (a.n == 0)
        return;
    for (size_t i = 0; i < a.n; i++) {
        unsigned char c = (unsigned char)a.p[i];
        if (c != '\\' && c != '\n' && !(latin1 && c >= 0x80))
            continue;
        put(s, a.p + run, i - run);
        run = i + 1;
        if (c == '\\') {
            put(s, "\\\\", 2);
        } else if (c == '\n') {
            put(s, "\\n", 2);
        } else {
            unsigned char u[2] = {(unsigned char)(0xc0 | (c >> 6)),
                                  (unsigned char)(0x80 | (c & 0x3f))};
            put(s, u, 2);
        }
    }
    put(s, a.p + run, a.n - run);
}

static int sink_mac_begin(struct sink *s, EVP_MAC **macp, const struct hawk_credentials *c)
{
    memset(s, 0, sizeof *s);
    *macp = NULL;
    if (!c || !c->key || c->key_len == 0 || !alg_known(c->alg))
        return ERR_INVAL;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return ERR_INTERNAL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (!ctx) {
        EVP_MAC_free(mac);
        return ERR_INTERNAL;
    }
    OSSL_PARAM params[2];
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)alg_digest(c->alg), 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_init(ctx, (const unsigned char *)c->key, c->key_len, params)) {
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        return ERR_INTERNAL;
    }
    *macp = mac;
    s->mac = ctx;
    return 0;
}

/* Finish the MAC into out (base64) and free the contexts. */
static int sink_mac_end(struct sink *s, EVP_MAC *mac, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dn = 0;
    int rc = s->err;
    out[0] = '\0';
    if (rc == 0 && (!EVP_MAC_final(s->mac, d, &dn, sizeof d) || dn > DIGEST_MAX))
        rc = ERR_INTERNAL;
    if (rc == 0 && base64_encode(d, dn, 0, out, HAWK_MAC_B64_MAX) < 0)
        rc = ERR_INTERNAL;
    EVP_MAC_CTX_free(s->mac);
    EVP_MAC_free(mac);
    s->mac = NULL;
    return rc;
}

/* ---- normalized strings -------------------------------------------------------- */

/* The resource line: as received when it starts with '/' (or is empty); for an
 * absolute-form target, the path and query of its URL without the fragment, "/"
 * prefixed when the path is empty (Node's url.parse(...).path). *slash says
 * whether to write that "/". */
static struct hawk_attr norm_resource(struct hawk_attr r, int *slash)
{
    *slash = 0;
    if (r.n == 0 || r.p[0] == '/')
        return r;
    size_t i = 0; /* scheme: ALPHA / DIGIT / "+" / "-" / "." */
    while (i < r.n && ((is_word((unsigned char)r.p[i]) && r.p[i] != '_') || r.p[i] == '+' ||
                       r.p[i] == '-' || r.p[i] == '.'))
        i++;
    size_t start = 0;
    if (i > 0 && i + 2 < r.n && r.p[i] == ':' && r.p[i + 1] == '/' && r.p[i + 2] == '/') {
        start = i + 3;
        while (start < r.n && r.p[start] != '/' && r.p[start] != '?' && r.p[start] != '#')
            start++;
        if (start == r.n || r.p[start] != '/')
            *slash = 1;
    }
    size_t end = start;
    while (end < r.n && r.p[end] != '#')
        end++;
    struct hawk_attr out = {r.p + start, end - start};
    return out;
}

static void write_normalized(struct sink *s, const struct hawk_norm *n)
{
    puts_(s, "hawk.1.");
    puts_(s, n->type ? n->type : "header");
    put_nl(s);
    put(s, n->ts.p, n->ts.n);
    put_nl(s);
    put(s, n->nonce.p, n->nonce.n);
    put_nl(s);
    put_mapped(s, n->method, to_upper);
    put_nl(s);
    int slash;
    struct hawk_attr r = norm_resource(n->resource, &slash);
    if (slash)
        put(s, "/", 1);
    put(s, r.p, r.n);
    put_nl(s);
    put_mapped(s, n->host, to_lower);
    put_nl(s);
    put(s, n->port.p, n->port.n);
    put_nl(s);
    put(s, n->hash.p, n->hash.n);
    put_nl(s);
    put_ext(s, n->ext, n->ext_latin1);
    put_nl(s);
    if (n->app.n > 0) {
        put(s, n->app.p, n->app.n);
        put_nl(s);
        put(s, n->dlg.p, n->dlg.n);
        put_nl(s);
    }
}

int hawk_normalized(const struct hawk_norm *n, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return ERR_TOOBIG;
    struct sink s = {.buf = out, .cap = outlen};
    out[0] = '\0';
    write_normalized(&s, n);
    return s.err ? s.err : (int)s.len;
}

int hawk_mac(const struct hawk_credentials *c, const struct hawk_norm *n, char *out)
{
    struct sink s;
    EVP_MAC *mac;
    out[0] = '\0';
    int rc = sink_mac_begin(&s, &mac, c);
    if (rc < 0)
        return rc;
    write_normalized(&s, n);
    return sink_mac_end(&s, mac, out);
}

int hawk_ts_mac(const struct hawk_credentials *c, int64_t now_sec, char *out)
{
    struct sink s;
    EVP_MAC *mac;
    char num[24];
    out[0] = '\0';
    int rc = sink_mac_begin(&s, &mac, c);
    if (rc < 0)
        return rc;
    snprintf(num, sizeof num, "%lld", (long long)now_sec);
    puts_(&s, "hawk.1.ts\n");
    puts_(&s, num);
    put_nl(&s);
    return sink_mac_end(&s, mac, out);
}

/* Content type for the payload hash: cut at ';', trimmed, lower-cased. */
static struct hawk_attr content_type_slice(const char *ct)
{
    struct hawk_attr a = {"", 0};
    if (!ct)
        return a;
    size_t n = 0;
    while (ct[n] && ct[n] != ';')
        n++;
    size_t b = 0;
    while (b < n && is_ws((unsigned char)ct[b]))
        b++;
    while (n > b && is_ws((unsigned char)ct[n - 1]))
        n--;
    a.p = ct + b;
    a.n = n - b;
    return a;
}

static void write_payload(struct sink *s, const char *content_type, const void *payload, size_t len)
{
    puts_(s, "hawk.1.payload\n");
    put_mapped(s, content_type_slice(content_type), to_lower);
    put_nl(s);
    if (payload)
        put(s, payload, len);
    put_nl(s);
}

int hawk_payload_normalized(const char *content_type, const void *payload, size_t len, char *out,
                            size_t outlen)
{
    if (!out || outlen == 0)
        return ERR_TOOBIG;
    struct sink s = {.buf = out, .cap = outlen};
    out[0] = '\0';
    write_payload(&s, content_type, payload, len);
    return s.err ? s.err : (int)s.len;
}

void hawk_payload_hash(enum hawk_alg alg, const char *content_type, const void *payload, size_t len,
                       char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    out[0] = '\0';
    if (!alg_known(alg))
        return;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return;
    struct sink s = {.md = ctx};
    if (EVP_DigestInit_ex(ctx, alg == HAWK_SHA1 ? EVP_sha1() : EVP_sha256(), NULL)) {
        write_payload(&s, content_type, payload, len);
        if (!s.err && EVP_DigestFinal_ex(ctx, d, &dn) && dn <= DIGEST_MAX)
            (void)base64_encode(d, dn, 0, out, HAWK_MAC_B64_MAX); /* dn <= DIGEST_MAX: fits */
    }
    EVP_MD_CTX_free(ctx);
}

/* ---- results ------------------------------------------------------------------- */

static void result_init(struct hawk_result *res)
{
    res->ok = 0;
    res->status = 0;
    res->message[0] = '\0';
    res->www_authenticate[0] = '\0';
}

/* 400: no WWW-Authenticate. */
static void fail400(struct hawk_result *res, const char *msg)
{
    res->ok = 0;
    res->status = 400;
    snprintf(res->message, sizeof res->message, "%s", msg);
    res->www_authenticate[0] = '\0';
}

/* 401 with Hawk error="msg", or the bare challenge when msg is NULL. */
static void fail401(struct hawk_result *res, const char *msg)
{
    res->ok = 0;
    res->status = 401;
    if (!msg) {
        snprintf(res->message, sizeof res->message, "Unauthorized");
        snprintf(res->www_authenticate, sizeof res->www_authenticate, "Hawk");
        return;
    }
    snprintf(res->message, sizeof res->message, "%s", msg);
    snprintf(res->www_authenticate, sizeof res->www_authenticate, "Hawk error=\"%s\"", msg);
}

static void fail_status(struct hawk_result *res, int status, const char *msg)
{
    res->ok = 0;
    res->status = status;
    snprintf(res->message, sizeof res->message, "%s", msg);
    res->www_authenticate[0] = '\0';
}

/* A lookup error other than ERR_NOTFOUND, passed through as a server error. */
static void fail_lookup(struct hawk_result *res, int rc)
{
    int st = err_http_status(rc);
    fail_status(res, st >= 500 ? st : 500, err_str(rc));
}

/* ---- Authorization header parsing ---------------------------------------------- */

enum { A_ID, A_TS, A_NONCE, A_HASH, A_EXT, A_MAC, A_APP, A_DLG, A_COUNT };
static const char *const attr_names[A_COUNT] = {"id",  "ts",  "nonce", "hash",
                                                "ext", "mac", "app",   "dlg"};
#define KEYS_REQUEST  0xffu
#define KEYS_RESPONSE ((1u << A_MAC) | (1u << A_EXT) | (1u << A_HASH))

static struct hawk_attr *header_slot(struct hawk_header *h, int k)
{
    switch (k) {
    case A_ID:
        return &h->id;
    case A_TS:
        return &h->ts;
    case A_NONCE:
        return &h->nonce;
    case A_HASH:
        return &h->hash;
    case A_EXT:
        return &h->ext;
    case A_MAC:
        return &h->mac;
    case A_APP:
        return &h->app;
    default:
        return &h->dlg;
    }
}

static int attr_index(const char *p, size_t n, unsigned keys)
{
    for (int k = 0; k < A_COUNT; k++)
        if ((keys & (1u << k)) && strlen(attr_names[k]) == n && memcmp(attr_names[k], p, n) == 0)
            return k;
    return -1;
}

static void attr_error(char *msg, size_t cap, const char *what, const char *name, size_t n)
{
    /* The reference quotes the whole name; ours is cut to fit the message. */
    int room = (int)(n > 48 ? 48 : n);
    snprintf(msg, cap, "%s: %.*s", what, room, name);
}

/*
 * The reference replaces every match of
 *     (\w+)="([^"\\]*)"\s*(?:,\s*|$)
 * in the attribute string, left to right, and fails when anything is left. This
 * replays that scan: at each position, try the one way the pattern can match
 * there; on a miss, that position stays (covered = 0) and the scan moves on. A
 * miss inside a word run misses for every start in the run, so the scan skips it.
 */
static int parse_attrs(const char *value, unsigned keys, struct hawk_header *out,
                       struct hawk_result *res)
{
    memset(out, 0, sizeof *out);
    result_init(res);
    if (!value || !value[0]) {
        fail401(res, NULL);
        return ERR_UNAUTHORIZED;
    }
    size_t len = strnlen(value, HAWK_HEADER_MAX + 1);
    if (len > HAWK_HEADER_MAX) {
        fail400(res, "Header length too long");
        return ERR_INVAL;
    }
    const unsigned char *v = (const unsigned char *)value;

    /* ^(\w+)(?:\s+(.*))?$ where . excludes CR and LF. */
    size_t i = 0;
    while (i < len && is_word(v[i]))
        i++;
    size_t scheme_n = i;
    if (scheme_n == 0) {
        fail400(res, "Invalid header syntax");
        return ERR_INVAL;
    }
    size_t j = i;
    while (j < len && is_ws(v[j]))
        j++;
    if (j < len && j == i) {
        fail400(res, "Invalid header syntax");
        return ERR_INVAL;
    }
    for (size_t k = j; k < len; k++) {
        if (v[k] == '\n' || v[k] == '\r') {
            fail400(res, "Invalid header syntax");
            return ERR_INVAL;
        }
    }
    if (scheme_n != 4 || to_lower(v[0]) != 'h' || to_lower(v[1]) != 'a' || to_lower(v[2]) != 'w' ||
        to_lower(v[3]) != 'k') {
        fail401(res, NULL);
        return ERR_UNAUTHORIZED;
    }
    if (j == len) {
        fail400(res, "Invalid header syntax");
        return ERR_INVAL;
    }

    const unsigned char *r = v + j;
    size_t n = len - j, pos = 0;
    int covered = 1;
    char msg[HAWK_MESSAGE_MAX] = "";
    while (pos < n) {
        size_t k = pos;
        while (k < n && is_word(r[k]))
            k++;
        size_t name_end = k, vstart = k + 2, q = vstart, m = 0;
        int match = 0;
        if (k > pos && k + 1 < n && r[k] == '=' && r[k + 1] == '"') {
            while (q < n && r[q] != '"' && r[q] != '\\')
                q++;
            if (q < n && r[q] == '"') {
                m = q + 1;
                while (m < n && is_ws(r[m]))
                    m++;
                if (m == n) {
                    match = 1;
                } else if (r[m] == ',') {
                    m++;
                    while (m < n && is_ws(r[m]))
                        m++;
                    match = 1;
                }
            }
        }
        if (!match) {
            covered = 0;
            pos = name_end > pos ? name_end : pos + 1;
            continue;
        }
        const char *name = (const char *)r + pos;
        size_t name_n = name_end - pos;
        const char *val = (const char *)r + vstart;
        size_t val_n = q - vstart;
        int idx = attr_index(name, name_n, keys);
        if (idx < 0) {
            attr_error(msg, sizeof msg, "Unknown attribute", name, name_n);
            covered = 0;
        } else if (!valid_value(val, val_n)) {
            attr_error(msg, sizeof msg, "Bad attribute value", name, name_n);
            covered = 0;
        } else if (header_slot(out, idx)->p) {
            attr_error(msg, sizeof msg, "Duplicate attribute", name, name_n);
            covered = 0;
        } else {
            header_slot(out, idx)->p = val;
            header_slot(out, idx)->n = val_n;
        }
        pos = m;
    }
    if (!covered) {
        memset(out, 0, sizeof *out);
        fail400(res, msg[0] ? msg : "Bad header format");
        return ERR_INVAL;
    }
    res->ok = 1;
    return 0;
}

int hawk_parse_header(const char *value, struct hawk_header *out, struct hawk_result *res)
{
    return parse_attrs(value, KEYS_REQUEST, out, res);
}

/* ---- Host header ----------------------------------------------------------------- */

/*
 * ^(?:(?:\r\n)?\s)*((?:[^:]+)|(?:\[[^\]]+\]))(?::(\d+))?(?:(?:\r\n)?\s)*$
 * First alternative: the name runs to the first ':' (or the end), then optionally
 * ":digits", then whitespace. Second: a bracketed literal, then the same.
 */
static int host_tail(const unsigned char *v, size_t i, size_t len, size_t *ps, size_t *pn)
{
    *ps = *pn = 0;
    if (i < len && v[i] == ':') {
        size_t d = i + 1;
        while (d < len && is_digit(v[d]))
            d++;
        if (d == i + 1)
            return -1;
        *ps = i + 1;
        *pn = d - i - 1;
        i = d;
    }
    while (i < len && is_ws(v[i]))
        i++;
    return i == len ? 0 : -1;
}

int hawk_parse_host(const char *host_header, int tls, char *host, size_t host_len, char *port,
                    size_t port_len)
{
    if (host_len)
        host[0] = '\0';
    if (port_len)
        port[0] = '\0';
    if (!host_header)
        return ERR_INVAL;
    size_t len = strnlen(host_header, HAWK_HEADER_MAX + 1);
    if (len > HAWK_HEADER_MAX)
        return ERR_INVAL;
    const unsigned char *v = (const unsigned char *)host_header;
    while (len > 0 && is_ws(v[len - 1]))
        len--;
    size_t b = 0;
    while (b < len && is_ws(v[b]))
        b++;
    if (b == len)
        return ERR_INVAL;

    size_t ns = b, nn = 0, ps = 0, pn = 0;
    size_t e = b;
    while (e < len && v[e] != ':')
        e++;
    if (host_tail(v, e, len, &ps, &pn) == 0) {
        nn = e - b;
    } else {
        if (v[b] != '[')
            return ERR_INVAL;
        e = b + 1;
        while (e < len && v[e] != ']')
            e++;
        if (e == len || e == b + 1 || host_tail(v, e + 1, len, &ps, &pn) < 0)
            return ERR_INVAL;
        nn = e + 1 - b;
    }
    /* ferry: IPv6 brackets go (the client signs the bare address). */
    if (nn >= 2 && v[ns] == '[' && v[ns + nn - 1] == ']') {
        ns++;
        nn -= 2;
    }
    if (nn == 0 || nn >= host_len)
        return ERR_INVAL;
    for (size_t k = 0; k < nn; k++) {
        unsigned char c = v[ns + k];
        if (c < 0x20 || c >= 0x7f)
            return ERR_INVAL;
        host[k] = (char)to_lower(c);
    }
    host[nn] = '\0';

    if (pn == 0) {
        const char *def = tls ? "443" : "80";
        if (strlen(def) >= port_len)
            return ERR_INVAL;
        memcpy(port, def, strlen(def) + 1);
        return 0;
    }
    /* ferry: leading zeros go ("0080" is 80, as 9.0.2); above 65535 is invalid. */
    while (pn > 1 && v[ps] == '0') {
        ps++;
        pn--;
    }
    if (pn > 5 || pn >= port_len)
        return ERR_INVAL;
    long val = 0;
    for (size_t k = 0; k < pn; k++)
        val = val * 10 + (v[ps + k] - '0');
    if (val > 65535)
        return ERR_INVAL;
    memcpy(port, v + ps, pn);
    port[pn] = '\0';
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
        if (!is_digit((unsigned char)ts.p[i]))
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
        fail_status(res, 500, "Internal error");
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
        fail400(res, "Invalid Host header");
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
        fail400(res, "Resource path exceeds max length");
        return -1;
    }
    memcpy(a->resource, resource, rn);
    a->resource[rn] = '\0';
    if (!req->method || copy_attr(a->method, sizeof a->method, hawk_attr_str(req->method))) {
        fail400(res, "Invalid method");
        return -1;
    }
    return 0;
}

static int lookup_creds(hawk_lookup_fn lookup, void *ctx, const char *id, size_t id_n,
                        struct hawk_credentials *c, struct hawk_result *res)
{
    memset(c, 0, sizeof *c);
    int rc = lookup ? lookup(ctx, id, id_n, c) : ERR_NOTFOUND;
    if (rc == ERR_NOTFOUND) {
        fail401(res, "Unknown credentials");
        return -1;
    }
    if (rc < 0) {
        fail_lookup(res, rc);
        return -1;
    }
    if (!c->key || c->key_len == 0) {
        fail_status(res, 500, "Invalid credentials");
        return -1;
    }
    if (!alg_known(c->alg)) {
        fail_status(res, 500, "Unknown algorithm");
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

    result_init(res);
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
    result_init(res);
    if (request_target(req, a, res) < 0)
        return;
    /* 3. Required attributes. */
    if (!h.id.p || !h.ts.p || !h.nonce.p || !h.mac.p) {
        fail400(res, "Missing attributes");
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
        fail_status(res, 500, "Internal error");
        return;
    }
    if (!hawk_equal(mac, strlen(mac), h.mac.p, h.mac.n)) {
        fail401(res, "Bad mac");
        return;
    }

    /* 6. Payload, when the server verifies this body. */
    if (req->check_payload) {
        char ph[HAWK_MAC_B64_MAX];
        if (!h.hash.p) {
            fail401(res, "Missing required payload hash");
            return;
        }
        hawk_payload_hash(c.alg, req->content_type, req->payload, req->payload_len, ph);
        if (!ph[0]) {
            fail_status(res, 500, "Internal error");
            return;
        }
        if (!hawk_equal(ph, strlen(ph), h.hash.p, h.hash.n)) {
            fail401(res, "Bad payload hash");
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
            fail401(res, "Invalid nonce");
            return;
        }
        if (rc < 0) {
            fail_status(res, 503, "Nonce store unavailable");
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
        if (!is_digit(p[k]))
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

    result_init(res);
    artifacts_clear(a);
    if (request_side(req, a, res) < 0)
        return;
    const char *r = req->resource ? req->resource : "";
    size_t rn = strnlen(r, HAWK_HEADER_MAX + 1);
    if (rn > HAWK_HEADER_MAX) {
        fail400(res, "Resource path exceeds max length");
        return;
    }
    if (find_bewit(r, rn, &b) < 0) {
        fail401(res, NULL);
        return;
    }
    if (b.val_n == 0) {
        fail401(res, "Empty bewit");
        return;
    }
    if (!req->method || (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)) {
        fail401(res, "Invalid method");
        return;
    }
    if (req->authorization && req->authorization[0]) {
        fail400(res, "Multiple authentications");
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
        fail400(res, "Invalid bewit encoding");
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
        fail400(res, "Invalid bewit structure");
        return;
    }
    struct hawk_attr id = {(const char *)tok, cut[0]};
    const unsigned char *expp = tok + cut[0] + 1;
    size_t expn = cut[1] - cut[0] - 1;
    struct hawk_attr bmac = {(const char *)tok + cut[1] + 1, cut[2] - cut[1] - 1};
    struct hawk_attr ext = {(const char *)tok + cut[2] + 1, (size_t)tn - cut[2] - 1};
    int64_t exp;
    if (id.n == 0 || bmac.n == 0 || parse_exp(expp, expn, &exp) < 0) {
        fail400(res, "Missing bewit attributes");
        return;
    }
    /* The ext as UTF-8 must fit the artifacts. */
    size_t ext_utf8 = ext.n;
    for (size_t k = 0; k < ext.n; k++)
        ext_utf8 += (unsigned char)ext.p[k] >= 0x80;
    if (ext_utf8 > HAWK_ATTR_MAX || id.n > HAWK_ATTR_MAX) {
        fail400(res, "Invalid bewit structure");
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
        fail401(res, "Invalid method");
        return;
    }

    /* Expiry before the lookup and the MAC (8.0.0 order). */
    if (exp * 1000 <= now_ms) {
        fail401(res, "Access expired");
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
        fail_status(res, 500, "Internal error");
        return;
    }
    if (!hawk_equal(mac, strlen(mac), bmac.p, bmac.n)) {
        fail401(res, "Bad mac");
        return;
    }
    res->ok = 1;
}

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

static int creds_valid(const struct hawk_credentials *c)
{
    return c && c->key && c->key_len > 0 && alg_known(c->alg);
}

static int nonempty(const char *s)
{
    return s && s[0];
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
    int app = nonempty(o->app);
    struct hawk_norm n = {
        .type = "header",
        .ts = hawk_attr_str(o->ts),
        .nonce = hawk_attr_str(o->nonce),
        .method = hawk_attr_str(method),
        .resource = hawk_attr_str(resource),
        .host = hawk_attr_str(host),
        .port = hawk_attr_str(port),
        .hash = hawk_attr_str(hash),
        .ext = hawk_attr_str(o->ext),
        .app = hawk_attr_str(app ? o->app : NULL),
        .dlg = hawk_attr_str(app ? o->dlg : NULL),
    };
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
    if (app) {
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
    if (parse_attrs(header, KEYS_RESPONSE, &h, &r) < 0) {
        why_set(why, why_len, "Invalid Server-Authorization header", r.message);
        return ERR_UNAUTHORIZED;
    }
    int app = nonempty(o->app);
    struct hawk_norm n = {
        .type = "response",
        .ts = hawk_attr_str(o->ts),
        .nonce = hawk_attr_str(o->nonce),
        .method = hawk_attr_str(method),
        .resource = hawk_attr_str(resource),
        .host = hawk_attr_str(host),
        .port = hawk_attr_str(port),
        .hash = h.hash,
        .ext = h.ext,
        .app = hawk_attr_str(app ? o->app : NULL),
        .dlg = hawk_attr_str(app ? o->dlg : NULL),
    };
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
