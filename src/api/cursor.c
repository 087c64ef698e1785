/*
 * cursor: keyset-page positions (see cursor.h for the format).
 *
 * Both directions work in a fixed buffer of CURSOR_PAYLOAD_MAX bytes, the
 * most that CURSOR_MAX_CHARS characters of base64 decode to, so a cursor the
 * encoder makes always fits what the decoder accepts and neither allocates
 * before the cursor is known to be good. The MAC is HMAC-SHA256 through
 * OpenSSL's EVP_MAC, fed scope, a 0x00 separator and the payload in turn (no
 * concatenated copy), cut to CURSOR_MAC_BYTES. Decoding parses into a local
 * array and copies to the caller (texts into the arena) only at the end, so
 * a failure leaves the caller's values untouched.
 */
#include "api/cursor.h"

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/base64.h"
#include "core/err.h"
#include "core/utf8.h"

#define CURSOR_VERSION     1
/* Bytes of payload (everything, mac included) the longest cursor text holds. */
#define CURSOR_PAYLOAD_MAX (CURSOR_MAX_CHARS / 4 * 3)

/* HMAC-SHA256(key, scope | 0x00 | p[0..n)) cut to CURSOR_MAC_BYTES. Returns 0
 * or ERR_INTERNAL (the crypto library failed). */
static int cursor_mac(const unsigned char key[CURSOR_KEY_BYTES], const char *scope,
                      const unsigned char *p, size_t n, unsigned char out[CURSOR_MAC_BYTES])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    size_t full_len = 0;
    int rc = ERR_INTERNAL;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    static const unsigned char sep = 0;
    if (!ctx || !EVP_MAC_init(ctx, key, CURSOR_KEY_BYTES, params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)scope, strlen(scope)) ||
        !EVP_MAC_update(ctx, &sep, 1) || !EVP_MAC_update(ctx, p, n) ||
        !EVP_MAC_final(ctx, full, &full_len, sizeof full) || full_len < CURSOR_MAC_BYTES)
        goto out;
    memcpy(out, full, CURSOR_MAC_BYTES);
    rc = 0;
