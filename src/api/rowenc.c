/*
 * rowenc: column values to JSON and CSV (see rowenc.h for the mapping). Each
 * encoder reads the value the cheapest way its backend offers: SQLite's typed
 * getters, PostgreSQL's text (already in the right form for numbers).
 * Timestamps are rewritten in a small stack buffer; nothing allocates.
 */
#include "api/rowenc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Longest timestamp text we rewrite ("YYYY-MM-DD HH:MM:SS.ffffff+00:00" is 32). */
#define TS_MAX 48

/* PostgreSQL's timestamp text in ISO-8601 form: 'T' between date and time, and
 * a UTC offset ("+00", "+00:00") as 'Z'. Anything else (infinity) is copied as
 * it is. Returns the length written to out (at most TS_MAX). */
static size_t iso_timestamp(const char *s, size_t n, char out[TS_MAX])
{
    if (n >= TS_MAX) {
        memcpy(out, s, TS_MAX - 1);
        return TS_MAX - 1;
    }
    memcpy(out, s, n);
    if (n > 10 && out[10] == ' ')
        out[10] = 'T';
    if (n > 6 && memcmp(out + n - 6, "+00:00", 6) == 0) {
        out[n - 6] = 'Z';
        return n - 5;
    }
    if (n > 3 && memcmp(out + n - 3, "+00", 3) == 0) {
        out[n - 3] = 'Z';
        return n - 2;
    }
    return n;
}

/* Is this text a JSON number as PostgreSQL prints integers and numerics? */
static int json_number_text(const char *s, size_t n)
{
    size_t i = s[0] == '-';
    return n > i && s[i] >= '0' && s[i] <= '9';
}

/* An integer's text beyond the safe range (so it goes out as a string)? */
static int int_text_unsafe(const char *s, size_t n)
{
    size_t digits = n - (s[0] == '-');
    if (digits < 16)
        return 0;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    return errno != 0 || v > ROWENC_SAFE_INT || v < -ROWENC_SAFE_INT;
}

static void json_int_safe(struct json_writer *w, int64_t v)
{
    if (v > ROWENC_SAFE_INT || v < -ROWENC_SAFE_INT) {
        char tmp[24];
        struct buf b;
        buf_init_fixed(&b, tmp, sizeof tmp);
        buf_printf(&b, "%lld", (long long)v);
        json_stringn(w, b.data, b.len);
    } else {
        json_int(w, v);
    }
}

/* PostgreSQL values are read as text once (NULL for SQL NULL). */
static void json_pg(struct json_writer *w, store_stmt *st, int col, enum coltype t)
{
    size_t n;
    const char *s = store_column_text(st, col, &n);
    char ts[TS_MAX];
    if (!s) {
        json_null(w);
        return;
    }
    switch (t) {
    case COLTYPE_BOOLEAN:
        json_bool(w, n == 1 && s[0] == '1');
        break;
    case COLTYPE_INTEGER:
        if (!json_number_text(s, n))
            json_null(w);
        else if (int_text_unsafe(s, n))
            json_stringn(w, s, n);
        else
            json_raw(w, s, n);
        break;
    case COLTYPE_DECIMAL:
        if (json_number_text(s, n))
            json_raw(w, s, n);
        else
            json_null(w); /* NaN, Infinity */
        break;
    case COLTYPE_TIMESTAMP:
    case COLTYPE_TIMESTAMPTZ:
        json_stringn(w, ts, iso_timestamp(s, n, ts));
        break;
    default:
        json_stringn(w, s, n);
        break;
    }
}

static void json_sqlite(struct json_writer *w, store_stmt *st, int col, enum coltype t)
{
    size_t n;
    const char *s;
    switch (t) {
    case COLTYPE_BOOLEAN:
        json_bool(w, store_column_int(st, col) != 0);
        break;
    case COLTYPE_INTEGER:
        json_int_safe(w, store_column_int(st, col));
        break;
    case COLTYPE_DECIMAL:
        json_double(w, store_column_double(st, col));
        break;
    default:
        s = store_column_text(st, col, &n);
        json_stringn(w, s, n);
        break;
    }
}

void rowenc_json(struct json_writer *w, store_stmt *st, int col, enum coltype t,
                 enum store_backend_kind b)
{
    if (b == STORE_POSTGRESQL)
        json_pg(w, st, col, t);
    else if (store_column_is_null(st, col))
        json_null(w);
    else
        json_sqlite(w, st, col, t);
}

/* ---- CSV ----------------------------------------------------------------------------- */

int rowenc_csv_text(struct buf *out, const char *s, size_t n)
{
    if (n > 0 && !memchr(s, '"', n) && !memchr(s, ',', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n))
        return buf_append(out, s, n);
    size_t mark = out->len;
    int rc = buf_putc(out, '"');
    const char *p = s, *end = s + n;
    while (rc == 0 && p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        size_t run = q ? (size_t)(q - p) + 1 : (size_t)(end - p);
        rc = buf_append(out, p, run);
        if (rc == 0 && q)
            rc = buf_putc(out, '"');
        p += run;
    }
    if (rc == 0)
        rc = buf_putc(out, '"');
    if (rc < 0)
        buf_truncate(out, mark);
    return rc;
}

/* A number's text through the JSON writer (the shortest exact form of a double). */
static int csv_double(struct buf *out, double v)
{
    struct json_writer w;
    json_init(&w, out);
    json_double(&w, v);
    return json_error(&w);
}

/* A value as CSV text: s (n bytes) is its text as the store gives it. */
static int csv_text_value(struct buf *out, const char *s, size_t n, enum coltype t,
                          enum store_backend_kind b)
{
    char ts[TS_MAX];
    if (t == COLTYPE_BOOLEAN) /* PostgreSQL "1"/"0" (store.h), SQLite 1/0 */
        return buf_puts(out, n == 1 && s[0] == '1' ? "true" : "false");
    if (b == STORE_POSTGRESQL && (t == COLTYPE_TIMESTAMP || t == COLTYPE_TIMESTAMPTZ))
        return buf_append(out, ts, iso_timestamp(s, n, ts));
    if (t == COLTYPE_TEXT)
        return rowenc_csv_text(out, s, n);
    return buf_append(out, s, n); /* numbers and dates need no quotes */
}

int rowenc_csv(struct buf *out, store_stmt *st, int col, enum coltype t, enum store_backend_kind b)
{
    size_t n;
    const char *s;
    if (b == STORE_POSTGRESQL) { /* one read: NULL text is SQL NULL */
        s = store_column_text(st, col, &n);
        return s ? csv_text_value(out, s, n, t, b) : 0;
    }
    if (store_column_is_null(st, col))
        return 0;
    if (t == COLTYPE_DECIMAL)
        return csv_double(out, store_column_double(st, col));
    if (t == COLTYPE_BOOLEAN)
        return buf_puts(out, store_column_int(st, col) ? "true" : "false");
    s = store_column_text(st, col, &n);
    return csv_text_value(out, s, n, t, b);
}

struct store_value rowenc_value(store_stmt *st, int col, enum coltype t, enum store_backend_kind b)
{
    if (store_column_is_null(st, col))
        return SV_NULL();
    if (t == COLTYPE_BOOLEAN || t == COLTYPE_INTEGER)
        return SV_INT(store_column_int(st, col));
    if (t == COLTYPE_DECIMAL && b == STORE_SQLITE)
        return SV_DOUBLE(store_column_double(st, col));
    size_t n;
    const char *s = store_column_text(st, col, &n);
    return SV_TEXTN(s, n);
}
