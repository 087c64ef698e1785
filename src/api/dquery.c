/*
 * dquery: the data API's query string, checked against a dataset (see
 * dquery.h for the parameters and their rules).
 *
 * dq_parse runs in phases, so which error a query with several faults gets
 * is fixed: (1) the dataset's key; (2) one pass over the
 * parameters sorting reserved names (each at most once) from filters (at
 * most max_filters); (3) the reserved parameters in a fixed order, the cross
 * checks between them, then the cursor, which needs the final order; (4) the
 * filters in request order. Everything lands in the caller's arena; nothing
 * is allocated before a length or count has been checked against its limit.
 *
 * Values become store values with coltype_convert, the function the loader
 * stores them with, so a filter compares like the stored data; texts are
 * copied into the arena because coltype_convert may point into its scratch
 * buffer or into the request's strings.
 *
 * Messages quote user input only through quote(): at most QUOTE_MAX bytes,
 * control characters and invalid UTF-8 as \xNN escapes, '"' and '\' behind a
 * backslash. jansson (in/notin JSON arrays) shares names with core/json.h,
 * which is therefore not included here.
 */
#include "api/dquery.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/utf8.h"
#include "ingest/coltype.h"

/* ---- names ---------------------------------------------------------------------------- */

enum reserved {
    R_ORIENTATION,
    R_FORMAT,
    R_PAGE_SIZE,
    R_COUNT,
    R_SELECT,
    R_SORT,
    R_CURSOR,
    R_NEXT_ID,
    R_BEWIT,
    R__COUNT
};

static const char *const RESERVED[R__COUNT] = {
    "orientation", "format", "page_size", "count", "select", "sort", "cursor", "next-id", "bewit",
};

static const char *const OP_NAMES[DQ_OP_COUNT] = {
    "exact",      "not",      "gt", "gte",   "lt",     "lte",     "contains",
    "startswith", "endswith", "in", "notin", "isnull", "notnull",
};

/* The longest parameter name that can name a filter: a column name, "__" and
 * the longest operator. */
#define KEY_MAX (STORE_IDENT_MAX + 2 + 10)

/* Bytes of a value quoted in a message (escapes included), and the buffer a
 * quoted value needs: the quotes, "..." and the NUL. */
#define QUOTE_MAX 64
#define QUOTE_BUF (QUOTE_MAX + 6)

const char *dq_op_name(enum dq_op op)
{
    return (unsigned)op < DQ_OP_COUNT ? OP_NAMES[op] : "?";
}

static int reserved_index(const char *name)
{
    for (int i = 0; i < R__COUNT; i++)
        if (strcmp(name, RESERVED[i]) == 0)
            return i;
    return -1;
}

int dq_param_reserved(const char *name)
{
    return name && reserved_index(name) >= 0;
}

void dq_limits_default(struct dq_limits *lim)
{
    lim->page_size_default = 100;
    lim->page_size_max = 10000;
    lim->max_filters = 64;
    lim->max_in = 1000;
    lim->max_value_bytes = 4096;
}

/* ---- messages ------------------------------------------------------------------------- */

/* Write p[0..n) escaped to out: at most budget bytes of it, then "..." if it
 * was cut (out has room for budget + 4 bytes). UTF-8 characters other than
 * controls are kept; control characters (C0, DEL, C1) and bytes that are not
 * UTF-8 become \xNN, one per byte; '"' and '\' get a backslash. Returns the
 * length written. */
