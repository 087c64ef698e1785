/*
 * utf8: checking UTF-8 as RFC 3629 defines it: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequences or stray continuation bytes. NUL is a character like any other
 * here; callers that refuse it (text bound to PostgreSQL) check for it
 * themselves. Pure functions, no state.
 *
 * Users: the data API's cursors and query parameters (api/cursor.c,
 * api/dquery.c). The CSV reader, the JSON writer, the store's identifier
 * check and client descriptions still have their own loops, each fused with
 * what else they do per byte.
 */
#ifndef FERRY_CORE_UTF8_H
#define FERRY_CORE_UTF8_H

#include <stddef.h>

/* The length (1..4) of the well-formed character at p, with n >= 1 bytes
 * readable there, or 0 if the bytes at p are not one. Reads at most 4 bytes
 * and never past p + n. */
size_t utf8_char_len(const char *p, size_t n);

/* 1 if p[0..n) is well-formed UTF-8 (n 0 is), else 0. */
int utf8_valid(const char *p, size_t n);

#endif
