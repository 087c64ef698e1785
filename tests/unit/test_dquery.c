/*
 * dquery: the data API's query parameters. The cases that are data (a query,
 * a backend, the parsed result or the exact error) are in
 * tests/data/dquery/cases.txt, run by dquery/cases_file against the dataset
 * built below (its format is at the top of the file). The tests here cover
 * what a line cannot say: keys other than the row id, cursors (made with
 * cursor_encode for the scope dq_parse reports), limits, long and hostile
 * input, and how messages quote it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dquery.h"
#include "core/buf.h"
#include "core/err.h"
#include "unit_util.h"

#define CASES_FILE "tests/data/dquery/cases.txt"

static unsigned char KEY[CURSOR_KEY_BYTES];

/* ---- datasets ------------------------------------------------------------------------- */

#define MAXCOLS 40

struct ds {
    struct catalog_dataset d;
    struct catalog_column cols[MAXCOLS];
    char *key[CURSOR_MAX_VALUES + 2];
};

static void ds_col(struct ds *s, const char *name, enum coltype t)
{
    cr_assert_lt(s->d.ncols, MAXCOLS);
    struct catalog_column *c = &s->cols[s->d.ncols++];
    c->name = (char *)name;
    c->label = (char *)name;
    c->type = t;
    c->nullable = 1;
}

/* The dataset of cases.txt: "orders", keyed by the row id, with a column of
 * every type, columns named like reserved parameters, and "a" next to
 * "a__b". */
static void ds_orders(struct ds *s)
{
    memset(s, 0, sizeof *s);
    s->d.name = "orders";
    s->d.cols = s->cols;
    ds_col(s, "id", COLTYPE_INTEGER);
    s->cols[0].generated = 1;
    s->cols[0].nullable = 0;
    ds_col(s, "flag", COLTYPE_BOOLEAN);
    ds_col(s, "qty", COLTYPE_INTEGER);
    ds_col(s, "price", COLTYPE_DECIMAL);
    ds_col(s, "day", COLTYPE_DATE);
    ds_col(s, "at", COLTYPE_TIMESTAMP);
    ds_col(s, "atz", COLTYPE_TIMESTAMPTZ);
    ds_col(s, "name", COLTYPE_TEXT);
    ds_col(s, "count", COLTYPE_TEXT);
    ds_col(s, "sort", COLTYPE_INTEGER);
    ds_col(s, "a__b", COLTYPE_TEXT);
    ds_col(s, "a", COLTYPE_TEXT);
    s->key[0] = "id";
    s->d.key = s->key;
    s->d.nkey = 1;
}

static void dq_init(void)
{
    for (size_t i = 0; i < sizeof KEY; i++)
        KEY[i] = (unsigned char)(0xa0 + i);
}

TestSuite(dquery, .init = dq_init);

/* ---- describing a parsed query -------------------------------------------------------- */

/* Bytes outside '!'..'~', and ',' '|' '\', as \xNN: a described value is one
 * space-free token. */
static void put_escaped(struct buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || c == ',' || c == '|' || c == '\\')
            buf_printf(b, "\\x%02x", c);
        else
            buf_putc(b, (char)c);
    }
}

static void put_value(struct buf *b, const struct store_value *v)
{
    char num[40];
    switch (v->type) {
    case STORE_NULL:
        buf_putc(b, 'n');
        break;
    case STORE_INT:
        buf_printf(b, "i%lld", (long long)v->v.i);
        break;
    case STORE_DOUBLE:
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, v->v.d);
            if (strtod(num, NULL) == v->v.d)
                break;
        }
        buf_printf(b, "d%s", num);
        break;
    case STORE_BOOL:
        buf_printf(b, "b%d", v->v.b);
        break;
    case STORE_TEXT:
        buf_putc(b, 't');
        put_escaped(b, v->v.s.p, v->v.s.n);
        break;
    default:
        buf_puts(b, "?");
    }
}

/* "format=json orientation=tabular count=none page_size=100 select=... sort=...
 * nsort_user=0 next_id=- cursor=no scope=... filters=..." */
