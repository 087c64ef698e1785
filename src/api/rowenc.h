/*
 * rowenc: one column of the current row of a statement, written straight into
 * a response (JSON value or CSV field) or read back as a typed value (for a
 * cursor). This is the inner loop of every data response, so nothing here
 * allocates: values go from the store's buffers into the output buffer.
 *
 * What the two backends hold, by catalog type (coltype.h), and what is sent:
 *
 *   type         SQLite holds        PostgreSQL text       JSON            CSV
 *   boolean      INTEGER 0/1         "1"/"0" (store.h)     true/false      true/false
 *   integer      INTEGER             digits                number; beyond ±(2^53-1) a string
 *   decimal      REAL                numeric text          number (NaN: null)
 *   date         "YYYY-MM-DD"        same                  "YYYY-MM-DD"
 *   timestamp    "...THH:MM:SS[.f]"  "... HH:MM:SS[.f]"    "YYYY-MM-DDTHH:MM:SS[.f]"
 *   timestamptz  "...Z"              "...+00" (UTC conn.)  "YYYY-MM-DDTHH:MM:SS[.f]Z"
 *   text         TEXT                text                  string
 *   NULL                                                   null            empty field
 *
 * CSV fields are quoted when they hold the delimiter, a quote, CR or LF, or
 * are the empty string (so "" is an empty string and an empty field is NULL).
 */
#ifndef FERRY_API_ROWENC_H
#define FERRY_API_ROWENC_H

#include <stddef.h>

#include "core/buf.h"
#include "core/json.h"
#include "ingest/coltype.h"
#include "store/store.h"

/* Largest integer JSON consumers hold exactly (Number.MAX_SAFE_INTEGER). */
#define ROWENC_SAFE_INT 9007199254740991LL

/* Write column col of the current row as a JSON value. */
void rowenc_json(struct json_writer *w, store_stmt *st, int col, enum coltype t,
                 enum store_backend_kind b);

/* Append column col as a CSV field (no separator). Returns 0 or ERR_TOOBIG. */
int rowenc_csv(struct buf *out, store_stmt *st, int col, enum coltype t, enum store_backend_kind b);

/* Append text as a CSV field, quoted when needed. Returns 0 or ERR_TOOBIG. */
int rowenc_csv_text(struct buf *out, const char *s, size_t n);

/* Column col as the typed value a cursor carries and binds back: SQLite reads
 * integers and booleans as STORE_INT, decimals as STORE_DOUBLE (bit-exact),
 * the rest as text; PostgreSQL integers and booleans as STORE_INT, the rest
 * as text in the server's own form. Text is borrowed from the statement until
 * its next step. */
struct store_value rowenc_value(store_stmt *st, int col, enum coltype t, enum store_backend_kind b);

#endif
