/*
 * csvfile: the reader is a pipeline over slices of at most SLICE input bytes.
 *
 *   feed -> head (BOM, sniffing) -> slice -> check / decode -> window -> scan -> fn
 *
 * Start-up: the first bytes are kept in `head` until the reader can decide how
 * to read them: 3 bytes (a possible BOM) when the delimiter is given, SNIFF_MAX
 * bytes (or the whole input, at finish) when it must be sniffed. Then head and
 * everything after it go through the same slice path.
 *
 * Each slice is first checked: UTF-8 is validated (the decoder state is carried
 * across slices, so a sequence may be split anywhere), latin-1 and cp1252 are
 * scanned for NUL and converted with iconv into `conv`. Only the part before
 * the first bad byte is parsed; then the error is reported. So the records
 * delivered, and the error, do not depend on how the input was chunked.
 *
 * Why not libcsv (which this reader used until it was measured): libcsv calls
 * its space and line-end functions through a pointer for every byte and copies
 * every byte of every field into its own buffer, and the reader then copied
 * each field again. On a 92 MB, 1M-row import that was 25% of the whole import
 * time on SQLite (about 38% of ferry's CPU on PostgreSQL), and the reader ran
 * at 150-270 MB/s. The scanner below does the same RFC 4180 parsing at several
 * times that speed.
 *
 * The window. The checked slice is appended, in one memcpy, to `win`, which
 * holds only the unfinished record before it. The scanner then works in place:
 *
 *   - an unquoted field is a run of bytes that are not the delimiter, a quote,
 *     CR or LF, found with a 256-entry class table (a sentinel LF after the
 *     window's last byte ends the run, so the loop has one test per byte);
 *   - a quoted field is found with memchr for the next quote; a doubled quote
 *     is one quote, and the rest of the field moves left over the other one;
 *   - the byte that ends a field (delimiter, CR, LF, closing quote) is
 *     overwritten with the field's NUL, so every field points into the window
 *     and a record whose bytes lie in the window is never copied again.
 *
 * When a slice ends inside a record, the fields read so far and the pending
 * field move to the front of the window before the next slice is appended
 * (each byte moves at most once), and the scanner resumes where it stopped:
 * the state is one of
 *
 *   S_ROW   between records (blank lines are skipped here)
 *   S_NEXT  after a delimiter: a field starts at the next byte
 *   S_UNQ   in an unquoted field
 *   S_QUO   in a quoted field
 *   S_QQ    after a quote in a quoted field: the closing one, or the first
 *           of a doubled quote
 *
 * Strict quoting: a quote in S_UNQ, and anything but a delimiter, a line end
 * or a quote in S_QQ, is an error at that byte; at the end of input S_QUO is an
 * unterminated quoted field.
 *
 * Lines: r->line is the physical line of the next byte, counting every CR and
 * LF, an LF right after a CR once (CRLF); a record reports the line of its
 * first byte, a field error the line its field starts on.
 *
 * Limits are checked at the byte that crosses them, whatever the chunking.
 * The pending field holds its content plus, in S_QQ, the quote that may close
 * it; it may hold max_field + 1 bytes (and the record max_record + 1), so the
 * byte that makes it one more is "field longer than" (or "row N is longer
 * than", whichever crosses first). A finished field is checked for columns,
 * max_field and max_record, in that order. Content bytes have no other
 * effect, so a run can be scanned whole and checked after.
 *
 * Memory: the window holds the unfinished record (bounded by the limits) and
 * one slice (decoded: 3 slices); nothing is allocated per field or per record
 * once the window and the field array have reached their largest size.
 */
#include "ingest/csvfile.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

/* SSE2 (every x86-64) finds the end of an unquoted field 16 bytes at a time;
 * elsewhere, or with -DCSVFILE_NO_SIMD, a byte loop over the class table. */
#if defined(__SSE2__) && !defined(CSVFILE_NO_SIMD)
#define CSVFILE_SSE2 1
#include <emmintrin.h>
#endif

#define SLICE     (64u << 10) /* input bytes checked and scanned at a time */
#define SNIFF_MAX (64u << 10) /* input bytes the delimiter is sniffed from */
#define WIN_MIN   4096u       /* first size of the window */
#define WIN_PAD   16u         /* readable bytes after the window's last byte */
#define MSG_MAX   256

/* Scanner states (see the top of the file). */
enum { S_ROW, S_NEXT, S_UNQ, S_QUO, S_QQ };

