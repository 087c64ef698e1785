/*
 * dsql: builds the data API's SQL (see dsql.h for the shapes). One struct sql_b
 * collects the text and the binds; each clause is a small function appending
 * to it. Errors are sticky in the builder, checked once at the end.
 */
#include "api/dsql.h"

#include <string.h>

#include "core/err.h"

/* Enough binds for max_filters x max_in plus the cursor; more is refused. */
#define DSQL_MAX_PARAMS 65535

struct sql_b {
    struct buf sql;
    struct store_value *params;
    size_t nparams, cap;
    const struct catalog_dataset *d;
    enum store_backend_kind backend;
    struct arena *a;
    int err;
};

static void put(struct sql_b *b, const char *s)
{
    if (!b->err && buf_puts(&b->sql, s) < 0)
        b->err = ERR_TOOBIG;
}

static void put_col(struct sql_b *b, size_t col)
{
    if (!b->err)
        b->err = store_quote_ident(b->d->cols[col].name, &b->sql);
}

/* Append "$k" for a new bind of v. */
static void put_param(struct sql_b *b, struct store_value v)
{
    if (b->err)
        return;
    if (b->nparams == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        if (cap > DSQL_MAX_PARAMS) {
            b->err = ERR_TOOBIG;
            return;
        }
        struct store_value *p = arena_alloc(b->a, cap * sizeof *p);
        if (b->nparams)
            memcpy(p, b->params, b->nparams * sizeof *p);
        b->params = p, b->cap = cap;
    }
    b->params[b->nparams++] = v;
    if (buf_printf(&b->sql, "$%zu", b->nparams) < 0)
        b->err = ERR_TOOBIG;
}

/* "$k" of the bind added last (a value used twice in one expression). */
static void put_last_param(struct sql_b *b)
{
    if (!b->err && buf_printf(&b->sql, "$%zu", b->nparams) < 0)
        b->err = ERR_TOOBIG;
}

static int col_nullable(const struct sql_b *b, size_t col)
{
    return b->d->cols[col].nullable && !b->d->cols[col].generated;
}

/* SQLite keeps timestamptz as text ending in 'Z' ("...:00Z", "...:00.5Z"),
 * which does not sort as time ('Z' sorts after '.'); without the 'Z' it does
 * (like timestamp text). Comparisons and the order of such columns use
 * rtrim(x, 'Z') on both sides; PostgreSQL's timestamptz needs nothing. */
static int z_text(const struct sql_b *b, size_t col)
{
    return b->backend == STORE_SQLITE && b->d->cols[col].type == COLTYPE_TIMESTAMPTZ;
}

static void open_cmp(struct sql_b *b, size_t col)
{
    if (z_text(b, col))
        put(b, "rtrim(");
}

static void close_cmp(struct sql_b *b, size_t col)
{
    if (z_text(b, col))
        put(b, ", 'Z')");
}

/* The column as it is compared and ordered. */
static void put_cmp_col(struct sql_b *b, size_t col)
{
    open_cmp(b, col);
    put_col(b, col);
    close_cmp(b, col);
}

/* A new bind of v, compared with column col. */
static void put_cmp_param(struct sql_b *b, size_t col, struct store_value v)
{
    open_cmp(b, col);
    put_param(b, v);
    close_cmp(b, col);
}

static void put_from(struct sql_b *b)
{
    put(b, " FROM ");
    if (!b->err)
        b->err = store_quote_ident(b->d->schema, &b->sql);
    put(b, ".");
    if (!b->err)
        b->err = store_quote_ident(b->d->name, &b->sql);
}

/* ---- filters ----------------------------------------------------------------------- */

