/*
 * csvfile: a streaming CSV reader (RFC 4180, its own scanner) that turns bytes
 * into records of UTF-8 fields, with every limit enforced and every error
 * located. (It does not use libcsv: a callback per byte and two copies of every
 * field made that a quarter of import time; see the top of csvfile.c.)
 *
 * The caller pushes bytes in chunks of any size (csvfile_feed) and gets one
 * callback per record, the header included (row 1). Memory is bounded by the
 * limits, never by the input size: a field longer than max_field is an error
 * as soon as it is seen, not after it has been buffered.
 *
 * What it handles
 *
 *   - Quoting: "a ""b""", embedded delimiters and newlines in quoted fields;
 *     CRLF, LF and lone CR line ends; a final record without a line end.
 *   - Spaces are data: " a " stays " a " (nothing is trimmed).
 *   - A UTF-8 byte order mark at the start is dropped (CSVFILE_UTF8 only: in
 *     latin-1 and cp1252 those three bytes are text).
 *   - Blank lines (no characters at all between two line ends) are skipped;
 *     they still count as lines.
 *   - Encoding: CSVFILE_UTF8 validates (an invalid sequence is an error giving
 *     its line and the byte offset of its first byte in the input; overlongs,
 *     surrogates and code points above U+10FFFF are invalid, and so is a
 *     sequence cut short by the end of the input); CSVFILE_LATIN1 and CSVFILE_CP1252
 *     convert to UTF-8 (iconv) before parsing; a byte cp1252 leaves undefined
 *     (0x81 0x8D 0x8F 0x90 0x9D) is an error with its line and offset. A NUL
 *     byte anywhere is an error (it cannot be stored as text).
 *   - Delimiter: given (',' ';' '\t' '|'), or 0 to sniff it from the first
 *     64 KiB (or the whole input if shorter): the candidate whose count per
 *     line, outside quotes, is the same non-zero number on the most lines
 *     wins; ties prefer , then ; then tab then |; none found means ','.
 *   - Ragged rows: every record must have as many fields as the header, else
 *     "row N has a different number of data points (X) than there are column
 *     headers (Y)" (N counts records, the header is row 1).
 *   - Malformed quoting (a quote inside an unquoted field, text after a
 *     closing quote, an unterminated quoted field at the end) is an error.
 *
 * Errors are sticky: after csvfile_feed/csvfile_finish returns <0, every later
 * call returns the same error and csvfile_error() describes it.
 */
#ifndef FERRY_INGEST_CSVFILE_H
#define FERRY_INGEST_CSVFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct csvfile csvfile;

enum csvfile_encoding { CSVFILE_UTF8 = 0, CSVFILE_LATIN1, CSVFILE_CP1252 };

/* Defaults used for a 0 in csvfile_options. */
#define CSVFILE_DEFAULT_MAX_FIELD   (1u << 20) /* 1 MiB */
#define CSVFILE_DEFAULT_MAX_COLUMNS 1000u
#define CSVFILE_DEFAULT_MAX_RECORD  (16u << 20) /* 16 MiB */

struct csvfile_options {
    char delimiter; /* ',' ';' '\t' '|', or 0 to sniff */
    enum csvfile_encoding encoding;
    size_t max_field;   /* bytes of one field after decoding; 0 = default */
    size_t max_columns; /* fields in one record; 0 = default */
    size_t max_record;  /* bytes of one record (all its fields); 0 = default */
};

struct csvfile_field {
    const char *p; /* UTF-8, NUL-terminated at p[n] for convenience */
    size_t n;
};

struct csvfile_record {
    const struct csvfile_field *fields; /* borrowed for the callback */
    size_t nfields;
    int64_t row;  /* record number, the header is 1 */
    int64_t line; /* physical line (1-based) the record starts on */
};

/* Called once per record, header first. Return 0 to go on; a negative ERR_*
 * code stops the reader: csvfile_feed/csvfile_finish return it (sticky), and
 * the message is what the callback set with csvfile_set_error ("stopped" if
 * it set none), located at the record's line and row. */
typedef int (*csvfile_record_fn)(void *ctx, const struct csvfile_record *rec);

/* errors (negative, from core/err.h): ERR_INVAL for anything wrong with the
 * input (message says what and where), ERR_TOOBIG for a limit exceeded,
 * ERR_NOMEM. */

/* The options as users write them (CLI flags, upload query parameters); NULL
 * means the default (sniff the delimiter; UTF-8). Delimiter: "," ";" "|" or
 * "tab" (also a tab character, or the two characters \t). Encoding, in any
 * case: utf-8 | utf8, latin-1 | latin1 | iso-8859-1, cp1252 | windows-1252.
 * Return 0, or ERR_INVAL for anything else. */
int csvfile_delimiter_parse(const char *s, char *out);
int csvfile_encoding_parse(const char *s, enum csvfile_encoding *out);

/* Create a reader. opt may be NULL (all defaults). ERR_INVAL for a bad
 * delimiter or encoding. */
int csvfile_open(const struct csvfile_options *opt, csvfile_record_fn fn, void *ctx, csvfile **out);

/* Push the next n bytes of input (copies what it keeps). Returns 0 or <0
 * (sticky); ERR_INVAL after csvfile_finish. */
int csvfile_feed(csvfile *r, const void *data, size_t n);

/* End of input: flushes a final record without a line end, runs sniffing on a
 * short input, and checks the header was seen. Returns 0 or <0 (calling it
 * again returns the same). An input with
 * no record at all is ERR_INVAL "no headers found"; one with only a header is
 * ERR_INVAL "no data found". */
int csvfile_finish(csvfile *r);

void csvfile_free(csvfile *r); /* accepts NULL */

/* After an error: a one-line message (never NULL; "" when there is none), and
 * where: the physical line (1-based; 0 if unknown), the byte offset in the
 * input as given (before decoding; -1 if unknown) and the row (0 if none). */
const char *csvfile_error(const csvfile *r);
int64_t csvfile_error_line(const csvfile *r);
int64_t csvfile_error_offset(const csvfile *r);
int64_t csvfile_error_row(const csvfile *r);

/* For a callback that rejects a record: set the message the reader reports
 * (printf-style, truncated to 255 bytes). */
void csvfile_set_error(csvfile *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The delimiter in use (the sniffed one once known; 0 before). */
char csvfile_delimiter(const csvfile *r);

/* Records seen so far (the header included) and input bytes given to
 * csvfile_feed (the BOM included). */
int64_t csvfile_rows(const csvfile *r);
int64_t csvfile_bytes(const csvfile *r);

/* ---- header names ---------------------------------------------------------------- */

/* Longest column name before a duplicate suffix: with its suffix ("_1") a
 * name stays within STORE_IDENT_MAX (63) bytes. */
#define CSVFILE_NAME_MAX 56

/* Turn header texts into column names that are safe identifiers:
 *   - ASCII letters lower-cased; every run of other characters (spaces,
 *     punctuation, non-ASCII) becomes one '_'; leading/trailing '_' trimmed;
 *   - a name starting with a digit gets the prefix "c_";
 *   - cut to CSVFILE_NAME_MAX bytes;
 *   - a header that leaves nothing (blank, or only symbols) becomes column_N
 *     (N = its 1-based position): no column is ever dropped;
 *   - duplicates become x, x_1, x_2, ... (recursively unique: a suffixed name
 *     that is itself taken gets the next number).
 * names receives n malloc'd strings (free each, then the array) — on error
 * nothing is allocated. Returns 0, ERR_NOMEM. */
int csvfile_column_names(const struct csvfile_field *headers, size_t n, char ***names);

#endif
