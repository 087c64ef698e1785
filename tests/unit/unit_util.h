/*
 * unit_util: helpers shared by the unit tests' data-driven cases.
 */
#ifndef FERRY_TESTS_UNIT_UTIL_H
#define FERRY_TESTS_UNIT_UTIL_H

#include <stddef.h>

static inline int unit_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode s[0..n) by the data files' escapes (\xNN is a byte, \\ a backslash)
 * into out (at least n bytes); returns the decoded length. */
static inline size_t unit_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && unit_hexval(s[i + 2]) >= 0 &&
            unit_hexval(s[i + 3]) >= 0) {
            out[o++] = (char)(unit_hexval(s[i + 2]) * 16 + unit_hexval(s[i + 3]));
            i += 3;
        } else if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
            out[o++] = '\\';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

#endif
