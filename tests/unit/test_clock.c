/* Unit tests for src/core/clock.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/clock.h"

Test(clock, iso_text_has_milliseconds_and_z)
{
    char s[CLOCK_ISO_MAX];
    clock_iso(0, s);
    cr_assert_str_eq(s, "1970-01-01T00:00:00.000Z");
    clock_iso(1353832234500, s);
    cr_assert_str_eq(s, "2012-11-25T08:30:34.500Z");
    clock_iso(1795433400123, s);
    cr_assert_str_eq(s, "2026-11-23T11:30:00.123Z");
    clock_iso(-1, s);
    cr_assert_str_eq(s, "1969-12-31T23:59:59.999Z");
}

Test(clock, now_is_now)
{
    char s[CLOCK_ISO_MAX];
    int64_t before = clock_now_ms();
    clock_now_iso(s);
    cr_assert_gt(before, 1700000000000LL);
    cr_assert_eq(strlen(s), 24);
    uint64_t a = clock_mono_us(), b = clock_mono_us();
    cr_assert_geq(b, a);
}
