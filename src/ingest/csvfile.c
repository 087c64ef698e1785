/*
 * csvfile: the reader is a pipeline over slices of at most SLICE input bytes.
 *
 *   feed -> head (BOM, sniffing) -> slice -> check / decode -> libcsv -> cb_field,
 *                                                                        cb_row -> fn
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
 * libcsv runs with CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL and a space
 * function that says no byte is a space. REPALL_NL makes it report every
 * unquoted CR and LF (a blank line is a row callback with no field), which is
 * how physical lines are counted without a second pass over the input:
 *
 *   - r->line is the line the parser is on, counting line ends in bytes whose
 *     fields have been delivered (cb_field counts CR/LF inside a field) and
 *     unquoted line ends (cb_row; an LF right after a CR row end is the same
 *     line end, CRLF). A row callback can only follow another with no field in
 *     between when the two bytes were adjacent, so that test is exact.
 *   - the field libcsv is still collecting (p.entry_buf) holds the rest, so the
 *     exact line at the parser's position is line_now(): r->line plus the line
 *     ends in the pending field. Errors use it; the hot path never does.
 *
 * A record's fields are copied into one buffer (rec, each field NUL-terminated)
 * with their offsets; pointers are made only when the record is delivered, so
 * the buffer can grow. Nothing is allocated per field or per record once the
 * buffers have reached the size of the longest record.
 *
 * Memory: libcsv's field buffer grows by at most one slice (decoded: 3 slices)
 * before the pending size is checked against max_field and max_record.
 */
#include "ingest/csvfile.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define SLICE     (64u << 10) /* input bytes parsed before limits are checked */
#define SNIFF_MAX (64u << 10) /* input bytes the delimiter is sniffed from */
#define MSG_MAX   256

struct csvfile {
    /* options */
    char delim; /* 0 until sniffed */
    enum csvfile_encoding enc;
    size_t max_field, max_columns, max_record;
    csvfile_record_fn fn;
    void *ctx;

    struct csv_parser p;
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

    /* the record being collected */
    char *rec; /* fields, each followed by a NUL */
    size_t rec_len, rec_cap;
    struct csvfile_field *fields; /* .n holds the field's offset in rec until emit() */
    size_t nfields, fields_cap;
    int64_t rec_line;

