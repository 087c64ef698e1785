/*
 * coltype: the column types of datasets, how a CSV cell is recognised as one,
 * and how it becomes a typed value for the store. Pure functions, no I/O.
 *
 * Types (the name is what the catalog, --types and the API use)
 *
 *   boolean      true/false, t/f, yes/no, y/n (any letter case). Not 1/0: a
 *                column of 0s and 1s is an integer column.
 *   integer      [-]digits fitting in 64 bits; no '+', no spaces, no leading
 *                zeros ("0" and "-0" are integers, "007" is text: it is an
 *                identifier, not a number).
 *   decimal      any number of the form [-]digits[.digits][e[+-]digits] or
 *                [-].digits[e[+-]digits] (e or E; "5." and "+5" are text),
 *                with at most 15 significant digits (so a double holds it
 *                exactly and gives the same text back) and a magnitude
 *                between 1e-307 and 9.99e307 (or zero). Significant digits
 *                are all digits from the first non-zero one, trailing zeros
 *                included: "0.0012" has 2, "1.500" has 4, "100" has 3. More
 *                significant digits (integers beyond 64 bits, long fractions)
 *                make the value text: never a rounded number. So an integer
 *                cell is also a decimal unless it has 16-19 digits (then it is
 *                an integer only). Leading zeros before the point are allowed
 *                only as "0.x". No inf/nan.
 *   date         YYYY-MM-DD, a real calendar date (2024-02-30 is text),
 *                years 0001-9999.
 *   timestamp    YYYY-MM-DD[T or space]HH:MM[:SS[.f{1,6}]] without a zone;
 *                hours 00-23, seconds 00-59 (no leap second, no 24:00).
 *                A date is also a valid timestamp (midnight).
 *   timestamptz  a timestamp with a time, directly followed by Z, z, +HH,
 *                +HHMM or +HH:MM (or -), offset below 24 h, whose UTC time
 *                is still in years 0001-9999. A date with a zone is text.
 *   text         anything (valid UTF-8 is checked by the reader).
 *
 * NULL: an empty cell, and the whole-cell tokens NULL, None and N/A (exact
 * case as written here, whole cells only: "Nonesuch" is text).
 *
 * Inference: each cell's set of possible types (a bit mask) is ANDed over the
 * column; the most specific type left wins, in the order boolean, integer,
 * decimal, date, timestamp, timestamptz, text. So integers mixed with decimals
 * give decimal, dates with timestamps give timestamp, anything else mixed gives
 * text, and a column of only NULLs is text. The caller keeps that last rule:
 * start a column at COLTYPE_ALL, AND in coltype_classify of each non-NULL cell,
 * and count them; with none, the type is text (coltype_pick(COLTYPE_ALL) is
 * boolean, it cannot tell an all-NULL column from one of booleans).
 */
#ifndef FERRY_INGEST_COLTYPE_H
#define FERRY_INGEST_COLTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum coltype {
    COLTYPE_BOOLEAN = 0,
    COLTYPE_INTEGER,
    COLTYPE_DECIMAL,
    COLTYPE_DATE,
    COLTYPE_TIMESTAMP,
    COLTYPE_TIMESTAMPTZ,
    COLTYPE_TEXT,
    COLTYPE_COUNT
};

#define COLTYPE_BIT(t) (1u << (t))
#define COLTYPE_ALL    ((1u << COLTYPE_COUNT) - 1u)

/* "boolean", "integer", ... ; "?" for an out-of-range value. */
const char *coltype_name(enum coltype t);

/* Parse a type name: the names above, plus the aliases int/bigint -> integer,
 * bool -> boolean, numeric/real/float/double -> decimal, string/varchar ->
 * text, datetime -> timestamp (case-insensitive). Returns 0 or ERR_INVAL. */
int coltype_from_name(const char *name, size_t len, enum coltype *out);

/* 1 if the cell is NULL (empty, or exactly NULL / None / N/A). */
int coltype_is_null(const char *p, size_t n);

/* The set of types a non-NULL cell could be (COLTYPE_BIT of each; always
 * includes text). The caller checks coltype_is_null first. */
unsigned coltype_classify(const char *p, size_t n);

/* The most specific type in a mask (ANDed classifications); text for a mask
 * with no bit below text, and for 0. */
enum coltype coltype_pick(unsigned mask);

/* The SQL type of a column for a backend, for CREATE TABLE:
 *   SQLite (STRICT tables):  INTEGER (boolean 0/1 and integer), REAL (decimal),
 *                            TEXT (date, timestamp, timestamptz, text)
 *   PostgreSQL:              boolean, bigint, numeric, date, timestamp,
 *                            timestamptz, text
 * NULL for a type or backend out of range (a programming error). */
const char *coltype_sql(enum coltype t, enum store_backend_kind backend);

/* Scratch space a conversion may use (canonical timestamp text). */
#define COLTYPE_SCRATCH 40

/*
 * Convert a non-NULL cell to the value stored for a column of type t on a
 * backend. Returns 0, or ERR_INVAL if the cell is not a valid t (that is the
 * validation of loads into existing datasets); *out is then unchanged. A cell
 * converts to t exactly when coltype_classify gives it t's bit. out may point
 * into p or into scratch (valid while both are). Allocates nothing.
 *
 *   boolean      SV_BOOL
 *   integer      SV_INT
 *   decimal      SQLite: SV_DOUBLE (correctly rounded); PostgreSQL: SV_TEXTN
 *                of the cell (numeric keeps it exact); an integer cell is a
 *                valid decimal if it has at most 15 significant digits
 *   date         SV_TEXTN "YYYY-MM-DD"
 *   timestamp    SV_TEXTN "YYYY-MM-DDTHH:MM:SS[.ffffff]" (a date gets
 *                T00:00:00; seconds default to 00; the fraction as given)
 *   timestamptz  SV_TEXTN converted to UTC: "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
 *   text         SV_TEXTN of the cell
 */
int coltype_convert(enum coltype t, enum store_backend_kind backend, const char *p, size_t n,
                    char scratch[COLTYPE_SCRATCH], struct store_value *out);

#endif
