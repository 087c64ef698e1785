/*
 * json: the writer keeps one state byte per nesting level (see json.h) and
 * decides from it whether a comma, nothing, or an error comes before the next
 * key or value. Level 0 is the top level, which takes exactly one value.
 *
 * Escaping is table-driven: json_escape() scans a run of bytes that can be
 * copied as they are (printable ASCII other than '"' and '\\', and well-formed
 * UTF-8 sequences other than U+2028/U+2029) and appends the whole run at once;
 * only the bytes that need an escape or a replacement are handled one by one.
 *
 * UTF-8 is validated as in the Unicode standard's table 3-7 (well-formed byte
 * sequences), and ill-formed input is replaced "per maximal subpart" (the
 * practice the standard recommends and the WHATWG decoder follows): a lead byte
 * and the continuation bytes that could still begin a valid sequence become one
 * U+FFFD; any other bad byte becomes one U+FFFD of its own. So C0 80 gives two
 * replacements, ED A0 80 three, E2 82 (truncated) one.
 *
 * Doubles are printed with "%.15g", then "%.16g", then "%.17g", taking the first
 * that reads back as the same value; 17 significant digits always do. This
 * assumes the C locale's '.' decimal point, which ferry never changes.
 */
#include "core/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Per-level state values. */
enum { JS_EMPTY = 0, JS_NEED_COMMA = 1, JS_HAVE_KEY = 2 };

/* Byte classes for escaping. */
enum {
    JC_SAFE = 0, /* copied as is */
    JC_ESC,      /* ASCII that needs an escape */
    JC_LEAD2,    /* C2..DF */
    JC_LEAD3,    /* E0..EF */
    JC_LEAD4,    /* F0..F4 */
    JC_BAD       /* 80..C1, F5..FF: never valid where a character starts */
};

/* clang-format off */
#define JC_R16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
static const unsigned char json_class[256] = {
    JC_R16(JC_ESC), JC_R16(JC_ESC),                                 /* 00..1F */
    JC_SAFE, JC_SAFE, JC_ESC, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, /* 20..27: '"' */
    JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, /* 28..2F */
    JC_R16(JC_SAFE), JC_R16(JC_SAFE),                               /* 30..4F */
    JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, /* 50..57 */
    JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_ESC, JC_SAFE, JC_SAFE, JC_SAFE,  /* 58..5F: '\\' */
    JC_R16(JC_SAFE),                                                /* 60..6F */
    JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, /* 70..77 */
    JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_SAFE, JC_ESC,  /* 78..7F: DEL */
    JC_R16(JC_BAD), JC_R16(JC_BAD), JC_R16(JC_BAD), JC_R16(JC_BAD), /* 80..BF */
    JC_BAD, JC_BAD, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, /* C0..C7 */
    JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, JC_LEAD2, /* C8..CF */
    JC_R16(JC_LEAD2),                                               /* D0..DF */
    JC_R16(JC_LEAD3),                                               /* E0..EF */
    JC_LEAD4, JC_LEAD4, JC_LEAD4, JC_LEAD4, JC_LEAD4, JC_BAD, JC_BAD, JC_BAD, /* F0..F7 */
    JC_BAD, JC_BAD, JC_BAD, JC_BAD, JC_BAD, JC_BAD, JC_BAD, JC_BAD, /* F8..FF */
};
#undef JC_R16
/* clang-format on */

static const char json_hex[] = "0123456789abcdef";
static const char json_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) whose lead byte has class
 * cls, or, if it is ill-formed, the negated length of its maximal subpart (the
 * bytes to replace with one U+FFFD, at least 1).
 */
static int utf8_seq(const unsigned char *s, size_t n, int cls)
{
    int len = cls == JC_LEAD2 ? 2 : cls == JC_LEAD3 ? 3 : 4;
    /* The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF). */
    unsigned char lo = 0x80, hi = 0xBF;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return len;
}

/* The escape for an ASCII byte of class JC_ESC, written to e; returns its length. */
static size_t json_escape_ascii(unsigned char c, char e[6])
{
    e[0] = '\\';
    switch (c) {
    case '"':
        e[1] = '"';
        return 2;
    case '\\':
        e[1] = '\\';
        return 2;
    case '\b':
        e[1] = 'b';
        return 2;
    case '\f':
        e[1] = 'f';
        return 2;
    case '\n':
        e[1] = 'n';
        return 2;
    case '\r':
        e[1] = 'r';
        return 2;
    case '\t':
        e[1] = 't';
        return 2;
    default:
        e[1] = 'u';
        e[2] = '0';
        e[3] = '0';
        e[4] = json_hex[c >> 4];
        e[5] = json_hex[c & 0xF];
        return 6;
    }
}

