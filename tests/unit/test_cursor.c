/*
 * cursor: round trips of every value type (doubles bit for bit, NULL, texts
 * up to CURSOR_TEXT_MAX), a vector computed independently (Python's hmac and
 * base64), and every way a cursor must fail: each bit of each byte flipped,
 * each character changed, another scope, key or count, truncated, extended,
 * padded, the standard alphabet, too long; payload flaws behind a valid MAC
 * (forged here with the key) for the checks that run after it; encoder
 * limits.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/cursor.h"
#include "core/base64.h"
#include "core/err.h"

#define SCOPE    \
    "orders\x1f" \
    "a,-b,id"

static unsigned char KEY[CURSOR_KEY_BYTES];

static void cur_init(void)
{
    for (size_t i = 0; i < sizeof KEY; i++)
        KEY[i] = (unsigned char)i;
}

TestSuite(cursor, .init = cur_init);

/* Encode values; returns the text (malloc'd) or fails the test. */
static char *enc(const char *scope, const struct store_value *v, size_t n)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    int rc = cursor_encode(KEY, scope, v, n, &b);
    cr_assert_eq(rc, 0, "encode: %s", err_name(rc));
    cr_assert_gt(b.len, 0);
    return buf_take(&b, NULL);
}

static int dec(const char *scope, const char *text, size_t n, struct arena *a,
               struct store_value *out)
{
    return cursor_decode(KEY, scope, text, n, a, out);
}

/* Sentinel values: a failed decode must leave them as they are. */
static void fill_sentinel(struct store_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = SV_INT(0x5a5a5a5a);
}

static void expect_sentinel(const struct store_value *v, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(v[i].type == STORE_INT && v[i].v.i == 0x5a5a5a5a, "%s: value %zu touched", what,
                  i);
}

static void expect_same(const struct store_value *a, const struct store_value *b, size_t i)
{
    cr_assert_eq(a->type, b->type, "value %zu: type %d, want %d", i, b->type, a->type);
    switch (a->type) {
    case STORE_INT:
        cr_assert_eq(a->v.i, b->v.i, "value %zu", i);
        break;
    case STORE_DOUBLE:
        cr_assert_eq(memcmp(&a->v.d, &b->v.d, sizeof(double)), 0, "value %zu: bits differ", i);
        break;
    case STORE_BOOL:
        cr_assert_eq(!!a->v.b, b->v.b, "value %zu", i);
        break;
    case STORE_TEXT:
        cr_assert_eq(a->v.s.n, b->v.s.n, "value %zu: length", i);
        cr_assert_eq(memcmp(a->v.s.p, b->v.s.p, a->v.s.n), 0, "value %zu: bytes", i);
        cr_assert_eq(b->v.s.p[b->v.s.n], '\0', "value %zu: NUL-terminated", i);
        break;
    default:
        break;
    }
}

static double double_of_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

Test(cursor, round_trip_every_type)
{
    static char long_text[CURSOR_TEXT_MAX];
    memset(long_text, 'x', sizeof long_text);
    const struct store_value v[CURSOR_MAX_VALUES] = {
        SV_NULL(),
        SV_INT(INT64_MIN),
        SV_INT(INT64_MAX),
        SV_INT(-1),
        SV_DOUBLE(0.1),
        SV_DOUBLE(-0.0),
        SV_DOUBLE(double_of_bits(0x7ff8000000000123ull)), /* a NaN with a payload */
        SV_DOUBLE(INFINITY),
        SV_DOUBLE(double_of_bits(1)), /* the smallest subnormal */
        SV_DOUBLE(1.0 / 3),
        SV_TEXTN("", 0),
        SV_TEXTN("h\xc3\xa9llo \xf0\x9f\x98\x80", 11),
        SV_TEXTN("a\0b", 3), /* NUL is valid UTF-8; the store decides about it */
        SV_TEXTN(long_text, sizeof long_text),
        SV_BOOL(1),
        SV_BOOL(0),
    };
    /* All sixteen with the long text would pass CURSOR_MAX_CHARS: first the
     * fifteen others, then the long text alone. */
    struct store_value short_v[CURSOR_MAX_VALUES - 1];
    size_t ns = 0;
    for (size_t i = 0; i < CURSOR_MAX_VALUES; i++)
        if (i != 13)
            short_v[ns++] = v[i];
    struct arena a;
    arena_init(&a);
    struct store_value out[CURSOR_MAX_VALUES];
    char *t = enc(SCOPE, short_v, ns);
    cr_assert_eq(dec(SCOPE, t, ns, &a, out), 0);
    for (size_t i = 0; i < ns; i++)
        expect_same(&short_v[i], &out[i], i);
    free(t);

    t = enc(SCOPE, &v[13], 1);
    cr_assert_eq(dec(SCOPE, t, 1, &a, out), 0);
    expect_same(&v[13], &out[0], 13);
    free(t);
    arena_free(&a);
}

