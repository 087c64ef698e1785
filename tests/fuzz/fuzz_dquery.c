/*
 * fuzz_dquery: any query string through dq_parse, and any bytes through the
 * cursor codec.
 *
 * The first byte chooses: bit 0 the backend (SQLite, PostgreSQL), bit 1 small
 * limits (3 filters, 4 values in a list, 16-byte values, page_size up to 50),
 * bit 2 a composite key (name, day) instead of the row id, bits 3-6 the
 * count given to cursor_decode. The rest is split on '&' into parameters and
 * each on its first '=' into key and value (no percent-decoding: any byte
 * but NUL reaches the parser as it would after decoding).
 *
 * dq_parse must return 0 or ERR_INVAL, never crash, leak or read out of
 * bounds. An error has status 400, a message, and no control character in
 * its message or param. A success is consistent: indexes within the columns,
 * select and sort without repeats, the key in the order, 1..16 sort entries,
 * the filters' values of the column's type (text valid UTF-8), page_size in
 * its range. A cursor made for a successful query's scope must then be
 * accepted by the same query and give back the same values.
 *
 * The input is also decoded as a cursor (it must fail, or give valid values),
 * and read as a stream of values that must survive cursor_encode and
 * cursor_decode bit for bit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/cursor.h"
#include "api/dquery.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXPARAMS 128

static const unsigned char KEY[CURSOR_KEY_BYTES] = "fuzz_dquery fixed cursor key 32";

static struct catalog_column COLS[] = {
    {.name = "id", .type = COLTYPE_INTEGER, .generated = 1},
    {.name = "flag", .type = COLTYPE_BOOLEAN, .nullable = 1},
    {.name = "qty", .type = COLTYPE_INTEGER, .nullable = 1},
    {.name = "price", .type = COLTYPE_DECIMAL, .nullable = 1},
    {.name = "day", .type = COLTYPE_DATE, .nullable = 1},
    {.name = "at", .type = COLTYPE_TIMESTAMP, .nullable = 1},
    {.name = "atz", .type = COLTYPE_TIMESTAMPTZ, .nullable = 1},
    {.name = "name", .type = COLTYPE_TEXT, .nullable = 1},
    {.name = "count", .type = COLTYPE_TEXT, .nullable = 1},
    {.name = "sort", .type = COLTYPE_INTEGER, .nullable = 1},
    {.name = "a__b", .type = COLTYPE_TEXT, .nullable = 1},
    {.name = "a", .type = COLTYPE_TEXT, .nullable = 1},
};
#define NCOLS (sizeof COLS / sizeof COLS[0])

static char *KEY_ID[] = {"id"};
static char *KEY_COMPOSITE[] = {"name", "day"};

static void check_error(int rc, const struct dq_error *err)
{
    if (rc != ERR_INVAL || err->status != 400 || err->message[0] == '\0')
        abort();
    if (memchr(err->param, '\0', sizeof err->param) == NULL ||
        memchr(err->message, '\0', sizeof err->message) == NULL)
        abort();
    for (const char *s = err->param; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            abort();
    for (const char *s = err->message; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            abort();
}

/* The store types a filter value may have for a column type on a backend. */
static int value_ok(enum coltype t, enum store_backend_kind be, const struct store_value *v)
{
    switch (t) {
    case COLTYPE_BOOLEAN:
        return v->type == STORE_BOOL;
    case COLTYPE_INTEGER:
        return v->type == STORE_INT;
    case COLTYPE_DECIMAL:
        return be == STORE_SQLITE ? v->type == STORE_DOUBLE || v->type == STORE_INT
                                  : v->type == STORE_TEXT;
    default:
        return v->type == STORE_TEXT && utf8_valid(v->v.s.p, v->v.s.n) &&
               v->v.s.p[v->v.s.n] == '\0';
    }
}

