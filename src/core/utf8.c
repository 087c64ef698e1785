/*
 * utf8: a character at a time, with the second byte's range chosen by the
 * lead byte (the table in RFC 3629 section 4), which rules out overlongs,
 * surrogates and code points above U+10FFFF without decoding them. Runs of
 * ASCII are skipped a byte at a time: the callers check short strings.
 */
#include "core/utf8.h"

size_t utf8_char_len(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    if (c < 0xe0) {
        len = 2;
    } else if (c < 0xf0) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if (s[i] < lo || s[i] > hi)
            return 0;
        lo = 0x80;
        hi = 0xbf;
    }
    return len;
}

int utf8_valid(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_char_len(p + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}
