/*
 * arena: a chain of blocks, newest first. An allocation is carved from the
 * head block by bumping its `used` offset, rounded up to ARENA_ALIGN so every
 * pointer is aligned for any object type. When the head has no room a new block
 * of ARENA_BLOCK bytes becomes the head; the unused tail of the old one is
 * abandoned (at most a quarter of a block, see below).
 *
 * A request larger than ARENA_BIG gets a block of exactly its size, linked
 * *behind* the head so the head's free space stays available for the small
 * allocations that follow. This bounds the waste per block to ARENA_BIG.
 *
 * Block data starts at a max_align_t boundary (the flexible array member has
 * that type), and malloc returns max-aligned memory, so offsets that are
 * multiples of ARENA_ALIGN give aligned pointers.
 */
#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN _Alignof(max_align_t)
#define ARENA_BLOCK ((size_t)8192)
#define ARENA_BIG   (ARENA_BLOCK / 4)

struct arena_block {
    struct arena_block *next;
    size_t used; /* bytes handed out from data, a multiple of ARENA_ALIGN */
    size_t cap;  /* bytes available in data */
    max_align_t data[];
};

/* A new block with room for cap bytes. Aborts on overflow or out of memory. */
static struct arena_block *arena_block_new(size_t cap)
{
    if (cap > SIZE_MAX - sizeof(struct arena_block))
        abort();
    struct arena_block *blk = malloc(sizeof(struct arena_block) + cap);
    if (!blk)
        abort();
    blk->next = NULL;
    blk->used = 0;
    blk->cap = cap;
    return blk;
}

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->total = 0;
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    struct arena_block *blk = a->head;
    while (blk) {
        struct arena_block *next = blk->next;
        free(blk);
        blk = next;
    }
    arena_init(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    /* Round up, and give 0-byte requests a slot of their own so the pointer is unique. */
    if (n > SIZE_MAX - ARENA_ALIGN)
        abort();
    size_t size = n == 0 ? ARENA_ALIGN : (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    struct arena_block *head = a->head;
    unsigned char *p;

    if (head && head->cap - head->used >= size) {
        p = (unsigned char *)head->data + head->used;
        head->used += size;
    } else if (size > ARENA_BIG) {
        struct arena_block *blk = arena_block_new(size);
        blk->used = size;
        if (head) {
            blk->next = head->next;
            head->next = blk;
        } else {
            a->head = blk;
        }
        p = (unsigned char *)blk->data;
    } else {
        struct arena_block *blk = arena_block_new(ARENA_BLOCK);
        blk->next = head;
        blk->used = size;
        a->head = blk;
        p = (unsigned char *)blk->data;
    }
    a->total += n;
    return p;
}

void *arena_calloc(struct arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        abort();
    void *p = arena_alloc(a, count * size);
    memset(p, 0, count * size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    if (!s)
        return NULL;
    return arena_strndup(a, s, SIZE_MAX);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) /* a bad format: give the caller an empty string rather than NULL */
        return arena_strndup(a, "", 0);
    char *p = arena_alloc(a, (size_t)n + 1);
    if ((size_t)n < sizeof small) {
        memcpy(p, small, (size_t)n + 1);
        return p;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