static void put_text_test(struct sql_b *b, const struct dq_filter *f)
{
    int pg = b->backend == STORE_POSTGRESQL;
    switch (f->op) {
    case DQ_CONTAINS:
        put(b, pg ? "strpos(" : "instr(");
        put_col(b, f->col);
        put(b, ", ");
        put_param(b, f->values[0]);
        put(b, ") > 0");
        break;
    case DQ_STARTSWITH:
        if (pg) {
            put(b, "starts_with(");
            put_col(b, f->col);
            put(b, ", ");
            put_param(b, f->values[0]);
            put(b, ")");
        } else {
            put(b, "substr(");
            put_col(b, f->col);
            put(b, ", 1, length(");
            put_param(b, f->values[0]);
            put(b, ")) = ");
            put_last_param(b);
        }
        break;
    default: /* DQ_ENDSWITH */
        if (pg) {
            put(b, "right(");
            put_col(b, f->col);
            put(b, ", length(");
            put_param(b, f->values[0]);
            put(b, ")) = ");
            put_last_param(b);
        } else {
            put(b, "substr(");
            put_col(b, f->col);
            put(b, ", length(");
            put_col(b, f->col);
            put(b, ") - length(");
            put_param(b, f->values[0]);
            put(b, ") + 1) = ");
            put_last_param(b);
        }
        break;
    }
}

static void put_list(struct sql_b *b, const struct dq_filter *f)
{
    put_cmp_col(b, f->col);
    put(b, f->op == DQ_IN ? " IN (" : " NOT IN (");
    for (size_t i = 0; i < f->nvalues; i++) {
        if (i)
            put(b, ", ");
        put_cmp_param(b, f->col, f->values[i]);
    }
    put(b, ")");
}

static void put_filter(struct sql_b *b, const struct dq_filter *f)
{
    static const char *const cmp[] = {
        [DQ_EXACT] = " = ", [DQ_NOT] = " <> ", [DQ_GT] = " > ",
        [DQ_GTE] = " >= ",  [DQ_LT] = " < ",   [DQ_LTE] = " <= ",
    };
    switch (f->op) {
    case DQ_EXACT:
    case DQ_NOT:
    case DQ_GT:
    case DQ_GTE:
    case DQ_LT:
    case DQ_LTE:
        put_cmp_col(b, f->col);
        put(b, cmp[f->op]);
        put_cmp_param(b, f->col, f->values[0]);
        break;
    case DQ_CONTAINS:
    case DQ_STARTSWITH:
    case DQ_ENDSWITH:
        put_text_test(b, f);
        break;
    case DQ_IN:
    case DQ_NOTIN:
        put_list(b, f);
        break;
    case DQ_ISNULL:
    case DQ_NOTNULL:
        put_col(b, f->col);
        put(b, f->op == DQ_ISNULL ? " IS NULL" : " IS NOT NULL");
        break;
    default:
        b->err = ERR_INVAL;
    }
}

/* " WHERE f1 AND f2 ..." (or nothing); *where tells a later clause to AND on. */
static void put_filters(struct sql_b *b, const struct dq_query *q, int *where)
{
    for (size_t i = 0; i < q->nfilters; i++) {
        put(b, *where ? " AND " : " WHERE ");
        *where = 1;
        put(b, "(");
        put_filter(b, &q->filters[i]);
        put(b, ")");
    }
}

/* ---- keyset ------------------------------------------------------------------------ */

/* Where the last row's sort values come from: the cursor's values, or (a row
 * cursor) its key values, with each other sort value looked up by key. */
struct position {
    const struct dq_query *q;
    size_t *key_param; /* row cursor: the bind number of each key value */
};

static int value_is_null(const struct position *p, size_t i)
{
    if (p->q->after)
        return p->q->after[i].type == STORE_NULL;
    return (p->q->after_nulls >> i & 1u) != 0;
}

static void put_row_ref(struct sql_b *b, const struct position *p, size_t col);

/* The last row's value of sort entry i: "$k", or for a row cursor
 * (SELECT "col" FROM t WHERE "k1" = $a AND ...) unless col is a key column. */
static void put_value(struct sql_b *b, const struct position *p, size_t i)
{
    const struct dq_query *q = p->q;
    size_t col = q->sort[i].col;
    if (q->after) {
        put_cmp_param(b, col, q->after[i]);
        return;
    }
    open_cmp(b, col);
    put_row_ref(b, p, col);
    close_cmp(b, col);
}

