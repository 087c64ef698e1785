/*
 * hawk: the Hawk protocol as @hapi/hawk 8.0.0 behaves (see hawk.h for the contract
 * and the deliberate differences). The module is three files sharing hawk_int.h:
 * this one is the core the other two build on; hawk_verify.c holds the server's
 * checks (PROTOCOL.md sections 7, 9, 11.2) and hawk_sign.c the signing (sections 2,
 * 3, 10, 11.1). Layout of this file:
 *
 *   helpers      character classes (section 2.2 values), the algorithms (section 1),
 *                hawk_equal;
 *   sink         where a normalized string goes: an HMAC or digest context
 *                (streamed, no buffer) or a bounded buffer (tests);
 *   normalized   the one writer of the request/response/bewit strings (sections 3,
 *                10, 11.1), of the ts string (section 5) and of the payload string
 *                (section 4), used by both the MAC and the test functions;
 *   results      how a failure fills struct hawk_result (section 8);
 *   parsing      the Authorization and Server-Authorization headers (section 2.3:
 *                a replay of the reference's regex scan) and the Host header
 *                (section 6).
 *
 * The sink stays private to this file: verifying and signing reach it only through
 * hawk_mac() and hawk_payload_hash().
 *
 * base64 is core/base64: standard with padding for MACs and hashes.
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

#include "auth/hawk_int.h"
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

int hawk__is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* A character allowed in an attribute value (VCHAR-HAWK, section 2.2): printable
 * ASCII and space, except the double quote and the backslash. */
static int is_value_char(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

int hawk__valid_value(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_value_char((unsigned char)p[i]))
            return 0;
    return 1;
}

static unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static unsigned char to_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
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

int hawk__alg_known(enum hawk_alg alg)
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
    if (!c || !c->key || c->key_len == 0 || !hawk__alg_known(c->alg))
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
    if (!hawk__alg_known(alg))
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

void hawk__result_init(struct hawk_result *res)
{
    res->ok = 0;
    res->status = 0;
    res->message[0] = '\0';
    res->www_authenticate[0] = '\0';
}

/* 400: no WWW-Authenticate. */
void hawk__fail400(struct hawk_result *res, const char *msg)
{
    res->ok = 0;
    res->status = 400;
    snprintf(res->message, sizeof res->message, "%s", msg);
    res->www_authenticate[0] = '\0';
}

/* 401 with Hawk error="msg", or the bare challenge when msg is NULL. */
void hawk__fail401(struct hawk_result *res, const char *msg)
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

void hawk__fail_status(struct hawk_result *res, int status, const char *msg)
{
    res->ok = 0;
    res->status = status;
    snprintf(res->message, sizeof res->message, "%s", msg);
    res->www_authenticate[0] = '\0';
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
    hawk__result_init(res);
    if (!value || !value[0]) {
        hawk__fail401(res, NULL);
        return ERR_UNAUTHORIZED;
    }
    size_t len = strnlen(value, HAWK_HEADER_MAX + 1);
    if (len > HAWK_HEADER_MAX) {
        hawk__fail400(res, "Header length too long");
        return ERR_INVAL;
    }
    const unsigned char *v = (const unsigned char *)value;

    /* ^(\w+)(?:\s+(.*))?$ where . excludes CR and LF. */
    size_t i = 0;
    while (i < len && is_word(v[i]))
        i++;
    size_t scheme_n = i;
    if (scheme_n == 0) {
        hawk__fail400(res, "Invalid header syntax");
        return ERR_INVAL;
    }
    size_t j = i;
    while (j < len && is_ws(v[j]))
        j++;
    if (j < len && j == i) {
        hawk__fail400(res, "Invalid header syntax");
        return ERR_INVAL;
    }
    for (size_t k = j; k < len; k++) {
        if (v[k] == '\n' || v[k] == '\r') {
            hawk__fail400(res, "Invalid header syntax");
            return ERR_INVAL;
        }
    }
    if (scheme_n != 4 || to_lower(v[0]) != 'h' || to_lower(v[1]) != 'a' || to_lower(v[2]) != 'w' ||
        to_lower(v[3]) != 'k') {
        hawk__fail401(res, NULL);
        return ERR_UNAUTHORIZED;
    }
    if (j == len) {
        hawk__fail400(res, "Invalid header syntax");
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
        } else if (!hawk__valid_value(val, val_n)) {
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
        hawk__fail400(res, msg[0] ? msg : "Bad header format");
        return ERR_INVAL;
    }
    res->ok = 1;
    return 0;
}

int hawk_parse_header(const char *value, struct hawk_header *out, struct hawk_result *res)
{
    return parse_attrs(value, KEYS_REQUEST, out, res);
}

int hawk__parse_response_header(const char *value, struct hawk_header *out, struct hawk_result *res)
{
    return parse_attrs(value, KEYS_RESPONSE, out, res);
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
        while (d < len && hawk__is_digit(v[d]))
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