static void check_query(const struct catalog_dataset *d, enum store_backend_kind be,
                        const struct dq_limits *lim, const struct dq_query *q)
{
    unsigned char seen[NCOLS];
    if (q->page_size < 1 || q->page_size > lim->page_size_max || !q->cursor_scope)
        abort();
    if (q->nselect < 1 || q->nselect > NCOLS)
        abort();
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < q->nselect; i++) {
        if (q->select[i] >= NCOLS || seen[q->select[i]])
            abort();
        seen[q->select[i]] = 1;
    }
    if (q->nsort < 1 || q->nsort > CURSOR_MAX_VALUES || q->nsort_user > q->nsort)
        abort();
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < q->nsort; i++) {
        if (q->sort[i].col >= NCOLS || seen[q->sort[i].col])
            abort();
        seen[q->sort[i].col] = 1;
    }
    for (size_t k = 0; k < d->nkey; k++)
        for (size_t c = 0; c < NCOLS; c++)
            if (strcmp(COLS[c].name, d->key[k]) == 0 && !seen[c])
                abort(); /* a key column missing from the order */
    if (q->nfilters > lim->max_filters)
        abort();
    for (size_t i = 0; i < q->nfilters; i++) {
        const struct dq_filter *f = &q->filters[i];
        if (f->col >= NCOLS || (unsigned)f->op >= DQ_OP_COUNT || !f->param)
            abort();
        switch (f->op) {
        case DQ_ISNULL:
        case DQ_NOTNULL:
            if (f->nvalues != 0)
                abort();
            break;
        case DQ_IN:
        case DQ_NOTIN:
            if (f->nvalues < 1 || f->nvalues > lim->max_in)
                abort();
            break;
        default:
            if (f->nvalues != 1)
                abort();
        }
        for (size_t k = 0; k < f->nvalues; k++) {
            const struct store_value *v = &f->values[k];
            if (f->op == DQ_CONTAINS || f->op == DQ_STARTSWITH || f->op == DQ_ENDSWITH) {
                if (d->cols[f->col].type != COLTYPE_TEXT || v->type != STORE_TEXT)
                    abort();
            } else if (!value_ok(d->cols[f->col].type, be, v)) {
                abort();
            }
        }
    }
}

/* A value of the kind the handler reads back for a column type. */
static struct store_value sample_value(enum coltype t, enum store_backend_kind be, size_t i)
{
    switch (t) {
    case COLTYPE_BOOLEAN:
    case COLTYPE_INTEGER:
        return i % 3 == 2 ? SV_NULL() : SV_INT((int64_t)i * 1000003 - 7);
    case COLTYPE_DECIMAL:
        return be == STORE_SQLITE ? SV_DOUBLE(0.1 * (double)i) : SV_TEXTN("12.50", 5);
    default:
        return i % 2 ? SV_TEXTN("2024-01-01T00:00:00Z", 20) : SV_TEXTN("caf\xc3\xa9\0x", 7);
    }
}

/* A cursor for q's scope must be accepted by the same parameters plus
 * cursor=, with the same values back. */
static void check_cursor_round_trip(const struct catalog_dataset *d, enum store_backend_kind be,
                                    const struct dq_limits *lim, const char **keys,
                                    const char **values, size_t n, const struct dq_query *q)
{
    struct store_value v[CURSOR_MAX_VALUES];
    for (size_t i = 0; i < q->nsort; i++)
        v[i] = sample_value(d->cols[q->sort[i].col].type, be, i);
    struct buf text;
    buf_init(&text, CURSOR_MAX_CHARS + 1);
    if (cursor_encode(KEY, q->cursor_scope, v, q->nsort, &text) != 0)
        abort();
    keys[n] = "cursor";
    values[n] = buf_cstr(&text);
    struct arena a;
    arena_init(&a);
    struct dq_query q2;
    struct dq_error err;
    if (dq_parse(d, be, keys, values, n + 1, lim, KEY, &a, &q2, &err) != 0 || !q2.after ||
        q2.nsort != q->nsort || strcmp(q2.cursor_scope, q->cursor_scope) != 0)
        abort();
    for (size_t i = 0; i < q->nsort; i++) {
        const struct store_value *x = &v[i], *y = &q2.after[i];
        if (x->type != y->type)
            abort();
        if (x->type == STORE_TEXT &&
            (x->v.s.n != y->v.s.n || memcmp(x->v.s.p, y->v.s.p, x->v.s.n) != 0))
            abort();
        if (x->type == STORE_INT && x->v.i != y->v.i)
            abort();
        if (x->type == STORE_DOUBLE && memcmp(&x->v.d, &y->v.d, sizeof(double)) != 0)
            abort();
    }
    arena_free(&a);
    buf_free(&text);
}

static void fuzz_parse(uint8_t flags, const uint8_t *data, size_t size)
{
    enum store_backend_kind be = flags & 1 ? STORE_POSTGRESQL : STORE_SQLITE;
    struct dq_limits lim;
    dq_limits_default(&lim);
    if (flags & 2) {
        lim.max_filters = 3;
        lim.max_in = 4;
        lim.max_value_bytes = 16;
        lim.page_size_max = 50;
        lim.page_size_default = 10;
    }
    struct catalog_dataset d = {.name = "orders", .kind = "table", .cols = COLS, .ncols = NCOLS};
    if (flags & 4) {
        d.key = KEY_COMPOSITE;
        d.nkey = 2;
    } else {
        d.key = KEY_ID;
        d.nkey = 1;
    }

    /* Copy the rest, NUL-terminated, and cut it into parameters. */
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *keys[MAXPARAMS + 1], *values[MAXPARAMS + 1];
    size_t n = 0;
    int has_cursor = 0, has_next_id = 0;
    char *p = copy, *end = copy + size;
    while (p < end && n < MAXPARAMS) {
        char *amp = memchr(p, '&', (size_t)(end - p));
        char *stop = amp ? amp : end;
        *stop = '\0';
        char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq)
            *eq = '\0';
        keys[n] = p;
        values[n] = eq ? eq + 1 : "";
        has_cursor |= strcmp(p, "cursor") == 0;
        has_next_id |= strcmp(p, "next-id") == 0;
        n++;
        p = stop + 1;
    }

    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    int rc = dq_parse(&d, be, keys, values, n, &lim, KEY, &a, &q, &err);
    if (rc == 0) {
        check_query(&d, be, &lim, &q);
        if (!has_cursor && !has_next_id)
            check_cursor_round_trip(&d, be, &lim, keys, values, n, &q);
    } else {
        check_error(rc, &err);
    }
    arena_free(&a);
    free(copy);
}

