/*
 * Unit tests for src/core/arena.c: alignment, zero-size and large allocations,
 * the string helpers, and reuse after arena_free. ASan checks the bounds.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"

#define ALIGN _Alignof(max_align_t)

Test(arena, alignment)
{
    struct arena a;
    arena_init(&a);
    for (size_t n = 0; n < 300; n++) {
        unsigned char *p = arena_alloc(&a, n % 37);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % ALIGN, 0, "allocation %zu misaligned", n);
        memset(p, 0xAB, n % 37);
    }
    long double *ld = arena_alloc(&a, sizeof *ld);
    *ld = 1.5L;
    cr_assert_eq(*ld, 1.5L);
    arena_free(&a);
}

Test(arena, zero_size_is_unique)
{
    struct arena a;
    arena_init(&a);
    void *p = arena_alloc(&a, 0);
    void *q = arena_alloc(&a, 0);
    cr_assert_not_null(p);
    cr_assert_not_null(q);
    cr_assert_neq(p, q);
    arena_free(&a);
}

Test(arena, allocations_do_not_overlap)
{
    struct arena a;
    arena_init(&a);
    enum { N = 2000 };
    unsigned char *ptrs[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + i % 50;
        ptrs[i] = arena_alloc(&a, n);
        memset(ptrs[i], (int)(i & 0xFF), n);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < 1 + i % 50; k++)
            cr_assert_eq(ptrs[i][k], (unsigned char)(i & 0xFF), "allocation %zu byte %zu", i, k);
    arena_free(&a);
}

Test(arena, large_allocations)
{
    struct arena a;
    arena_init(&a);
    char *small1 = arena_alloc(&a, 10);
    memcpy(small1, "before", 7);
    size_t big_n = 4u << 20;
    char *big = arena_alloc(&a, big_n);
    cr_assert_eq((uintptr_t)big % ALIGN, 0);
    memset(big, 'x', big_n);
    char *small2 = arena_alloc(&a, 10);
    memcpy(small2, "after", 6);
    /* A block-sized and a just-too-big-for-the-rest request. */
    char *mid = arena_alloc(&a, 8192);
    memset(mid, 'm', 8192);
    char *mid2 = arena_alloc(&a, 3000);
    memset(mid2, 'n', 3000);
    cr_assert_str_eq(small1, "before");
    cr_assert_str_eq(small2, "after");
    cr_assert_eq(big[0], 'x');
    cr_assert_eq(big[big_n - 1], 'x');
    cr_assert_eq(a.total, 10 + big_n + 10 + 8192 + 3000);
    arena_free(&a);
}

Test(arena, calloc_zeroes)
{
    struct arena a;
    arena_init(&a);
    /* Dirty the memory first, then free and reuse it. */
    memset(arena_alloc(&a, 4000), 0xFF, 4000);
    arena_free(&a);
    int *v = arena_calloc(&a, 1000, sizeof *v);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(v[i], 0);
    cr_assert_not_null(arena_calloc(&a, 0, 8));
    cr_assert_not_null(arena_calloc(&a, 8, 0));
    arena_free(&a);
}

Test(arena, calloc_overflow_aborts, .signal = SIGABRT)
{
    struct arena a;
    arena_init(&a);
    arena_calloc(&a, SIZE_MAX / 2, 3);
}

Test(arena, alloc_overflow_aborts, .signal = SIGABRT)
{
    struct arena a;
    arena_init(&a);
    arena_alloc(&a, SIZE_MAX - 3);
}

Test(arena, strdup_strndup)
{
    struct arena a;
    arena_init(&a);
    const char *src = "hello";
    char *s = arena_strdup(&a, src);
    cr_assert_str_eq(s, "hello");
    cr_assert_neq(s, src);
    cr_assert_null(arena_strdup(&a, NULL));
    cr_assert_str_eq(arena_strdup(&a, ""), "");
    cr_assert_str_eq(arena_strndup(&a, "hello", 3), "hel");
    cr_assert_str_eq(arena_strndup(&a, "hello", 10), "hello");
    cr_assert_str_eq(arena_strndup(&a, "he\0llo", 6), "he");
    cr_assert_str_eq(arena_strndup(&a, "hello", 0), "");
    /* strndup must not read past n even without a NUL. */
    char raw[4] = {'a', 'b', 'c', 'd'};
    cr_assert_str_eq(arena_strndup(&a, raw, 4), "abcd");
    arena_free(&a);
}

Test(arena, printf)
{
    struct arena a;
    arena_init(&a);
    cr_assert_str_eq(arena_printf(&a, "%s-%d", "x", 42), "x-42");
    cr_assert_str_eq(arena_printf(&a, "%s", ""), "");
    char big[20000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *s = arena_printf(&a, "[%s]", big);
    cr_assert_eq(strlen(s), sizeof big + 1);
    cr_assert_eq(s[0], '[');
    cr_assert_eq(s[sizeof big], ']');
    arena_free(&a);
}

Test(arena, reuse_after_free)
{
    struct arena a;
    arena_init(&a);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++)
            arena_printf(&a, "round %d item %d", round, i);
        arena_alloc(&a, 100000);
        cr_assert_gt(a.total, 0);
        arena_free(&a);
        cr_assert_null(a.head);
        cr_assert_eq(a.total, 0);
    }
    arena_free(&a); /* freeing an empty arena is fine */
    arena_free(NULL);
}

Test(arena, total_counts_requests)
{
    struct arena a;
    arena_init(&a);
    cr_assert_eq(a.total, 0);
    arena_alloc(&a, 3);
    arena_alloc(&a, 5);
    arena_strdup(&a, "abc");
    cr_assert_eq(a.total, 3 + 5 + 4);
    arena_free(&a);
}
