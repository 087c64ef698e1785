/*
 * base64: RFC 4648 encoding and decoding (see base64.h). Table-free decoding of
 * one character at a time; the output size is known before anything is written
 * by the encoder, and checked per byte by the decoder so that invalid input is
 * reported as ERR_INVAL whatever the size of the output buffer.
 */
#include "core/base64.h"

#include <limits.h>
#include <stdint.h>

#include "core/err.h"

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

long base64_encode(const void *in, size_t n, unsigned flags, char *out, size_t outlen)
{
    const unsigned char *b = in;
    const char *A = flags & BASE64_URL ? URL : STD;
    int pad = !(flags & BASE64_NOPAD);
    size_t rem = n % 3;
    if (outlen > 0)
        out[0] = '\0';
    if (n / 3 > (SIZE_MAX - 5) / 4 || n / 3 > (size_t)(LONG_MAX - 5) / 4)
        return ERR_TOOBIG;
    size_t len = n / 3 * 4 + (rem == 0 ? 0 : pad ? 4 : rem + 1);
    if (len >= outlen)
        return ERR_TOOBIG;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];
        out[o++] = A[v >> 18];
        out[o++] = A[(v >> 12) & 63];
        out[o++] = A[(v >> 6) & 63];
        out[o++] = A[v & 63];
    }
    if (rem > 0) {
        unsigned v = (unsigned)b[i] << 16 | (rem == 2 ? (unsigned)b[i + 1] << 8 : 0);
        out[o++] = A[v >> 18];
        out[o++] = A[(v >> 12) & 63];
        if (rem == 2)
            out[o++] = A[(v >> 6) & 63];
        if (pad)
            while (o % 4 != 0)
                out[o++] = '=';
    }
    out[o] = '\0';
    return (long)o;
}

/* The value of c in the alphabet, or -1. */
static int value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

long base64_decode(const char *in, size_t n, unsigned flags, unsigned char *out, size_t outlen)
{
    int url = (flags & BASE64_URL) != 0;
    size_t m = n; /* characters without the padding */
    if (!(flags & BASE64_NOPAD)) {
        if (n % 4 == 0 && n > 0 && in[n - 1] == '=')
            m -= in[n - 2] == '=' ? 2 : 1;
        else if (n % 4 != 0 && !(flags & BASE64_PAD_OPTIONAL))
            return ERR_INVAL;
    }
    if (m % 4 == 1 && !(flags & BASE64_LOOSE_TAIL))
        return ERR_INVAL;
    if (m / 4 > (size_t)(LONG_MAX - 2) / 3)
        return ERR_TOOBIG;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < m; i++) {
        int v = value((unsigned char)in[i], url);
        if (v < 0) /* also a '=' before the padding */
            return ERR_INVAL;
        acc = (acc << 6 | (unsigned)v) & 0xfffu; /* never more than 12 bits pending */
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < outlen)
                out[o] = (unsigned char)(acc >> bits);
            o++;
        }
    }
    if (!(flags & BASE64_LOOSE_TAIL) && (acc & ((1u << bits) - 1)) != 0)
        return ERR_INVAL; /* non-canonical: the unused bits of the last character */
    if (o > outlen)
        return ERR_TOOBIG;
    return (long)o;
}