/* The input as cursor text: a random one never verifies, but whatever
 * decodes must be well-formed. */
static void fuzz_decode(uint8_t flags, const uint8_t *data, size_t size)
{
    size_t count = 1 + ((flags >> 3) & 15);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct arena a;
    arena_init(&a);
    struct store_value v[CURSOR_MAX_VALUES];
    int rc = cursor_decode(KEY, "orders\x1fid", text, count, &a, v);
    if (rc != 0 && rc != ERR_INVAL)
        abort();
    if (rc == 0)
        for (size_t i = 0; i < count; i++)
            if (v[i].type == STORE_TEXT && !utf8_valid(v[i].v.s.p, v[i].v.s.n))
                abort();
    arena_free(&a);
    free(text);
}

/* The input as a stream of values (a type byte, then its data) must encode
 * and decode back exactly, or be refused for a reason the contract names. */
static void fuzz_round_trip(const uint8_t *data, size_t size)
{
    struct store_value v[CURSOR_MAX_VALUES], back[CURSOR_MAX_VALUES];
    size_t n = 0, i = 0;
    while (i < size && n < CURSOR_MAX_VALUES) {
        uint8_t t = data[i++];
        size_t left = size - i;
        switch (t % 5) {
        case 0:
            v[n++] = SV_NULL();
            break;
        case 1:
        case 2: {
            uint64_t bits = 0;
            size_t k = left < 8 ? left : 8;
            memcpy(&bits, data + i, k);
            i += k;
            if (t % 5 == 1) {
                v[n++] = SV_INT((int64_t)bits);
            } else {
                v[n].type = STORE_DOUBLE;
                memcpy(&v[n++].v.d, &bits, sizeof bits);
            }
            break;
        }
        case 3: {
            size_t k = left < (size_t)(t >> 2) ? left : (size_t)(t >> 2);
            v[n++] = SV_TEXTN((const char *)data + i, k);
            i += k;
            break;
        }
        default:
            v[n++] = SV_BOOL(t & 0x80);
        }
    }
    if (n == 0)
        return;
    struct buf text;
    buf_init(&text, CURSOR_MAX_CHARS + 1);
    int rc = cursor_encode(KEY, "scope", v, n, &text);
    int has_bad_text = 0;
    for (size_t k = 0; k < n; k++)
        has_bad_text |= v[k].type == STORE_TEXT && !utf8_valid(v[k].v.s.p, v[k].v.s.n);
    if (rc == ERR_INVAL && has_bad_text) {
        buf_free(&text);
        return;
    }
    if (rc != 0 || has_bad_text || text.len > CURSOR_MAX_CHARS)
        abort();
    struct arena a;
    arena_init(&a);
    if (cursor_decode(KEY, "scope", buf_cstr(&text), n, &a, back) != 0)
        abort();
    if (cursor_decode(KEY, "scopf", buf_cstr(&text), n, &a, back) != ERR_INVAL)
        abort();
    if (cursor_decode(KEY, "scope", buf_cstr(&text), n == 1 ? 2 : n - 1, &a, back) != ERR_INVAL)
        abort();
    cursor_decode(KEY, "scope", buf_cstr(&text), n, &a, back);
    for (size_t k = 0; k < n; k++) {
        if (back[k].type != v[k].type)
            abort();
        switch (v[k].type) {
        case STORE_INT:
        case STORE_DOUBLE:
            if (memcmp(&back[k].v, &v[k].v, 8) != 0)
                abort();
            break;
        case STORE_TEXT:
            if (back[k].v.s.n != v[k].v.s.n || memcmp(back[k].v.s.p, v[k].v.s.p, v[k].v.s.n))
                abort();
            break;
        case STORE_BOOL:
            if (back[k].v.b != !!v[k].v.b)
                abort();
            break;
        default:
            break;
        }
    }
    arena_free(&a);
    buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_parse(data[0], data + 1, size - 1);
    fuzz_decode(data[0], data + 1, size - 1);
    fuzz_round_trip(data + 1, size - 1);
    return 0;
}
