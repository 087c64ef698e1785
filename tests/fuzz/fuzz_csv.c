/*
 * fuzz_csv: any bytes through csvfile, fed in chunks, must end in 0 or a
 * negative ERR_* code with a message, never read or write out of bounds or
 * leak; every record delivered must be valid UTF-8 without NUL, each field
 * NUL-terminated, with lines and rows increasing; feeding the same input in one
 * chunk must deliver the same records; csvfile_column_names on the header must
 * give non-empty, unique identifiers of at most 63 bytes; every data cell goes
 * through type inference (coltype), whose classification and conversions must
 * agree.
 *
 * The first two bytes choose the options: byte 0 the delimiter (low 3 bits: sniff
 * , ; tab |) and the encoding (next 2 bits), byte 1 the chunk size (1..256) and
 * small limits (top bit). The rest is the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "ingest/coltype.h"
#include "ingest/csvfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    uint64_t hash; /* of every record's fields and positions, in order */
    int64_t rows, last_line;
    int header_checked;
};

static void check_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == 0)
            abort();
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (c < 0xc2 || c > 0xf4 || i + len > n)
            abort();
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                abort();
        i += len;
    }
}

static void check_names(const struct csvfile_record *rec)
{
    char **names = NULL;
    if (csvfile_column_names(rec->fields, rec->nfields, &names) != 0)
        abort();
    for (size_t i = 0; i < rec->nfields; i++) {
        size_t n = strlen(names[i]);
        if (n == 0 || n > 63)
            abort();
        for (size_t k = 0; k < n; k++) {
            char c = names[i][k];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                abort();
        }
        if (names[i][0] == '_' || (names[i][0] >= '0' && names[i][0] <= '9'))
            abort();
        for (size_t j = 0; j < i && rec->nfields <= 64; j++)
            if (strcmp(names[i], names[j]) == 0)
                abort();
    }
    for (size_t i = 0; i < rec->nfields; i++)
        free(names[i]);
    free(names);
}

/* Type inference on every data cell: a non-NULL cell is always text; it
 * converts to exactly the types its classification names, on both backends;
 * the type picked from its mask is one of them. */
static void check_types(const struct csvfile_field *f)
{
    if (coltype_is_null(f->p, f->n))
        return;
    unsigned mask = coltype_classify(f->p, f->n);
    if (!(mask & COLTYPE_BIT(COLTYPE_TEXT)))
        abort();
    if (!(mask & COLTYPE_BIT(coltype_pick(mask))))
        abort();
    const enum store_backend_kind backends[] = {STORE_SQLITE, STORE_POSTGRESQL};
    for (int t = 0; t < COLTYPE_COUNT; t++)
        for (size_t b = 0; b < 2; b++) {
            char scratch[COLTYPE_SCRATCH];
            struct store_value v;
            int rc = coltype_convert((enum coltype)t, backends[b], f->p, f->n, scratch, &v);
            if ((rc == 0) != !!(mask & COLTYPE_BIT(t)))
                abort();
        }
}

static int on_record(void *ctx, const struct csvfile_record *rec)
{
    struct seen *s = ctx;
    if (rec->row != s->rows + 1 || rec->line <= s->last_line || rec->nfields == 0)
        abort();
    s->rows = rec->row;
    s->last_line = rec->line;
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct csvfile_field *f = &rec->fields[i];
        if (f->p[f->n] != '\0')
            abort();
        check_utf8((const unsigned char *)f->p, f->n);
        for (size_t k = 0; k < f->n; k++)
            s->hash = (s->hash ^ (unsigned char)f->p[k]) * 1099511628211ull;
        s->hash = (s->hash ^ 0x100) * 1099511628211ull;
    }
    s->hash = (s->hash ^ (uint64_t)rec->line) * 1099511628211ull;
    if (rec->row == 1)
        check_names(rec);
    else
        for (size_t i = 0; i < rec->nfields; i++)
            check_types(&rec->fields[i]);
    return 0;
}

/* Read input[0..n) in chunks; returns the result code, fills s. */
static int run(const struct csvfile_options *o, const uint8_t *in, size_t n, size_t chunk,
               struct seen *s, char *delim)
{
    memset(s, 0, sizeof *s);
    csvfile *r = NULL;
    if (csvfile_open(o, on_record, s, &r) != 0)
        abort();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += chunk)
        rc = csvfile_feed(r, in + i, n - i < chunk ? n - i : chunk);
    if (rc == 0)
        rc = csvfile_finish(r);
    if (rc > 0 || (rc < 0 && csvfile_error(r)[0] == '\0'))
        abort();
    if (rc < 0 && csvfile_finish(r) != rc)
        abort(); /* sticky */
    if (csvfile_rows(r) != s->rows)
        abort();
    *delim = csvfile_delimiter(r);
    csvfile_free(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[8] = {0, ',', ';', '\t', '|', 0, ',', ';'};
    if (size < 2)
        return 0;
    struct csvfile_options o = {0};
    o.delimiter = delims[data[0] & 7];
    o.encoding = (enum csvfile_encoding)((data[0] >> 3) % 3);
    size_t chunk = (size_t)(data[1] & 0x7f) * 2 + 1;
    if (data[1] & 0x80) {
        o.max_field = 16;
        o.max_columns = 8;
        o.max_record = 64;
    }
    data += 2;
    size -= 2;

    struct seen a, b;
    char da, db;
    int ra = run(&o, data, size, chunk, &a, &da);
    int rb = run(&o, data, size, size ? size : 1, &b, &db);
    if (ra != rb || a.hash != b.hash || a.rows != b.rows || da != db)
        abort();
    return 0;
}