/* A row cursor's value of column col: its bound key value, or a lookup by key. */
static void put_row_ref(struct sql_b *b, const struct position *p, size_t col)
{
    const struct dq_query *q = p->q;
    for (size_t k = 0; k < q->nkey; k++) {
        if (q->key_cols[k] == col) {
            if (!b->err && buf_printf(&b->sql, "$%zu", p->key_param[k]) < 0)
                b->err = ERR_TOOBIG;
            return;
        }
    }
    put(b, "(SELECT ");
    put_col(b, col);
    put_from(b);
    for (size_t k = 0; k < q->nkey; k++) {
        put(b, k ? " AND " : " WHERE ");
        put_col(b, q->key_cols[k]);
        if (!b->err && buf_printf(&b->sql, " = $%zu", p->key_param[k]) < 0)
            b->err = ERR_TOOBIG;
    }
    put(b, ")");
}

/* Can the cursor test be one row-value comparison? */
static int row_value_ok(const struct sql_b *b, const struct position *p)
{
    const struct dq_query *q = p->q;
    for (size_t i = 0; i < q->nsort; i++) {
        if (col_nullable(b, q->sort[i].col) || value_is_null(p, i))
            return 0;
        if (q->sort[i].desc != q->sort[0].desc)
            return 0;
    }
    return 1;
}

static void put_row_value_after(struct sql_b *b, const struct position *p)
{
    const struct dq_query *q = p->q;
    if (q->nsort == 1) {
        put_cmp_col(b, q->sort[0].col);
        put(b, q->sort[0].desc ? " < " : " > ");
        put_value(b, p, 0);
        return;
    }
    put(b, "(");
    for (size_t i = 0; i < q->nsort; i++) {
        if (i)
            put(b, ", ");
        put_cmp_col(b, q->sort[i].col);
    }
    put(b, q->sort[0].desc ? ") < (" : ") > (");
    for (size_t i = 0; i < q->nsort; i++) {
        if (i)
            put(b, ", ");
        put_value(b, p, i);
    }
    put(b, ")");
}

/* after(i) of dsql.h, recursively (depth bounded by the sort length). */
static void put_after_from(struct sql_b *b, const struct position *p, size_t i)
{
    const struct dq_query *q = p->q;
    size_t col = q->sort[i].col;
    int last = i + 1 == q->nsort;
    int nullable = col_nullable(b, col);
    put(b, "(");
    if (value_is_null(p, i)) {
        if (!nullable) { /* cannot happen for a real row: nothing is after it */
            put(b, "1 = 0)");
            return;
        }
        put_col(b, col);
        if (q->sort[i].desc) { /* NULLs first: every non-NULL follows */
            put(b, " IS NOT NULL");
            if (!last) {
                put(b, " OR (");
                put_col(b, col);
                put(b, " IS NULL AND ");
                put_after_from(b, p, i + 1);
                put(b, ")");
            }
        } else { /* NULLs last: only NULLs with a later rest follow */
            put(b, " IS NULL AND ");
            if (last)
                put(b, "1 = 0");
            else
                put_after_from(b, p, i + 1);
        }
        put(b, ")");
        return;
    }
    put_cmp_col(b, col);
    put(b, q->sort[i].desc ? " < " : " > ");
    put_value(b, p, i);
    if (nullable && !q->sort[i].desc) {
        put(b, " OR ");
        put_col(b, col);
        put(b, " IS NULL");
    }
    if (!last) {
        put(b, " OR (");
        put_cmp_col(b, col);
        put(b, " = ");
        put_value(b, p, i);
        put(b, " AND ");
        put_after_from(b, p, i + 1);
        put(b, ")");
    }
    put(b, ")");
}

/* A row cursor's key values become binds first; the SQL refers to them by
 * number wherever it needs them. */
static void bind_row_keys(struct sql_b *b, struct position *p)
{
    const struct dq_query *q = p->q;
    p->key_param = arena_alloc(b->a, (q->nkey ? q->nkey : 1) * sizeof *p->key_param);
    size_t mark = b->sql.len;
    for (size_t k = 0; k < q->nkey; k++) {
        put_param(b, q->after_row[k]); /* writes "$n": taken back below */
        p->key_param[k] = b->nparams;
    }
    if (!b->err)
        buf_truncate(&b->sql, mark);
}