/* Byte classes for unquoted fields: any non-zero class ends the run. */
enum { C_TEXT = 0, C_DELIM, C_QUOTE, C_CR, C_LF };

struct csvfile {
    /* options */
    char delim; /* 0 until sniffed */
    enum csvfile_encoding enc;
    size_t max_field, max_columns, max_record;
    csvfile_record_fn fn;
    void *ctx;

    iconv_t cd; /* (iconv_t)-1 for UTF-8 */
    char *conv; /* decoded slice (latin-1, cp1252) */
    size_t conv_cap;

    /* start-up */
    int started;
    int finished;
    struct buf head;

    /* UTF-8 decoder state between slices */
    unsigned u8_need;    /* continuation bytes still expected */
    unsigned char u8_lo; /* range allowed for the next one */
    unsigned char u8_hi;
    int64_t u8_lead; /* input offset of the sequence's first byte */

    /* the window: the unfinished record, then the slice being scanned */
    unsigned char cls[256]; /* C_* of each byte */
    unsigned char *win;
    size_t win_len, win_cap; /* win_cap > win_len: room for a sentinel or a NUL */
    size_t pos;              /* next byte to scan */
    size_t slice_at;         /* where the slice being scanned starts in win */
    const char *slice_dec;   /* converted input: the decoded slice, unmodified */
    int64_t off;             /* input offset of that slice */

    /* the record being read */
    int state;                    /* S_* */
    size_t fstart;                /* pending field: content starts at win + fstart */
    size_t fout;                  /* ... and ends at win + fout (quoted fields) */
    int64_t fline;                /* line the pending field starts on */
    struct csvfile_field *fields; /* finished fields of the record, in win */
    size_t nfields, fields_cap;
    size_t used; /* content bytes in those fields */
    int64_t rec_line;

    /* positions */
    int64_t line;  /* see the top of the file */
    int prev_cr;   /* the last byte was a CR (in S_ROW and quoted content) */
    int64_t bytes; /* bytes given to csvfile_feed */
    int64_t rows;
    size_t ncols; /* fields in the header */

    /* error (sticky) */
    int err;
    int user_msg; /* csvfile_set_error was called during the callback */
    char msg[MSG_MAX];
    int64_t err_line, err_off, err_row;
};

/* ---- errors ------------------------------------------------------------------------ */

static int fail(csvfile *r, int code, int64_t line, int64_t off, int64_t row, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int fail(csvfile *r, int code, int64_t line, int64_t off, int64_t row, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    r->err = code;
    r->err_line = line;
    r->err_off = off;
    r->err_row = row;
    return code;
}

void csvfile_set_error(csvfile *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    r->user_msg = 1;
}

static int field_too_long(csvfile *r)
{
    return fail(r, ERR_TOOBIG, r->fline, -1, r->rows + 1,
                "field longer than %zu bytes at line %" PRId64, r->max_field, r->fline);
}

static int record_too_long(csvfile *r)
{
    int64_t row = r->rows + 1;
    return fail(r, ERR_TOOBIG, r->rec_line, -1, row,
                "row %" PRId64 " is longer than %zu bytes (line %" PRId64 ")", row, r->max_record,
                r->rec_line);
}

/* The pending field holds pend bytes (see the top of the file): the error of
 * the limit crossed first, or 0. */
static int check_pending(csvfile *r, size_t pend)
{
    size_t fr = r->max_field + 1, rr = r->max_record + 1 - r->used;
    if (pend <= fr && pend <= rr)
        return 0;
    return fr <= rr ? field_too_long(r) : record_too_long(r);
}

/* Input offset of win[at], a byte of the slice being scanned (decoded: each
 * input byte became one UTF-8 sequence). */
static int64_t input_offset(const csvfile *r, size_t at)
{
    size_t pos = at - r->slice_at;
    if (!r->slice_dec)
        return r->off + (int64_t)pos;
    int64_t n = 0;
    for (size_t i = 0; i < pos; i++)
        n += ((unsigned char)r->slice_dec[i] & 0xc0) != 0x80;
    return r->off + n;
}

static int quote_error(csvfile *r, size_t at, int after_quote)
{
    int64_t off = input_offset(r, at);
    return fail(r, ERR_INVAL, r->line, off, r->rows + 1,
                "%s at line %" PRId64 ", byte offset %" PRId64,
                after_quote ? "unexpected character after a closing quote"
                            : "quote inside an unquoted field",
                r->line, off);
}

/* ---- line counting ------------------------------------------------------------------- */

/* Line ends in s[0..n): LF, CR, and CRLF counted once. *cr says whether the byte
 * before s was a CR, and is updated. */
static int64_t count_line_ends(const unsigned char *s, size_t n, int *cr)
{
    int64_t lines = 0;
    int prev = *cr;
    size_t i = 0;
    /* Skip 8 bytes at a time while none is below 0x0e (the usual case):
     * (v - 0x0e..) & ~v sets a byte's high bit only when the byte is < 0x0e,
     * or, past such a byte, spuriously (then the slow loop decides). */
    while (i + 8 <= n) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        if ((v - 0x0e0e0e0e0e0e0e0eull) & ~v & 0x8080808080808080ull)
            break;
        prev = 0;
        i += 8;
    }
    for (; i < n; i++) {
        unsigned char c = s[i];
        if (c > '\r') {
            prev = 0;
        } else if (c == '\n') {
            lines += !prev;
            prev = 0;
        } else if (c == '\r') {
            lines++;
            prev = 1;
        } else {
            prev = 0;
        }
    }
    *cr = prev;
    return lines;
}

