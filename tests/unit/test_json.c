/*
 * Unit tests for src/core/json.c. String escaping is data-driven: the cases are
 * in tests/data/json/strings.txt (format described at its top); the rest checks
 * numbers, structure, misuse and limits.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "unit_util.h"

#define STRINGS_FILE "tests/data/json/strings.txt"

/* The whole output of writing one string value. */
static void write_string(struct buf *out, const char *s, size_t n)
{
    struct json_writer w;
    buf_init(out, 1 << 16);
    json_init(&w, out);
    json_stringn(&w, s, n);
    cr_assert_eq(json_finish(&w), 0);
}

Test(json, strings_file)
{
    FILE *f = fopen(STRINGS_FILE, "r");
    cr_assert_not_null(f, "cannot open %s (tests run from the repository root)", STRINGS_FILE);
    char line[4096], in[4096], want[4096];
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        cr_assert(len > 0 && line[len - 1] == '\n', "%s:%d: line too long or no newline",
                  STRINGS_FILE, lineno);
        line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        const char *tab = memchr(line, '\t', len);
        cr_assert_not_null(tab, "%s:%d: no TAB", STRINGS_FILE, lineno);
        size_t in_len = unit_unescape(line, (size_t)(tab - line), in);
        size_t want_len = unit_unescape(tab + 1, len - (size_t)(tab - line) - 1, want);

        struct buf out;
        write_string(&out, in, in_len);
        cr_expect(out.len == want_len && memcmp(out.data, want, want_len) == 0, "%s:%d: got %s",
                  STRINGS_FILE, lineno, buf_cstr(&out));
        buf_free(&out);
        cases++;
    }
    fclose(f);
    cr_assert_gt(cases, 40, "only %d cases read", cases);
}

/* The decoder must treat \xNN only when all four characters are there. */
Test(json, strings_file_decoder)
{
    char out[16];
    cr_assert_eq(unit_unescape("\\x4", 3, out), 3);
    cr_assert_eq(unit_unescape("\\x41", 4, out), 1);
    cr_assert_eq(out[0], 'A');
    cr_assert_eq(unit_unescape("\\\\x41", 5, out), 4);
    cr_assert_eq(memcmp(out, "\\x41", 4), 0);
}

Test(json, escape_direct_no_quotes)
{
    struct buf b;
    buf_init(&b, 100);
    cr_assert_eq(json_escape(&b, "a\"\n", 3), 0);
    cr_assert_str_eq(buf_cstr(&b), "a\\\"\\n");
    cr_assert_eq(json_escape(&b, "", 0), 0);
    cr_assert_str_eq(buf_cstr(&b), "a\\\"\\n");
    buf_free(&b);
}

Test(json, escape_toobig_leaves_buf_unchanged)
{
    struct buf b;
    buf_init(&b, 8);
    cr_assert_eq(buf_puts(&b, "ab"), 0);
    /* "xyz" fits as a run, the escape for \x01 does not. */
    cr_assert_eq(json_escape(&b, "xyz\x01", 4), ERR_TOOBIG);
    cr_assert_eq(b.len, 2);
    cr_assert_str_eq(buf_cstr(&b), "ab");
    cr_assert_eq(json_escape(&b, "\xff\xff", 2), 0); /* 6 bytes: exactly to the limit */
    cr_assert_eq(b.len, 8);
    buf_free(&b);
}

Test(json, escape_long_safe_run)
{
    /* A long run with an escape in the middle and valid UTF-8 around it. */
    struct buf b;
    buf_init(&b, 100000);
    char in[5001];
    memset(in, 'x', 5000);
    in[2500] = '\t';
    memcpy(in + 100, "\xc3\xa9", 2);
    cr_assert_eq(json_escape(&b, in, 5000), 0);
    cr_assert_eq(b.len, 5001);
    cr_assert_eq(memcmp(b.data + 2500, "\\t", 2), 0);
    cr_assert_eq(memcmp(b.data + 100, "\xc3\xa9", 2), 0);
    buf_free(&b);
}

