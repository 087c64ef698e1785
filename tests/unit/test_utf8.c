/*
 * utf8: the boundaries of RFC 3629 (the first and last code point of each
 * length, the surrogates, U+10FFFF and beyond), overlong forms, truncated
 * sequences and stray continuation bytes. Inputs sit at the end of a heap
 * block of exactly their length, so ASan catches any read past n.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "unit_util.h"

/* Decode the \xNN escapes of s into a block of exactly the decoded length. */
static char *bytes(const char *s, size_t *n)
{
    char tmp[64];
    *n = unit_unescape(s, strlen(s), tmp);
    char *p = malloc(*n ? *n : 1);
    cr_assert_not_null(p);
    memcpy(p, tmp, *n);
    return p;
}

Test(utf8, valid_and_invalid)
{
    static const struct {
        const char *in;
        int valid;
    } cases[] = {
        {"", 1},
        {"plain ASCII", 1},
        {"\\x00", 1}, /* NUL is a character; callers decide about it */
        {"\\x7f", 1},
        {"\\xc2\\x80", 1},           /* U+0080 */
        {"\\xdf\\xbf", 1},           /* U+07FF */
        {"\\xe0\\xa0\\x80", 1},      /* U+0800 */
        {"\\xed\\x9f\\xbf", 1},      /* U+D7FF */
        {"\\xee\\x80\\x80", 1},      /* U+E000 */
        {"\\xef\\xbf\\xbf", 1},      /* U+FFFF */
        {"\\xf0\\x90\\x80\\x80", 1}, /* U+10000 */
        {"\\xf4\\x8f\\xbf\\xbf", 1}, /* U+10FFFF */
        {"caf\\xc3\\xa9 \\xf0\\x9f\\x98\\x80", 1},
        {"\\x80", 0}, /* a stray continuation byte */
        {"\\xbf", 0},
        {"\\xc0\\x80", 0},           /* overlong NUL */
        {"\\xc1\\xbf", 0},           /* overlong U+007F */
        {"\\xe0\\x9f\\xbf", 0},      /* overlong U+07FF */
        {"\\xf0\\x8f\\xbf\\xbf", 0}, /* overlong U+FFFF */
        {"\\xed\\xa0\\x80", 0},      /* U+D800, a surrogate */
        {"\\xed\\xbf\\xbf", 0},      /* U+DFFF */
        {"\\xf4\\x90\\x80\\x80", 0}, /* U+110000 */
        {"\\xf5\\x80\\x80\\x80", 0},
        {"\\xff", 0},
        {"\\xfe", 0},
        {"\\xc3", 0}, /* truncated */
        {"\\xe2\\x82", 0},
        {"\\xf0\\x9f\\x98", 0},
        {"a\\xc3(", 0}, /* a lead byte followed by ASCII */
        {"\\xe2(\\xa1", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        char *p = bytes(cases[i].in, &n);
        cr_expect_eq(utf8_valid(p, n), cases[i].valid, "\"%s\"", cases[i].in);
        free(p);
    }
}

Test(utf8, char_len)
{
    size_t n;
    char *p = bytes("a\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80", &n);
    cr_assert_eq(utf8_char_len(p, n), 1);
    cr_assert_eq(utf8_char_len(p + 1, n - 1), 2);
    cr_assert_eq(utf8_char_len(p + 3, n - 3), 3);
    cr_assert_eq(utf8_char_len(p + 6, n - 6), 4);
    cr_assert_eq(utf8_char_len(p + 6, 3), 0, "cut short by n");
    cr_assert_eq(utf8_char_len(p + 2, n - 2), 0, "a continuation byte");
    free(p);
}