/* ---- records ------------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return ERR_NOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int add_field_slow(csvfile *r, size_t n)
{
    int64_t row = r->rows + 1;
    if (check_pending(r, n) < 0)
        return r->err;
    if (r->nfields >= r->max_columns)
        return fail(r, ERR_TOOBIG, r->rec_line, -1, row,
                    "row %" PRId64 " has more than %zu columns", row, r->max_columns);
    if (n > r->max_field)
        return field_too_long(r);
    if (n > r->max_record - r->used)
        return record_too_long(r);
    if (grow((void **)&r->fields, &r->fields_cap, r->nfields + 1, sizeof *r->fields) < 0)
        return fail(r, ERR_NOMEM, r->rec_line, -1, row, "out of memory");
    return 0;
}

/* The pending field is finished: win[at..at+n) (the byte after it is free). */
static inline int add_field(csvfile *r, size_t at, size_t n)
{
    if (r->nfields >= r->fields_cap || n > r->max_field || n > r->max_record - r->used ||
        r->nfields >= r->max_columns)
        if (add_field_slow(r, n) < 0)
            return r->err;
    r->win[at + n] = '\0';
    r->fields[r->nfields].p = (const char *)r->win + at;
    r->fields[r->nfields].n = n;
    r->nfields++;
    r->used += n;
    return 0;
}

/* Deliver the finished record. */
static int end_record(csvfile *r)
{
    int64_t row = r->rows + 1;
    if (row == 1) {
        r->ncols = r->nfields;
    } else if (r->nfields != r->ncols) {
        return fail(r, ERR_INVAL, r->rec_line, -1, row,
                    "row %" PRId64 " has a different number of data points (%zu) than there are "
                    "column headers (%zu)",
                    row, r->nfields, r->ncols);
    }
    r->rows = row;
    if (r->fn) {
        struct csvfile_record rec = {r->fields, r->nfields, row, r->rec_line};
        r->user_msg = 0;
        int rc = r->fn(r->ctx, &rec);
        if (rc < 0) {
            if (!r->user_msg)
                snprintf(r->msg, sizeof r->msg, "stopped");
            r->err = rc;
            r->err_line = r->rec_line;
            r->err_off = -1;
            r->err_row = row;
        } else if (r->user_msg) {
            r->msg[0] = '\0';
        }
        r->user_msg = 0;
    }
    r->nfields = 0;
    r->used = 0;
    return r->err;
}

/* ---- scanning ------------------------------------------------------------------------ */

#ifdef CSVFILE_SSE2
struct specials {
    __m128i delim, quote, cr, lf;
};
#else
struct specials {
    int unused;
};
#endif

/* Index of the first byte at or after w + q that is not C_TEXT: a delimiter, a
 * quote, CR or LF (there is one: the sentinel). SSE2 reads up to 15 bytes past
 * it, within the window's padding. */
static inline size_t end_of_text(const unsigned char *w, size_t q, const struct specials *sv,
                                 const unsigned char *cls)
{
#ifdef CSVFILE_SSE2
    (void)cls;
    for (;; q += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(w + q));
        __m128i m =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sv->delim), _mm_cmpeq_epi8(x, sv->quote)),
                         _mm_or_si128(_mm_cmpeq_epi8(x, sv->cr), _mm_cmpeq_epi8(x, sv->lf)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return q + (size_t)__builtin_ctz(mask);
    }
