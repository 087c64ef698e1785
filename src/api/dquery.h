/*
 * dquery: the query string of GET /api/v1/datasets/{name}/data, parsed and
 * checked against the dataset's columns, into a struct dq_query the SQL
 * builder (dsql.h) and the handler (data.c) use. Pure: no I/O; everything it
 * allocates comes from the caller's arena.
 *
 * Parameters (names are exact, lower case; values are already percent-decoded)
 *
 *   orientation  tabular (default) | records                 (JSON only)
 *   format       json (default) | csv | ndjson
 *   page_size    1..limits.page_size_max (digits only); default
 *                limits.page_size_default
 *                (JSON only: csv and ndjson stream the whole result)
 *   count        none (default) | exact | estimated          (JSON only)
 *                "JSON only" parameters given with format=csv or ndjson are
 *                a 400, not silently ignored.
 *   select       a,b,c   the columns to return, in that order; default all
 *   sort         a,-b    sort columns, '-' for descending; the dataset's key
 *                        columns are appended (ascending) unless already there,
 *                        so the order is total and ties are broken by the key.
 *                        At most CURSOR_MAX_VALUES entries, key included.
 *                select and sort: names exact, no spaces; an empty item, an
 *                unknown column or a column named twice ("a,-a") is a 400.
 *   cursor       from a previous page's next URL (cursor.h). Besides the MAC,
 *                each value must suit its column's type (NULL; boolean:
 *                bool or int; integer: int; decimal: double, int or text;
 *                the others: text), so a cursor from before a reload that
 *                changed a type is refused like a bad one. When the last
 *                row's sort values are too long for a cursor (a text over
 *                CURSOR_TEXT_MAX), the handler makes a row cursor instead:
 *                the row's key values and a NULL mask (row_cursor_scope),
 *                decoded into after_row / after_nulls.
 *   next-id      N: rows whose integer key "id" is >= N (the seeds' paging;
 *                only on datasets whose key is exactly the integer column
 *                "id", not with sort (even sort=id), not with cursor)
 *   bewit        Hawk's pre-signed URL parameter: ignored here
 *   COL          filter: COL equals the value (same as COL__exact)
 *   COL__OP      filter with an operator. A name is split at its last "__"
 *                when what follows is an operator and what precedes a
 *                column; otherwise the whole name must be a column (exact).
 *                So with columns "a" and "a__b": a__b=x is exact on a__b,
 *                a__in=x on a, a__b__gt=x on a__b.
 *                Operators:
 *                  exact not gt gte lt lte   one value, parsed by the column's type
 *                  contains startswith endswith   text columns only; the value
 *                                                 is literal (no wildcards), case
 *                                                 sensitive
 *                  in notin                  a comma-separated list, or a JSON
 *                                            array (["a,b", "c"]) for values
 *                                            holding commas; 1..limits.max_in.
 *                                            A value starting with '[' is read
 *                                            as JSON: strings, integers and
 *                                            true/false (as their text), each
 *                                            element parsed by the column type.
 *                                            Commas alone: "a,,b" has an empty
 *                                            value, "" is one empty value.
 *                  isnull notnull            value "", 1 or true; 0 or false
 *                                            gives the opposite test (true and
 *                                            false in any case)
 *   A column whose name is one of the reserved parameter names above is
 *   filtered with COL__exact. Filters are ANDed. The same parameter twice
 *   (other than filters) is a 400.
 *
 * Values by column type (after coltype.h; NULL tokens are not special here:
 * use isnull). Every value, each element of a list included, is at most
 * limits.max_value_bytes and valid UTF-8 (else a 400).
 *   boolean      true/false, t/f, yes/no, y/n, 1/0 (any case)
 *   integer      an integer in 64 bits
 *   decimal      a number (what coltype accepts as decimal or integer; an
 *                integer too long for a decimal binds as SV_INT on SQLite,
 *                as its text on PostgreSQL)
 *   date         YYYY-MM-DD
 *   timestamp    a date or timestamp without zone
 *   timestamptz  a timestamp with a zone; one without a zone, or a date
 *                (midnight), is read as UTC
 *   text         anything
 * Each value is converted with coltype_convert for the backend, so it binds
 * exactly like the stored values compare; texts are copied into the arena.
 *
 * Errors: dq_parse fills a struct dq_error naming the parameter, with a
 * message a person can act on, e.g.
 *   page_size: must be an integer from 1 to 10000
 *   select: unknown column "nmae"
 *   price__gt: "abc" is not a decimal
 *   cursor: invalid or expired cursor
 * Messages quote at most 64 bytes of a value, escapes included (longer ones
 * are cut, with "..."), write control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 as \xNN and '"' and '\' with a backslash, and never
 * hold SQL. param is escaped the same way and cut to fit.
 */
#ifndef FERRY_API_DQUERY_H
#define FERRY_API_DQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "api/cursor.h"
#include "core/arena.h"
#include "ingest/catalog.h"
#include "store/store.h"