static void describe(const struct catalog_dataset *d, const struct dq_query *q, struct buf *b)
{
    static const char *const formats[] = {"json", "csv", "ndjson"};
    static const char *const orient[] = {"tabular", "records"};
    static const char *const counts[] = {"none", "exact", "estimated"};
    buf_printf(b, "format=%s orientation=%s count=%s page_size=%lld select=", formats[q->format],
               orient[q->orientation], counts[q->count], (long long)q->page_size);
    for (size_t i = 0; i < q->nselect; i++)
        buf_printf(b, "%s%s", i ? "," : "", d->cols[q->select[i]].name);
    buf_puts(b, " sort=");
    for (size_t i = 0; i < q->nsort; i++)
        buf_printf(b, "%s%s%s", i ? "," : "", q->sort[i].desc ? "-" : "",
                   d->cols[q->sort[i].col].name);
    buf_printf(b, " nsort_user=%zu", q->nsort_user);
    if (q->has_next_id)
        buf_printf(b, " next_id=%lld", (long long)q->next_id);
    else
        buf_puts(b, " next_id=-");
    buf_printf(b, " cursor=%s scope=", q->after ? "yes" : "no");
    put_escaped(b, q->cursor_scope, strlen(q->cursor_scope));
    buf_puts(b, " filters=");
    if (q->nfilters == 0)
        buf_putc(b, '-');
    for (size_t i = 0; i < q->nfilters; i++) {
        const struct dq_filter *f = &q->filters[i];
        buf_printf(b, "%s%s:%s", i ? "|" : "", d->cols[f->col].name, dq_op_name(f->op));
        for (size_t k = 0; k < f->nvalues; k++) {
            buf_putc(b, k ? ',' : ':');
            put_value(b, &f->values[k]);
        }
    }
}

/* ---- running a query ------------------------------------------------------------------ */

#define MAXPARAMS 1100

struct params {
    const char *keys[MAXPARAMS];
    const char *values[MAXPARAMS];
    size_t n;
    struct arena a; /* the strings */
};

/* Split "k=v&k=v" (after \xNN unescaping: each pair is split before, so an
 * escaped & or = belongs to its key or value). "(none)" is no parameters. */
static void params_parse(struct params *p, const char *query)
{
    memset(p->keys, 0, sizeof p->keys);
    p->n = 0;
    arena_init(&p->a);
    if (strcmp(query, "(none)") == 0)
        return;
    const char *s = query;
    for (;;) {
        const char *amp = strchr(s, '&');
        size_t n = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', n);
        size_t kn = eq ? (size_t)(eq - s) : n;
        char *k = arena_alloc(&p->a, kn + 1), *v = arena_alloc(&p->a, n + 1);
        k[unit_unescape(s, kn, k)] = '\0';
        size_t vn = eq ? n - kn - 1 : 0;
        v[unit_unescape(eq ? eq + 1 : s, vn, v)] = '\0';
        cr_assert_lt(p->n, MAXPARAMS);
        p->keys[p->n] = k;
        p->values[p->n++] = v;
        if (!amp)
            break;
        s = amp + 1;
    }
}

static void params_add(struct params *p, const char *k, const char *v)
{
    cr_assert_lt(p->n, MAXPARAMS);
    p->keys[p->n] = arena_strdup(&p->a, k);
    p->values[p->n++] = arena_strdup(&p->a, v);
}

/* Parse p against d; returns the code and fills *q, *err. */
static int run(const struct catalog_dataset *d, enum store_backend_kind be, const struct params *p,
               const struct dq_limits *lim, struct arena *a, struct dq_query *q,
               struct dq_error *err)
{
    memset(err, 0x55, sizeof *err); /* dq_parse must set every field it reports */
    return dq_parse(d, be, p->keys, p->values, p->n, lim, KEY, a, q, err);
}

/* "param: message" (or the message alone), as the handler renders it. */
static void render_error(const struct dq_error *err, char *out, size_t n)
{
    if (err->param[0])
        snprintf(out, n, "%s: %s", err->param, err->message);
    else
        snprintf(out, n, "%s", err->message);
}

/* Messages and param names never hold control characters or invalid UTF-8. */
static void expect_clean(const struct dq_error *err)
{
    cr_assert_lt(strnlen(err->param, sizeof err->param), sizeof err->param);
    cr_assert_lt(strnlen(err->message, sizeof err->message), sizeof err->message);
    for (const char *s = err->param; *s; s++)
        cr_assert((unsigned char)*s >= 0x20 && *s != 0x7f, "control character in param");
    for (const char *s = err->message; *s; s++)
        cr_assert((unsigned char)*s >= 0x20 && *s != 0x7f, "control character in message");
}