int json_escape(struct buf *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t start_len = out->len;
    size_t run = 0; /* start of the pending run of bytes to copy as they are */
    size_t i = 0;
    int rc = 0;

    while (i < n) {
        int cls = json_class[s[i]];
        if (cls == JC_SAFE) {
            i++;
            continue;
        }
        char esc[6];
        const char *rep;
        size_t rep_len, skip;
        if (cls == JC_ESC) {
            rep_len = json_escape_ascii(s[i], esc);
            rep = esc;
            skip = 1;
        } else if (cls == JC_BAD) {
            rep = json_replacement;
            rep_len = 3;
            skip = 1;
        } else {
            int len = utf8_seq(s + i, n - i, cls);
            if (len > 0 && !(len == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 &&
                             (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))) {
                i += (size_t)len; /* well-formed: part of the run */
                continue;
            }
            if (len > 0) {
                rep = s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                rep_len = 6;
                skip = 3;
            } else {
                rep = json_replacement;
                rep_len = 3;
                skip = (size_t)-len;
            }
        }
        if ((rc = buf_append(out, s + run, i - run)) < 0 ||
            (rc = buf_append(out, rep, rep_len)) < 0)
            goto out;
        i += skip;
        run = i;
    }
    rc = buf_append(out, s + run, n - run);
out:
    if (rc < 0)
        buf_truncate(out, start_len);
    return rc;
}

void json_init(struct json_writer *w, struct buf *out)
{
    w->out = out;
    w->err = 0;
    w->depth = 0;
    w->state[0] = JS_EMPTY;
    w->is_object[0] = 0;
}

/* Record the first error. */
static void json_fail(struct json_writer *w, int err)
{
    if (!w->err)
        w->err = err;
}

static void json_put(struct json_writer *w, const char *p, size_t n)
{
    if (!w->err) {
        int rc = buf_append(w->out, p, n);
        if (rc < 0)
            json_fail(w, rc);
    }
}

/*
 * Prepare for a value at the current level: check that one is allowed there and
 * write the comma if needed. Returns 0, or -1 with w->err set.
 */
static int json_before_value(struct json_writer *w)
{
    if (w->err)
        return -1;
    unsigned char *st = &w->state[w->depth];
    if (w->depth == 0 ? *st != JS_EMPTY : w->is_object[w->depth] ? *st != JS_HAVE_KEY : 0) {
        json_fail(w, ERR_INVAL); /* second top-level value, or object value without key */
        return -1;
    }
    if (*st == JS_NEED_COMMA && !w->is_object[w->depth])
        json_put(w, ",", 1);
    *st = JS_NEED_COMMA;
    return w->err ? -1 : 0;
}

static void json_begin(struct json_writer *w, int is_object)
{
    if (json_before_value(w) < 0)
        return;
    if (w->depth >= JSON_MAX_DEPTH) {
        json_fail(w, ERR_INVAL);
        return;
    }
    json_put(w, is_object ? "{" : "[", 1);
    w->depth++;
    w->state[w->depth] = JS_EMPTY;
    w->is_object[w->depth] = (unsigned char)is_object;
}

static void json_end(struct json_writer *w, int is_object)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->is_object[w->depth] != is_object || w->state[w->depth] == JS_HAVE_KEY) {
        json_fail(w, ERR_INVAL);
        return;
    }
    json_put(w, is_object ? "}" : "]", 1);
    w->depth--;
}

void json_object_begin(struct json_writer *w)
{
    json_begin(w, 1);
}

void json_object_end(struct json_writer *w)
{
    json_end(w, 1);
}

void json_array_begin(struct json_writer *w)
{
    json_begin(w, 0);
}

void json_array_end(struct json_writer *w)
{
    json_end(w, 0);
}

/* Append '"', the escaped text, '"'. */
static void json_put_quoted(struct json_writer *w, const char *s, size_t n)
{
    json_put(w, "\"", 1);
    if (!w->err) {
        int rc = json_escape(w->out, s, n);
        if (rc < 0)
            json_fail(w, rc);
    }
    json_put(w, "\"", 1);
}

