/*
 * cursor: the opaque, tamper-evident position of a keyset page. A cursor holds
 * the sort-key values of the last row a page returned; the next page is the
 * rows strictly after them in the query's order.
 *
 * Text form (URL-safe, no padding): base64url( version 1 | n | values... | mac )
 *
 *   n        one byte, the number of values (1..CURSOR_MAX_VALUES)
 *   value    a tag byte then its data:
 *              'n'  SQL NULL (no data)
 *              'i'  int64, 8 bytes big-endian
 *              'd'  double, the 8 bytes of its IEEE-754 bits, big-endian
 *              't'  text: length as 2 bytes big-endian, then the bytes
 *              'b'  boolean: 1 byte, 0 or 1
 *   mac      the first CURSOR_MAC_BYTES of HMAC-SHA256(key, scope | 0x00 |
 *            everything before the mac)
 *
 * The scope binds a cursor to what it was made for (the dataset and its sort
 * order, say "orders\x1fa,-b,id"): a cursor from another dataset or another
 * order fails the MAC like a tampered one. Values are bound back exactly as
 * they were read (doubles bit for bit), so a tie on a sort value resumes at
 * the right row.
 *
 * The key comes from the server secret (secret_derive with label
 * "ferry cursor v1"), so every process sharing the secret (all of a
 * PostgreSQL deployment's) accepts the others' cursors, and a new secret
 * invalidates old ones (a 400, not wrong rows).
 *
 * Pure functions: no I/O, no globals. Thread-safe.
 */
#ifndef FERRY_API_CURSOR_H
#define FERRY_API_CURSOR_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "store/store.h"

#define CURSOR_KEY_BYTES  32
#define CURSOR_MAC_BYTES  16
#define CURSOR_MAX_VALUES 16
/* The largest text value a cursor carries; a sort value longer than this
 * cannot be paged past (cursor_encode fails with ERR_TOOBIG). */
#define CURSOR_TEXT_MAX   1024
/* The longest cursor text cursor_decode accepts. */
#define CURSOR_MAX_CHARS  4096

/* Append the cursor for n values (1..CURSOR_MAX_VALUES; STORE_NULL, STORE_INT,
 * STORE_DOUBLE, STORE_TEXT, STORE_BOOL; blobs and text that is not valid UTF-8
 * are refused with ERR_INVAL) to out. key, scope (NUL-terminated) and values
 * are borrowed. Returns 0, ERR_INVAL, ERR_TOOBIG (a text value longer than
 * CURSOR_TEXT_MAX, a cursor that would be longer than CURSOR_MAX_CHARS, so
 * that cursor_decode could not take it back: a few long texts together, or
 * out is full) or ERR_INTERNAL (the crypto library failed); out is unchanged
 * on error. */
int cursor_encode(const unsigned char key[CURSOR_KEY_BYTES], const char *scope,
                  const struct store_value *values, size_t n, struct buf *out);

/* Decode and verify a cursor made for scope with n values (text is
 * NUL-terminated; key, scope and text are borrowed). On success fills
 * values[0..n) (text values point into memory allocated from a, each
 * NUL-terminated after its length) and returns 0. Any flaw (empty, bad
 * base64, wrong version, wrong count, truncated or trailing bytes, unknown
 * tag, a boolean byte other than 0/1, text that is not valid UTF-8, bad MAC,
 * longer than CURSOR_MAX_CHARS) is ERR_INVAL, with values untouched and
 * nothing allocated; ERR_INTERNAL if the crypto library failed. The MAC is
 * checked in constant time, before anything else of the payload is believed. */
int cursor_decode(const unsigned char key[CURSOR_KEY_BYTES], const char *scope, const char *text,
                  size_t n, struct arena *a, struct store_value *values);

#endif