Test(cursor, texts_are_copied_into_the_arena)
{
    char src[] = "abc";
    struct store_value v = SV_TEXTN(src, 3), out;
    char *t = enc(SCOPE, &v, 1);
    struct arena a;
    arena_init(&a);
    char *copy = strdup(t);
    cr_assert_eq(dec(SCOPE, copy, 1, &a, &out), 0);
    memset(copy, 'A', strlen(copy));
    free(copy);
    cr_assert_eq(out.v.s.n, 3);
    cr_assert_str_eq(out.v.s.p, "abc");
    free(t);
    arena_free(&a);
}

Test(cursor, independent_vector)
{
    /* python3: payload = b'\x01\x02' + b'i' + (42).to_bytes(8, 'big') + b't\x00\x03abc';
     * mac = hmac.new(bytes(range(32)), b'orders\x1fa,id\x00' + payload, sha256).digest()[:16];
     * base64.urlsafe_b64encode(payload + mac).rstrip(b'=') */
    const char *want = "AQJpAAAAAAAAACp0AANhYmOhKl2z0C8uBjJk8HxBv1gI";
    const struct store_value v[2] = {SV_INT(42), SV_TEXT("abc")};
    char *t = enc("orders\x1f"
                  "a,id",
                  v, 2);
    cr_assert_str_eq(t, want);
    struct arena a;
    arena_init(&a);
    struct store_value out[2];
    cr_assert_eq(dec("orders\x1f"
                     "a,id",
                     want, 2, &a, out),
                 0);
    expect_same(&v[0], &out[0], 0);
    expect_same(&v[1], &out[1], 1);
    free(t);
    arena_free(&a);
}

Test(cursor, url_safe_and_deterministic)
{
    const struct store_value v[3] = {SV_TEXT("\xff\xfe?/+"), SV_DOUBLE(-1e300), SV_INT(-2)};
    /* Not UTF-8: refused. */
    struct buf b;
    buf_init(&b, 4096);
    cr_assert_eq(cursor_encode(KEY, SCOPE, v, 3, &b), ERR_INVAL);
    cr_assert_eq(b.len, 0);
    const struct store_value w[3] = {SV_TEXT("?>>//++~~"), SV_DOUBLE(-1e300), SV_INT(-2)};
    char *t1 = enc(SCOPE, w, 3), *t2 = enc(SCOPE, w, 3);
    cr_assert_str_eq(t1, t2);
    for (const char *p = t1; *p; p++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
                  "character '%c' in %s", *p, t1);
    free(t1);
    free(t2);
    buf_free(&b);
}

/* A cursor with three values of different types, as raw bytes. */
static size_t sample_bytes(unsigned char *raw, size_t cap, char **text)
{
    const struct store_value v[3] = {SV_TEXT("caf\xc3\xa9"), SV_DOUBLE(2.5), SV_INT(7)};
    *text = enc(SCOPE, v, 3);
    long n = base64_decode(*text, strlen(*text), BASE64_URL | BASE64_NOPAD, raw, cap);
    cr_assert_gt(n, 0);
    return (size_t)n;
}