    /* positions */
    int64_t line;  /* see the top of the file */
    int prev_cr;   /* the last row callback was a CR with nothing after it yet */
    int64_t off;   /* input offset of the slice being parsed */
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

/* The physical line of the next byte libcsv will read. */
static int64_t line_now(const csvfile *r)
{
    int cr = 0;
    return r->line + count_line_ends(r->p.entry_buf, r->p.entry_pos, &cr);
}

/* ---- libcsv callbacks -------------------------------------------------------------- */

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

static void cb_field(void *data, size_t n, void *arg)
{
    csvfile *r = arg;
    if (r->err)
        return;
    if (r->nfields == 0)
        r->rec_line = r->line;
    r->prev_cr = 0;
    int64_t row = r->rows + 1;
    if (r->nfields >= r->max_columns) {
        fail(r, ERR_TOOBIG, r->rec_line, -1, row, "row %" PRId64 " has more than %zu columns", row,
             r->max_columns);
        return;
    }
    if (n > r->max_field) {
        fail(r, ERR_TOOBIG, r->line, -1, row, "field longer than %zu bytes at line %" PRId64,
             r->max_field, r->line);
        return;
    }
    if (n > r->max_record - (r->rec_len - r->nfields)) {
        fail(r, ERR_TOOBIG, r->rec_line, -1, row,
             "row %" PRId64 " is longer than %zu bytes (line %" PRId64 ")", row, r->max_record,
             r->rec_line);
        return;
    }
    if (grow((void **)&r->rec, &r->rec_cap, r->rec_len + n + 1, 1) < 0 ||
        grow((void **)&r->fields, &r->fields_cap, r->nfields + 1, sizeof *r->fields) < 0) {
        fail(r, ERR_NOMEM, r->rec_line, -1, row, "out of memory");
        return;
    }
    if (n)
        memcpy(r->rec + r->rec_len, data, n);
    r->rec[r->rec_len + n] = '\0';
    r->fields[r->nfields++].n = r->rec_len;
    r->rec_len += n + 1;
    int cr = 0;
    r->line += count_line_ends(data, n, &cr);
}

/* Deliver the collected record. */
static void emit(csvfile *r)
{
    int64_t row = r->rows + 1;
    if (row == 1) {
        r->ncols = r->nfields;
    } else if (r->nfields != r->ncols) {
        fail(r, ERR_INVAL, r->rec_line, -1, row,
             "row %" PRId64 " has a different number of data points (%zu) than there are column "
             "headers (%zu)",
             row, r->nfields, r->ncols);
        return;
    }
    /* Offsets to pointers: field i ends where field i + 1 starts, less its NUL. */
    for (size_t i = 0; i < r->nfields; i++) {
        size_t off = r->fields[i].n;
        size_t end = i + 1 < r->nfields ? r->fields[i + 1].n : r->rec_len;
        r->fields[i].p = r->rec + off;
        r->fields[i].n = end - off - 1;
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
    r->rec_len = 0;
}

static void cb_row(int c, void *arg)
{
    csvfile *r = arg;
    if (r->err)
        return;
    if (r->nfields)
        emit(r);
    if (c == '\n') {
        r->line += !r->prev_cr;
        r->prev_cr = 0;
    } else if (c == '\r') {
        r->line++;
        r->prev_cr = 1;
    }
}

/* ---- parsing ------------------------------------------------------------------------- */

/* Offset in the input of byte pos of s (decoded when the input was converted:
 * each input byte became one UTF-8 sequence). */
static int64_t input_offset(const csvfile *r, const unsigned char *s, size_t pos)
{
    if (r->enc == CSVFILE_UTF8)
        return r->off + (int64_t)pos;
    int64_t n = 0;
    for (size_t i = 0; i < pos; i++)
        n += (s[i] & 0xc0) != 0x80;
    return r->off + n;
}

/* Parse n bytes of UTF-8 (already checked) that start at input offset r->off.
 *
 * What libcsv holds is bounded: the pending field, and the record with it (a
 * field waiting for what follows its closing quote carries that quote, +1).
 * Each call to libcsv gets only as many bytes as it takes to cross a bound, so
 * the bound is checked at exactly the byte that crosses it, whatever the
 * chunking (the pending size grows by at most one per byte). */
static int parse(csvfile *r, const unsigned char *s, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t pend = r->p.entry_pos, used = r->rec_len - r->nfields;
        size_t k = n - done;
        if (k > r->max_field + 2 - pend)
            k = r->max_field + 2 - pend;
        if (k > r->max_record + 2 - used - pend)
            k = r->max_record + 2 - used - pend;
        size_t got = csv_parse(&r->p, s + done, k, cb_field, cb_row, r);
        if (r->err)
            return r->err;
        if (got < k) {
            int64_t line = line_now(r), row = r->rows + 1, off = input_offset(r, s, done + got);
            switch (csv_error(&r->p)) {
            case CSV_EPARSE:
                if (r->p.quoted)
                    return fail(r, ERR_INVAL, line, off, row,
                                "unexpected character after a closing quote at line %" PRId64
                                ", byte offset %" PRId64,
                                line, off);
                return fail(r, ERR_INVAL, line, off, row,
                            "quote inside an unquoted field at line %" PRId64
                            ", byte offset %" PRId64,
                            line, off);
            case CSV_ETOOBIG:
                return fail(r, ERR_TOOBIG, line, -1, row, "field too large at line %" PRId64, line);
            default:
                return fail(r, ERR_NOMEM, line, -1, row, "out of memory");
            }
        }
        done += k;
        pend = r->p.entry_pos;
        if (pend > r->max_field + 1)
            return fail(r, ERR_TOOBIG, r->line, -1, r->rows + 1,
                        "field longer than %zu bytes at line %" PRId64, r->max_field, r->line);
        used = r->rec_len - r->nfields;
        if (pend > r->max_record + 1 - used) {
            int64_t line = r->nfields ? r->rec_line : r->line;
            return fail(r, ERR_TOOBIG, line, -1, r->rows + 1,
                        "row %" PRId64 " is longer than %zu bytes (line %" PRId64 ")", r->rows + 1,
                        r->max_record, line);
        }
    }
    return 0;
}

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
    if (k && parse(r, s, k) < 0)
        return r->err;
    r->off += (int64_t)k;
    if (k == n)
        return 0;
    int64_t line = line_now(r);
    return fail(r, ERR_INVAL, line, bad_off, r->rows + 1,
                "%s at line %" PRId64 ", byte offset %" PRId64, nul ? "NUL byte" : "invalid UTF-8",
                line, bad_off);
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
            return fail(r, ERR_INTERNAL, line_now(r), r->off, r->rows + 1,
                        "character conversion failed");
        ilseq = 1;
        k = (size_t)((const unsigned char *)in - s);
    }
    size_t m = (size_t)(out - r->conv);
    if (m && parse(r, (const unsigned char *)r->conv, m) < 0)
        return r->err;
    r->off += (int64_t)k;
    if (k == n)
        return 0;
    int64_t line = line_now(r);
    if (ilseq)
        return fail(r, ERR_INVAL, line, r->off, r->rows + 1,
                    "invalid %s byte 0x%02X at line %" PRId64 ", byte offset %" PRId64,
                    r->enc == CSVFILE_CP1252 ? "cp1252" : "latin-1", s[k], line, r->off);
    return fail(r, ERR_INVAL, line, r->off, r->rows + 1,
                "NUL byte at line %" PRId64 ", byte offset %" PRId64, line, r->off);
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
    csv_set_delim(&r->p, (unsigned char)r->delim);
    int rc = pipe_input(r, s, n);
    buf_free(&r->head);
    return rc;
}

/* ---- public ---------------------------------------------------------------------------- */

static int no_space(unsigned char c)
{
    (void)c;
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
    if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0) {
        free(r);
        return ERR_NOMEM;
    }
    csv_set_space_func(&r->p, no_space);
    csv_set_blk_size(&r->p, SLICE);
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
    if (r->u8_need) {
        int64_t line = line_now(r);
        return fail(r, ERR_INVAL, line, r->u8_lead, r->rows + 1,
                    "invalid UTF-8 at line %" PRId64 ", byte offset %" PRId64, line, r->u8_lead);
    }
    /* CSV_STRICT_FINI: a quoted field still open fails; it starts on r->line. */
    if (csv_fini(&r->p, cb_field, cb_row, r) != 0 && !r->err)
        return fail(r, ERR_INVAL, r->line, -1, r->rows + 1,
                    "unterminated quoted field starting at line %" PRId64, r->line);
    if (r->err)
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
    csv_free(&r->p);
    if (r->cd != (iconv_t)-1)
        iconv_close(r->cd);
    free(r->conv);
    buf_free(&r->head);
    free(r->rec);
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
