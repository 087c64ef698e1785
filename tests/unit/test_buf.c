/*
 * Unit tests for src/core/buf.c: limits (exactly to the limit, one past, printf
 * past it, a zero limit), and take/reset/consume/truncate.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

Test(buf, empty_is_empty_string)
{
    struct buf b;
    buf_init(&b, 10);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(buf_cstr(&b), "");
    buf_free(&b);
    buf_free(&b); /* twice is fine */
    buf_free(NULL);
}

Test(buf, append_to_exact_limit)
{
    struct buf b;
    buf_init(&b, 8);
    cr_assert_eq(buf_append(&b, "abcd", 4), 0);
    cr_assert_eq(buf_puts(&b, "efg"), 0);
    cr_assert_eq(buf_putc(&b, 'h'), 0);
    cr_assert_eq(b.len, 8);
    cr_assert_str_eq(buf_cstr(&b), "abcdefgh");
    cr_assert_eq(b.data[8], '\0');
    cr_assert_eq(buf_append(&b, "", 0), 0, "an empty append at the limit is fine");
    buf_free(&b);
}

Test(buf, one_past_limit_is_toobig_and_unchanged)
{
    struct buf b;
    buf_init(&b, 8);
    cr_assert_eq(buf_puts(&b, "abcdefg"), 0);
    cr_assert_eq(buf_append(&b, "xy", 2), ERR_TOOBIG);
    cr_assert_eq(b.len, 7);
    cr_assert_str_eq(buf_cstr(&b), "abcdefg");
    cr_assert_eq(buf_puts(&b, "xy"), ERR_TOOBIG);
    cr_assert_eq(buf_putc(&b, 'h'), 0);
    cr_assert_eq(buf_putc(&b, 'i'), ERR_TOOBIG);
    cr_assert_str_eq(buf_cstr(&b), "abcdefgh");
    buf_free(&b);
}

Test(buf, huge_append_does_not_overflow)
{
    struct buf b;
    buf_init(&b, 16);
    cr_assert_eq(buf_puts(&b, "abc"), 0);
    cr_assert_eq(buf_reserve(&b, (size_t)-1), ERR_TOOBIG);
    cr_assert_eq(buf_reserve(&b, (size_t)-1 - 2), ERR_TOOBIG);
    cr_assert_eq(buf_reserve(&b, 13), 0);
    cr_assert_eq(buf_reserve(&b, 14), ERR_TOOBIG);
    cr_assert_str_eq(buf_cstr(&b), "abc");
    buf_free(&b);
}

Test(buf, printf_within_and_past_limit)
{
    struct buf b;
    buf_init(&b, 10);
    cr_assert_eq(buf_printf(&b, "%d-%s", 42, "ab"), 0);
    cr_assert_str_eq(buf_cstr(&b), "42-ab");
    cr_assert_eq(buf_printf(&b, "%s", "123456"), ERR_TOOBIG);
    cr_assert_str_eq(buf_cstr(&b), "42-ab");
    cr_assert_eq(buf_printf(&b, "%s", "12345"), 0);
    cr_assert_eq(b.len, 10);
    buf_free(&b);
}

Test(buf, printf_long_output)
{
    /* Longer than any internal scratch space. */
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct buf b;
    buf_init(&b, 2000);
    cr_assert_eq(buf_printf(&b, "<%s>", big), 0);
    cr_assert_eq(b.len, 1001);
    cr_assert_eq(b.data[0], '<');
    cr_assert_eq(b.data[1000], '>');
    cr_assert_eq(b.data[1001], '\0');
    cr_assert_eq(buf_printf(&b, "%s%s", big, big), ERR_TOOBIG);
    cr_assert_eq(b.len, 1001);
    cr_assert_eq(b.data[1001], '\0');
    buf_free(&b);
}