#else
    (void)sv;
    while (!cls[w[q]])
        q++;
    return q;
#endif
}

/* Scan win[pos..win_len): deliver every record that ends there and leave the
 * state at the last byte. Returns 0 or <0 (r->err). */
static int scan(csvfile *r)
{
    unsigned char *w = r->win;
    const unsigned char *cls = r->cls;
    const size_t end = r->win_len;
    const unsigned char delim = (unsigned char)r->delim;
    size_t pos = r->pos, q;
    int st = r->state;
    unsigned char c;

    w[end] = '\n'; /* sentinel: ends every unquoted run */
#ifdef CSVFILE_SSE2
    const struct specials sv = {_mm_set1_epi8((char)delim), _mm_set1_epi8('"'), _mm_set1_epi8('\r'),
                                _mm_set1_epi8('\n')};
#else
    const struct specials sv = {0};
#endif
    while (pos < end) {
        switch (st) {
        case S_ROW:
            c = w[pos];
            if (c == '\n') { /* a blank line, or the LF of a CRLF */
                r->line += !r->prev_cr;
                r->prev_cr = 0;
                pos++;
                continue;
            }
            if (c == '\r') {
                r->line++;
                r->prev_cr = 1;
                pos++;
                continue;
            }
            r->rec_line = r->line;
            /* fall through */
        case S_NEXT:
            r->fline = r->line;
            if (w[pos] == '"') {
                pos++;
                r->fstart = r->fout = pos;
                r->prev_cr = 0;
                st = S_QUO;
                continue;
            }
            r->fstart = pos; /* an unquoted field, maybe empty */
            /* fall through */
        case S_UNQ:
            q = end_of_text(w, pos, &sv, cls);
            if (q == end) {
                pos = q;
                st = S_UNQ;
                if (check_pending(r, q - r->fstart) < 0)
                    goto out;
                continue;
            }
            c = w[q];
            if (c == '"') { /* a limit crossed in the run comes first */
                if (check_pending(r, q - r->fstart) == 0)
                    quote_error(r, q, 0);
                goto out;
            }
            if (add_field(r, r->fstart, q - r->fstart) < 0)
                goto out;
            pos = q + 1;
            if (c == delim) {
                st = S_NEXT;
                continue;
            }
            r->line++; /* after a field: never the LF of a CRLF */
            r->prev_cr = c == '\r';
            st = S_ROW;
            if (end_record(r) < 0)
                goto out;
            continue;
        case S_QUO: {
            const unsigned char *e = memchr(w + pos, '"', end - pos);
            q = e ? (size_t)(e - w) : end;
            if (q > pos) {
                r->line += count_line_ends(w + pos, q - pos, &r->prev_cr);
                if (r->fout != pos)
                    memmove(w + r->fout, w + pos, q - pos);
                r->fout += q - pos;
            }
            /* the quote counts: it may be the closing one */
            if (check_pending(r, r->fout - r->fstart + (q < end)) < 0)
                goto out;
            if (q == end) {
                pos = q;
                continue;
            }
            pos = q + 1;
            st = S_QQ;
            continue;
        }
        case S_QQ:
            c = w[pos];
            if (c == '"') { /* doubled: one quote of content */
                w[r->fout++] = '"';
                r->prev_cr = 0;
                pos++;
                st = S_QUO;
                continue;
            }
            if (c != delim && c != '\r' && c != '\n') {
                quote_error(r, pos, 1);
                goto out;
            }
            if (add_field(r, r->fstart, r->fout - r->fstart) < 0)
                goto out;
            pos++;
            if (c == delim) {
                st = S_NEXT;
                continue;
            }
            r->line++;
            r->prev_cr = c == '\r';
            st = S_ROW;
            if (end_record(r) < 0)
                goto out;
            continue;
        }
    }
out:
    r->pos = pos;
    r->state = st;
    return r->err;
}

/* Make room for n more bytes at the end of the window: the unfinished record
 * (its fields and the pending field's content) moves to the front, everything
 * before it having been delivered. */
