/* Unit tests for src/core/base64.c. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/err.h"

/* RFC 4648 section 10, with the unpadded forms. */
static const struct {
    const char *in, *padded, *unpadded;
} rfc[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

/* Encodes in under flags to want, and decodes want back to in. */
static void both_ways(const void *in, size_t n, unsigned flags, const char *want)
{
    char enc[80];
    unsigned char dec[80];
    long len = base64_encode(in, n, flags, enc, sizeof enc);
    cr_assert_eq(len, (long)strlen(want), "flags %u: %s", flags, want);
    cr_assert_str_eq(enc, want);
    len = base64_decode(want, strlen(want), flags, dec, sizeof dec);
    cr_assert_eq(len, (long)n, "flags %u: %s", flags, want);
    cr_assert_arr_eq(dec, in, n);
}

Test(base64, rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        size_t n = strlen(rfc[i].in);
        both_ways(rfc[i].in, n, 0, rfc[i].padded);
        both_ways(rfc[i].in, n, BASE64_URL, rfc[i].padded);
        both_ways(rfc[i].in, n, BASE64_NOPAD, rfc[i].unpadded);
        both_ways(rfc[i].in, n, BASE64_URL | BASE64_NOPAD, rfc[i].unpadded);
    }
}

Test(base64, alphabets)
{
    static const unsigned char all[] = {0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30,
                                        0xd3, 0x8f, 0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96,
                                        0x9b, 0x71, 0xd7, 0x9f, 0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7,
                                        0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf, 0xc3, 0x1c, 0xb3, 0xd3,
                                        0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf};
    both_ways(all, sizeof all, 0,
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    both_ways(all, sizeof all, BASE64_URL,
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    static const unsigned char ff[] = {0xfb, 0xff, 0xbf};
    both_ways(ff, 3, 0, "+/+/");
    both_ways(ff, 3, BASE64_URL, "-_-_");
    unsigned char out[8];
    cr_expect_eq(base64_decode("-_-_", 4, 0, out, sizeof out), ERR_INVAL);
    cr_expect_eq(base64_decode("+/+/", 4, BASE64_URL, out, sizeof out), ERR_INVAL);
}

/* Decodes in (a C string) under flags; returns the result. */
static long dec(const char *in, unsigned flags)
{
    unsigned char out[64];
    return base64_decode(in, strlen(in), flags, out, sizeof out);
}

Test(base64, invalid_characters)
{
    static const char *const bad[] = {"Zm9v!A==", "Zm 9v", "Zm9v\n", "Zm9\x80",
                                      "Zm\0v",    "====",  "Zg=A",   "Z=g="};
    static const unsigned flags[] = {0, BASE64_URL, BASE64_NOPAD, BASE64_PAD_OPTIONAL,
                                     BASE64_URL | BASE64_NOPAD | BASE64_LOOSE_TAIL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++)
            cr_expect_eq(base64_decode(bad[i], i == 4 ? 4 : strlen(bad[i]), flags[f],
                                       (unsigned char[16]){0}, 16),
                         ERR_INVAL, "%zu under %u", i, flags[f]);
}

Test(base64, padding_rules)
{
    /* Padding required (the default). */
    cr_expect_eq(dec("Zg==", 0), 1);
    cr_expect_eq(dec("Zg", 0), ERR_INVAL);
    cr_expect_eq(dec("Zm8", 0), ERR_INVAL);
    cr_expect_eq(dec("Zg=", 0), ERR_INVAL);
    cr_expect_eq(dec("Zg===", 0), ERR_INVAL);
    cr_expect_eq(dec("Zm8==", 0), ERR_INVAL);
    cr_expect_eq(dec("Z===", 0), ERR_INVAL);
    cr_expect_eq(dec("Zm9v====", 0), ERR_INVAL);
    cr_expect_eq(dec("Zg==Zg==", 0), ERR_INVAL);
    cr_expect_eq(dec("Zm9=", 0), ERR_INVAL); /* unused bits set */
    /* No padding. */
    cr_expect_eq(dec("Zg", BASE64_NOPAD), 1);
    cr_expect_eq(dec("Zg==", BASE64_NOPAD), ERR_INVAL);
    cr_expect_eq(dec("Zm8=", BASE64_NOPAD), ERR_INVAL);
    cr_expect_eq(dec("Z", BASE64_NOPAD), ERR_INVAL);
    cr_expect_eq(dec("Zm9vY", BASE64_NOPAD), ERR_INVAL);
    cr_expect_eq(dec("Zh", BASE64_NOPAD), ERR_INVAL); /* unused bits set */
    cr_expect_eq(dec("Zm9", BASE64_NOPAD), ERR_INVAL);
    /* Either. */
    cr_expect_eq(dec("Zg==", BASE64_PAD_OPTIONAL), 1);
    cr_expect_eq(dec("Zg", BASE64_PAD_OPTIONAL), 1);
    cr_expect_eq(dec("Zm8=", BASE64_PAD_OPTIONAL), 2);
    cr_expect_eq(dec("Zm8", BASE64_PAD_OPTIONAL), 2);
    cr_expect_eq(dec("Zg=", BASE64_PAD_OPTIONAL), ERR_INVAL);
    cr_expect_eq(dec("Z", BASE64_PAD_OPTIONAL), ERR_INVAL);
    cr_expect_eq(dec("Zh==", BASE64_PAD_OPTIONAL), ERR_INVAL);
    cr_expect_eq(dec("", BASE64_PAD_OPTIONAL), 0);
}

Test(base64, loose_tail)
{
    unsigned char out[8];
    /* Node's Buffer.from: unused bits dropped, a lone last character ignored. */
    cr_expect_eq(base64_decode("Zh", 2, BASE64_NOPAD | BASE64_LOOSE_TAIL, out, sizeof out), 1);
    cr_expect_eq(out[0], 'f');
    cr_expect_eq(base64_decode("Zm9", 3, BASE64_NOPAD | BASE64_LOOSE_TAIL, out, sizeof out), 2);
    cr_expect_arr_eq(out, "fo", 2);
    cr_expect_eq(base64_decode("Zm9vY", 5, BASE64_NOPAD | BASE64_LOOSE_TAIL, out, sizeof out), 3);
    cr_expect_eq(base64_decode("Z", 1, BASE64_NOPAD | BASE64_LOOSE_TAIL, out, sizeof out), 0);
    cr_expect_eq(base64_decode("Zm9v*", 5, BASE64_NOPAD | BASE64_LOOSE_TAIL, out, sizeof out),
                 ERR_INVAL);
}

Test(base64, buffer_too_small)
{
    char enc[9];
    /* "foobar" needs 8 characters and the NUL. */
    cr_expect_eq(base64_encode("foobar", 6, 0, enc, 9), 8);
    cr_expect_eq(base64_encode("foobar", 6, 0, enc, 8), ERR_TOOBIG);
    cr_expect_str_eq(enc, "");
    cr_expect_eq(base64_encode("fooba", 5, BASE64_NOPAD, enc, 8), 7);
    cr_expect_eq(base64_encode("fooba", 5, BASE64_NOPAD, enc, 7), ERR_TOOBIG);
    cr_expect_eq(base64_encode("fooba", 5, 0, enc, 8), ERR_TOOBIG);
    cr_expect_eq(base64_encode("", 0, 0, enc, 1), 0);
    cr_expect_eq(base64_encode("", 0, 0, NULL, 0), ERR_TOOBIG);
    cr_expect_eq(base64_encode(NULL, 0, 0, enc, sizeof enc), 0);

    unsigned char out[6];
    cr_expect_eq(base64_decode("Zm9vYmFy", 8, 0, out, 6), 6);
    cr_expect_eq(base64_decode("Zm9vYmFy", 8, 0, out, 5), ERR_TOOBIG);
    cr_expect_eq(base64_decode("Zm9vYg==", 8, 0, out, 3), ERR_TOOBIG);
    cr_expect_eq(base64_decode("Zm9vYg==", 8, 0, out, 4), 4);
    cr_expect_eq(base64_decode("Zm9vYg==", 8, 0, NULL, 0), ERR_TOOBIG);
    cr_expect_eq(base64_decode(NULL, 0, 0, NULL, 0), 0);
    /* Invalid input is ERR_INVAL whatever the buffer. */
    cr_expect_eq(base64_decode("Zm9vYm*y", 8, 0, out, 1), ERR_INVAL);
}

Test(base64, size_macros)
{
    for (size_t n = 0; n < 40; n++) {
        unsigned char in[40] = {0};
        char enc[BASE64_ENCODED_LEN(40) + 1];
        cr_expect_eq(base64_encode(in, n, 0, enc, BASE64_ENCODED_LEN(n) + 1),
                     (long)BASE64_ENCODED_LEN(n));
        long m = base64_encode(in, n, BASE64_NOPAD, enc, BASE64_ENCODED_LEN(n) + 1);
        cr_expect_geq(m, 0);
        cr_expect_geq(BASE64_DECODED_MAX((size_t)m), n);
    }
}

Test(base64, random_round_trips)
{
    static const unsigned flags[] = {0, BASE64_URL, BASE64_NOPAD, BASE64_URL | BASE64_NOPAD};
    srand(4648);
    for (int iter = 0; iter < 2000; iter++) {
        unsigned char in[100], out[100];
        char enc[BASE64_ENCODED_LEN(100) + 1];
        size_t n = (size_t)rand() % (sizeof in + 1);
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)rand();
        unsigned f = flags[iter % 4];
        long e = base64_encode(in, n, f, enc, sizeof enc);
        cr_assert_geq(e, 0);
        cr_assert_eq(strlen(enc), (size_t)e);
        long d = base64_decode(enc, (size_t)e, f, out, n);
        cr_assert_eq(d, (long)n, "n %zu flags %u", n, f);
        cr_assert_arr_eq(out, in, n);
        /* Padding optional takes both forms. */
        d = base64_decode(enc, (size_t)e, (f & BASE64_URL) | BASE64_PAD_OPTIONAL, out, n);
        cr_assert_eq(d, (long)n);
    }
}
