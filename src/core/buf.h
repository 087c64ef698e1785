/*
 * buf: a bounded, growable byte buffer.
 *
 * A buf is a small value type the caller owns (on the stack or inside another
 * struct). Every buf has a limit, set once by buf_init(); an append that would
 * grow it past the limit fails with ERR_TOOBIG and leaves the contents as they
 * were, so the caller can turn it into a clear 413/422. Running out of memory
 * aborts the process (tiny allocations are not worth an error path each).
 *
 * The contents are always NUL-terminated (data[len] == 0) once anything has been
 * appended, so text can be passed to C string functions; the NUL is not counted
 * in len and does not count against the limit. An empty buf may have data NULL:
 * use buf_cstr() to get "" in that case.
 *
 * States: initialised (buf_init) -> used -> freed (buf_free, or emptied by
 * buf_take). A zeroed struct buf has limit 0: every non-empty append fails.
 */
#ifndef FERRY_CORE_BUF_H
#define FERRY_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes in use, excluding the trailing NUL */
    size_t cap;   /* bytes allocated, including room for the NUL */
    size_t limit; /* the most len may ever be */
};

/* Initialise an empty buffer whose length may never exceed limit bytes. */
void buf_init(struct buf *b, size_t limit);

/* Initialise a buffer over caller-owned storage of size bytes (size >= 1). It
 * never reallocates: its limit is size - 1 (room for the NUL). Never call
 * buf_free or buf_take on it. For hot paths that must not allocate. */
void buf_init_fixed(struct buf *b, char *storage, size_t size);

/* Free the contents and leave b empty (same limit). Accepts NULL. */
void buf_free(struct buf *b);

/* Forget the contents but keep the allocation for reuse. */
void buf_reset(struct buf *b);

/* Append n bytes (copies). Returns 0, or ERR_TOOBIG (b unchanged). The common
 * case, room already there, is inline: JSON and CSV output append a few bytes
 * at a time. */
int buf_append_grow(struct buf *b, const void *p, size_t n);
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
    /* room allocated, and within the limit (which callers may lower for a while) */
    if (n < b->cap - b->len && n <= b->limit - b->len) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append_grow(b, p, n);
}

/* Append a NUL-terminated string (copies). Returns 0 or ERR_TOOBIG. */
int buf_puts(struct buf *b, const char *s);

/* Append one byte. Returns 0 or ERR_TOOBIG. */
static inline int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

/* Append printf-formatted text. Returns 0, ERR_TOOBIG (b unchanged) or ERR_INVAL
 * for a bad format. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Make sure n more bytes can be appended without reallocating (within the limit).
 * Returns 0 or ERR_TOOBIG. */
int buf_reserve(struct buf *b, size_t n);

/* Shorten to len bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);

/* Remove the first n bytes (n <= b->len), shifting the rest down. */
void buf_consume(struct buf *b, size_t n);

/* The contents as a C string; "" when empty. Borrowed: valid until b changes. */
const char *buf_cstr(const struct buf *b);

/* Take ownership of the contents (a NUL-terminated malloc'd string, never NULL;
 * free() it). Writes the length to *len_out if not NULL. b is left empty. */
char *buf_take(struct buf *b, size_t *len_out);

#endif