static int win_reserve(csvfile *r, size_t n)
{
    /* Between records nothing is kept; a quoted field ends at fout (after it
     * come only the bytes its doubled quotes freed). */
    int in_field = r->state == S_UNQ || r->state == S_QUO || r->state == S_QQ;
    size_t to = r->state == S_QUO || r->state == S_QQ ? r->fout : r->win_len;
    size_t from = r->win_len;
    if (r->state != S_ROW)
        from = r->nfields ? (size_t)((const unsigned char *)r->fields[0].p - r->win) : r->fstart;
    size_t keep = to - from, need = keep + n + WIN_PAD;
    unsigned char *dst = r->win;
    if (need > r->win_cap) {
        size_t cap = r->win_cap ? r->win_cap : WIN_MIN;
        while (cap < need)
            cap *= 2;
        dst = calloc(1, cap); /* the padding is read (never used) before written */
        if (!dst)
            return fail(r, ERR_NOMEM, r->line, -1, r->rows + 1, "out of memory");
        r->win_cap = cap;
    }
    if (keep)
        memmove(dst, r->win + from, keep);
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i].p =
            (const char *)dst + ((const unsigned char *)r->fields[i].p - r->win - from);
    if (dst != r->win) {
        free(r->win);
        r->win = dst;
    }
    if (in_field) {
        r->fstart -= from;
        r->fout -= from;
    }
    r->win_len = r->pos = keep;
    return 0;
}

/* Append s[0..n) (checked, UTF-8) to the window and scan it. dec: s is the
 * decoded slice (offsets are then counted in characters). */
static int parse(csvfile *r, const char *s, size_t n, int dec)
{
    if (win_reserve(r, n) < 0)
        return r->err;
    memcpy(r->win + r->win_len, s, n);
    r->slice_at = r->win_len;
    r->slice_dec = dec ? s : NULL;
    r->win_len += n;
    return scan(r);
}

/* End of input: the pending field and record. */
static int parse_end(csvfile *r)
{
    size_t at, n;
    switch (r->state) {
    case S_QUO:
        return fail(r, ERR_INVAL, r->fline, -1, r->rows + 1,
                    "unterminated quoted field starting at line %" PRId64, r->fline);
    case S_NEXT:
        at = r->win_len;
        n = 0;
        break;
    case S_UNQ:
        at = r->fstart;
        n = r->win_len - r->fstart;
        break;
    case S_QQ:
        at = r->fstart;
        n = r->fout - r->fstart;
        break;
    default:
        return 0;
    }
    r->state = S_ROW;
    if (add_field(r, at, n) < 0)
        return r->err;
    return end_record(r);
}

/* ---- checking and decoding ------------------------------------------------------------- */

/* Index of the first byte of s[0..n) that is not valid UTF-8 or is NUL, or n.
 * *bad_off receives the offset to report: the first byte of the bad sequence. */
static size_t utf8_scan(csvfile *r, const unsigned char *s, size_t n, int64_t *bad_off, int *nul)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    unsigned need = r->u8_need;
    unsigned char lo = r->u8_lo, hi = r->u8_hi;
    size_t i = 0;
    while (i < n) {
        if (need == 0) {
#ifdef CSVFILE_SSE2
            /* ASCII without NUL, 16 bytes at a time. */
            while (i + 16 <= n) {
                __m128i x = _mm_loadu_si128((const __m128i *)(s + i));
                x = _mm_or_si128(x, _mm_cmpeq_epi8(x, _mm_setzero_si128()));
                if (_mm_movemask_epi8(x))
                    break;
                i += 16;
            }
#endif
            /* ASCII without NUL, 8 bytes at a time: v - ones sets a high bit only
             * below a zero byte (or where v already has one). */
            while (i + 8 <= n) {
                uint64_t v;
                memcpy(&v, s + i, 8);
                if ((v | (v - ones)) & highs)
                    break;
                i += 8;
            }
            if (i >= n)
                break;
            unsigned char c = s[i];
            if (c < 0x80) {
                if (c == 0) {
                    *nul = 1;
                    *bad_off = r->off + (int64_t)i;
                    return i;
                }
                i++;
                continue;
            }
            if (c < 0xc2 || c > 0xf4) {
                *bad_off = r->off + (int64_t)i;
                return i;
            }
            r->u8_lead = r->off + (int64_t)i;
            lo = 0x80;
            hi = 0xbf;
            if (c < 0xe0) {
                need = 1;
            } else if (c < 0xf0) {
                need = 2;
                if (c == 0xe0)
                    lo = 0xa0; /* overlong */
                else if (c == 0xed)
                    hi = 0x9f; /* surrogates */
            } else {
                need = 3;
                if (c == 0xf0)
                    lo = 0x90; /* overlong */
                else if (c == 0xf4)
                    hi = 0x8f; /* above U+10FFFF */
            }
            i++;
        } else {
            unsigned char c = s[i];
            if (c < lo || c > hi) {
                *bad_off = r->u8_lead;
                return i;
            }
            lo = 0x80;
            hi = 0xbf;
            need--;
            i++;
        }
    }
    r->u8_need = need;
    r->u8_lo = lo;
    r->u8_hi = hi;
    return n;
}

