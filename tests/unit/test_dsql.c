/*
 * dsql against a real SQLite table full of ties and NULLs: for many orders,
 * paging with the keyset condition (the sort values of each page's last row,
 * read back with rowenc_value as the handler does) must return every row once,
 * in exactly the order an independent C sort gives (NULL larger than any
 * value, ties broken by the key). Filters are checked against C predicates,
 * including text with LIKE wildcards in it. The same SQL runs on PostgreSQL in
 * the e2e suite (tests/e2e/data*.test.mjs).
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/dsql.h"
#include "api/rowenc.h"
#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#define NROWS 300

static char t_dir[PATH_MAX];
static store *t_db;
static struct arena t_arena;

/* The rows, as the C side knows them: has_x 0 means NULL. */
struct trow {
    int64_t id;
    int has_a, has_b, has_c;
    int64_t a;
    char b[8];
    double c;
};
static struct trow t_rows[NROWS];

static struct catalog_column t_cols[] = {
    {.name = "id", .label = "id", .type = COLTYPE_INTEGER, .generated = 1},
    {.name = "a", .label = "a", .type = COLTYPE_INTEGER, .nullable = 1},
    {.name = "b", .label = "b", .type = COLTYPE_TEXT, .nullable = 1},
    {.name = "c", .label = "c", .type = COLTYPE_DECIMAL, .nullable = 1},
};
static char *t_key[] = {"id"};
static struct catalog_dataset t_ds = {.name = "t",
                                      .schema = "main",
                                      .kind = "table",
                                      .cols = t_cols,
                                      .ncols = 4,
                                      .key = t_key,
                                      .nkey = 1};

static void fill_rows(void)
{
    static const char *const texts[] = {"x", "y%", "y_z", "ab", "abc", ""};
    uint64_t r = 12345;
    for (int i = 0; i < NROWS; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        struct trow *t = &t_rows[i];
        t->id = i + 1;
        t->has_a = (r >> 20) % 5 != 0;
        t->a = (int64_t)((r >> 30) % 4) - 1;
        t->has_b = (r >> 40) % 4 != 0;
        snprintf(t->b, sizeof t->b, "%s", texts[(r >> 44) % 6]);
        t->has_c = (r >> 50) % 3 != 0;
        t->c = ((r >> 52) % 3) * 0.1;
    }
}