static size_t escape_into(char *out, size_t budget, const char *p, size_t n)
{
    static const char HEX[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    while (i < n) {
        const unsigned char *s = (const unsigned char *)p + i;
        size_t k = utf8_char_len(p + i, n - i);
        int ctl = k == 0 || s[0] < 0x20 || s[0] == 0x7f || (k == 2 && s[0] == 0xc2 && s[1] < 0xa0);
        size_t nb = k ? k : 1; /* input bytes of this unit */
        size_t need = ctl ? 4 * nb : (s[0] == '"' || s[0] == '\\') ? 2 : k;
        if (o + need > budget) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (ctl) {
            for (size_t j = 0; j < nb; j++) {
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = HEX[s[j] >> 4];
                out[o++] = HEX[s[j] & 15];
            }
        } else if (s[0] == '"' || s[0] == '\\') {
            out[o++] = '\\';
            out[o++] = (char)s[0];
        } else {
            memcpy(out + o, s, k);
            o += k;
        }
        i += nb;
    }
    out[o] = '\0';
    return o;
}

/* p[0..n) in double quotes, escaped and cut as escape_into does. */
static const char *quote(char out[QUOTE_BUF], const char *p, size_t n)
{
    out[0] = '"';
    size_t o = 1 + escape_into(out + 1, QUOTE_MAX, p, n);
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

struct ctx {
    const struct catalog_dataset *d;
    enum store_backend_kind backend;
    const struct dq_limits *lim;
    struct arena *a;
    struct dq_error *err;
};

static int vfail(struct ctx *c, int status, const char *param, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int vfail(struct ctx *c, int status, const char *param, const char *fmt, va_list ap)
{
    c->err->status = status;
    escape_into(c->err->param, sizeof c->err->param - 4, param, strlen(param));
    vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
    return status == 400 ? ERR_INVAL : ERR_INTERNAL;
}

/* A 400 about param: returns ERR_INVAL. Strings from users in the arguments
 * go through quote() first. */
static int fail(struct ctx *c, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const char *param, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, 400, param, fmt, ap);
    va_end(ap);
    return rc;
}

/* A 500: the dataset (or the caller) is at fault, not the query. */
static int fail_internal(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail_internal(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, 500, "", fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- columns -------------------------------------------------------------------------- */

#define NO_COL ((size_t)-1)

static size_t col_find(const struct catalog_dataset *d, const char *p, size_t n)
{
    for (size_t i = 0; i < d->ncols; i++) {
        const char *name = d->cols[i].name;
        if (name && strncmp(name, p, n) == 0 && name[n] == '\0')
            return i;
    }
    return NO_COL;
}

/* The key's column indexes: d->key, or the column "id" when the catalog
 * names none. */
static int resolve_key(struct ctx *c, size_t key[CURSOR_MAX_VALUES], size_t *nkey)
{
    const struct catalog_dataset *d = c->d;
    *nkey = 0;
    if (d->nkey == 0) {
        size_t id = col_find(d, CATALOG_ROW_ID, strlen(CATALOG_ROW_ID));
        if (id == NO_COL)
            return fail_internal(c, "the dataset has no primary key and no \"id\" column: its "
                                    "rows have no order to page by");
        key[(*nkey)++] = id;
        return 0;
    }
    if (d->nkey > CURSOR_MAX_VALUES)
        return fail_internal(c,
                             "the dataset's primary key has %zu columns: paging supports "
                             "at most %d",
                             d->nkey, CURSOR_MAX_VALUES);
    for (size_t i = 0; i < d->nkey; i++) {
        size_t k = d->key[i] ? col_find(d, d->key[i], strlen(d->key[i])) : NO_COL;
        if (k == NO_COL)
            return fail_internal(c, "the dataset's primary key names a column it does not have");
        int dup = 0;
        for (size_t j = 0; j < *nkey; j++)
            dup |= key[j] == k;
        if (!dup)
            key[(*nkey)++] = k;
    }
    return 0;
}

/* ---- values --------------------------------------------------------------------------- */

static const char *const EXPECT[COLTYPE_COUNT] = {
    "a boolean (true or false)",
    "an integer",
    "a decimal",
    "a date (YYYY-MM-DD)",
    "a timestamp (YYYY-MM-DD HH:MM[:SS], without a time zone)",
    "a timestamp (YYYY-MM-DD HH:MM[:SS], optionally with a time zone)",
    "text",
};

/* Convert one filter value p[0..n) for column col (the value as given, named
 * param in messages) into *out; texts are copied into the arena. */
static int convert_value(struct ctx *c, const struct catalog_column *col, const char *param,
                         const char *p, size_t n, struct store_value *out)
{
    char scratch[COLTYPE_SCRATCH], q[QUOTE_BUF];
    struct store_value v;
    int rc = ERR_INVAL;
    if (n > c->lim->max_value_bytes)
        return fail(c, param, "value too long (at most %zu bytes)", c->lim->max_value_bytes);
    if (!utf8_valid(p, n))
        return fail(c, param, "%s is not valid UTF-8", quote(q, p, n));
    if ((unsigned)col->type >= COLTYPE_COUNT)
        return fail_internal(c, "column \"%s\" has an unknown type", col->name);
    switch (col->type) {
    case COLTYPE_BOOLEAN:
        if (n == 1 && (p[0] == '1' || p[0] == '0')) {
            v = SV_BOOL(p[0] == '1');
            rc = 0;
            break;
        }
        rc = coltype_convert(COLTYPE_BOOLEAN, c->backend, p, n, scratch, &v);
        break;
    case COLTYPE_DECIMAL:
        rc = coltype_convert(COLTYPE_DECIMAL, c->backend, p, n, scratch, &v);
        /* An integer too long to be a decimal (16 to 19 digits) still
         * compares exactly: as an integer on SQLite, as numeric text on
         * PostgreSQL. */
        if (rc < 0 && (coltype_classify(p, n) & COLTYPE_BIT(COLTYPE_INTEGER))) {
            if (c->backend == STORE_POSTGRESQL)
                v = SV_TEXTN(p, n), rc = 0;
            else
                rc = coltype_convert(COLTYPE_INTEGER, c->backend, p, n, scratch, &v);
        }
        break;
    case COLTYPE_TIMESTAMPTZ:
        rc = coltype_convert(COLTYPE_TIMESTAMPTZ, c->backend, p, n, scratch, &v);
        if (rc < 0 && coltype_convert(COLTYPE_TIMESTAMP, c->backend, p, n, scratch, &v) == 0) {
            /* Without a zone: UTC. The canonical timestamp plus "Z" is the
             * canonical timestamptz. */
            char *s = arena_alloc(c->a, v.v.s.n + 2);
            memcpy(s, v.v.s.p, v.v.s.n);
            s[v.v.s.n] = 'Z';
            s[v.v.s.n + 1] = '\0';
            *out = SV_TEXTN(s, v.v.s.n + 1);
            return 0;
        }
        break;
    default:
        rc = coltype_convert(col->type, c->backend, p, n, scratch, &v);
        break;
    }
    if (rc < 0)
        return fail(c, param, "%s is not %s", quote(q, p, n), EXPECT[col->type]);
    if (v.type == STORE_TEXT) {
        char *s = arena_alloc(c->a, v.v.s.n + 1);
        memcpy(s, v.v.s.p, v.v.s.n);
        s[v.v.s.n] = '\0';
        v.v.s.p = s;
    }
    *out = v;
    return 0;
}

/* ---- reserved parameters -------------------------------------------------------------- */

/* Parse a decimal integer of at most 18 digits (no sign, no spaces). Returns
 * 0 or -1. */
static int parse_count(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t i = 0;
    for (; s[i]; i++) {
        if (i >= 18 || s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0)
        return -1;
    *out = v;
    return 0;
}

/* Index of s among the n choices, or -1. */
static int choice(const char *s, const char *const *choices, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, choices[i]) == 0)
            return i;
    return -1;
}

/* Split a column list (select, sort) into items, calling one for each: the
 * item's bytes and its index. Stops at the first error. */
typedef int (*list_item_fn)(struct ctx *c, void *st, const char *p, size_t n);

static int split_list(struct ctx *c, const char *param, const char *v, void *st, list_item_fn one)
{
    /* A longest list: every column once, each with a '-' and a comma. */
    size_t max = c->d->ncols * (STORE_IDENT_MAX + 2);
    size_t len = strnlen(v, max + 1);
    if (len > max)
        return fail(c, param, "too long (a dataset column may appear once)");
    if (len == 0)
        return fail(c, param, "must name at least one column");
    const char *p = v, *end = v + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        int rc = one(c, st, p, (size_t)(stop - p));
        if (rc < 0)
            return rc;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

struct cols_state {
    const char *param;
    unsigned char *seen; /* per dataset column */
    struct dq_query *q;
};

/* Look up the column p[0..n) for a select or sort item. */
static int list_column(struct ctx *c, struct cols_state *s, const char *p, size_t n, size_t *col)
{
    char q[QUOTE_BUF];
    if (n == 0)
        return fail(c, s->param, "empty column name (a stray comma?)");
    *col = col_find(c->d, p, n);
    if (*col == NO_COL)
        return fail(c, s->param, "unknown column %s", quote(q, p, n));
    if (s->seen[*col])
        return fail(c, s->param, "column %s given twice", quote(q, p, n));
    s->seen[*col] = 1;
    return 0;
}

static int select_item(struct ctx *c, void *st, const char *p, size_t n)
{
    struct cols_state *s = st;
    size_t col;
    int rc = list_column(c, s, p, n, &col);
    if (rc < 0)
        return rc;
    s->q->select[s->q->nselect++] = col;
    return 0;
}

static int sort_item(struct ctx *c, void *st, const char *p, size_t n)
{
    struct cols_state *s = st;
    int desc = n > 0 && p[0] == '-';
    size_t col;
    if (desc && n == 1)
        return fail(c, s->param, "\"-\" must be followed by a column name");
    int rc = list_column(c, s, p + desc, n - (size_t)desc, &col);
    if (rc < 0)
        return rc;
    if (s->q->nsort == CURSOR_MAX_VALUES)
        return fail(c, s->param, "too many columns (at most %d, key columns included)",
                    CURSOR_MAX_VALUES);
    s->q->sort[s->q->nsort++] = (struct dq_sort){.col = col, .desc = desc};
    return 0;
}

/* The order as text, "a,-b,id", and the cursor scope made from it: the
 * dataset name, 0x1f, the order. */
static const char *build_scope(struct ctx *c, const struct dq_query *q)
{
    const char *name = c->d->name ? c->d->name : "";
    size_t nlen = strlen(name), len = nlen + 1;
    for (size_t i = 0; i < q->nsort; i++)
        len += strlen(c->d->cols[q->sort[i].col].name) + 2;
    char *s = arena_alloc(c->a, len + 1), *o = s;
    memcpy(o, name, nlen);
    o += nlen;
    *o++ = '\x1f';
    for (size_t i = 0; i < q->nsort; i++) {
        const char *col = c->d->cols[q->sort[i].col].name;
        size_t cl = strlen(col);
        if (i > 0)
            *o++ = ',';
        if (q->sort[i].desc)
            *o++ = '-';
        memcpy(o, col, cl);
        o += cl;
    }
    *o = '\0';
    return s;
}

static int cursor_type_ok(enum coltype ct, enum store_type t);

/* A row cursor (dquery.h: after_row): the key values and the NULL mask. */
static int decode_row_cursor(struct ctx *c, struct dq_query *q, const unsigned char *cursor_key,
                             const char *text)
{
    if (!cursor_key)
        return ERR_INVAL;
    struct store_value *v = arena_calloc(c->a, q->nkey + 1, sizeof *v);
    int rc = cursor_decode(cursor_key, q->row_cursor_scope, text, q->nkey + 1, c->a, v);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < q->nkey; i++)
        if (v[i].type == STORE_NULL || !cursor_type_ok(c->d->cols[q->key_cols[i]].type, v[i].type))
            return ERR_INVAL;
    if (v[q->nkey].type != STORE_INT || v[q->nkey].v.i < 0 ||
        v[q->nkey].v.i >= ((int64_t)1 << q->nsort))
        return ERR_INVAL;
    q->after_row = v;
    q->after_nulls = (uint32_t)v[q->nkey].v.i;
    return 0;
}

/* Whether a cursor value of type t can stand for a value of column type ct
 * (as the handler reads rows back on either backend): a cursor made before
 * the dataset was reloaded with other types is refused like a bad one. */
static int cursor_type_ok(enum coltype ct, enum store_type t)
{
    if (t == STORE_NULL)
        return 1;
    switch (ct) {
    case COLTYPE_BOOLEAN:
        return t == STORE_BOOL || t == STORE_INT;
    case COLTYPE_INTEGER:
        return t == STORE_INT;
    case COLTYPE_DECIMAL:
        return t == STORE_DOUBLE || t == STORE_INT || t == STORE_TEXT;
    default:
        return t == STORE_TEXT;
    }
}

/* ---- filters -------------------------------------------------------------------------- */

static int op_find(const char *s)
{
    for (int i = 0; i < DQ_OP_COUNT; i++)
        if (strcmp(s, OP_NAMES[i]) == 0)
            return i;
    return -1;
}

/* Split a filter parameter name into a column and an operator: COL__OP when
 * the part after the last "__" is an operator and the part before it a
 * column, else the whole name as a column (exact). */
static int filter_key(struct ctx *c, const char *key, size_t *col, enum dq_op *op)
{
    char q[QUOTE_BUF];
    size_t kn = strnlen(key, KEY_MAX + 1);
    if (kn == 0)
        return fail(c, "", "empty parameter name");
    size_t sep = 0; /* where the last "__" after a non-empty prefix starts; 0: none */
    if (kn <= KEY_MAX)
        for (size_t i = kn - 1; i >= 2 && sep == 0; i--) /* i: the second '_' */
            if (key[i] == '_' && key[i - 1] == '_')
                sep = i - 1;
    int o = -1;
    size_t prefix = NO_COL;
    if (sep > 0) {
        o = op_find(key + sep + 2);
        prefix = col_find(c->d, key, sep);
        if (o >= 0 && prefix != NO_COL) {
            *col = prefix;
            *op = (enum dq_op)o;
            return 0;
        }
    }
    if (kn <= KEY_MAX && (*col = col_find(c->d, key, kn)) != NO_COL) {
        *op = DQ_EXACT;
        return 0;
    }
    if (prefix != NO_COL)
        return fail(c, key,
                    "unknown operator %s (exact, not, gt, gte, lt, lte, contains, startswith, "
                    "endswith, in, notin, isnull, notnull)",
                    quote(q, key + sep + 2, kn - sep - 2));
    if (o >= 0)
        return fail(c, key, "unknown column %s", quote(q, key, sep));
    return fail(c, key,
                "unknown parameter: not a column of this dataset nor one of orientation, "
                "format, page_size, count, select, sort, cursor, next-id");
}

/* An in/notin list: a JSON array, or comma-separated values. */
static int filter_list(struct ctx *c, struct dq_filter *f, const struct catalog_column *col,
                       const char *v)
{
    size_t per = c->lim->max_value_bytes + 8; /* a value, its quotes, a comma, escapes */
    size_t max = c->lim->max_in > (size_t)-1 / per ? (size_t)-1 : c->lim->max_in * per;
    size_t len = strnlen(v, max == (size_t)-1 ? max : max + 1);
    if (len > max)
        return fail(c, f->param, "list too long");
    if (v[0] != '[') {
        size_t count = 1;
        for (size_t i = 0; i < len; i++)
            count += v[i] == ',';
        if (count > c->lim->max_in)
            return fail(c, f->param, "must list 1 to %zu values", c->lim->max_in);
        f->values = arena_calloc(c->a, count, sizeof *f->values);
        const char *p = v, *end = v + len;
        for (;;) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            int rc =
                convert_value(c, col, f->param, p, (size_t)(stop - p), &f->values[f->nvalues++]);
            if (rc < 0)
                return rc;
            if (!comma)
                return 0;
            p = comma + 1;
        }
    }
    json_error_t jerr;
    json_t *arr = json_loadb(v, len, 0, &jerr);
    int rc = ERR_INVAL;
    if (!json_is_array(arr)) {
        rc = fail(c, f->param,
                  "a list starting with \"[\" must be a JSON array, e.g. "
                  "[\"a,b\",\"c\"]");
        goto out;
    }
    size_t count = json_array_size(arr);
    if (count == 0 || count > c->lim->max_in) {
        rc = fail(c, f->param, "must list 1 to %zu values", c->lim->max_in);
        goto out;
    }
    f->values = arena_calloc(c->a, count, sizeof *f->values);
    for (size_t i = 0; i < count; i++) {
        json_t *e = json_array_get(arr, i);
        char num[32];
        const char *p;
        size_t n;
        if (json_is_string(e)) {
            p = json_string_value(e);
            n = json_string_length(e);
        } else if (json_is_integer(e)) {
            n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
            p = num;
        } else if (json_is_boolean(e)) {
            p = json_is_true(e) ? "true" : "false";
            n = strlen(p);
        } else {
            rc = fail(c, f->param, "a JSON list may hold strings, integers and booleans only");
            goto out;
        }
        rc = convert_value(c, col, f->param, p, n, &f->values[f->nvalues++]);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(arr);
    return rc;
}

static int parse_filter(struct ctx *c, const char *key, const char *v, struct dq_filter *f)
{
    char q[QUOTE_BUF];
    enum dq_op op = DQ_EXACT;
    int rc = filter_key(c, key, &f->col, &op);
    if (rc < 0)
        return rc;
    const struct catalog_column *col = &c->d->cols[f->col];
    f->op = op;
    f->param = arena_strdup(c->a, key);
    switch (op) {
    case DQ_CONTAINS:
    case DQ_STARTSWITH:
    case DQ_ENDSWITH: {
        if (col->type != COLTYPE_TEXT)
            return fail(c, key, "%s works on text columns only (%s is %s)", OP_NAMES[op],
                        quote(q, col->name, strlen(col->name)), coltype_name(col->type));
        size_t n = strnlen(v, c->lim->max_value_bytes + 1);
        if (n > c->lim->max_value_bytes)
            return fail(c, key, "value too long (at most %zu bytes)", c->lim->max_value_bytes);
        if (!utf8_valid(v, n))
            return fail(c, key, "%s is not valid UTF-8", quote(q, v, n));
        f->values = arena_calloc(c->a, 1, sizeof *f->values);
        f->values[0] = SV_TEXTN(arena_strndup(c->a, v, n), n);
        f->nvalues = 1;
        return 0;
    }
    case DQ_IN:
    case DQ_NOTIN:
        return filter_list(c, f, col, v);
    case DQ_ISNULL:
    case DQ_NOTNULL: {
        int yes = v[0] == '\0' || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
        int no = strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0;
        if (!yes && !no)
            return fail(c, key, "must be empty, 1, true, 0 or false, not %s",
                        quote(q, v, strnlen(v, QUOTE_MAX + 1)));
        if (no)
            f->op = op == DQ_ISNULL ? DQ_NOTNULL : DQ_ISNULL;
        return 0;
    }
    default: {
        size_t n = strnlen(v, c->lim->max_value_bytes + 1);
        f->values = arena_calloc(c->a, 1, sizeof *f->values);
        f->nvalues = 1;
        return convert_value(c, col, key, v, n, &f->values[0]);
    }
    }
}

/* ---- dq_parse ------------------------------------------------------------------------- */

static const char *const FORMATS[] = {"json", "csv", "ndjson"};
static const char *const ORIENTATIONS[] = {"tabular", "records"};
static const char *const COUNTS[] = {"none", "exact", "estimated"};

int dq_parse(const struct catalog_dataset *d, enum store_backend_kind backend,
             const char *const *keys, const char *const *values, size_t n,
             const struct dq_limits *lim, const unsigned char cursor_key[CURSOR_KEY_BYTES],
             struct arena *a, struct dq_query *q, struct dq_error *err)
{
    struct dq_limits deflim;
    if (!lim) {
        dq_limits_default(&deflim);
        lim = &deflim;
    }
    struct ctx c = {.d = d, .backend = backend, .lim = lim, .a = a, .err = err};
    memset(q, 0, sizeof *q);
    memset(err, 0, sizeof *err);
    err->status = 400;
    char qb[QUOTE_BUF];
    int rc;

    /* (1) The key. */
    size_t key[CURSOR_MAX_VALUES], nkey;
    if (backend != STORE_SQLITE && backend != STORE_POSTGRESQL)
        return fail_internal(&c, "unknown store backend");
    if ((rc = resolve_key(&c, key, &nkey)) < 0)
        return rc;

    /* (2) Reserved parameters (once each) and filters. */
    const char *rv[R__COUNT] = {0};
    size_t fcap = n < lim->max_filters ? n : lim->max_filters, nf = 0;
    size_t *fidx = arena_alloc(a, (fcap ? fcap : 1) * sizeof *fidx);
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i] ? keys[i] : "";
        int r = reserved_index(k);
        if (r >= 0) {
            if (rv[r])
                return fail(&c, k, "given more than once");
            rv[r] = values[i] ? values[i] : "";
            continue;
        }
        if (nf == lim->max_filters)
            return fail(&c, k, "too many filters (at most %zu)", lim->max_filters);
        fidx[nf++] = i;
    }

    /* (3) The reserved parameters, in a fixed order. */
    int ch;
    if (rv[R_FORMAT]) {
        if ((ch = choice(rv[R_FORMAT], FORMATS, 3)) < 0)
            return fail(&c, "format", "must be json, csv or ndjson");
        q->format = (enum dq_format)ch;
    }
    if (rv[R_ORIENTATION]) {
        if ((ch = choice(rv[R_ORIENTATION], ORIENTATIONS, 2)) < 0)
            return fail(&c, "orientation", "must be tabular or records");
        q->orientation = (enum dq_orientation)ch;
    }
    if (rv[R_COUNT]) {
        if ((ch = choice(rv[R_COUNT], COUNTS, 3)) < 0)
            return fail(&c, "count", "must be none, exact or estimated");
        q->count = (enum dq_count)ch;
    }
    q->page_size = lim->page_size_default;
    if (rv[R_PAGE_SIZE] && (parse_count(rv[R_PAGE_SIZE], &q->page_size) < 0 || q->page_size < 1 ||
                            q->page_size > lim->page_size_max))
        return fail(&c, "page_size", "must be an integer from 1 to %lld",
                    (long long)lim->page_size_max);
    if (q->format != DQ_FORMAT_JSON) {
        static const int json_only[] = {R_ORIENTATION, R_PAGE_SIZE, R_COUNT};
        for (size_t i = 0; i < 3; i++)
            if (rv[json_only[i]])
                return fail(&c, RESERVED[json_only[i]],
                            "only with format=json (csv and ndjson return every row)");
    }

    /* select: the columns to return. */
    unsigned char *seen = arena_calloc(a, d->ncols ? d->ncols : 1, 1);
    q->select = arena_alloc(a, (d->ncols ? d->ncols : 1) * sizeof *q->select);
    if (rv[R_SELECT]) {
        struct cols_state st = {.param = "select", .seen = seen, .q = q};
        if ((rc = split_list(&c, "select", rv[R_SELECT], &st, select_item)) < 0)
            return rc;
    } else {
        for (size_t i = 0; i < d->ncols; i++)
            q->select[q->nselect++] = i;
    }

    /* sort: the user's columns, then the key. */
    memset(seen, 0, d->ncols ? d->ncols : 1);
    q->sort = arena_alloc(a, CURSOR_MAX_VALUES * sizeof *q->sort);
    if (rv[R_SORT]) {
        struct cols_state st = {.param = "sort", .seen = seen, .q = q};
        if ((rc = split_list(&c, "sort", rv[R_SORT], &st, sort_item)) < 0)
            return rc;
    }
    q->nsort_user = q->nsort;
    for (size_t i = 0; i < nkey; i++) {
        if (seen[key[i]])
            continue;
        if (q->nsort == CURSOR_MAX_VALUES)
            return fail(&c, "sort", "too many columns (at most %d, key columns included)",
                        CURSOR_MAX_VALUES);
        seen[key[i]] = 1;
        q->sort[q->nsort++] = (struct dq_sort){.col = key[i], .desc = 0};
    }
    q->cursor_scope = build_scope(&c, q);
    q->row_cursor_scope = arena_printf(a, "%s\x1frow", q->cursor_scope);
    q->key_cols = arena_alloc(a, nkey * sizeof *q->key_cols);
    memcpy(q->key_cols, key, nkey * sizeof *q->key_cols);
    q->nkey = nkey;

    /* next-id: the seeds' paging by row id. */
    if (rv[R_NEXT_ID]) {
        const char *v = rv[R_NEXT_ID];
        size_t vn = strnlen(v, 32);
        char scratch[COLTYPE_SCRATCH];
        struct store_value id;
        const struct catalog_column *kc = &d->cols[key[0]];
        if (nkey != 1 || strcmp(kc->name, CATALOG_ROW_ID) != 0 || kc->type != COLTYPE_INTEGER)
            return fail(&c, "next-id", "only for datasets keyed by the row id \"id\"");
        if (rv[R_SORT])
            return fail(&c, "next-id", "cannot be combined with sort (it pages in id order)");
        if (rv[R_CURSOR])
            return fail(&c, "next-id", "cannot be combined with cursor");
        if (coltype_convert(COLTYPE_INTEGER, backend, v, vn, scratch, &id) < 0)
            return fail(&c, "next-id", "%s is not an integer", quote(qb, v, vn));
        q->has_next_id = 1;
        q->next_id = id.v.i;
    }

    /* cursor: decoded for exactly this order. */
    if (rv[R_CURSOR]) {
        struct store_value *after = arena_calloc(a, q->nsort, sizeof *after);
        rc = cursor_key
                 ? cursor_decode(cursor_key, q->cursor_scope, rv[R_CURSOR], q->nsort, a, after)
                 : ERR_INVAL;
        if (rc == ERR_INTERNAL)
            return fail_internal(&c, "cannot check the cursor");
        for (size_t i = 0; rc == 0 && i < q->nsort; i++)
            if (!cursor_type_ok(d->cols[q->sort[i].col].type, after[i].type))
                rc = ERR_INVAL;
        if (rc == 0)
            q->after = after;
        else if ((rc = decode_row_cursor(&c, q, cursor_key, rv[R_CURSOR])) == ERR_INTERNAL)
            return fail_internal(&c, "cannot check the cursor");
        if (rc < 0)
            return fail(&c, "cursor", "invalid or expired cursor");
    }

    /* (4) Filters, in request order. */
    q->filters = arena_calloc(a, nf ? nf : 1, sizeof *q->filters);
    for (size_t i = 0; i < nf; i++) {
        const char *v = values[fidx[i]] ? values[fidx[i]] : "";
        if ((rc = parse_filter(&c, keys[fidx[i]] ? keys[fidx[i]] : "", v, &q->filters[i])) < 0)
            return rc;
        q->nfilters++;
    }
    return 0;
}