out:
    OPENSSL_cleanse(full, sizeof full);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static void put_u64(unsigned char *o, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        o[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Append one value's tag and data at p[*len], at most cap bytes in all.
 * Returns 0, ERR_INVAL (a blob, an unknown type, text that is not UTF-8) or
 * ERR_TOOBIG (a long text, or no room). */
static int put_value(unsigned char *p, size_t *len, size_t cap, const struct store_value *v)
{
    size_t o = *len;
    uint64_t bits;
    switch (v->type) {
    case STORE_NULL:
        if (cap - o < 1)
            return ERR_TOOBIG;
        p[o++] = 'n';
        break;
    case STORE_INT:
    case STORE_DOUBLE:
        if (cap - o < 9)
            return ERR_TOOBIG;
        if (v->type == STORE_INT) {
            p[o++] = 'i';
            bits = (uint64_t)v->v.i;
        } else {
            p[o++] = 'd';
            memcpy(&bits, &v->v.d, sizeof bits);
        }
        put_u64(p + o, bits);
        o += 8;
        break;
    case STORE_TEXT:
        if (v->v.s.n > CURSOR_TEXT_MAX)
            return ERR_TOOBIG;
        if (v->v.s.n > 0 && !v->v.s.p)
            return ERR_INVAL;
        if (!utf8_valid(v->v.s.p, v->v.s.n))
            return ERR_INVAL;
        if (cap - o < 3 + v->v.s.n)
            return ERR_TOOBIG;
        p[o++] = 't';
        p[o++] = (unsigned char)(v->v.s.n >> 8);
        p[o++] = (unsigned char)(v->v.s.n & 0xff);
        if (v->v.s.n)
            memcpy(p + o, v->v.s.p, v->v.s.n);
        o += v->v.s.n;
        break;
    case STORE_BOOL:
        if (cap - o < 2)
            return ERR_TOOBIG;
        p[o++] = 'b';
        p[o++] = v->v.b ? 1 : 0;
        break;
    default: /* STORE_BLOB and anything else */
        return ERR_INVAL;
    }
    *len = o;
    return 0;
}

int cursor_encode(const unsigned char key[CURSOR_KEY_BYTES], const char *scope,
                  const struct store_value *values, size_t n, struct buf *out)
{
    unsigned char p[CURSOR_PAYLOAD_MAX];
    char text[CURSOR_MAX_CHARS + 1];
    size_t len = 0;
    int rc;
    if (!key || !scope || !values || !out || n < 1 || n > CURSOR_MAX_VALUES)
        return ERR_INVAL;
    p[len++] = CURSOR_VERSION;
    p[len++] = (unsigned char)n;
    for (size_t i = 0; i < n; i++) {
        rc = put_value(p, &len, sizeof p - CURSOR_MAC_BYTES, &values[i]);
        if (rc < 0)
            return rc;
    }
    rc = cursor_mac(key, scope, p, len, p + len);
    if (rc < 0)
        return rc;
    len += CURSOR_MAC_BYTES;
    long tn = base64_encode(p, len, BASE64_URL | BASE64_NOPAD, text, sizeof text);
    if (tn < 0)
        return ERR_TOOBIG; /* cannot happen: the payload is bounded to fit */
    return buf_append(out, text, (size_t)tn);
}

/* Parse the values of a verified payload p[0..n) (after version and count)
 * into vals[0..count). Texts point into p. Returns 0 or ERR_INVAL. */
static int parse_values(const unsigned char *p, size_t n, size_t count, struct store_value *vals)
{
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        if (o >= n)
            return ERR_INVAL;
        unsigned char tag = p[o++];
        size_t left = n - o;
        switch (tag) {
        case 'n':
            vals[i] = SV_NULL();
            break;
        case 'i':
        case 'd': {
            if (left < 8)
                return ERR_INVAL;
            uint64_t bits = get_u64(p + o);
            o += 8;
            if (tag == 'i') {
                vals[i] = SV_INT((int64_t)bits);
            } else {
                vals[i].type = STORE_DOUBLE;
                memcpy(&vals[i].v.d, &bits, sizeof bits);
            }
            break;
        }
        case 't': {
            if (left < 2)
                return ERR_INVAL;
            size_t tl = ((size_t)p[o] << 8) | p[o + 1];
            o += 2;
            if (tl > CURSOR_TEXT_MAX || tl > left - 2)
                return ERR_INVAL;
            if (!utf8_valid((const char *)p + o, tl))
                return ERR_INVAL;
            vals[i] = SV_TEXTN((const char *)p + o, tl);
            o += tl;
            break;
        }
        case 'b':
            if (left < 1 || p[o] > 1)
                return ERR_INVAL;
            vals[i] = SV_BOOL(p[o]);
            o++;
            break;
        default:
            return ERR_INVAL;
        }
    }
    return o == n ? 0 : ERR_INVAL; /* trailing bytes */
}

int cursor_decode(const unsigned char key[CURSOR_KEY_BYTES], const char *scope, const char *text,
                  size_t n, struct arena *a, struct store_value *values)
{
    unsigned char p[CURSOR_PAYLOAD_MAX];
    unsigned char mac[CURSOR_MAC_BYTES];
    struct store_value tmp[CURSOR_MAX_VALUES];
    if (!key || !scope || !text || !a || !values || n < 1 || n > CURSOR_MAX_VALUES)
        return ERR_INVAL;
    size_t tn = strnlen(text, CURSOR_MAX_CHARS + 1);
    if (tn == 0 || tn > CURSOR_MAX_CHARS)
        return ERR_INVAL;
    long len = base64_decode(text, tn, BASE64_URL | BASE64_NOPAD, p, sizeof p);
    /* The shortest cursor: version, count, one 'n', the mac. */
    if (len < 3 + CURSOR_MAC_BYTES)
        return ERR_INVAL;
    size_t body = (size_t)len - CURSOR_MAC_BYTES;
    if (cursor_mac(key, scope, p, body, mac) < 0)
        return ERR_INTERNAL;
    if (CRYPTO_memcmp(mac, p + body, CURSOR_MAC_BYTES) != 0)
        return ERR_INVAL;
    /* From here on the payload is ours: the checks below catch a cursor made
     * for another count or by another version, not forgeries. */
    if (p[0] != CURSOR_VERSION || p[1] != n)
        return ERR_INVAL;
    if (parse_values(p + 2, body - 2, n, tmp) < 0)
        return ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        if (tmp[i].type == STORE_TEXT) {
            char *s = arena_alloc(a, tmp[i].v.s.n + 1);
            memcpy(s, tmp[i].v.s.p, tmp[i].v.s.n);
            s[tmp[i].v.s.n] = '\0';
            tmp[i].v.s.p = s;
        }
        values[i] = tmp[i];
    }
    return 0;
}