/* Parse a query written as in cases.txt; expect an error rendered as want
 * (400), or success. */
static void expect_error(const struct catalog_dataset *d, const char *query, const char *want)
{
    struct params p;
    params_parse(&p, query);
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    int rc = run(d, STORE_SQLITE, &p, NULL, &a, &q, &err);
    char got[400];
    render_error(&err, got, sizeof got);
    cr_assert_eq(rc, ERR_INVAL, "%s: %s (%s)", query, err_name(rc), rc ? got : "ok");
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(got, want, "%s", query);
    expect_clean(&err);
    arena_free(&a);
    arena_free(&p.a);
}

/* ---- the data file -------------------------------------------------------------------- */

/* Check one line: BACKENDS QUERY EXPECTED (TAB-separated). */
static void run_line(const struct catalog_dataset *d, const char *backends, const char *query,
                     const char *want, int lineno)
{
    enum store_backend_kind list[2];
    size_t nb = 0;
    if (strcmp(backends, "both") == 0 || strcmp(backends, "sqlite") == 0)
        list[nb++] = STORE_SQLITE;
    if (strcmp(backends, "both") == 0 || strcmp(backends, "pg") == 0)
        list[nb++] = STORE_POSTGRESQL;
    cr_assert_gt(nb, 0, "%s:%d: backend \"%s\"", CASES_FILE, lineno, backends);
    struct params p;
    params_parse(&p, query);
    for (size_t i = 0; i < nb; i++) {
        struct arena a;
        arena_init(&a);
        struct dq_query q;
        struct dq_error err;
        int rc = run(d, list[i], &p, NULL, &a, &q, &err);
        const char *be = list[i] == STORE_SQLITE ? "sqlite" : "pg";
        char got[400];
        if (strncmp(want, "ERR", 3) == 0) {
            int status = strncmp(want, "ERR500 ", 7) == 0 ? 500 : 400;
            const char *msg = want + (status == 500 ? 7 : 4);
            render_error(&err, got, sizeof got);
            cr_expect_eq(rc, status == 500 ? ERR_INTERNAL : ERR_INVAL,
                         "%s:%d (%s): %s, want an error; parsed", CASES_FILE, lineno, be,
                         err_name(rc));
            if (rc < 0) {
                cr_expect_eq(err.status, status, "%s:%d (%s): status", CASES_FILE, lineno, be);
                cr_expect_str_eq(got, msg, "%s:%d (%s)", CASES_FILE, lineno, be);
                expect_clean(&err);
            }
        } else {
            cr_assert_eq(strncmp(want, "ok", 2), 0, "%s:%d: EXPECTED is ok... or ERR ...",
                         CASES_FILE, lineno);
            render_error(&err, got, sizeof got);
            cr_expect_eq(rc, 0, "%s:%d (%s): %s: %s", CASES_FILE, lineno, be, err_name(rc), got);
            if (rc == 0) {
                struct buf b;
                buf_init(&b, 1 << 20);
                describe(d, &q, &b);
                /* Each expected field must be in the description, exactly. */
                const char *f = want + 2;
                while (*f == ' ')
                    f++;
                while (*f) {
                    const char *sp = strchr(f, ' ');
                    size_t fl = sp ? (size_t)(sp - f) : strlen(f);
                    int found = 0;
                    const char *desc = buf_cstr(&b);
                    for (const char *x = desc; *x;) {
                        const char *xs = strchr(x, ' ');
                        size_t xl = xs ? (size_t)(xs - x) : strlen(x);
                        if (xl == fl && memcmp(x, f, fl) == 0)
                            found = 1;
                        if (!xs)
                            break;
                        x = xs + 1;
                    }
                    cr_expect(found, "%s:%d (%s): want %.*s in: %s", CASES_FILE, lineno, be,
                              (int)fl, f, desc);
                    f += fl;
                    while (*f == ' ')
                        f++;
                }
                buf_free(&b);
            }
        }
        arena_free(&a);
    }
    arena_free(&p.a);
}

