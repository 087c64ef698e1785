/*
 * base64: RFC 4648 base64, the one encoder and decoder of ferry.
 *
 * Two alphabets: standard (section 4: "+/") and URL-safe (section 5: "-_"), each
 * with or without '=' padding. Both functions write into a caller buffer of an
 * explicit size, allocate nothing and keep no state.
 *
 * Decoding is strict by default: a character outside the alphabet, padding where
 * none is allowed, missing or misplaced padding, a length that cannot be base64
 * (one character past a group of four) and non-zero unused bits in the last
 * character are all ERR_INVAL. Flags relax exactly one rule each; rules that
 * belong to one caller (a trailing newline in a key file, mohawk's "%3D") stay
 * in that caller.
 *
 * Users: hawk (MACs and payload hashes: standard, padded; bewits: URL-safe,
 * unpadded), secret (the key file and auth.secret), clients (generated keys) and
 * the CLI's request nonces.
 */
#ifndef FERRY_CORE_BASE64_H
#define FERRY_CORE_BASE64_H

#include <stddef.h>

/* Flags for base64_encode and base64_decode; 0 is standard and padded. */
enum base64_flags {
    /* The URL and filename safe alphabet ("-_" for 62 and 63) instead of "+/". */
    BASE64_URL = 1u << 0,
    /* Encode: no '=' padding. Decode: the input must be unpadded ('=' is an
     * invalid character). */
    BASE64_NOPAD = 1u << 1,
    /* Decode: accept padded and unpadded input; padding, when present, must still
     * be complete (the length a multiple of four). Ignored by the encoder. */
    BASE64_PAD_OPTIONAL = 1u << 2,
    /* Decode: as Node's Buffer.from(s, 'base64'): bits that do not make a whole
     * byte are dropped whatever their value, so a lone last character of a group
     * yields nothing instead of ERR_INVAL. Ignored by the encoder. */
    BASE64_LOOSE_TAIL = 1u << 3,
};

/* Characters in the padded encoding of n bytes, without the NUL; the unpadded
 * encoding is never longer. */
#define BASE64_ENCODED_LEN(n) (4 * (((n) + 2) / 3))

/* At most this many bytes decode from n characters. */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 2)

/* Encode the n bytes at in (borrowed; may be NULL when n is 0) into out, outlen
 * bytes, NUL-terminated. flags: BASE64_URL, BASE64_NOPAD. Returns the length
 * written (without the NUL), or ERR_TOOBIG when the text and its NUL do not fit
 * in outlen (out is then "" if outlen > 0). */
long base64_encode(const void *in, size_t n, unsigned flags, char *out, size_t outlen);

/* Decode the n characters at in (borrowed, not NUL-terminated; may be NULL when
 * n is 0) into out, outlen bytes (may be NULL when outlen is 0). flags: any of
 * enum base64_flags. Returns the decoded length, ERR_INVAL for input that is not
 * base64 under flags, or ERR_TOOBIG for valid input whose bytes do not fit in
 * outlen. On error out holds unspecified bytes (wipe it if they are secret). */
long base64_decode(const char *in, size_t n, unsigned flags, unsigned char *out, size_t outlen);

#endif