static int slice_utf8(csvfile *r, const unsigned char *s, size_t n)
{
    int64_t bad_off = -1;
    int nul = 0;
    size_t k = utf8_scan(r, s, n, &bad_off, &nul);
    if (k && parse(r, (const char *)s, k, 0) < 0)
        return r->err;
    r->off += (int64_t)k;
    if (k == n)
        return 0;
    return fail(r, ERR_INVAL, r->line, bad_off, r->rows + 1,
                "%s at line %" PRId64 ", byte offset %" PRId64, nul ? "NUL byte" : "invalid UTF-8",
                r->line, bad_off);
}

static int slice_convert(csvfile *r, const unsigned char *s, size_t n)
{
    const unsigned char *z = memchr(s, 0, n);
    size_t k = z ? (size_t)(z - s) : n;
    char *in = (char *)s, *out = r->conv;
    size_t inleft = k, outleft = r->conv_cap;
    int ilseq = 0;
    if (k && iconv(r->cd, &in, &inleft, &out, &outleft) == (size_t)-1) {
        if (errno != EILSEQ && errno != EINVAL)
            return fail(r, ERR_INTERNAL, r->line, r->off, r->rows + 1,
                        "character conversion failed");
        ilseq = 1;
        k = (size_t)((const unsigned char *)in - s);
    }
    size_t m = (size_t)(out - r->conv);
    if (m && parse(r, r->conv, m, 1) < 0)
        return r->err;
    r->off += (int64_t)k;
    if (k == n)
        return 0;
    if (ilseq)
        return fail(r, ERR_INVAL, r->line, r->off, r->rows + 1,
                    "invalid %s byte 0x%02X at line %" PRId64 ", byte offset %" PRId64,
                    r->enc == CSVFILE_CP1252 ? "cp1252" : "latin-1", s[k], r->line, r->off);
    return fail(r, ERR_INVAL, r->line, r->off, r->rows + 1,
                "NUL byte at line %" PRId64 ", byte offset %" PRId64, r->line, r->off);
}

/* Push input through the checks and the parser, a slice at a time. */
static int pipe_input(csvfile *r, const unsigned char *s, size_t n)
{
    size_t step = r->enc == CSVFILE_UTF8 ? SLICE : r->conv_cap / 3;
    while (n && !r->err) {
        size_t k = n < step ? n : step;
        if (r->enc == CSVFILE_UTF8)
            slice_utf8(r, s, k);
        else
            slice_convert(r, s, k);
        s += k;
        n -= k;
    }
    return r->err;
}

/* ---- start-up: BOM and sniffing -------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The delimiter of s[0..n) (see the header). eof: s is the whole input, else its
 * last, possibly cut, line is not used. */
static char sniff(const unsigned char *s, size_t n, int eof)
{
    static const char cand[4] = {',', ';', '\t', '|'};
    size_t maxlines = n / 2 + 2; /* a line has at least one byte and its end */
    uint32_t *counts = malloc(4 * maxlines * sizeof *counts);
    if (!counts)
        return ',';
    uint32_t cur[4] = {0, 0, 0, 0};
    size_t nlines = 0;
    int inq = 0;
    size_t i = 0;
    for (; i <= n; i++) {
        int end = i == n;
        if (!end) {
            unsigned char c = s[i];
            if (c == '"') {
                inq = !inq;
                continue;
            }
            if (inq)
                continue;
            if (c != '\r' && c != '\n') {
                for (int j = 0; j < 4; j++)
                    cur[j] += c == (unsigned char)cand[j];
                continue;
            }
        } else if (!eof && nlines > 0) {
            break; /* the cut last line */
        }
        if (cur[0] | cur[1] | cur[2] | cur[3]) {
            for (int j = 0; j < 4; j++)
                counts[(size_t)j * maxlines + nlines] = cur[j];
            nlines++;
        }
        memset(cur, 0, sizeof cur);
    }
    char best = ',';
    size_t best_lines = 0;
    for (int j = 0; j < 4; j++) {
        uint32_t *c = counts + (size_t)j * maxlines;
        qsort(c, nlines, sizeof *c, cmp_u32);
        size_t top = 0;
        for (size_t a = 0; a < nlines;) {
            size_t b = a;
            while (b < nlines && c[b] == c[a])
                b++;
            if (c[a] != 0 && b - a > top)
                top = b - a;
            a = b;
        }
        if (top > best_lines) {
            best_lines = top;
            best = cand[j];
        }
    }
    free(counts);
    return best;
}