Test(dquery, cases_file)
{
    struct ds s;
    ds_orders(&s);
    FILE *f = fopen(CASES_FILE, "r");
    cr_assert_not_null(f, "cannot open %s (tests run from the repository root)", CASES_FILE);
    char line[8192];
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        cr_assert(len > 0 && line[len - 1] == '\n', "%s:%d: line too long or no newline",
                  CASES_FILE, lineno);
        line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *t1 = strchr(line, '\t');
        cr_assert_not_null(t1, "%s:%d: no TAB", CASES_FILE, lineno);
        *t1 = '\0';
        char *t2 = strchr(t1 + 1, '\t');
        cr_assert_not_null(t2, "%s:%d: no second TAB", CASES_FILE, lineno);
        *t2 = '\0';
        run_line(&s.d, line, t1 + 1, t2 + 1, lineno);
        cases++;
    }
    fclose(f);
    cr_assert_gt(cases, 100, "only %d cases read", cases);
}

/* ---- names and defaults --------------------------------------------------------------- */

Test(dquery, op_names_and_reserved)
{
    static const char *const want[DQ_OP_COUNT] = {
        "exact",      "not",      "gt", "gte",   "lt",     "lte",     "contains",
        "startswith", "endswith", "in", "notin", "isnull", "notnull",
    };
    for (int i = 0; i < DQ_OP_COUNT; i++)
        cr_assert_str_eq(dq_op_name((enum dq_op)i), want[i]);
    cr_assert_str_eq(dq_op_name(DQ_OP_COUNT), "?");
    cr_assert_str_eq(dq_op_name((enum dq_op) - 1), "?");
    const char *reserved[] = {"orientation", "format", "page_size", "count", "select",
                              "sort",        "cursor", "next-id",   "bewit"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        cr_assert(dq_param_reserved(reserved[i]), "%s", reserved[i]);
    const char *not_reserved[] = {"",   "Format",       "page-size", "next_id",
                                  "id", "count__exact", "format ",   "sorts"};
    for (size_t i = 0; i < sizeof not_reserved / sizeof not_reserved[0]; i++)
        cr_assert(!dq_param_reserved(not_reserved[i]), "%s", not_reserved[i]);
    cr_assert(!dq_param_reserved(NULL));
}

Test(dquery, limits_default)
{
    struct dq_limits lim;
    memset(&lim, 0xff, sizeof lim);
    dq_limits_default(&lim);
    cr_assert_eq(lim.page_size_default, 100);
    cr_assert_eq(lim.page_size_max, 10000);
    cr_assert_eq(lim.max_filters, 64);
    cr_assert_eq(lim.max_in, 1000);
    cr_assert_eq(lim.max_value_bytes, 4096);
}

Test(dquery, defaults_with_no_parameters)
{
    struct ds s;
    ds_orders(&s);
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    struct params p;
    params_parse(&p, "(none)");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0);
    cr_assert_eq(q.format, DQ_FORMAT_JSON);
    cr_assert_eq(q.orientation, DQ_TABULAR);
    cr_assert_eq(q.count, DQ_COUNT_NONE);
    cr_assert_eq(q.page_size, 100);
    cr_assert_eq(q.nselect, s.d.ncols);
    for (size_t i = 0; i < q.nselect; i++)
        cr_assert_eq(q.select[i], i);
    cr_assert_eq(q.nsort, 1);
    cr_assert_eq(q.nsort_user, 0);
    cr_assert_eq(q.sort[0].col, 0);
    cr_assert_eq(q.sort[0].desc, 0);
    cr_assert_eq(q.nfilters, 0);
    cr_assert_null(q.after);
    cr_assert_eq(q.has_next_id, 0);
    cr_assert_str_eq(q.cursor_scope, "orders\x1f"
                                     "id");
    /* NULL keys and values are read as "" (dq_parse may meet them from
     * callers other than the HTTP layer). */
    const char *keys[1] = {"name"}, *values[1] = {NULL};
    cr_assert_eq(dq_parse(&s.d, STORE_SQLITE, keys, values, 1, NULL, KEY, &a, &q, &err), 0);
    cr_assert_eq(q.nfilters, 1);
    cr_assert_eq(q.filters[0].values[0].v.s.n, 0);
    cr_assert_str_eq(q.filters[0].param, "name");
    arena_free(&a);
    arena_free(&p.a);
}

/* ---- keys ----------------------------------------------------------------------------- */