Test(buf, take)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "hello");
    size_t len = 0;
    char *s = buf_take(&b, &len);
    cr_assert_str_eq(s, "hello");
    cr_assert_eq(len, 5);
    cr_assert_eq(b.len, 0);
    cr_assert_null(b.data);
    cr_assert_eq(b.limit, 100);
    free(s);

    s = buf_take(&b, NULL); /* empty: still a string */
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "");
    free(s);

    cr_assert_eq(buf_puts(&b, "again"), 0, "usable after take");
    cr_assert_str_eq(buf_cstr(&b), "again");
    buf_free(&b);
}

Test(buf, reset_keeps_allocation)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "hello");
    char *data = b.data;
    buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(buf_cstr(&b), "");
    cr_assert_eq(b.data, data);
    buf_puts(&b, "hi");
    cr_assert_str_eq(buf_cstr(&b), "hi");
    buf_free(&b);

    buf_init(&b, 10);
    buf_reset(&b); /* never allocated */
    cr_assert_str_eq(buf_cstr(&b), "");
}

Test(buf, consume)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "abcdef");
    buf_consume(&b, 0);
    cr_assert_str_eq(buf_cstr(&b), "abcdef");
    buf_consume(&b, 2);
    cr_assert_str_eq(buf_cstr(&b), "cdef");
    cr_assert_eq(b.len, 4);
    buf_consume(&b, 4);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(buf_cstr(&b), "");
    buf_free(&b);
}

Test(buf, truncate)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "abcdef");
    buf_truncate(&b, 10); /* longer than len: no change */
    cr_assert_str_eq(buf_cstr(&b), "abcdef");
    buf_truncate(&b, 3);
    cr_assert_str_eq(buf_cstr(&b), "abc");
    cr_assert_eq(b.len, 3);
    buf_truncate(&b, 0);
    cr_assert_str_eq(buf_cstr(&b), "");
    buf_puts(&b, "x");
    cr_assert_str_eq(buf_cstr(&b), "x");
    buf_free(&b);
}

Test(buf, zero_limit)
{
    struct buf b;
    buf_init(&b, 0);
    cr_assert_eq(buf_append(&b, "", 0), 0);
    cr_assert_eq(buf_putc(&b, 'a'), ERR_TOOBIG);
    cr_assert_eq(buf_puts(&b, "a"), ERR_TOOBIG);
    cr_assert_eq(buf_printf(&b, "%d", 1), ERR_TOOBIG);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(buf_cstr(&b), "");
    buf_free(&b);

    struct buf z;
    memset(&z, 0, sizeof z);
    cr_assert_eq(buf_putc(&z, 'a'), ERR_TOOBIG, "a zeroed buf has limit 0");
    cr_assert_str_eq(buf_cstr(&z), "");
    buf_free(&z);
}

Test(buf, growth_keeps_contents)
{
    struct buf b;
    buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(buf_putc(&b, (char)('a' + i % 26)), 0);
    cr_assert_eq(b.len, 10000);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(b.data[i], (char)('a' + i % 26));
    cr_assert_eq(b.data[10000], '\0');
    cr_assert_leq(b.cap, 100001);
    buf_free(&b);
}

/* The inline append path honours a limit lowered after the buffer grew. */
Test(buf, append_respects_a_lowered_limit)
{
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(buf_reserve(&b, 512), 0);
    cr_assert_eq(buf_append(&b, "abcd", 4), 0);
    b.limit = 6;
    cr_assert_eq(buf_append(&b, "ef", 2), 0);
    cr_assert_eq(buf_append(&b, "g", 1), ERR_TOOBIG);
    cr_assert_eq(buf_putc(&b, 'g'), ERR_TOOBIG);
    cr_assert_str_eq(buf_cstr(&b), "abcdef");
    b.limit = 1024;
    cr_assert_eq(buf_putc(&b, 'g'), 0);
    cr_assert_str_eq(buf_cstr(&b), "abcdefg");
    buf_free(&b);
}