/* Write one value with fn and compare the output. */
#define CHECK_VALUE(call, expect)                               \
    do {                                                        \
        struct buf b_;                                          \
        struct json_writer w_;                                  \
        buf_init(&b_, 1000);                                    \
        json_init(&w_, &b_);                                    \
        call;                                                   \
        cr_expect_eq(json_finish(&w_), 0, "%s", #call);         \
        cr_expect_str_eq(buf_cstr(&b_), (expect), "%s", #call); \
        buf_free(&b_);                                          \
    } while (0)

Test(json, doubles_exact)
{
    CHECK_VALUE(json_double(&w_, 0.1), "0.1");
    CHECK_VALUE(json_double(&w_, 1.5), "1.5");
    CHECK_VALUE(json_double(&w_, 1.0), "1");
    CHECK_VALUE(json_double(&w_, 0.0), "0");
    CHECK_VALUE(json_double(&w_, -0.0), "-0");
    CHECK_VALUE(json_double(&w_, 1e300), "1e+300");
    CHECK_VALUE(json_double(&w_, -2.5e-10), "-2.5e-10");
    CHECK_VALUE(json_double(&w_, 0.1 + 0.2), "0.30000000000000004");
    CHECK_VALUE(json_double(&w_, 1.0 / 3.0), "0.3333333333333333");
    CHECK_VALUE(json_double(&w_, 1.7976931348623157e308), "1.7976931348623157e+308");
}

Test(json, doubles_non_finite_are_null)
{
    CHECK_VALUE(json_double(&w_, NAN), "null");
    CHECK_VALUE(json_double(&w_, INFINITY), "null");
    CHECK_VALUE(json_double(&w_, -INFINITY), "null");
}

Test(json, doubles_round_trip)
{
    const double vals[] = {0.1,  2.0 / 3.0,          5e-324, 2.2250738585072014e-308, 123456.789,
                           1e21, 9007199254740993.0, -1e-7,  3.141592653589793,       1e15 + 0.3};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        struct buf b;
        struct json_writer w;
        buf_init(&b, 100);
        json_init(&w, &b);
        json_double(&w, vals[i]);
        cr_assert_eq(json_finish(&w), 0);
        cr_expect(strtod(buf_cstr(&b), NULL) == vals[i], "%.17g written as %s", vals[i],
                  buf_cstr(&b));
        cr_expect_leq(b.len, 24);
        buf_free(&b);
    }
}

/* The printf search json_double takes when its fast path does not apply. */
static void slow_double(double v, char out[40])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

Test(json, doubles_fast_path_writes_what_printf_would)
{
    uint64_t r = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double v;
        switch (i % 4) {
        case 0: /* prices and the like: a few decimal places */
            v = (double)(int64_t)(r % 100000000) / (double)(1 + (r >> 40) % 1000);
            break;
        case 1: /* exact short decimals, as a CSV gives them */
            v = strtod("0", NULL) + (double)(r % 1000000) / 100.0;
            break;
        case 2: /* any bit pattern in the fast path's range */
            memcpy(&v, &r, sizeof v);
            v = fmod(fabs(v), 1e15);
            break;
        default: /* around the edges of the range */
            v = ((r >> 11) % 2 ? 1e-4 : 1e15) * (1.0 + ((double)(r % 1000) - 500.0) * 1e-6);
            break;
        }
        if (r & 1)
            v = -v;
        if (!isfinite(v))
            continue;
        char want[40];
        slow_double(v, want);
        struct buf b;
        struct json_writer w;
        buf_init(&b, 100);
        json_init(&w, &b);
        json_double(&w, v);
        cr_assert_str_eq(buf_cstr(&b), want, "%.17g", v);
        buf_free(&b);
    }
}

