/*
 * arena: a region allocator for objects that all die together (one HTTP
 * request, one parsed config file).
 *
 * Allocations come from a chain of blocks and are never freed one by one;
 * arena_free() releases all of them in one step. Out of memory aborts. Each
 * allocation is aligned for any object type. arena_alloc() of 0 bytes returns a
 * valid unique pointer. Large requests get a block of their own.
 *
 * An arena is a caller-allocated value: struct arena a; arena_init(&a); ...
 * arena_free(&a). After arena_free it may be used again as if just initialised.
 * Not thread-safe: one owner at a time.
 */
#ifndef FERRY_CORE_ARENA_H
#define FERRY_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* newest block first; NULL when empty */
    size_t total;             /* bytes requested so far (before rounding), for metrics and tests */
};

void arena_init(struct arena *a);

/* Release every allocation. Accepts NULL. */
void arena_free(struct arena *a);

/* n bytes, uninitialised, max-aligned. Never NULL. */
void *arena_alloc(struct arena *a, size_t n);

/* n bytes, zeroed. Never NULL. Aborts if count * size overflows. */
void *arena_calloc(struct arena *a, size_t count, size_t size);

/* Copies of strings into the arena, NUL-terminated. Never NULL (s NULL gives NULL
 * for arena_strdup only; arena_strndup needs a non-NULL s). arena_strndup copies at
 * most n bytes and stops at a NUL; it reads no further than that. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into the arena. Never NULL (a format vsnprintf rejects gives ""). */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