Test(cursor, every_flipped_bit_is_rejected)
{
    unsigned char raw[256];
    char *text;
    size_t n = sample_bytes(raw, sizeof raw, &text);
    struct arena a;
    arena_init(&a);
    struct store_value out[3];
    fill_sentinel(out, 3);
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            raw[i] ^= (unsigned char)(1u << bit);
            char t[512];
            cr_assert_gt(base64_encode(raw, n, BASE64_URL | BASE64_NOPAD, t, sizeof t), 0);
            int rc = dec(SCOPE, t, 3, &a, out);
            cr_assert_eq(rc, ERR_INVAL, "byte %zu bit %d accepted", i, bit);
            expect_sentinel(out, 3, "flipped bit");
            raw[i] ^= (unsigned char)(1u << bit);
        }
    cr_assert_eq(a.total, 0, "nothing allocated for bad cursors");
    cr_assert_eq(dec(SCOPE, text, 3, &a, out), 0, "the original still decodes");
    free(text);
    arena_free(&a);
}

Test(cursor, every_changed_character_is_rejected)
{
    unsigned char raw[256];
    char *text;
    sample_bytes(raw, sizeof raw, &text);
    size_t len = strlen(text);
    struct arena a;
    arena_init(&a);
    struct store_value out[3];
    fill_sentinel(out, 3);
    for (size_t i = 0; i < len; i++) {
        char saved = text[i];
        const char *subst[] = {"A", "B", "-", "_", "+", "/", "=", ".", "\x80"};
        for (size_t s = 0; s < sizeof subst / sizeof subst[0]; s++) {
            if (subst[s][0] == saved)
                continue;
            text[i] = subst[s][0];
            cr_assert_eq(dec(SCOPE, text, 3, &a, out), ERR_INVAL, "position %zu as '%s'", i,
                         subst[s]);
        }
        text[i] = saved;
    }
    expect_sentinel(out, 3, "changed character");
    free(text);
    arena_free(&a);
}

Test(cursor, wrong_scope_key_or_count)
{
    const struct store_value v[3] = {SV_INT(1), SV_INT(2), SV_INT(3)};
    char *t = enc(SCOPE, v, 3);
    struct arena a;
    arena_init(&a);
    struct store_value out[4];
    fill_sentinel(out, 4);
    const char *scopes[] = {
        "orders\x1f"
        "a,b,id",
        "orders\x1f"
        "a,-b,id,c",
        "order\x1f"
        "a,-b,id",
        "other\x1f"
        "a,-b,id",
        "",
    };
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
        cr_assert_eq(dec(scopes[i], t, 3, &a, out), ERR_INVAL, "scope %zu", i);
    unsigned char other[CURSOR_KEY_BYTES];
    memcpy(other, KEY, sizeof other);
    other[31] ^= 1;
    cr_assert_eq(cursor_decode(other, SCOPE, t, 3, &a, out), ERR_INVAL, "another key");
    cr_assert_eq(dec(SCOPE, t, 2, &a, out), ERR_INVAL, "count 2");
    cr_assert_eq(dec(SCOPE, t, 4, &a, out), ERR_INVAL, "count 4");
    cr_assert_eq(dec(SCOPE, t, 0, &a, out), ERR_INVAL, "count 0");
    cr_assert_eq(dec(SCOPE, t, CURSOR_MAX_VALUES + 1, &a, out), ERR_INVAL, "count 17");
    expect_sentinel(out, 4, "wrong scope/key/count");
    cr_assert_eq(dec(SCOPE, t, 3, &a, out), 0);
    free(t);
    arena_free(&a);
}

Test(cursor, truncated_extended_padded)
{
    const struct store_value v[2] = {SV_TEXT("abcdef"), SV_BOOL(1)};
    char *t = enc(SCOPE, v, 2);
    size_t len = strlen(t);
    struct arena a;
    arena_init(&a);
    struct store_value out[2];
    fill_sentinel(out, 2);
    char buf[512];
    for (size_t k = 0; k < len; k++) {
        memcpy(buf, t, k);
        buf[k] = '\0';
        cr_assert_eq(dec(SCOPE, buf, 2, &a, out), ERR_INVAL, "prefix of %zu", k);
    }
    const char *tails[] = {
        "A", "AA", "AAA", "AAAA", "=", "==", " ", "\n", "AAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", t, tails[i]);
        cr_assert_eq(dec(SCOPE, buf, 2, &a, out), ERR_INVAL, "tail \"%s\"", tails[i]);
    }
    snprintf(buf, sizeof buf, " %s", t);
    cr_assert_eq(dec(SCOPE, buf, 2, &a, out), ERR_INVAL, "leading space");
    expect_sentinel(out, 2, "truncated/extended");
    free(t);
    arena_free(&a);
}