Test(dquery, composite_key_is_appended)
{
    struct ds s;
    ds_orders(&s);
    s.key[0] = "name";
    s.key[1] = "day";
    s.d.nkey = 2;
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    struct params p;
    params_parse(&p, "sort=-day,qty");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "%s", err.message);
    cr_assert_str_eq(q.cursor_scope, "orders\x1f"
                                     "-day,qty,name");
    cr_assert_eq(q.nsort, 3);
    cr_assert_eq(q.nsort_user, 2);
    arena_free(&p.a);
    params_parse(&p, "(none)");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0);
    cr_assert_str_eq(q.cursor_scope, "orders\x1f"
                                     "name,day");
    arena_free(&p.a);
    arena_free(&a);
    expect_error(&s.d, "next-id=5", "next-id: only for datasets keyed by the row id \"id\"");
}

Test(dquery, next_id_needs_an_integer_id_key)
{
    struct ds s;
    ds_orders(&s);
    s.key[0] = "qty";
    expect_error(&s.d, "next-id=1", "next-id: only for datasets keyed by the row id \"id\"");
    ds_orders(&s);
    s.cols[0].type = COLTYPE_TEXT;
    expect_error(&s.d, "next-id=1", "next-id: only for datasets keyed by the row id \"id\"");
}

Test(dquery, no_key_falls_back_to_id_or_fails_as_internal)
{
    struct ds s;
    ds_orders(&s);
    s.d.nkey = 0;
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    struct params p;
    params_parse(&p, "next-id=3");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "%s", err.message);
    cr_assert_eq(q.next_id, 3);
    cr_assert_str_eq(q.cursor_scope, "orders\x1f"
                                     "id");

    s.cols[0].name = "row"; /* no key, no id */
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INTERNAL);
    cr_assert_eq(err.status, 500);
    cr_assert_str_eq(err.param, "");
    cr_assert_str_eq(err.message, "the dataset has no primary key and no \"id\" column: its rows "
                                  "have no order to page by");

    ds_orders(&s);
    s.key[0] = "missing";
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INTERNAL);
    cr_assert_eq(err.status, 500);
    cr_assert_str_eq(err.message, "the dataset's primary key names a column it does not have");

    cr_assert_eq(
        dq_parse(&s.d, (enum store_backend_kind)0, p.keys, p.values, p.n, NULL, KEY, &a, &q, &err),
        ERR_INTERNAL, "unknown backend");
    arena_free(&p.a);
    arena_free(&a);
}

/* ---- sort limits ---------------------------------------------------------------------- */

/* A dataset of n integer columns c0..c(n-1) plus the key id. */
static void ds_wide(struct ds *s, size_t n, char names[][8])
{
    memset(s, 0, sizeof *s);
    s->d.name = "wide";
    s->d.cols = s->cols;
    ds_col(s, "id", COLTYPE_INTEGER);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], 8, "c%zu", i);
        ds_col(s, names[i], COLTYPE_INTEGER);
    }
    s->key[0] = "id";
    s->d.key = s->key;
    s->d.nkey = 1;
}

Test(dquery, sort_at_most_sixteen_with_the_key)
{
    struct ds s;
    char names[20][8];
    ds_wide(&s, 20, names);
    char sort[256] = "sort=";
    for (int i = 0; i < 15; i++)
        snprintf(sort + strlen(sort), sizeof sort - strlen(sort), "%sc%d", i ? "," : "", i);
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    struct params p;
    params_parse(&p, sort);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "%s", err.message);
    cr_assert_eq(q.nsort, 16);
    arena_free(&p.a);
    /* 16 user columns: the key makes 17. */
    snprintf(sort + strlen(sort), sizeof sort - strlen(sort), ",c15");
    expect_error(&s.d, sort, "sort: too many columns (at most 16, key columns included)");
    /* 15 user columns and the key among them: 15 in all is fine, and 16 with
     * the key given by the user too. */
    snprintf(sort + strlen(sort), sizeof sort - strlen(sort), ",c16");
    expect_error(&s.d, sort, "sort: too many columns (at most 16, key columns included)");
    arena_free(&a);
}

/* ---- cursors -------------------------------------------------------------------------- */

