/*
 * fuzz_base64: decoding arbitrary text under every flag combination must give a
 * length within BASE64_DECODED_MAX or an error, never write past its buffer, and
 * whatever decodes must encode back (the padded or unpadded form, by the flags)
 * and decode again to the same bytes. The input's bytes are also encoded and
 * decoded under each alphabet, padded and not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode n bytes under flags, decode the text back and compare. */
static void round_trip(const unsigned char *in, size_t n, unsigned flags)
{
    size_t elen = BASE64_ENCODED_LEN(n) + 1;
    char *enc = malloc(elen);
    unsigned char *back = malloc(n + 1);
    long e = base64_encode(in, n, flags, enc, elen);
    if (e < 0 || (size_t)e != strlen(enc) ||
        base64_encode(in, n, flags, enc, (size_t)e) != ERR_TOOBIG)
        abort();
    e = base64_encode(in, n, flags, enc, elen);
    long d = base64_decode(enc, (size_t)e, flags, back, n);
    if (d != (long)n || (n && memcmp(back, in, n) != 0))
        abort();
    if (n > 0 && base64_decode(enc, (size_t)e, flags, back, n - 1) != ERR_TOOBIG)
        abort();
    free(enc);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t max = BASE64_DECODED_MAX(size);
    for (unsigned flags = 0; flags < 16; flags++) {
        /* An exact-size heap buffer: ASan catches a write past it. */
        unsigned char *out = malloc(max ? max : 1);
        long d = base64_decode(text, size, flags, out, max);
        if (d >= 0) {
            if ((size_t)d > max)
                abort();
            /* Strict decoding is canonical: re-encoding gives the input back. */
            if (!(flags & BASE64_LOOSE_TAIL) && !(flags & BASE64_PAD_OPTIONAL)) {
                char *enc = malloc(size + 1);
                long e = base64_encode(out, (size_t)d, flags, enc, size + 1);
                if (e != (long)size || memcmp(enc, text, size) != 0)
                    abort();
                free(enc);
            }
            round_trip(out, (size_t)d, flags & (BASE64_URL | BASE64_NOPAD));
        } else if (d != ERR_INVAL) {
            abort();
        }
        free(out);
    }
    round_trip(data, size, 0);
    round_trip(data, size, BASE64_URL);
    round_trip(data, size, BASE64_NOPAD);
    round_trip(data, size, BASE64_URL | BASE64_NOPAD);
    return 0;
}
