/*
 * json: a streaming JSON writer into a bounded buf — the hot path of every API
 * response, so it does no allocation of its own and no per-value formatting
 * beyond what the value needs.
 *
 * The writer tracks nesting and inserts commas and colons itself; the caller
 * says what comes next:
 *
 *   struct json_writer w;
 *   json_init(&w, &out);
 *   json_object_begin(&w);
 *   json_key(&w, "status"); json_string(&w, "OK");
 *   json_key(&w, "values"); json_array_begin(&w); json_int(&w, 1); json_array_end(&w);
 *   json_object_end(&w);
 *   if (json_finish(&w) < 0) ...   // ERR_TOOBIG if out's limit was hit, ERR_INVAL on misuse
 *
 * Errors are sticky: after the first failure every call is a no-op and
 * json_finish()/json_error() report it, so callers check once at the end.
 *
 * Strings: '"' and '\\' are escaped, so are all control characters (U+0000..U+001F
 * as \b \f \n \r \t or \u00XX, and U+007F as \u007f), and U+2028/U+2029 (so the
 * output is also safe inside JavaScript). Bytes that are not valid UTF-8
 * (overlongs, surrogates, code points above U+10FFFF, truncated sequences, stray
 * continuation bytes) are each replaced by U+FFFD; the output is always valid
 * UTF-8. Strings carry a length, so embedded NULs are written as \u0000.
 *
 * Numbers: integers exactly; doubles in the shortest of "%.15g", "%.16g", "%.17g"
 * that reads back to the same value (so 0.1 is "0.1", 1.0/3 "0.3333333333333333");
 * NaN and infinities become null (JSON has no such numbers, and the seeds' APIs
 * send null for NaN).
 *
 * Nesting depth is limited to JSON_MAX_DEPTH (ERR_INVAL beyond). Misuse is
 * ERR_INVAL: a key outside an object or twice in a row, a value in an object
 * without a key, an end that does not match, a second top-level value.
 */
#ifndef FERRY_CORE_JSON_H
#define FERRY_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define JSON_MAX_DEPTH 64

struct json_writer {
    struct buf *out; /* borrowed */
    int err;         /* first error, sticky */
    int depth;
    /* per level: 0 = nothing written yet, 1 = need a comma, 2 = key written (object) */
    unsigned char state[JSON_MAX_DEPTH + 1];
    unsigned char is_object[JSON_MAX_DEPTH + 1];
};

/* Start writing at the end of out (borrowed; must outlive the writer). */
void json_init(struct json_writer *w, struct buf *out);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);

/* An object key; must be followed by exactly one value. */
void json_key(struct json_writer *w, const char *key);
void json_keyn(struct json_writer *w, const char *key, size_t n);
/* A key already escaped and quoted ("\"name\"", as json_string wrote it): for
 * the same keys written row after row. The caller vouches for the text. */
void json_key_quoted(struct json_writer *w, const char *quoted, size_t n);

void json_string(struct json_writer *w, const char *s); /* NULL writes null */
void json_stringn(struct json_writer *w, const char *s, size_t n);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_double(struct json_writer *w, double v);
void json_bool(struct json_writer *w, int v);
void json_null(struct json_writer *w);

/* Already-valid JSON text, inserted as one value (the caller vouches for it). */
void json_raw(struct json_writer *w, const char *text, size_t n);

/* Append the escaped form of s (without the surrounding quotes) to out. Returns 0
 * or ERR_TOOBIG (out unchanged). Used by json_string and by the logger. */
int json_escape(struct buf *out, const char *s, size_t n);

/* 0, or the first error. */
int json_error(const struct json_writer *w);

/* Check the document is complete (one value written, all containers closed).
 * Returns 0, the sticky error, or ERR_INVAL if nothing was written or containers
 * are still open. */
int json_finish(const struct json_writer *w);

#endif