/* Parse query, then encode a cursor for its scope with the given values. */
static char *cursor_for(const struct catalog_dataset *d, const char *query,
                        const struct store_value *v, size_t n)
{
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    struct params p;
    params_parse(&p, query);
    cr_assert_eq(run(d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "%s", err.message);
    struct buf b;
    buf_init(&b, 8192);
    cr_assert_eq(cursor_encode(KEY, q.cursor_scope, v, n, &b), 0);
    arena_free(&a);
    arena_free(&p.a);
    return buf_take(&b, NULL);
}

Test(dquery, cursor_round_trip)
{
    struct ds s;
    ds_orders(&s);
    const struct store_value v[3] = {SV_DOUBLE(2.5), SV_TEXT("bob"), SV_INT(17)};
    char *c = cursor_for(&s.d, "sort=-price,name", v, 3);
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    struct params p;
    params_parse(&p, "sort=-price,name");
    params_add(&p, "cursor", c);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "%s", err.message);
    cr_assert_not_null(q.after);
    cr_assert_eq(q.after[0].type, STORE_DOUBLE);
    cr_assert_eq(q.after[0].v.d, 2.5);
    cr_assert_eq(q.after[1].type, STORE_TEXT);
    cr_assert_str_eq(q.after[1].v.s.p, "bob");
    cr_assert_eq(q.after[2].v.i, 17);
    /* The same cursor on PostgreSQL (decimals arrive as text there, but a
     * double from the other backend's reader is accepted too). */
    cr_assert_eq(run(&s.d, STORE_POSTGRESQL, &p, NULL, &a, &q, &err), 0, "%s", err.message);

    /* Another order: refused. */
    arena_free(&p.a);
    params_parse(&p, "sort=price,name");
    params_add(&p, "cursor", c);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.param, "cursor");
    cr_assert_str_eq(err.message, "invalid or expired cursor");
    /* Another dataset with the same columns: refused. */
    arena_free(&p.a);
    params_parse(&p, "sort=-price,name");
    params_add(&p, "cursor", c);
    s.d.name = "orders2";
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    s.d.name = "orders";
    /* Another key: refused. */
    KEY[0] ^= 1;
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    KEY[0] ^= 1;
    /* No key to check it with: refused. */
    cr_assert_eq(dq_parse(&s.d, STORE_SQLITE, p.keys, p.values, p.n, NULL, NULL, &a, &q, &err),
                 ERR_INVAL);
    cr_assert_str_eq(err.message, "invalid or expired cursor");
    /* With next-id: refused. */
    expect_error(&s.d, "next-id=3&cursor=x", "next-id: cannot be combined with cursor");
    free(c);
    arena_free(&p.a);
    arena_free(&a);
}

Test(dquery, cursor_values_must_fit_the_column_types)
{
    struct ds s;
    ds_orders(&s);
    struct {
        const char *sort;
        struct store_value v;
        int ok;
    } cases[] = {
        {"sort=qty", SV_INT(3), 1},        {"sort=qty", SV_TEXT("3"), 0},
        {"sort=qty", SV_DOUBLE(3), 0},     {"sort=qty", SV_NULL(), 1},
        {"sort=flag", SV_BOOL(1), 1},      {"sort=flag", SV_INT(1), 1},
        {"sort=flag", SV_TEXT("t"), 0},    {"sort=price", SV_DOUBLE(1.5), 1},
        {"sort=price", SV_TEXT("1.5"), 1}, {"sort=price", SV_INT(2), 1},
        {"sort=price", SV_BOOL(1), 0},     {"sort=day", SV_TEXT("2024-01-01"), 1},
        {"sort=day", SV_INT(20240101), 0}, {"sort=atz", SV_TEXT("x"), 1},
        {"sort=name", SV_TEXT("x"), 1},    {"sort=name", SV_INT(1), 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct store_value v[2] = {cases[i].v, SV_INT(1)};
        char *c = cursor_for(&s.d, cases[i].sort, v, 2);
        struct arena a;
        arena_init(&a);
        struct dq_query q;
        struct dq_error err;
        struct params p;
        params_parse(&p, cases[i].sort);
        params_add(&p, "cursor", c);
        int rc = run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err);
        cr_expect_eq(rc, cases[i].ok ? 0 : ERR_INVAL, "case %zu (%s)", i, cases[i].sort);
        free(c);
        arena_free(&p.a);
        arena_free(&a);
    }
    /* The id column with a text value (a dataset reloaded with other types). */
    const struct store_value v[1] = {SV_TEXT("7")};
    char *c = cursor_for(&s.d, "(none)", v, 1);
    char query[512];
    snprintf(query, sizeof query, "cursor=%s", c);
    expect_error(&s.d, query, "cursor: invalid or expired cursor");
    free(c);
}