Test(json, integers)
{
    CHECK_VALUE(json_int(&w_, 0), "0");
    CHECK_VALUE(json_int(&w_, -1), "-1");
    CHECK_VALUE(json_int(&w_, 42), "42");
    CHECK_VALUE(json_int(&w_, INT64_MAX), "9223372036854775807");
    CHECK_VALUE(json_int(&w_, INT64_MIN), "-9223372036854775808");
    CHECK_VALUE(json_uint(&w_, 0), "0");
    CHECK_VALUE(json_uint(&w_, UINT64_MAX), "18446744073709551615");
}

Test(json, scalars)
{
    CHECK_VALUE(json_bool(&w_, 1), "true");
    CHECK_VALUE(json_bool(&w_, 7), "true");
    CHECK_VALUE(json_bool(&w_, 0), "false");
    CHECK_VALUE(json_null(&w_), "null");
    CHECK_VALUE(json_string(&w_, NULL), "null");
    CHECK_VALUE(json_string(&w_, "hi"), "\"hi\"");
    CHECK_VALUE(json_raw(&w_, "{\"x\":[1]}", 9), "{\"x\":[1]}");
}

Test(json, nesting_and_commas)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 1000);
    json_init(&w, &b);
    json_object_begin(&w);
    json_key(&w, "a");
    json_array_begin(&w);
    json_int(&w, 1);
    json_int(&w, 2);
    json_object_begin(&w);
    json_key(&w, "b");
    json_null(&w);
    json_object_end(&w);
    json_array_begin(&w);
    json_array_end(&w);
    json_raw(&w, "3", 1);
    json_array_end(&w);
    json_key(&w, "c");
    json_bool(&w, 1);
    json_keyn(&w, "d\"e", 3);
    json_object_begin(&w);
    json_object_end(&w);
    json_key(&w, "s");
    json_string(&w, "x");
    json_object_end(&w);
    cr_assert_eq(json_finish(&w), 0);
    cr_assert_str_eq(buf_cstr(&b), "{\"a\":[1,2,{\"b\":null},[],3],\"c\":true,\"d\\\"e\":{},"
                                   "\"s\":\"x\"}");
    buf_free(&b);
}

Test(json, appends_after_existing_content)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 100);
    buf_puts(&b, "data: ");
    json_init(&w, &b);
    json_array_begin(&w);
    json_string(&w, "a");
    json_array_end(&w);
    cr_assert_eq(json_finish(&w), 0);
    cr_assert_str_eq(buf_cstr(&b), "data: [\"a\"]");
    buf_free(&b);
}