Test(cursor, too_long_text_is_rejected_before_decoding)
{
    char *big = malloc(CURSOR_MAX_CHARS + 2);
    memset(big, 'A', CURSOR_MAX_CHARS + 1);
    big[CURSOR_MAX_CHARS + 1] = '\0';
    struct arena a;
    arena_init(&a);
    struct store_value out[1];
    cr_assert_eq(dec(SCOPE, big, 1, &a, out), ERR_INVAL);
    big[CURSOR_MAX_CHARS] = '\0';
    cr_assert_eq(dec(SCOPE, big, 1, &a, out), ERR_INVAL, "valid base64, bad MAC");
    cr_assert_eq(dec(SCOPE, "", 1, &a, out), ERR_INVAL, "empty");
    free(big);
    arena_free(&a);
}

/* A cursor with a valid MAC around any payload: only the key's holder can
 * make one, so these test the checks made after the MAC. */
static void forge(const char *scope, const unsigned char *payload, size_t n, char *text, size_t cap)
{
    unsigned char msg[1024], full[32], raw[1024];
    size_t sl = strlen(scope);
    cr_assert_lt(sl + 1 + n, sizeof msg);
    memcpy(msg, scope, sl);
    msg[sl] = 0;
    memcpy(msg + sl + 1, payload, n);
    unsigned int fl = 0;
    cr_assert_not_null(HMAC(EVP_sha256(), KEY, sizeof KEY, msg, sl + 1 + n, full, &fl));
    memcpy(raw, payload, n);
    memcpy(raw + n, full, CURSOR_MAC_BYTES);
    cr_assert_gt(base64_encode(raw, n + CURSOR_MAC_BYTES, BASE64_URL | BASE64_NOPAD, text, cap), 0);
}

Test(cursor, payload_flaws_behind_a_valid_mac)
{
    static const struct {
        const char *what;
        unsigned char p[24];
        size_t n;
        size_t count; /* the count decode is asked for */
        int ok;
    } cases[] = {
        {"good int", {1, 1, 'i', 0, 0, 0, 0, 0, 0, 0, 5}, 11, 1, 1},
        {"good null", {1, 1, 'n'}, 3, 1, 1},
        {"version 0", {0, 1, 'n'}, 3, 1, 0},
        {"version 2", {2, 1, 'n'}, 3, 1, 0},
        {"count byte 2 for 1 value", {1, 2, 'n'}, 3, 2, 0},
        {"count byte 0", {1, 0}, 2, 1, 0},
        {"unknown tag", {1, 1, 'x'}, 3, 1, 0},
        {"blob tag", {1, 1, 'B', 0}, 4, 1, 0},
        {"trailing byte", {1, 1, 'n', 0}, 4, 1, 0},
        {"short int", {1, 1, 'i', 0, 0, 0, 0, 0, 0, 0}, 10, 1, 0},
        {"short double", {1, 1, 'd', 0, 0, 0}, 6, 1, 0},
        {"bool 2", {1, 1, 'b', 2}, 4, 1, 0},
        {"bool missing", {1, 1, 'b'}, 3, 1, 0},
        {"text longer than the payload", {1, 1, 't', 0, 5, 'a', 'b'}, 7, 1, 0},
        {"text length cut", {1, 1, 't', 0}, 4, 1, 0},
        {"text over CURSOR_TEXT_MAX", {1, 1, 't', 0x04, 0x01, 'a'}, 6, 1, 0},
        {"text not UTF-8", {1, 1, 't', 0, 2, 0xc3, 0x28}, 7, 1, 0},
        {"text a surrogate", {1, 1, 't', 0, 3, 0xed, 0xa0, 0x80}, 8, 1, 0},
        {"text overlong", {1, 1, 't', 0, 2, 0xc0, 0xaf}, 7, 1, 0},
        {"text good", {1, 1, 't', 0, 2, 0xc3, 0xa9}, 7, 1, 1},
        {"missing second value", {1, 2, 'n'}, 3, 2, 0},
    };
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        struct store_value out[2];
        fill_sentinel(out, 2);
        forge(SCOPE, cases[i].p, cases[i].n, text, sizeof text);
        int rc = dec(SCOPE, text, cases[i].count, &a, out);
        cr_assert_eq(rc, cases[i].ok ? 0 : ERR_INVAL, "%s: %s", cases[i].what, err_name(rc));
        if (!cases[i].ok)
            expect_sentinel(out, 2, cases[i].what);
    }
    arena_free(&a);
}