static int start(csvfile *r, int eof)
{
    r->started = 1;
    const unsigned char *s = (const unsigned char *)r->head.data;
    size_t n = r->head.len;
    if (r->enc == CSVFILE_UTF8 && n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
        s += 3;
        n -= 3;
        r->off = 3;
    }
    if (!r->delim)
        r->delim = sniff(s, n, eof);
    r->cls[(unsigned char)r->delim] = C_DELIM;
    r->cls['"'] = C_QUOTE;
    r->cls['\r'] = C_CR;
    r->cls['\n'] = C_LF;
    int rc = pipe_input(r, s, n);
    buf_free(&r->head);
    return rc;
}

/* ---- public ---------------------------------------------------------------------------- */

int csvfile_delimiter_parse(const char *s, char *out)
{
    if (!s) {
        *out = 0;
        return 0;
    }
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(s) == 1 && strchr(",;|", s[0])) {
        *out = s[0];
        return 0;
    }
    return ERR_INVAL;
}

int csvfile_encoding_parse(const char *s, enum csvfile_encoding *out)
{
    if (!s || strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
        *out = CSVFILE_UTF8;
    else if (strcasecmp(s, "latin-1") == 0 || strcasecmp(s, "latin1") == 0 ||
             strcasecmp(s, "iso-8859-1") == 0)
        *out = CSVFILE_LATIN1;
    else if (strcasecmp(s, "cp1252") == 0 || strcasecmp(s, "windows-1252") == 0)
        *out = CSVFILE_CP1252;
    else
        return ERR_INVAL;
    return 0;
}

int csvfile_open(const struct csvfile_options *opt, csvfile_record_fn fn, void *ctx, csvfile **out)
{
    static const struct csvfile_options defaults = {0};
    *out = NULL;
    if (!opt)
        opt = &defaults;
    char d = opt->delimiter;
    if (d != 0 && d != ',' && d != ';' && d != '\t' && d != '|')
        return ERR_INVAL;
    if (opt->encoding != CSVFILE_UTF8 && opt->encoding != CSVFILE_LATIN1 &&
        opt->encoding != CSVFILE_CP1252)
        return ERR_INVAL;
    csvfile *r = calloc(1, sizeof *r);
    if (!r)
        return ERR_NOMEM;
    r->cd = (iconv_t)-1;
    r->delim = d;
    r->enc = opt->encoding;
    r->max_field = opt->max_field ? opt->max_field : CSVFILE_DEFAULT_MAX_FIELD;
    r->max_columns = opt->max_columns ? opt->max_columns : CSVFILE_DEFAULT_MAX_COLUMNS;
    r->max_record = opt->max_record ? opt->max_record : CSVFILE_DEFAULT_MAX_RECORD;
    r->fn = fn;
    r->ctx = ctx;
    r->line = 1;
    r->err_off = -1;
    buf_init(&r->head, SNIFF_MAX);
    if (r->enc != CSVFILE_UTF8) {
        r->cd = iconv_open("UTF-8", r->enc == CSVFILE_CP1252 ? "CP1252" : "LATIN1");
        r->conv_cap = 3 * (SLICE / 4);
        r->conv = malloc(r->conv_cap);
        if (r->cd == (iconv_t)-1 || !r->conv) {
            csvfile_free(r);
            return ERR_NOMEM;
        }
    }
    *out = r;
    return 0;
}

int csvfile_feed(csvfile *r, const void *data, size_t n)
{
    if (r->err)
        return r->err;
    if (r->finished)
        return fail(r, ERR_INVAL, 0, -1, 0, "input after the end");
    const unsigned char *s = data;
    r->bytes += (int64_t)n;
    if (!r->started) {
        size_t need = r->delim ? 3 : SNIFF_MAX;
        size_t take = need - r->head.len;
        if (take > n)
            take = n;
        if (buf_append(&r->head, s, take) < 0)
            return fail(r, ERR_INTERNAL, 0, -1, 0, "internal error");
        s += take;
        n -= take;
        if (r->head.len < need)
            return 0;
        if (start(r, 0) < 0)
            return r->err;
    }
    return pipe_input(r, s, n);
}

int csvfile_finish(csvfile *r)
{
    if (r->err)
        return r->err;
    if (r->finished)
        return 0;
    r->finished = 1;
    if (!r->started && start(r, 1) < 0)
        return r->err;
    if (r->u8_need)
        return fail(r, ERR_INVAL, r->line, r->u8_lead, r->rows + 1,
                    "invalid UTF-8 at line %" PRId64 ", byte offset %" PRId64, r->line, r->u8_lead);
    if (parse_end(r) < 0)
        return r->err;
    if (r->rows == 0)
        return fail(r, ERR_INVAL, 0, -1, 0, "no headers found");
    if (r->rows == 1)
        return fail(r, ERR_INVAL, 0, -1, 0, "no data found");
    return 0;
}

void csvfile_free(csvfile *r)
{
    if (!r)
        return;
    if (r->cd != (iconv_t)-1)
        iconv_close(r->cd);
    free(r->conv);
    buf_free(&r->head);
    free(r->win);
    free(r->fields);
    free(r);
}

const char *csvfile_error(const csvfile *r)
{
    return r->err ? r->msg : "";
}

int64_t csvfile_error_line(const csvfile *r)
{
    return r->err ? r->err_line : 0;
}

int64_t csvfile_error_offset(const csvfile *r)
{
    return r->err ? r->err_off : -1;
}

int64_t csvfile_error_row(const csvfile *r)
{
    return r->err ? r->err_row : 0;
}

char csvfile_delimiter(const csvfile *r)
{
    return r->started ? r->delim : 0;
}

int64_t csvfile_rows(const csvfile *r)
{
    return r->rows;
}

int64_t csvfile_bytes(const csvfile *r)
{
    return r->bytes;
}

/* ---- column names ---------------------------------------------------------------------- */

/* Longest name with a duplicate suffix (a store identifier). */
#define NAME_LIMIT 63

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Open-addressing set of the names given so far (borrowed pointers). */
struct name_set {
    const char **slot;
    size_t mask;
};

static int set_has(const struct name_set *t, const char *s)
{
    for (size_t i = name_hash(s) & t->mask; t->slot[i]; i = (i + 1) & t->mask)
        if (strcmp(t->slot[i], s) == 0)
            return 1;
    return 0;
}

static void set_add(struct name_set *t, const char *s)
{
    size_t i = name_hash(s) & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = s;
}

/* The base name of one header (before de-duplication) into out (NAME_LIMIT + 1). */
static void base_name(const struct csvfile_field *h, size_t pos, char *out)
{
    size_t n = 0;
    int gap = 0;
    for (size_t i = 0; i < h->n && n < CSVFILE_NAME_MAX + 2; i++) {
        unsigned char c = (unsigned char)h->p[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (gap && n > 0)
                out[n++] = '_';
            gap = 0;
            if (n == 0 && c >= '0' && c <= '9') {
                out[n++] = 'c';
                out[n++] = '_';
            }
            out[n++] = (char)c;
        } else {
            gap = 1;
        }
    }
    if (n > CSVFILE_NAME_MAX)
        n = CSVFILE_NAME_MAX;
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, NAME_LIMIT + 1, "column_%zu", pos + 1);
}