/* Run a misuse sequence; it must end in ERR_INVAL, sticky, with nothing more written. */
#define CHECK_MISUSE(steps)                                              \
    do {                                                                 \
        struct buf b_;                                                   \
        struct json_writer w_;                                           \
        buf_init(&b_, 1000);                                             \
        json_init(&w_, &b_);                                             \
        steps;                                                           \
        cr_expect_eq(json_error(&w_), ERR_INVAL, "%s", #steps);          \
        size_t len_ = b_.len;                                            \
        json_int(&w_, 1);                                                \
        json_array_end(&w_);                                             \
        json_object_end(&w_);                                            \
        cr_expect_eq(b_.len, len_, "%s: wrote after the error", #steps); \
        cr_expect_eq(json_finish(&w_), ERR_INVAL, "%s", #steps);         \
        buf_free(&b_);                                                   \
    } while (0)

Test(json, misuse_is_inval)
{
    /* A key with no value. */
    CHECK_MISUSE(json_object_begin(&w_); json_key(&w_, "k"); json_object_end(&w_));
    /* Two keys in a row. */
    CHECK_MISUSE(json_object_begin(&w_); json_key(&w_, "k"); json_key(&w_, "j"));
    /* A value in an object without a key. */
    CHECK_MISUSE(json_object_begin(&w_); json_int(&w_, 1));
    CHECK_MISUSE(json_object_begin(&w_); json_array_begin(&w_));
    /* A key outside an object. */
    CHECK_MISUSE(json_key(&w_, "k"));
    CHECK_MISUSE(json_array_begin(&w_); json_key(&w_, "k"));
    /* Mismatched and extra ends. */
    CHECK_MISUSE(json_object_begin(&w_); json_array_end(&w_));
    CHECK_MISUSE(json_array_begin(&w_); json_object_end(&w_));
    CHECK_MISUSE(json_array_end(&w_));
    CHECK_MISUSE(json_array_begin(&w_); json_array_end(&w_); json_array_end(&w_));
    /* Two top-level values. */
    CHECK_MISUSE(json_int(&w_, 1); json_int(&w_, 2));
}

Test(json, finish_incomplete_is_inval)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 100);
    json_init(&w, &b);
    cr_expect_eq(json_finish(&w), ERR_INVAL, "an empty document is not complete");
    json_object_begin(&w);
    cr_expect_eq(json_finish(&w), ERR_INVAL);
    cr_expect_eq(json_error(&w), 0, "an open container is not an error yet");
    json_key(&w, "k");
    cr_expect_eq(json_finish(&w), ERR_INVAL);
    json_int(&w, 1);
    json_object_end(&w);
    cr_expect_eq(json_finish(&w), 0);
    buf_free(&b);
}

Test(json, depth_limit)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 1000);
    json_init(&w, &b);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_array_begin(&w);
    cr_assert_eq(json_error(&w), 0, "%d levels must be allowed", JSON_MAX_DEPTH);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_array_end(&w);
    cr_assert_eq(json_finish(&w), 0);
    cr_assert_eq(b.len, 2 * JSON_MAX_DEPTH);
    buf_free(&b);

    buf_init(&b, 1000);
    json_init(&w, &b);
    for (int i = 0; i < JSON_MAX_DEPTH; i++) {
        json_object_begin(&w);
        json_key(&w, "k");
    }
    cr_assert_eq(json_error(&w), 0);
    json_array_begin(&w);
    cr_assert_eq(json_error(&w), ERR_INVAL);
    cr_assert_eq(json_finish(&w), ERR_INVAL);
    buf_free(&b);
}

Test(json, buf_limit_is_toobig_and_sticky)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 10);
    json_init(&w, &b);
    json_array_begin(&w);
    json_string(&w, "abcdefghijklmnop");
    cr_assert_eq(json_error(&w), ERR_TOOBIG);
    size_t len = b.len;
    cr_assert_leq(len, 10);
    json_int(&w, 1); /* would fit, but the error is sticky */
    json_array_end(&w);
    cr_assert_eq(b.len, len);
    cr_assert_eq(json_finish(&w), ERR_TOOBIG);
    cr_assert_eq(json_error(&w), ERR_TOOBIG);
    buf_free(&b);
}

Test(json, buf_limit_exact_fit)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 7);
    json_init(&w, &b);
    json_array_begin(&w);
    json_int(&w, 12);
    json_int(&w, 3);
    json_array_end(&w); /* [12,3] is 6 bytes */
    cr_assert_eq(json_finish(&w), 0);
    cr_assert_str_eq(buf_cstr(&b), "[12,3]");
    buf_free(&b);

    buf_init(&b, 5);
    json_init(&w, &b);
    json_array_begin(&w);
    json_int(&w, 12);
    json_int(&w, 3);
    json_array_end(&w);
    cr_assert_eq(json_finish(&w), ERR_TOOBIG);
    buf_free(&b);
}

Test(json, quoted_keys_are_written_as_given)
{
    struct buf b;
    struct json_writer w;
    buf_init(&b, 100);
    json_init(&w, &b);
    json_object_begin(&w);
    json_key_quoted(&w, "\"a\\\"b\"", 6);
    json_int(&w, 1);
    json_key_quoted(&w, "\"c\"", 3);
    json_null(&w);
    json_object_end(&w);
    cr_assert_eq(json_finish(&w), 0);
    cr_assert_str_eq(buf_cstr(&b), "{\"a\\\"b\":1,\"c\":null}");
    json_key_quoted(&w, "\"d\"", 3); /* outside an object: misuse */
    cr_assert_eq(json_error(&w), ERR_INVAL);
    buf_free(&b);
}
