/*
 * fuzz_json: any bytes through json_escape must give a quoted string that is valid
 * UTF-8 with no raw control characters, and json_escape must never write past its
 * buf's limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    uint32_t cp = len == 2 ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
                  : len == 3
                      ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f)
                      : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
                            (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf b;
    buf_init(&b, size * 6 + 16);
    if (json_escape(&b, (const char *)data, size) != 0)
        abort(); /* 6 bytes per input byte is the worst case */
    const unsigned char *p = (const unsigned char *)buf_cstr(&b);
    for (size_t i = 0; i < b.len;) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            abort();
        size_t n = utf8_len(p + i, b.len - i);
        if (n == 0)
            abort();
        i += n;
    }
    struct buf small;
    buf_init(&small, size / 2);
    if (json_escape(&small, (const char *)data, size) == 0 && small.len > size / 2)
        abort();
    buf_free(&small);
    buf_free(&b);
    return 0;
}