enum dq_format { DQ_FORMAT_JSON = 0, DQ_FORMAT_CSV, DQ_FORMAT_NDJSON };
enum dq_orientation { DQ_TABULAR = 0, DQ_RECORDS };
enum dq_count { DQ_COUNT_NONE = 0, DQ_COUNT_EXACT, DQ_COUNT_ESTIMATED };

enum dq_op {
    DQ_EXACT = 0,
    DQ_NOT,
    DQ_GT,
    DQ_GTE,
    DQ_LT,
    DQ_LTE,
    DQ_CONTAINS,
    DQ_STARTSWITH,
    DQ_ENDSWITH,
    DQ_IN,
    DQ_NOTIN,
    DQ_ISNULL, /* isnull=0 and notnull=1 both become DQ_NOTNULL, and so on */
    DQ_NOTNULL,
    DQ_OP_COUNT
};

/* "exact", "not", ... */
const char *dq_op_name(enum dq_op op);

struct dq_filter {
    size_t col; /* index into the dataset's columns */
    enum dq_op op;
    /* The typed values: one for exact..endswith, 1..max_in for in/notin, none
     * for isnull/notnull. For contains/startswith/endswith the text as given. */
    struct store_value *values;
    size_t nvalues;
    const char *param; /* the parameter name as given ("price__gt"), for messages */
};

struct dq_sort {
    size_t col; /* index into the dataset's columns */
    int desc;
};

struct dq_limits {
    int64_t page_size_default; /* 100 */
    int64_t page_size_max;     /* 10000 (config api.max_page_size) */
    size_t max_filters;        /* most filter parameters in one query: 64 */
    size_t max_in;             /* most values in one in/notin list: 1000 */
    size_t max_value_bytes;    /* longest filter value (each in a list): 4096 */
};

/* The defaults above. */
void dq_limits_default(struct dq_limits *lim);

struct dq_query {
    enum dq_format format;
    enum dq_orientation orientation;
    enum dq_count count;
    int64_t page_size;

    /* The columns to output, in order (indexes into the dataset's columns);
     * every column in dataset order when there was no select. */
    size_t *select;
    size_t nselect;

    /* The whole order: the user's sort columns (nsort_user of them), then the
     * key columns not already among them, ascending. Never empty. */
    struct dq_sort *sort;
    size_t nsort;
    size_t nsort_user;

    struct dq_filter *filters;
    size_t nfilters;

    /* From cursor=: the sort values of the last row already seen, one per
     * sort entry (nsort of them), typed as the cursor carried them. NULL
     * when there was no cursor. */
    struct store_value *after;

    /* A row cursor instead (cursor.h values too long to carry: a sort value
     * over CURSOR_TEXT_MAX): the last row's key values (nkey of them, for
     * key_cols) and which of its sort values were NULL (bit i for sort entry
     * i); the SQL looks the sort values up by key. NULL when not used. */
    struct store_value *after_row;
    uint32_t after_nulls;

    /* The dataset's key columns (indexes into its columns), in key order. */
    size_t *key_cols;
    size_t nkey;

    /* From next-id=. */
    int has_next_id;
    int64_t next_id;

    /* What a cursor for this query is bound to: the dataset name and the
     * order ("orders\x1fa,-b,id"). Use it for cursor_encode of the next page. */
    const char *cursor_scope;
    /* The scope of a row cursor: cursor_scope, 0x1f, "row". Its values are
     * the key values then the NULL mask (STORE_INT). */
    const char *row_cursor_scope;
};

struct dq_error {
    int status;     /* 400; 500 when dq_parse returned ERR_INTERNAL */
    char param[72]; /* the parameter at fault (cut to fit), "" if none */
    char message[256];
};

/* Parse n query parameters (keys[i] = values[i], decoded, in request order;
 * a NULL key or value reads as "") against dataset d for a backend. d, keys,
 * values, lim and cursor_key are borrowed; lim NULL means dq_limits_default.
 * cursor_key verifies cursor= (NULL: every cursor is refused). Returns 0 and
 * fills *q (its arrays and strings from a, which must outlive q), or
 * ERR_INVAL with *err filled (status 400). ERR_INTERNAL, with status 500 and
 * a message for the log, when the dataset cannot be queried: no key columns
 * and no "id" column to fall back on, a key naming a column it does not
 * have, a key of more than CURSOR_MAX_VALUES columns, a column of unknown
 * type, or an unknown backend. (The arena aborts on out-of-memory: there is
 * no ERR_NOMEM.) */
int dq_parse(const struct catalog_dataset *d, enum store_backend_kind backend,
             const char *const *keys, const char *const *values, size_t n,
             const struct dq_limits *lim, const unsigned char cursor_key[CURSOR_KEY_BYTES],
             struct arena *a, struct dq_query *q, struct dq_error *err);

/* 1 if the parameter name is one of the reserved names above (not a filter). */
int dq_param_reserved(const char *name);

#endif