static void put_position(struct sql_b *b, const struct dq_query *q, int *where)
{
    struct position p = {.q = q};
    if (q->after || q->after_row) {
        if (q->after_row)
            bind_row_keys(b, &p);
        put(b, *where ? " AND " : " WHERE ");
        *where = 1;
        if (row_value_ok(b, &p))
            put_row_value_after(b, &p);
        else
            put_after_from(b, &p, 0);
    } else if (q->has_next_id) {
        put(b, *where ? " AND " : " WHERE ");
        *where = 1;
        put(b, "\"id\" >= ");
        put_param(b, SV_INT(q->next_id));
    }
}

static void put_order(struct sql_b *b, const struct dq_query *q)
{
    put(b, " ORDER BY ");
    for (size_t i = 0; i < q->nsort; i++) {
        if (i)
            put(b, ", ");
        put_cmp_col(b, q->sort[i].col);
        put(b, q->sort[i].desc ? " DESC" : " ASC");
        if (col_nullable(b, q->sort[i].col))
            put(b, q->sort[i].desc ? " NULLS FIRST" : " NULLS LAST");
    }
}

/* ---- the statements ------------------------------------------------------------------ */

static void builder_init(struct sql_b *b, const struct catalog_dataset *d,
                         enum store_backend_kind backend, struct arena *a)
{
    memset(b, 0, sizeof *b);
    buf_init(&b->sql, 1u << 20);
    b->d = d, b->backend = backend, b->a = a;
}

/* Move the text into the arena and fill out; frees the builder's buffer. */
static int builder_finish(struct sql_b *b, struct dsql *out)
{
    int rc = b->err;
    if (rc == 0)
        out->sql = arena_strndup(b->a, buf_cstr(&b->sql), b->sql.len);
    out->params = b->params;
    out->nparams = b->nparams;
    buf_free(&b->sql);
    return rc;
}

/* The returned columns: the output ones, then sort columns not among them. */
static void plan_columns(const struct dq_query *q, struct arena *a, struct dsql *out)
{
    out->cols = arena_alloc(a, (q->nselect + q->nsort) * sizeof *out->cols);
    out->sort_at = arena_alloc(a, q->nsort * sizeof *out->sort_at);
    memcpy(out->cols, q->select, q->nselect * sizeof *out->cols);
    out->ncols = out->nout = q->nselect;
    for (size_t i = 0; i < q->nsort; i++) {
        size_t at = 0;
        while (at < out->ncols && out->cols[at] != q->sort[i].col)
            at++;
        if (at == out->ncols)
            out->cols[out->ncols++] = q->sort[i].col;
        out->sort_at[i] = at;
    }
}

int dsql_rows(const struct catalog_dataset *d, enum store_backend_kind backend,
              const struct dq_query *q, int64_t limit, struct arena *a, struct dsql *out)
{
    memset(out, 0, sizeof *out);
    plan_columns(q, a, out);
    struct sql_b b;
    builder_init(&b, d, backend, a);
    int where = 0;
    put(&b, "SELECT ");
    for (size_t i = 0; i < out->ncols; i++) {
        if (i)
            put(&b, ", ");
        put_col(&b, out->cols[i]);
    }
    put_from(&b);
    put_filters(&b, q, &where);
    put_position(&b, q, &where);
    put_order(&b, q);
    if (limit > 0) {
        put(&b, " LIMIT ");
        put_param(&b, SV_INT(limit));
    }
    return builder_finish(&b, out);
}

int dsql_row_exists(const struct catalog_dataset *d, enum store_backend_kind backend,
                    const struct dq_query *q, struct arena *a, struct dsql *out)
{
    memset(out, 0, sizeof *out);
    struct sql_b b;
    builder_init(&b, d, backend, a);
    put(&b, "SELECT 1");
    put_from(&b);
    for (size_t k = 0; k < q->nkey; k++) {
        put(&b, k ? " AND " : " WHERE ");
        put_col(&b, q->key_cols[k]);
        put(&b, " = ");
        put_param(&b, q->after_row[k]);
    }
    return builder_finish(&b, out);
}

int dsql_count(const struct catalog_dataset *d, enum store_backend_kind backend,
               const struct dq_query *q, struct arena *a, struct dsql *out)
{
    memset(out, 0, sizeof *out);
    struct sql_b b;
    builder_init(&b, d, backend, a);
    int where = 0;
    put(&b, "SELECT count(*)");
    put_from(&b);
    put_filters(&b, q, &where);
    return builder_finish(&b, out);
}