static void setup(void)
{
    snprintf(t_dir, sizeof t_dir, "/tmp/ferry-dsql-test-XXXXXX");
    cr_assert_not_null(mkdtemp(t_dir));
    char url[PATH_MAX + 32], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s/d.db", t_dir);
    struct store_options opt = {.create = 1};
    cr_assert_eq(store_open(url, &opt, &t_db, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(t_db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, "
                                  "c REAL) STRICT"),
                 0);
    fill_rows();
    for (int i = 0; i < NROWS; i++) {
        const struct trow *t = &t_rows[i];
        struct store_value v[] = {SV_INT(t->id), t->has_a ? SV_INT(t->a) : SV_NULL(),
                                  t->has_b ? SV_TEXT(t->b) : SV_NULL(),
                                  t->has_c ? SV_DOUBLE(t->c) : SV_NULL()};
        cr_assert_eq(store_execv(t_db, "INSERT INTO t VALUES ($1, $2, $3, $4)", v, 4, NULL), 0,
                     "%s", store_errmsg(t_db));
    }
    arena_init(&t_arena);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    arena_free(&t_arena);
    store_close(t_db);
    t_db = NULL;
    nftw(t_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(dsql, .init = setup, .fini = teardown);

/* ---- the reference order ------------------------------------------------------------ */

static struct dq_sort *t_order;
static size_t t_norder;

/* NULL is larger than any value; descending reverses it. */
static int cmp_col(const struct trow *x, const struct trow *y, size_t col)
{
    int hx = col == 1 ? x->has_a : col == 2 ? x->has_b : col == 3 ? x->has_c : 1;
    int hy = col == 1 ? y->has_a : col == 2 ? y->has_b : col == 3 ? y->has_c : 1;
    if (!hx || !hy)
        return hx == hy ? 0 : hx ? -1 : 1;
    switch (col) {
    case 0:
        return (x->id > y->id) - (x->id < y->id);
    case 1:
        return (x->a > y->a) - (x->a < y->a);
    case 2:
        return strcmp(x->b, y->b) < 0 ? -1 : strcmp(x->b, y->b) > 0;
    default:
        return (x->c > y->c) - (x->c < y->c);
    }
}

static int cmp_rows(const void *p, const void *q)
{
    for (size_t i = 0; i < t_norder; i++) {
        int c = cmp_col(p, q, t_order[i].col);
        if (c)
            return t_order[i].desc ? -c : c;
    }
    return 0;
}

/* ---- paging ---------------------------------------------------------------------------- */

static size_t all_cols[] = {0, 1, 2, 3};

static size_t key_col0[] = {0};

/* Page through the table in order `sort` (the key appended), page_size rows at a
 * time; write the ids seen to ids. Returns the number of rows. by_row: position
 * each page with a row cursor (the key and a NULL mask) instead of the values. */
static size_t page_through(struct dq_sort *sort, size_t nsort, int64_t page_size, int64_t *ids,
                           int by_row)
{
    struct dq_query q = {.page_size = page_size, .select = all_cols, .nselect = 4};
    q.sort = sort, q.nsort = nsort;
    q.key_cols = key_col0, q.nkey = 1;
    size_t seen = 0;
    for (int pages = 0; pages < NROWS + 2; pages++) {
        struct dsql sql;
        store_stmt *st = NULL;
        cr_assert_eq(dsql_rows(&t_ds, STORE_SQLITE, &q, page_size, &t_arena, &sql), 0);
        cr_assert_eq(store_prepare(t_db, sql.sql, &st), 0, "%s: %s", sql.sql, store_errmsg(t_db));
        cr_assert_eq(store_bind_all(st, sql.params, sql.nparams), 0);
        struct store_value *last = arena_calloc(&t_arena, nsort, sizeof *last);
        int64_t n = 0;
        while (store_step(st) == STORE_ROW) {
            ids[seen++] = store_column_int(st, 0);
            cr_assert_leq(seen, NROWS, "more rows than the table has: %s", sql.sql);
            for (size_t i = 0; i < nsort; i++) {
                size_t at = sql.sort_at[i];
                struct store_value v =
                    rowenc_value(st, (int)at, t_cols[sql.cols[at]].type, STORE_SQLITE);
                if (v.type == STORE_TEXT)
                    v.v.s.p = arena_strndup(&t_arena, v.v.s.p, v.v.s.n);
                last[i] = v;
            }
            n++;
        }
        store_stmt_reset(st);
        if (n < page_size)
            return seen;
        if (by_row) {
            struct store_value *key = arena_calloc(&t_arena, 1, sizeof *key);
            key[0] = SV_INT(ids[seen - 1]);
            q.after_nulls = 0;
            for (size_t i = 0; i < nsort; i++)
                if (last[i].type == STORE_NULL)
                    q.after_nulls |= 1u << i;
            q.after_row = key;
        } else {
            q.after = last;
        }
    }
    cr_assert_fail("paging did not end");
    return seen;
}

static void check_order(const char *spec, int by_row)
{
    struct dq_sort sort[5];
    size_t n = 0;
    for (const char *p = spec; *p; p++) {
        if (*p == ',')
            continue;
        int desc = *p == '-';
        if (desc)
            p++;
        sort[n].col = (size_t)(*p == 'a' ? 1 : *p == 'b' ? 2 : *p == 'c' ? 3 : 0);
        sort[n++].desc = desc;
    }
    sort[n].col = 0, sort[n++].desc = 0; /* the key */
    struct trow expect[NROWS];
    memcpy(expect, t_rows, sizeof expect);
    t_order = sort, t_norder = n;
    qsort(expect, NROWS, sizeof expect[0], cmp_rows);
    int64_t page_sizes[] = {1, 7, 50, 1000};
    for (size_t k = 0; k < sizeof page_sizes / sizeof page_sizes[0]; k++) {
        int64_t ids[NROWS];
        size_t got = page_through(sort, n, page_sizes[k], ids, by_row);
        cr_assert_eq(got, NROWS, "order %s, pages of %lld: %zu rows", spec,
                     (long long)page_sizes[k], got);
        for (size_t i = 0; i < NROWS; i++)
            cr_assert_eq(ids[i], expect[i].id,
                         "order %s, pages of %lld: row %zu is id %lld, not %lld", spec,
                         (long long)page_sizes[k], i, (long long)ids[i], (long long)expect[i].id);
    }
}

Test(dsql, key_order_is_a_row_value_range)
{
    struct dq_sort sort[] = {{0, 0}};
    struct store_value after[] = {SV_INT(10)};
    struct dq_query q = {
        .page_size = 5, .select = all_cols, .nselect = 4, .sort = sort, .nsort = 1};
    q.after = after;
    struct dsql sql;
    cr_assert_eq(dsql_rows(&t_ds, STORE_SQLITE, &q, 6, &t_arena, &sql), 0);
    cr_assert_str_eq(sql.sql, "SELECT \"id\", \"a\", \"b\", \"c\" FROM \"main\".\"t\" WHERE "
                              "\"id\" > $1 ORDER BY \"id\" ASC LIMIT $2");
    cr_assert_eq(sql.nparams, 2);
}

Test(dsql, every_order_pages_each_row_once_in_order)
{
    const char *orders[] = {"",     "a",     "-a",       "b",      "-b",      "c",
                            "-c",   "a,b",   "a,-b",     "-a,b",   "-a,-b",   "b,-c",
                            "-c,a", "a,b,c", "-a,-b,-c", "c,-a,b", "-b,c,-a", "-id"};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        check_order(orders[i], 0);
}

Test(dsql, row_cursors_page_like_value_cursors)
{
    const char *orders[] = {"", "a", "-a", "b,-c", "-b,c,-a", "c,-a,b", "-id"};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        check_order(orders[i], 1);
}

/* ---- filters ---------------------------------------------------------------------------- */

static size_t count_where(struct dq_filter *f, size_t nf)
{
    struct dq_sort sort[] = {{0, 0}};
    struct dq_query q = {
        .page_size = 1000, .select = all_cols, .nselect = 4, .sort = sort, .nsort = 1};
    q.filters = f, q.nfilters = nf;
    struct dsql sql;
    int64_t n = -1;
    cr_assert_eq(dsql_count(&t_ds, STORE_SQLITE, &q, &t_arena, &sql), 0);
    cr_assert_geq(store_query_int(t_db, sql.sql, sql.params, sql.nparams, &n), 0, "%s: %s", sql.sql,
                  store_errmsg(t_db));
    return (size_t)n;
}

static size_t count_c(int (*pred)(const struct trow *, const char *), const char *arg)
{
    size_t n = 0;
    for (int i = 0; i < NROWS; i++)
        n += pred(&t_rows[i], arg) != 0;
    return n;
}

static int p_contains(const struct trow *t, const char *s)
{
    return t->has_b && strstr(t->b, s);
}
static int p_starts(const struct trow *t, const char *s)
{
    return t->has_b && strncmp(t->b, s, strlen(s)) == 0;
}
static int p_ends(const struct trow *t, const char *s)
{
    size_t n = strlen(t->b), k = strlen(s);
    return t->has_b && n >= k && strcmp(t->b + n - k, s) == 0;
}

Test(dsql, text_filters_are_literal_and_case_sensitive)
{
    const char *needles[] = {"%", "_", "y", "y%", "b", "abc", "", "A", "z"};
    enum dq_op ops[] = {DQ_CONTAINS, DQ_STARTSWITH, DQ_ENDSWITH};
    int (*preds[])(const struct trow *, const char *) = {p_contains, p_starts, p_ends};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        for (size_t k = 0; k < 3; k++) {
            struct store_value v = SV_TEXT(needles[i]);
            struct dq_filter f = {.col = 2, .op = ops[k], .values = &v, .nvalues = 1};
            cr_assert_eq(count_where(&f, 1), count_c(preds[k], needles[i]), "%s %s",
                         dq_op_name(ops[k]), needles[i]);
        }
    }
}

static int p_a_in(const struct trow *t, const char *s)
{
    (void)s;
    return t->has_a && (t->a == 0 || t->a == 2);
}
static int p_a_notin(const struct trow *t, const char *s)
{
    (void)s;
    return t->has_a && t->a != 0 && t->a != 2;
}
static int p_a_null_and_c_gt(const struct trow *t, const char *s)
{
    (void)s;
    return !t->has_a && t->has_c && t->c > 0.1;
}

Test(dsql, list_null_and_comparison_filters)
{
    struct store_value in[] = {SV_INT(0), SV_INT(2)};
    struct dq_filter f_in = {.col = 1, .op = DQ_IN, .values = in, .nvalues = 2};
    cr_assert_eq(count_where(&f_in, 1), count_c(p_a_in, NULL));
    f_in.op = DQ_NOTIN;
    cr_assert_eq(count_where(&f_in, 1), count_c(p_a_notin, NULL));
    struct store_value gt = SV_DOUBLE(0.1);
    struct dq_filter two[] = {{.col = 1, .op = DQ_ISNULL},
                              {.col = 3, .op = DQ_GT, .values = &gt, .nvalues = 1}};
    cr_assert_eq(count_where(two, 2), count_c(p_a_null_and_c_gt, NULL));
}

Test(dsql, names_are_quoted_through_store_quote_ident)
{
    struct catalog_column cols[] = {{.name = "id", .type = COLTYPE_INTEGER, .generated = 1},
                                    {.name = "we\"ird", .type = COLTYPE_TEXT, .nullable = 1}};
    struct catalog_dataset d = {
        .name = "t", .schema = "main", .cols = cols, .ncols = 2, .key = t_key, .nkey = 1};
    size_t sel[] = {1};
    struct dq_sort sort[] = {{1, 1}, {0, 0}};
    struct store_value v = SV_TEXT("x'); DROP TABLE t; --");
    struct dq_filter f = {.col = 1, .op = DQ_EXACT, .values = &v, .nvalues = 1};
    struct dq_query q = {.page_size = 5,
                         .select = sel,
                         .nselect = 1,
                         .sort = sort,
                         .nsort = 2,
                         .filters = &f,
                         .nfilters = 1};
    struct dsql sql;
    cr_assert_eq(dsql_rows(&d, STORE_POSTGRESQL, &q, 6, &t_arena, &sql), 0);
    cr_assert_str_eq(sql.sql, "SELECT \"we\"\"ird\", \"id\" FROM \"main\".\"t\" WHERE "
                              "(\"we\"\"ird\" = $1) ORDER BY \"we\"\"ird\" DESC NULLS FIRST, "
                              "\"id\" ASC LIMIT $2");
    cr_assert_eq(sql.nout, 1);
    cr_assert_eq(sql.ncols, 2);
    cr_assert_eq(sql.sort_at[0], 0);
    cr_assert_eq(sql.sort_at[1], 1);
}

/* SQLite timestamptz text: "...:00Z" must sort before "...:00.25Z" and ".5Z",
 * in the order, in filters and across pages. */
Test(dsql, sqlite_timestamptz_text_sorts_as_time)
{
    cr_assert_eq(store_exec(t_db, "CREATE TABLE tz (id INTEGER PRIMARY KEY, ts TEXT) STRICT; "
                                  "INSERT INTO tz VALUES (1, '2024-01-01T10:00:00.5Z'), "
                                  "(2, '2024-01-01T10:00:00Z'), (3, '2024-01-01T09:00:01Z'), "
                                  "(4, '2024-01-01T10:00:00.25Z'), (5, NULL)"),
                 0, "%s", store_errmsg(t_db));
    struct catalog_column cols[] = {{.name = "id", .type = COLTYPE_INTEGER, .generated = 1},
                                    {.name = "ts", .type = COLTYPE_TIMESTAMPTZ, .nullable = 1}};
    struct catalog_dataset d = {
        .name = "tz", .schema = "main", .cols = cols, .ncols = 2, .key = t_key, .nkey = 1};
    size_t sel[] = {0, 1};
    struct dq_sort sort[] = {{1, 0}, {0, 0}};
    struct dq_query q = {.page_size = 1,
                         .select = sel,
                         .nselect = 2,
                         .sort = sort,
                         .nsort = 2,
                         .key_cols = key_col0,
                         .nkey = 1};
    int64_t want[] = {3, 2, 4, 1, 5}, got[8];
    size_t n = 0;
    for (int page = 0; page < 8; page++) {
        struct dsql sql;
        store_stmt *st = NULL;
        cr_assert_eq(dsql_rows(&d, STORE_SQLITE, &q, 1, &t_arena, &sql), 0);
        cr_assert_eq(store_prepare(t_db, sql.sql, &st), 0, "%s", store_errmsg(t_db));
        cr_assert_eq(store_bind_all(st, sql.params, sql.nparams), 0);
        if (store_step(st) != STORE_ROW) {
            store_stmt_reset(st);
            break;
        }
        got[n++] = store_column_int(st, 0);
        struct store_value *last = arena_calloc(&t_arena, 2, sizeof *last);
        last[0] = rowenc_value(st, 1, COLTYPE_TIMESTAMPTZ, STORE_SQLITE);
        if (last[0].type == STORE_TEXT)
            last[0].v.s.p = arena_strndup(&t_arena, last[0].v.s.p, last[0].v.s.n);
        last[1] = SV_INT(got[n - 1]);
        store_stmt_reset(st);
        q.after = last;
    }
    cr_assert_eq(n, 5);
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(got[i], want[i], "row %zu: id %lld, want %lld", i, (long long)got[i],
                     (long long)want[i]);

    struct store_value v = SV_TEXT("2024-01-01T10:00:00Z");
    struct dq_filter f = {.col = 1, .op = DQ_GT, .values = &v, .nvalues = 1};
    struct dq_query c = {
        .select = sel, .nselect = 2, .sort = sort, .nsort = 2, .filters = &f, .nfilters = 1};
    struct dsql sql;
    int64_t count = -1;
    cr_assert_eq(dsql_count(&d, STORE_SQLITE, &c, &t_arena, &sql), 0);
    cr_assert_eq(store_query_int(t_db, sql.sql, sql.params, sql.nparams, &count), 1);
    cr_assert_eq(count, 2, "ids 1 and 4 are after 10:00:00Z");
}
