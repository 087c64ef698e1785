/*
 * dsql: the SQL of the data API, built from a parsed query (dquery.h) for one
 * dataset and backend. Pure: no I/O; identifiers go through
 * store_quote_ident, every value is a bind ($1, $2, ...).
 *
 * The page query
 *
 *   SELECT <output columns>, <sort columns not among them>
 *   FROM "schema"."dataset"
 *   WHERE <filters> AND <after the cursor> | <id >= next-id>
 *   ORDER BY <sort>
 *   LIMIT $n                     -- page_size + 1: the extra row says "more"
 *
 * Order: NULL counts as larger than every value (PostgreSQL's default, so its
 * indexes serve the order): ascending puts NULLs last, descending first.
 * Columns that cannot hold NULL (the key) get no NULLS clause and no IS NULL
 * branch, so the common case - key order after a cursor - is `"id" > $1`, an
 * index range scan whose cost does not grow with the page number.
 *
 * After the cursor (values v1..vn of the last row, in sort order):
 *   all entries ascending (or all descending) and NOT NULL: a row value,
 *     (c1, ..., cn) > ($1, ..., $n)
 *   otherwise the expansion, for entry i with rest = after(i+1):
 *     asc,  v non-NULL:  c > v OR c IS NULL OR (c = v AND rest)
 *     asc,  v NULL:      c IS NULL AND rest
 *     desc, v non-NULL:  c < v OR (c = v AND rest)
 *     desc, v NULL:      c IS NOT NULL OR (c IS NULL AND rest)
 *   (the IS NULL parts dropped for NOT NULL columns; the last entry's rest is
 *   false).
 *
 * Filters: = <> > >= < <= IN (...) NOT IN (...) IS NULL IS NOT NULL, and for
 * text: SQLite instr(c, $k) > 0, substr(c, 1, length($k)) = $k,
 * substr(c, length(c) - length($k) + 1) = $k; PostgreSQL strpos(c, $k) > 0,
 * starts_with(c, $k), right(c, length($k)) = $k. Case-sensitive on both.
 *
 * SQLite timestamptz text ends in 'Z' ("...:00Z", "...:00.5Z"), which does not
 * sort as time; such columns are compared and ordered as rtrim(c, 'Z') against
 * rtrim($k, 'Z'), which does.
 */
#ifndef FERRY_API_DSQL_H
#define FERRY_API_DSQL_H

#include <stddef.h>
#include <stdint.h>

#include "api/dquery.h"
#include "core/arena.h"
#include "core/buf.h"
#include "ingest/catalog.h"
#include "store/store.h"

struct dsql {
    const char *sql; /* NUL-terminated, in the arena */
    struct store_value *params;
    size_t nparams;
    /* The columns the query returns, as dataset column indexes: the nout
     * output columns first (q->select), then the sort columns not among them. */
    size_t *cols;
    size_t ncols;
    size_t nout;
    /* For each sort entry of the query, its position in cols. */
    size_t *sort_at;
};

/* The page query (limit > 0: LIMIT limit) or the whole-result query (limit 0:
 * no LIMIT, for exports). Returns 0, ERR_INVAL (a name store_quote_ident
 * refuses: not expected for catalog names), or ERR_TOOBIG (SQL over 1 MiB or
 * more than 65535 binds: beyond what dquery's limits allow). */
int dsql_rows(const struct catalog_dataset *d, enum store_backend_kind backend,
              const struct dq_query *q, int64_t limit, struct arena *a, struct dsql *out);

/* SELECT 1 for the row a row cursor names (q->after_row): does it still exist? */
int dsql_row_exists(const struct catalog_dataset *d, enum store_backend_kind backend,
                    const struct dq_query *q, struct arena *a, struct dsql *out);

/* SELECT count(*) with the query's filters (not the cursor). */
int dsql_count(const struct catalog_dataset *d, enum store_backend_kind backend,
               const struct dq_query *q, struct arena *a, struct dsql *out);

#endif