Test(cursor, encoder_refusals)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    struct store_value v[CURSOR_MAX_VALUES + 1];
    for (size_t i = 0; i < CURSOR_MAX_VALUES + 1; i++)
        v[i] = SV_INT(i);
    cr_assert_eq(cursor_encode(KEY, SCOPE, v, 0, &b), ERR_INVAL, "no values");
    cr_assert_eq(cursor_encode(KEY, SCOPE, v, CURSOR_MAX_VALUES + 1, &b), ERR_INVAL, "17 values");
    cr_assert_eq(cursor_encode(KEY, SCOPE, v, CURSOR_MAX_VALUES, &b), 0, "16 values");
    buf_reset(&b);
    struct store_value blob = SV_BLOB("ab", 2);
    cr_assert_eq(cursor_encode(KEY, SCOPE, &blob, 1, &b), ERR_INVAL, "blob");
    static char long_text[CURSOR_TEXT_MAX + 1];
    memset(long_text, 'y', sizeof long_text);
    struct store_value t = SV_TEXTN(long_text, CURSOR_TEXT_MAX + 1);
    cr_assert_eq(cursor_encode(KEY, SCOPE, &t, 1, &b), ERR_TOOBIG, "text of 1025 bytes");
    /* Three texts of the largest size make a cursor longer than the decoder
     * takes: the encoder refuses it instead of making it. */
    struct store_value three[3];
    for (size_t i = 0; i < 3; i++)
        three[i] = SV_TEXTN(long_text, CURSOR_TEXT_MAX);
    cr_assert_eq(cursor_encode(KEY, SCOPE, three, 3, &b), ERR_TOOBIG, "over CURSOR_MAX_CHARS");
    cr_assert_eq(cursor_encode(KEY, SCOPE, three, 2, &b), 0, "two fit");
    cr_assert_leq(b.len, CURSOR_MAX_CHARS);
    struct arena a;
    arena_init(&a);
    struct store_value out[2];
    cr_assert_eq(dec(SCOPE, b.data, 2, &a, out), 0, "and decode");
    arena_free(&a);
    cr_assert_eq(b.len + 0, strlen(b.data));
    buf_free(&b);

    /* A full buf: ERR_TOOBIG, unchanged. */
    struct buf small;
    buf_init(&small, 10);
    buf_puts(&small, "x");
    cr_assert_eq(cursor_encode(KEY, SCOPE, v, 1, &small), ERR_TOOBIG);
    cr_assert_str_eq(buf_cstr(&small), "x");
    buf_free(&small);
}

Test(cursor, appends_to_what_is_there)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_puts(&b, "cursor=");
    struct store_value v = SV_INT(1);
    cr_assert_eq(cursor_encode(KEY, SCOPE, &v, 1, &b), 0);
    cr_assert_eq(strncmp(b.data, "cursor=", 7), 0);
    struct arena a;
    arena_init(&a);
    struct store_value out;
    cr_assert_eq(dec(SCOPE, b.data + 7, 1, &a, &out), 0);
    cr_assert_eq(out.v.i, 1);
    arena_free(&a);
    buf_free(&b);
}