int csvfile_column_names(const struct csvfile_field *headers, size_t n, char ***names)
{
    int rc = ERR_NOMEM;
    char **v = NULL;
    struct name_set set = {NULL, 0};
    size_t done = 0;
    *names = NULL;

    v = calloc(n ? n : 1, sizeof *v);
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    set.slot = calloc(slots, sizeof *set.slot);
    set.mask = slots - 1;
    if (!v || !set.slot)
        goto out;
    for (; done < n; done++) {
        char base[NAME_LIMIT + 1], name[NAME_LIMIT + 1];
        base_name(&headers[done], done, base);
        snprintf(name, sizeof name, "%s", base);
        for (size_t k = 1; set_has(&set, name); k++) {
            char suffix[24];
            int sl = snprintf(suffix, sizeof suffix, "_%zu", k);
            int bl = (int)strlen(base);
            if (bl > NAME_LIMIT - sl)
                bl = NAME_LIMIT - sl;
            snprintf(name, sizeof name, "%.*s%s", bl, base, suffix);
        }
        v[done] = strdup(name);
        if (!v[done])
            goto out;
        set_add(&set, v[done]);
    }
    *names = v;
    v = NULL;
    rc = 0;
out:
    if (v) {
        for (size_t i = 0; i < done; i++)
            free(v[i]);
        free(v);
    }
    free(set.slot);
    return rc;
}