/* A key: quoted is 1 when key is already the escaped, quoted text. */
static void json_key_any(struct json_writer *w, const char *key, size_t n, int quoted)
{
    if (w->err)
        return;
    unsigned char *st = &w->state[w->depth];
    if (w->depth == 0 || !w->is_object[w->depth] || *st == JS_HAVE_KEY) {
        json_fail(w, ERR_INVAL);
        return;
    }
    if (*st == JS_NEED_COMMA)
        json_put(w, ",", 1);
    if (quoted)
        json_put(w, key, n);
    else
        json_put_quoted(w, key, n);
    json_put(w, ":", 1);
    *st = JS_HAVE_KEY;
}

void json_keyn(struct json_writer *w, const char *key, size_t n)
{
    json_key_any(w, key, n, 0);
}

void json_key_quoted(struct json_writer *w, const char *quoted, size_t n)
{
    json_key_any(w, quoted, n, 1);
}

void json_key(struct json_writer *w, const char *key)
{
    json_keyn(w, key, strlen(key));
}

void json_stringn(struct json_writer *w, const char *s, size_t n)
{
    if (json_before_value(w) < 0)
        return;
    json_put_quoted(w, s, n);
}

void json_string(struct json_writer *w, const char *s)
{
    if (!s)
        json_null(w);
    else
        json_stringn(w, s, strlen(s));
}

/* Digits of v, written backwards ending just before end; returns the first. */
static char *json_u64_digits(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

void json_uint(struct json_writer *w, uint64_t v)
{
    char tmp[24];
    char *p = json_u64_digits(v, tmp + sizeof tmp);
    if (json_before_value(w) == 0)
        json_put(w, p, (size_t)(tmp + sizeof tmp - p));
}

void json_int(struct json_writer *w, int64_t v)
{
    char tmp[24];
    /* Negate in unsigned arithmetic so INT64_MIN works. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = json_u64_digits(mag, tmp + sizeof tmp);
    if (v < 0)
        *--p = '-';
    if (json_before_value(w) == 0)
        json_put(w, p, (size_t)(tmp + sizeof tmp - p));
}

/* The fast path of json_double for the common case, a number with a few
 * decimal places (a price, a measurement): find the fewest places k (0..9)
 * for which m = v * 10^k is an integer below 2^53 and m / 10^k gives v back
 * (a correctly rounded division of two exact doubles, so strtod of the text
 * gives v back too), then print m with a point k digits from the right.
 * That is the text %.15g/%.16g/%.17g would find, without printf and strtod.
 * Only for 1e-4 <= |v| < 1e15, where %g prints no exponent either. Returns
 * the length written to out, or 0 to take the slow path. */
static int short_decimal(double v, char out[40])
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int k = 0; k < 10; k++) {
        double m = rint(a * pow10[k]);
        if (m >= 9007199254740992.0)
            return 0;
        if (m / pow10[k] != a)
            continue;
        char digits[24];
        int nd = 0;
        for (uint64_t u = (uint64_t)m; u || nd <= k; u /= 10)
            digits[nd++] = (char)('0' + u % 10);
        int n = 0;
        if (v < 0)
            out[n++] = '-';
        for (int i = nd - 1; i >= 0; i--) {
            out[n++] = digits[i];
            if (i == k && k > 0)
                out[n++] = '.';
        }
        return n;
    }
    return 0;
}

void json_double(struct json_writer *w, double v)
{
    if (!isfinite(v)) {
        json_null(w);
        return;
    }
    char tmp[40];
    int n = short_decimal(v, tmp);
    for (int prec = 15; n == 0 && prec <= 17; prec++) {
        int len = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            n = len;
    }
    if (json_before_value(w) == 0)
        json_put(w, tmp, (size_t)n);
}

void json_bool(struct json_writer *w, int v)
{
    if (json_before_value(w) == 0) {
        if (v)
            json_put(w, "true", 4);
        else
            json_put(w, "false", 5);
    }
}

void json_null(struct json_writer *w)
{
    if (json_before_value(w) == 0)
        json_put(w, "null", 4);
}

void json_raw(struct json_writer *w, const char *text, size_t n)
{
    if (json_before_value(w) == 0)
        json_put(w, text, n);
}

int json_error(const struct json_writer *w)
{
    return w->err;
}

int json_finish(const struct json_writer *w)
{
    if (w->err)
        return w->err;
    if (w->depth != 0 || w->state[0] == JS_EMPTY)
        return ERR_INVAL;
    return 0;
}