Test(dquery, cursor_with_wrong_count)
{
    struct ds s;
    ds_orders(&s);
    const struct store_value v[1] = {SV_INT(4)};
    char *c = cursor_for(&s.d, "(none)", v, 1);
    /* Made for the order "id"; used with "qty,id" it has the wrong scope and
     * count; a forged scope with the right name but two values fails too. */
    char query[512];
    snprintf(query, sizeof query, "sort=qty&cursor=%s", c);
    expect_error(&s.d, query, "cursor: invalid or expired cursor");
    free(c);
    struct buf b;
    buf_init(&b, 8192);
    const struct store_value two[2] = {SV_INT(4), SV_INT(5)};
    cr_assert_eq(cursor_encode(KEY,
                               "orders\x1f"
                               "id",
                               two, 2, &b),
                 0);
    snprintf(query, sizeof query, "cursor=%s", b.data);
    expect_error(&s.d, query, "cursor: invalid or expired cursor");
    buf_free(&b);
}

/* ---- limits --------------------------------------------------------------------------- */

Test(dquery, filter_count_limit)
{
    struct ds s;
    ds_orders(&s);
    struct params p;
    params_parse(&p, "(none)");
    for (int i = 0; i < 64; i++)
        params_add(&p, "qty__gt", "1");
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "64 filters");
    cr_assert_eq(q.nfilters, 64);
    params_add(&p, "name", "x");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.param, "name");
    cr_assert_str_eq(err.message, "too many filters (at most 64)");
    /* Reserved parameters do not count. */
    arena_free(&p.a);
    params_parse(&p, "format=json&page_size=5&select=id&sort=id&count=none&orientation=records");
    for (int i = 0; i < 64; i++)
        params_add(&p, "qty__gt", "1");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0);
    /* Custom limits. */
    struct dq_limits lim;
    dq_limits_default(&lim);
    lim.max_filters = 2;
    lim.page_size_max = 50;
    lim.page_size_default = 20;
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, &lim, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.message, "too many filters (at most 2)");
    arena_free(&p.a);
    params_parse(&p, "page_size=51");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, &lim, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.message, "must be an integer from 1 to 50");
    arena_free(&p.a);
    params_parse(&p, "(none)");
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, &lim, &a, &q, &err), 0);
    cr_assert_eq(q.page_size, 20);
    arena_free(&p.a);
    arena_free(&a);
}

/* "v0,v1,..." of n integers, or a JSON array of n strings. */
static char *list_of(size_t n, int json)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, json ? "[" : "");
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, json ? "%s\"%zu\"" : "%s%zu", i ? "," : "", i);
    buf_puts(&b, json ? "]" : "");
    return buf_take(&b, NULL);
}

Test(dquery, in_list_limits)
{
    struct ds s;
    ds_orders(&s);
    for (int json = 0; json <= 1; json++) {
        char *ok = list_of(1000, json), *bad = list_of(1001, json);
        struct params p;
        params_parse(&p, "(none)");
        params_add(&p, "qty__in", ok);
        struct arena a;
        arena_init(&a);
        struct dq_query q;
        struct dq_error err;
        cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "%s", err.message);
        cr_assert_eq(q.filters[0].nvalues, 1000);
        cr_assert_eq(q.filters[0].values[999].v.i, 999);
        arena_free(&p.a);
        params_parse(&p, "(none)");
        params_add(&p, "qty__notin", bad);
        cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
        cr_assert_str_eq(err.message, "must list 1 to 1000 values");
        free(ok);
        free(bad);
        arena_free(&p.a);
        arena_free(&a);
    }
}

Test(dquery, value_length_limit)
{
    struct ds s;
    ds_orders(&s);
    char *v = malloc(1 << 20);
    memset(v, 'a', 1 << 20);
    v[4096] = '\0';
    struct params p;
    params_parse(&p, "(none)");
    params_add(&p, "name", v);
    params_add(&p, "name__contains", v);
    params_add(&p, "name__in", v);
    struct arena a;
    arena_init(&a);
    struct dq_query q;
    struct dq_error err;
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), 0, "4096 bytes");
    cr_assert_eq(q.filters[0].values[0].v.s.n, 4096);
    const char *keys[] = {"name", "name__contains", "name__in", "qty", "price__gt"};
    v[4096] = 'a';
    v[(1 << 20) - 1] = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        for (size_t len = 4097; len < (1u << 20); len = len * 16) {
            v[len] = '\0';
            arena_free(&p.a);
            params_parse(&p, "(none)");
            params_add(&p, keys[i], v);
            cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL, "%s %zu",
                         keys[i], len);
            cr_assert_str_eq(err.param, keys[i]);
            if (strcmp(keys[i], "name__in") != 0)
                cr_assert_str_eq(err.message, "value too long (at most 4096 bytes)");
            v[len] = 'a';
        }
    }
    /* In a list, each value is bounded, and the whole list by max_in of them. */
    v[5000] = '\0';
    memcpy(v, "x,", 2);
    arena_free(&p.a);
    params_parse(&p, "(none)");
    params_add(&p, "name__in", v);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.message, "value too long (at most 4096 bytes)");
    /* Huge select and sort values fail fast, naming the parameter. */
    v[(1 << 20) - 1] = '\0';
    arena_free(&p.a);
    params_parse(&p, "(none)");
    params_add(&p, "select", v);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.message, "too long (a dataset column may appear once)");
    arena_free(&p.a);
    params_parse(&p, "(none)");
    params_add(&p, "page_size", v);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    arena_free(&p.a);
    params_parse(&p, "(none)");
    params_add(&p, "cursor", v);
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    cr_assert_str_eq(err.message, "invalid or expired cursor");
    arena_free(&p.a);
    params_parse(&p, "(none)");
    params_add(&p, v, "1"); /* a huge parameter name */
    cr_assert_eq(run(&s.d, STORE_SQLITE, &p, NULL, &a, &q, &err), ERR_INVAL);
    cr_assert_eq(strlen(err.param), 71, "cut to fit");
    cr_assert_str_eq(err.param + 68, "...");
    expect_clean(&err);
    free(v);
    arena_free(&p.a);
    arena_free(&a);
}

/* ---- how messages quote input --------------------------------------------------------- */

Test(dquery, messages_cut_and_escape_values)
{
    struct ds s;
    ds_orders(&s);
    /* 70 letters: 64 quoted, then "...". */
    expect_error(&s.d, "qty=abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij",
                 "qty: \"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd...\" is "
                 "not an integer");
    /* Control characters, DEL and C1 controls as \xNN; quotes and backslashes
     * escaped; other UTF-8 kept. */
    expect_error(&s.d, "qty=a\\x01b\\x7f\\xc2\\x85\"\\\\\\xc3\\xa9\\x1b[2J",
                 "qty: \"a\\x01b\\x7f\\xc2\\x85\\\"\\\\\xc3\xa9\\x1b[2J\" is not an integer");
    /* Invalid UTF-8. */
    expect_error(&s.d, "name=\\xff\\xfe", "name: \"\\xff\\xfe\" is not valid UTF-8");
    expect_error(&s.d, "name__contains=a\\xc3", "name__contains: \"a\\xc3\" is not valid UTF-8");
    expect_error(&s.d, "name=\\xed\\xa0\\x80", "name: \"\\xed\\xa0\\x80\" is not valid UTF-8");
    /* An escape is never cut in half: 63 letters then a control character
     * that would need 4 bytes. */
    expect_error(&s.d, "qty=abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc\\x01",
                 "qty: \"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc...\" is "
                 "not an integer");
    /* A parameter name with control characters. */
    expect_error(&s.d, "\\x1b[31mred=1",
                 "\\x1b[31mred: unknown parameter: not a column of this dataset nor one of "
                 "orientation, format, page_size, count, select, sort, cursor, next-id");
}

Test(dquery, arena_only_no_leaks_on_errors)
{
    /* Every error path returns after allocating from the arena only: run a
     * failing query many times; ASan's leak check does the rest. */
    struct ds s;
    ds_orders(&s);
    const char *queries[] = {
        "qty__in=[1,2,\"x\"]", "qty__in=[1.5]", "name__in=[", "name__in=[\"a\",",
        "cursor=abc",          "select=nope",   "sort=-",     "page_size=0",
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        struct params p;
        params_parse(&p, queries[i]);
        struct arena a;
        arena_init(&a);
        struct dq_query q;
        struct dq_error err;
        cr_assert_eq(run(&s.d, STORE_POSTGRESQL, &p, NULL, &a, &q, &err), ERR_INVAL, "%s",
                     queries[i]);
        arena_free(&a);
        arena_free(&p.a);
    }
}
