/*
 * Unit tests for src/ingest/coltype.c: one test per rule of coltype.h, then
 * the data-driven column inference cases of tests/data/coltype/inference.txt
 * (format described at its top).
 *
 * Cells are passed without a terminating NUL where it matters (cell() copies
 * them into a buffer followed by junk), so a scanner that reads past n fails.
 */
#include <criterion/criterion.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "ingest/coltype.h"
#include "unit_util.h"

#define INFERENCE_FILE "tests/data/coltype/inference.txt"

#define B(t)     COLTYPE_BIT(COLTYPE_##t)
#define TEXT     B(TEXT)
#define NUMBER   (B(INTEGER) | B(DECIMAL) | TEXT)
#define DECIMAL  (B(DECIMAL) | TEXT)
#define DATE     (B(DATE) | B(TIMESTAMP) | TEXT)
#define TS       (B(TIMESTAMP) | TEXT)
#define TSTZ     (B(TIMESTAMPTZ) | TEXT)
#define BOOLEAN  (B(BOOLEAN) | TEXT)
#define INT_ONLY (B(INTEGER) | TEXT)

/* s copied to a heap block of exactly strlen(s) bytes (no NUL after it): ASan
 * catches any read past the cell. The block is freed by the caller. */
static char *cell(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n > 0 ? n : 1);
    cr_assert_not_null(p);
    memcpy(p, s, n);
    return p;
}

static unsigned classify(const char *s)
{
    char *p = cell(s);
    unsigned m = coltype_classify(p, strlen(s));
    free(p);
    return m;
}

static int is_null(const char *s)
{
    char *p = cell(s);
    int r = coltype_is_null(p, strlen(s));
    free(p);
    return r;
}

#define expect_mask(s, want)                                                                \
    do {                                                                                    \
        unsigned got_ = classify(s);                                                        \
        cr_expect_eq(got_, (unsigned)(want), "classify(\"%s\") = %#x, want %#x", (s), got_, \
                     (unsigned)(want));                                                     \
    } while (0)

/* Convert s; returns the result code and the value in *out (text values are
 * copied into txt, NUL-terminated, so the cell can be freed). */
static int convert(enum coltype t, enum store_backend_kind be, const char *s,
                   struct store_value *out, char *txt, size_t txtlen)
{
    char scratch[COLTYPE_SCRATCH];
    char *p = cell(s);
    *out = SV_NULL();
    int rc = coltype_convert(t, be, p, strlen(s), scratch, out);
    if (rc == 0 && out->type == STORE_TEXT) {
        cr_assert_lt(out->v.s.n, txtlen);
        memcpy(txt, out->v.s.p, out->v.s.n);
        txt[out->v.s.n] = '\0';
        out->v.s.p = txt;
    }
    free(p);
    return rc;
}

static void expect_text(enum coltype t, enum store_backend_kind be, const char *s, const char *want)
{
    struct store_value v;
    char txt[256];
    int rc = convert(t, be, s, &v, txt, sizeof txt);
    cr_expect_eq(rc, 0, "convert %s \"%s\": %d", coltype_name(t), s, rc);
    if (rc != 0)
        return;
    cr_expect_eq(v.type, STORE_TEXT, "convert %s \"%s\"", coltype_name(t), s);
    cr_expect_str_eq(txt, want, "convert %s \"%s\"", coltype_name(t), s);
}

static void expect_invalid(enum coltype t, const char *s)
{
    struct store_value v;
    char txt[256];
    cr_expect_eq(convert(t, STORE_SQLITE, s, &v, txt, sizeof txt), ERR_INVAL,
                 "convert %s \"%s\" (sqlite) should fail", coltype_name(t), s);
    cr_expect_eq(convert(t, STORE_POSTGRESQL, s, &v, txt, sizeof txt), ERR_INVAL,
                 "convert %s \"%s\" (pg) should fail", coltype_name(t), s);
}

/* ---- names -------------------------------------------------------------------------- */

Test(coltype, names)
{
    static const char *const want[] = {"boolean",   "integer",     "decimal", "date",
                                       "timestamp", "timestamptz", "text"};
    for (int t = 0; t < COLTYPE_COUNT; t++) {
        cr_expect_str_eq(coltype_name((enum coltype)t), want[t]);
        enum coltype back = COLTYPE_COUNT;
        cr_expect_eq(coltype_from_name(want[t], strlen(want[t]), &back), 0);
        cr_expect_eq(back, (enum coltype)t);
    }
    cr_expect_str_eq(coltype_name(COLTYPE_COUNT), "?");
    cr_expect_str_eq(coltype_name((enum coltype) - 1), "?");
}

Test(coltype, from_name_aliases)
{
    static const struct {
        const char *name;
        enum coltype t;
    } cases[] = {
        {"int", COLTYPE_INTEGER},
        {"BIGINT", COLTYPE_INTEGER},
        {"Integer", COLTYPE_INTEGER},
        {"bool", COLTYPE_BOOLEAN},
        {"BOOLEAN", COLTYPE_BOOLEAN},
        {"numeric", COLTYPE_DECIMAL},
        {"Real", COLTYPE_DECIMAL},
        {"float", COLTYPE_DECIMAL},
        {"DOUBLE", COLTYPE_DECIMAL},
        {"string", COLTYPE_TEXT},
        {"VarChar", COLTYPE_TEXT},
        {"datetime", COLTYPE_TIMESTAMP},
        {"TimestampTZ", COLTYPE_TIMESTAMPTZ},
        {"DATE", COLTYPE_DATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum coltype t = COLTYPE_COUNT;
        cr_expect_eq(coltype_from_name(cases[i].name, strlen(cases[i].name), &t), 0, "%s",
                     cases[i].name);
        cr_expect_eq(t, cases[i].t, "%s", cases[i].name);
    }
    /* Length-delimited: a prefix of a longer buffer. */
    enum coltype t = COLTYPE_COUNT;
    cr_expect_eq(coltype_from_name("integers", 7, &t), 0);
    cr_expect_eq(t, COLTYPE_INTEGER);
}

Test(coltype, from_name_rejects)
{
    static const char *const bad[] = {
        "",     "integers", "in",   "timestamp tz", " int",      "int ", "double precision",
        "char", "tinyint",  "json", "bool\xc3\xa9", "\xc4\xb1nt"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum coltype t = COLTYPE_DATE;
        cr_expect_eq(coltype_from_name(bad[i], strlen(bad[i]), &t), ERR_INVAL, "\"%s\"", bad[i]);
        cr_expect_eq(t, COLTYPE_DATE, "out untouched on error");
    }
    enum coltype t;
    cr_expect_eq(coltype_from_name(NULL, 0, &t), ERR_INVAL);
    /* A NUL inside the given length is not ignored. */
    cr_expect_eq(coltype_from_name("int\0", 4, &t), ERR_INVAL);
}

/* ---- NULL ----------------------------------------------------------------------------- */

Test(coltype, null_tokens)
{
    cr_expect(is_null(""));
    cr_expect(is_null("NULL"));
    cr_expect(is_null("None"));
    cr_expect(is_null("N/A"));
    /* Exact case, whole cells. */
    static const char *const not_null[] = {"null", "Null",     "NONE",  "none",  "n/a",   "NA",
                                           "N/a",  "Nonesuch", " NULL", "NULL ", "NULLS", "None.",
                                           " ",    "\"\"",     "nil",   "NaN",   "-"};
    for (size_t i = 0; i < sizeof not_null / sizeof not_null[0]; i++)
        cr_expect(!is_null(not_null[i]), "\"%s\" is not NULL", not_null[i]);
    /* "NULL" as the start of a longer buffer, given a shorter length. */
    cr_expect(coltype_is_null("NULLX", 4));
    cr_expect(!coltype_is_null("NUL", 3));
}

/* ---- classify: booleans --------------------------------------------------------------- */

Test(coltype, booleans)
{
    static const char *const yes[] = {"true", "TRUE", "True", "tRuE", "t",     "T",     "yes",
                                      "YES",  "Yes",  "y",    "Y",    "false", "FALSE", "False",
                                      "f",    "F",    "no",   "NO",   "No",    "n",     "N"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        expect_mask(yes[i], BOOLEAN);
    static const char *const no[] = {"1",    "0",      "on",   "off",   "tru",        "truee",
                                     "ye",   "yess",   "nope", " true", "true ",      "t.",
                                     "fals", "falsE!", "Tom",  "Nope",  "yes\xc3\xa9"};
    expect_mask("1", NUMBER);
    expect_mask("0", NUMBER);
    for (size_t i = 2; i < sizeof no / sizeof no[0]; i++)
        expect_mask(no[i], TEXT);
    /* A NUL byte inside the cell. */
    cr_expect_eq(coltype_classify("t\0", 2), TEXT);
}

Test(coltype, boolean_convert)
{
    static const struct {
        const char *s;
        int v;
    } cases[] = {{"true", 1}, {"T", 1},  {"yes", 1}, {"Y", 1},    {"FALSE", 0},
                 {"f", 0},    {"no", 0}, {"N", 0},   {"True", 1}, {"nO", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_value v;
        char txt[8];
        cr_expect_eq(convert(COLTYPE_BOOLEAN, STORE_SQLITE, cases[i].s, &v, txt, sizeof txt), 0);
        cr_expect_eq(v.type, STORE_BOOL);
        cr_expect_eq(v.v.b, cases[i].v, "%s", cases[i].s);
    }
    expect_invalid(COLTYPE_BOOLEAN, "1");
    expect_invalid(COLTYPE_BOOLEAN, "0");
    expect_invalid(COLTYPE_BOOLEAN, "");
    expect_invalid(COLTYPE_BOOLEAN, "yes!");
}

/* ---- classify: numbers ---------------------------------------------------------------- */

Test(coltype, integers)
{
    expect_mask("0", NUMBER);
    expect_mask("-0", NUMBER);
    expect_mask("7", NUMBER);
    expect_mask("-42", NUMBER);
    expect_mask("123456789012345", NUMBER); /* 15 digits: also a decimal */
    /* 16-19 digits: an integer but not a decimal. */
    expect_mask("1234567890123456", INT_ONLY);
    expect_mask("9223372036854775807", INT_ONLY);
    expect_mask("-9223372036854775808", INT_ONLY);
    /* Beyond 64 bits: text only (and too many digits for a decimal). */
    expect_mask("9223372036854775808", TEXT);
    expect_mask("-9223372036854775809", TEXT);
    expect_mask("18446744073709551616", TEXT);
    expect_mask("99999999999999999999", TEXT);
    expect_mask("123456789012345678901234567890", TEXT);
    /* Leading zeros, signs, spaces. */
    expect_mask("007", TEXT);
    expect_mask("00", TEXT);
    expect_mask("-00", TEXT);
    expect_mask("-007", TEXT);
    expect_mask("+5", TEXT);
    expect_mask(" 5", TEXT);
    expect_mask("5 ", TEXT);
    expect_mask("-", TEXT);
    expect_mask("--5", TEXT);
    expect_mask("5-", TEXT);
    expect_mask("1,000", TEXT);
    expect_mask("1_000", TEXT);
    expect_mask("0x1F", TEXT);
    expect_mask("12abc", TEXT);
    expect_mask("\xd9\xa3", TEXT); /* Arabic-Indic digit three */
}

Test(coltype, integer_convert)
{
    static const struct {
        const char *s;
        int64_t v;
    } cases[] = {
        {"0", 0},
        {"-0", 0},
        {"1", 1},
        {"-1", -1},
        {"1234567890", 1234567890},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
        {"-9223372036854775807", -INT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int be = STORE_SQLITE; be <= STORE_POSTGRESQL; be++) {
            struct store_value v;
            char txt[8];
            cr_expect_eq(convert(COLTYPE_INTEGER, (enum store_backend_kind)be, cases[i].s, &v, txt,
                                 sizeof txt),
                         0, "%s", cases[i].s);
            cr_expect_eq(v.type, STORE_INT);
            cr_expect_eq(v.v.i, cases[i].v, "%s", cases[i].s);
        }
    }
    expect_invalid(COLTYPE_INTEGER, "9223372036854775808");
    expect_invalid(COLTYPE_INTEGER, "-9223372036854775809");
    expect_invalid(COLTYPE_INTEGER, "10000000000000000000");
    expect_invalid(COLTYPE_INTEGER, "007");
    expect_invalid(COLTYPE_INTEGER, "1.0");
    expect_invalid(COLTYPE_INTEGER, "1e3");
    expect_invalid(COLTYPE_INTEGER, "+1");
    expect_invalid(COLTYPE_INTEGER, "");
}

Test(coltype, decimals)
{
    expect_mask("0.5", DECIMAL);
    expect_mask("-0.5", DECIMAL);
    expect_mask("1.5", DECIMAL);
    expect_mask(".5", DECIMAL);
    expect_mask("-.5", DECIMAL);
    expect_mask("1e5", DECIMAL);
    expect_mask("1E5", DECIMAL);
    expect_mask("1E-3", DECIMAL);
    expect_mask("1e+3", DECIMAL);
    expect_mask("-2.5e-3", DECIMAL);
    expect_mask(".5e2", DECIMAL);
    expect_mask("0e0", DECIMAL);
    expect_mask("0.0", DECIMAL);
    expect_mask("-0.0", DECIMAL);
    expect_mask("0.000", DECIMAL);
    expect_mask("1.500", DECIMAL);
    expect_mask("3.14159265358979", DECIMAL);     /* 15 significant digits */
    expect_mask("0.000314159265358979", DECIMAL); /* leading zeros do not count */
    expect_mask("314159265358979000", INT_ONLY);  /* trailing zeros do: 18 */
    expect_mask("3.141592653589793", TEXT);       /* 16 */
    expect_mask("1.000000000000000", TEXT);       /* 16: trailing zeros count */
    expect_mask("1234567890.1234567", TEXT);
    /* Forms that are not numbers. */
    expect_mask("5.", TEXT);
    expect_mask("-5.", TEXT);
    expect_mask(".", TEXT);
    expect_mask("-.", TEXT);
    expect_mask("..5", TEXT);
    expect_mask("1.2.3", TEXT);
    expect_mask("00.5", TEXT);
    expect_mask("01.5", TEXT);
    expect_mask("-00.5", TEXT);
    expect_mask("+0.5", TEXT);
    expect_mask("1e", TEXT);
    expect_mask("1e+", TEXT);
    expect_mask("1e5.5", TEXT);
    expect_mask("e5", TEXT);
    expect_mask("1d5", TEXT);
    expect_mask("1.5f", TEXT);
    expect_mask("1,5", TEXT);
    expect_mask("inf", TEXT);
    expect_mask("-inf", TEXT);
    expect_mask("Infinity", TEXT);
    expect_mask("nan", TEXT);
    expect_mask("NaN", TEXT);
    expect_mask("0x1p3", TEXT);
    /* Magnitude: a double holds 1e-307 .. 9.99e307 as written. */
    expect_mask("1e307", DECIMAL);
    expect_mask("9.99e307", DECIMAL);
    expect_mask("1e308", TEXT);
    expect_mask("1e400", TEXT);
    expect_mask("1e-307", DECIMAL);
    expect_mask("1e-308", TEXT);
    expect_mask("1e-400", TEXT);
    expect_mask("0.001e-304", DECIMAL);
    expect_mask("0.001e-305", TEXT);
    expect_mask("0e99999999999999999999", DECIMAL);
    expect_mask("1e99999999999999999999", TEXT);
    expect_mask("1e-99999999999999999999", TEXT);
}

/* Decimal to double on SQLite: the value strtod gives for the cell in the C
 * locale, sign of zero included. */
Test(coltype, decimal_convert_sqlite)
{
    static const char *const cases[] = {
        "0.5",
        "-0.5",
        ".5",
        "-.5",
        "1e5",
        "1E-3",
        "1.500",
        "0",
        "-0",
        "-0.0",
        "12345",
        "3.14159265358979",
        "0.1",
        "0.3",
        "2.675",
        "1e22",
        "1e23",
        "123456789012345e-22",
        "1e-23",
        "9.99e307",
        "1e-307",
        "0.000000001234",
        "98765.4321e100",
        "-4.9e-300",
        "100",
        "0e0",
        "7e-0",
        "1e+0010",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_value v;
        char txt[8];
        cr_expect_eq(convert(COLTYPE_DECIMAL, STORE_SQLITE, cases[i], &v, txt, sizeof txt), 0, "%s",
                     cases[i]);
        cr_expect_eq(v.type, STORE_DOUBLE, "%s", cases[i]);
        double want = strtod(cases[i], NULL);
        cr_expect(v.v.d == want && signbit(v.v.d) == signbit(want), "%s: got %.17g want %.17g",
                  cases[i], v.v.d, want);
    }
}

/* On PostgreSQL a decimal is the cell's text (numeric keeps it exact). */
Test(coltype, decimal_convert_pg)
{
    expect_text(COLTYPE_DECIMAL, STORE_POSTGRESQL, "1.500", "1.500");
    expect_text(COLTYPE_DECIMAL, STORE_POSTGRESQL, "-.5", "-.5");
    expect_text(COLTYPE_DECIMAL, STORE_POSTGRESQL, "1E-3", "1E-3");
    expect_text(COLTYPE_DECIMAL, STORE_POSTGRESQL, "42", "42");
    expect_invalid(COLTYPE_DECIMAL, "3.141592653589793");
    expect_invalid(COLTYPE_DECIMAL, "1234567890123456");
    expect_invalid(COLTYPE_DECIMAL, "5.");
    expect_invalid(COLTYPE_DECIMAL, "00.5");
    expect_invalid(COLTYPE_DECIMAL, "nan");
    expect_invalid(COLTYPE_DECIMAL, "1e400");
    expect_invalid(COLTYPE_DECIMAL, "");
}

/* strtod is only given a normalised copy without a point, so a locale whose
 * radix character is ',' changes nothing. */
Test(coltype, decimal_locale_proof)
{
    static const char *const locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "C.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0] && !set; i++)
        set = setlocale(LC_NUMERIC, locales[i]);
    struct store_value v;
    char txt[8];
    cr_expect_eq(convert(COLTYPE_DECIMAL, STORE_SQLITE, "1.25e-300", &v, txt, sizeof txt), 0);
    cr_expect_eq(v.v.d, 1.25e-300, "locale %s", set ? set : "C");
    cr_expect_eq(convert(COLTYPE_DECIMAL, STORE_SQLITE, "2.5", &v, txt, sizeof txt), 0);
    cr_expect_eq(v.v.d, 2.5);
    expect_mask("2,5", TEXT);
    setlocale(LC_NUMERIC, "C");
}

/* ---- classify: dates and times -------------------------------------------------------- */

Test(coltype, dates)
{
    expect_mask("2024-01-31", DATE);
    expect_mask("2024-02-29", DATE); /* leap */
    expect_mask("2000-02-29", DATE); /* divisible by 400: leap */
    expect_mask("1900-02-28", DATE);
    expect_mask("0001-01-01", DATE);
    expect_mask("9999-12-31", DATE);
    expect_mask("2024-04-30", DATE);
    expect_mask("2023-02-29", TEXT);
    expect_mask("1900-02-29", TEXT); /* divisible by 100 only: not leap */
    expect_mask("2100-02-29", TEXT);
    expect_mask("2024-02-30", TEXT);
    expect_mask("2024-04-31", TEXT);
    expect_mask("2024-01-32", TEXT);
    expect_mask("2024-00-10", TEXT);
    expect_mask("2024-13-01", TEXT);
    expect_mask("2024-01-00", TEXT);
    expect_mask("0000-01-01", TEXT);
    expect_mask("10000-01-01", TEXT);
    expect_mask("2024-1-01", TEXT);
    expect_mask("2024-01-1", TEXT);
    expect_mask("24-01-01", TEXT);
    expect_mask("2024/01/01", TEXT);
    expect_mask("20240101", NUMBER);
    expect_mask("2024-01-01 ", TEXT);
    expect_mask(" 2024-01-01", TEXT);
    expect_mask("2024-01-0a", TEXT);
    expect_mask("2024-0a-01", TEXT);
    expect_mask("202a-01-01", TEXT);
    expect_mask("2024-01-01-", TEXT);
    expect_mask("1234-", TEXT);
    expect_mask("1234-56789", TEXT);
}

Test(coltype, timestamps)
{
    expect_mask("2024-01-31T10:20", TS);
    expect_mask("2024-01-31 10:20", TS);
    expect_mask("2024-01-31T10:20:30", TS);
    expect_mask("2024-01-31 23:59:59", TS);
    expect_mask("2024-01-31T00:00:00.1", TS);
    expect_mask("2024-01-31T00:00:00.12", TS);
    expect_mask("2024-01-31T00:00:00.123", TS);
    expect_mask("2024-01-31T00:00:00.1234", TS);
    expect_mask("2024-01-31T00:00:00.12345", TS);
    expect_mask("2024-01-31T00:00:00.123456", TS);
    expect_mask("2024-01-31T00:00:00.1234567", TEXT);
    expect_mask("2024-01-31T00:00:00.", TEXT);
    expect_mask("2024-01-31T00:00.5", TEXT); /* a fraction needs seconds */
    expect_mask("2024-01-31T24:00", TEXT);
    expect_mask("2024-01-31T24:00:00", TEXT);
    expect_mask("2024-01-31T23:60", TEXT);
    expect_mask("2024-01-31T23:59:60", TEXT);
    expect_mask("2024-01-31T1:00", TEXT);
    expect_mask("2024-01-31T10", TEXT);
    expect_mask("2024-01-31T10:", TEXT);
    expect_mask("2024-01-31T10:2", TEXT);
    expect_mask("2024-01-31T10:20:", TEXT);
    expect_mask("2024-01-31T10:20:3", TEXT);
    expect_mask("2024-01-31t10:20", TEXT);
    expect_mask("2024-01-31_10:20", TEXT);
    expect_mask("2024-01-31  10:20", TEXT);
    expect_mask("2024-01-31T10-20", TEXT);
    expect_mask("2024-02-30T10:20", TEXT);
    expect_mask("2024-01-31T10:20:30 ", TEXT);
    expect_mask("2024-01-31T", TEXT);
}

Test(coltype, timestamptz)
{
    expect_mask("2024-01-31T10:20Z", TSTZ);
    expect_mask("2024-01-31T10:20z", TSTZ);
    expect_mask("2024-01-31T10:20:30Z", TSTZ);
    expect_mask("2024-01-31 10:20:30.5Z", TSTZ);
    expect_mask("2024-01-31T10:20:30+01", TSTZ);
    expect_mask("2024-01-31T10:20:30+0130", TSTZ);
    expect_mask("2024-01-31T10:20:30+01:30", TSTZ);
    expect_mask("2024-01-31T10:20:30-05:00", TSTZ);
    expect_mask("2024-01-31T10:20:30-00:00", TSTZ);
    expect_mask("2024-01-31T10:20:30.123456+23:59", TSTZ);
    expect_mask("2024-01-31T10:20:30+24:00", TEXT);
    expect_mask("2024-01-31T10:20:30+01:60", TEXT);
    expect_mask("2024-01-31T10:20:30+1", TEXT);
    expect_mask("2024-01-31T10:20:30+013", TEXT);
    expect_mask("2024-01-31T10:20:30+01:3", TEXT);
    expect_mask("2024-01-31T10:20:30+01:", TEXT);
    expect_mask("2024-01-31T10:20:30+01:300", TEXT);
    expect_mask("2024-01-31T10:20:30+", TEXT);
    expect_mask("2024-01-31T10:20:30 Z", TEXT);
    expect_mask("2024-01-31T10:20:30 +01", TEXT);
    expect_mask("2024-01-31T10:20:30ZZ", TEXT);
    expect_mask("2024-01-31T10:20:30UTC", TEXT);
    expect_mask("2024-01-31T10:20:30.1234567Z", TEXT);
    expect_mask("2024-01-31Z", TEXT); /* a zone needs a time */
    expect_mask("2024-01-31+01", TEXT);
    /* The UTC time must stay within years 0001-9999. */
    expect_mask("0001-01-01T00:30+01", TEXT);
    expect_mask("0001-01-01T01:00+01", TSTZ);
    expect_mask("0001-01-01T00:30-01", TSTZ);
    expect_mask("9999-12-31T23:30-01", TEXT);
    expect_mask("9999-12-31T22:59-01", TSTZ);
    expect_mask("9999-12-31T23:30+01", TSTZ);
}

Test(coltype, timestamp_convert)
{
    for (int be = STORE_SQLITE; be <= STORE_POSTGRESQL; be++) {
        enum store_backend_kind k = (enum store_backend_kind)be;
        expect_text(COLTYPE_TIMESTAMP, k, "2024-01-31", "2024-01-31T00:00:00");
        expect_text(COLTYPE_TIMESTAMP, k, "2024-01-31 10:20", "2024-01-31T10:20:00");
        expect_text(COLTYPE_TIMESTAMP, k, "2024-01-31T10:20:30", "2024-01-31T10:20:30");
        expect_text(COLTYPE_TIMESTAMP, k, "2024-01-31 10:20:30.5", "2024-01-31T10:20:30.5");
        expect_text(COLTYPE_TIMESTAMP, k, "0001-01-01 00:00:00.000000",
                    "0001-01-01T00:00:00.000000");
        expect_text(COLTYPE_DATE, k, "2024-02-29", "2024-02-29");
    }
    expect_invalid(COLTYPE_TIMESTAMP, "2024-01-31T10:20Z");
    expect_invalid(COLTYPE_TIMESTAMP, "2024-01-31T24:00");
    expect_invalid(COLTYPE_TIMESTAMP, "2024-02-30");
    expect_invalid(COLTYPE_TIMESTAMP, "");
    expect_invalid(COLTYPE_DATE, "2024-01-31T10:20");
    expect_invalid(COLTYPE_DATE, "2023-02-29");
    expect_invalid(COLTYPE_DATE, "0000-01-01");
    expect_invalid(COLTYPE_DATE, "2024-01");
    expect_invalid(COLTYPE_DATE, "");
}

Test(coltype, timestamptz_convert_to_utc)
{
    static const struct {
        const char *in, *utc;
    } cases[] = {
        {"2024-01-31T10:20Z", "2024-01-31T10:20:00Z"},
        {"2024-01-31 10:20:30z", "2024-01-31T10:20:30Z"},
        {"2024-01-31T10:20:30.123456+01", "2024-01-31T09:20:30.123456Z"},
        {"2024-01-31T10:20:30+0130", "2024-01-31T08:50:30Z"},
        {"2024-01-31T10:20:30-05:00", "2024-01-31T15:20:30Z"},
        {"2024-01-31T10:20:30-00:00", "2024-01-31T10:20:30Z"},
        /* Across a day, a month, a year, leap days. */
        {"2024-01-31T23:30-01", "2024-02-01T00:30:00Z"},
        {"2024-02-01T00:30+01", "2024-01-31T23:30:00Z"},
        {"2024-12-31T22:00:00-05:00", "2025-01-01T03:00:00Z"},
        {"2025-01-01T01:00:00.5+02:00", "2024-12-31T23:00:00.5Z"},
        {"2024-02-28T23:00-02", "2024-02-29T01:00:00Z"},
        {"2023-02-28T23:00-02", "2023-03-01T01:00:00Z"},
        {"2024-03-01T00:00+00:01", "2024-02-29T23:59:00Z"},
        {"2023-03-01T00:00+00:01", "2023-02-28T23:59:00Z"},
        {"2000-03-01T05:00+14", "2000-02-29T15:00:00Z"},
        {"1900-03-01T05:00+14", "1900-02-28T15:00:00Z"},
        {"2024-04-30T23:59:59-23:59", "2024-05-01T23:58:59Z"},
        {"2024-05-01T00:00:00+23:59", "2024-04-30T00:01:00Z"},
        {"0001-01-01T00:30-01", "0001-01-01T01:30:00Z"},
        {"9999-12-31T23:30+01", "9999-12-31T22:30:00Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_text(COLTYPE_TIMESTAMPTZ, STORE_SQLITE, cases[i].in, cases[i].utc);
        expect_text(COLTYPE_TIMESTAMPTZ, STORE_POSTGRESQL, cases[i].in, cases[i].utc);
    }
    expect_invalid(COLTYPE_TIMESTAMPTZ, "0001-01-01T00:30+01");
    expect_invalid(COLTYPE_TIMESTAMPTZ, "9999-12-31T23:30-01");
    expect_invalid(COLTYPE_TIMESTAMPTZ, "2024-01-31T10:20");
    expect_invalid(COLTYPE_TIMESTAMPTZ, "2024-01-31");
    expect_invalid(COLTYPE_TIMESTAMPTZ, "2024-01-31T10:20+24");
}

/* The longest canonical timestamp fits the scratch space, NUL included. */
Test(coltype, scratch_is_enough)
{
    char scratch[COLTYPE_SCRATCH];
    struct store_value v;
    const char *in = "9999-12-31 23:59:59.999999+23:59";
    cr_assert_eq(coltype_convert(COLTYPE_TIMESTAMPTZ, STORE_SQLITE, in, strlen(in), scratch, &v),
                 0);
    cr_expect_eq(v.v.s.p, scratch);
    cr_expect_eq(v.v.s.n, 27);
    cr_expect_lt(v.v.s.n, COLTYPE_SCRATCH);
    cr_expect_eq(memcmp(v.v.s.p, "9999-12-31T00:00:59.999999Z", 27), 0);
}

/* ---- text, sql, pick, convert misuse -------------------------------------------------- */

Test(coltype, text_and_misc)
{
    expect_mask("hello", TEXT);
    expect_mask("1; DROP TABLE x", TEXT);
    expect_mask("'; --", TEXT);
    expect_mask("\xc3\xa9t\xc3\xa9", TEXT);
    cr_expect_eq(coltype_classify("", 0), TEXT);
    for (int be = STORE_SQLITE; be <= STORE_POSTGRESQL; be++) {
        enum store_backend_kind k = (enum store_backend_kind)be;
        expect_text(COLTYPE_TEXT, k, "1; DROP TABLE x", "1; DROP TABLE x");
        expect_text(COLTYPE_TEXT, k, "007", "007");
        expect_text(COLTYPE_TEXT, k, "", "");
    }
    struct store_value v = SV_INT(5);
    char scratch[COLTYPE_SCRATCH];
    cr_expect_eq(coltype_convert(COLTYPE_COUNT, STORE_SQLITE, "1", 1, scratch, &v), ERR_INVAL);
    cr_expect_eq(coltype_convert(COLTYPE_DECIMAL, (enum store_backend_kind)0, "1", 1, scratch, &v),
                 ERR_INVAL);
    cr_expect_eq(coltype_convert(COLTYPE_INTEGER, STORE_SQLITE, "x", 1, scratch, &v), ERR_INVAL);
    cr_expect_eq(v.type, STORE_INT, "out unchanged on error");
    cr_expect_eq(v.v.i, 5);
}

Test(coltype, sql_types)
{
    static const char *const sqlite[] = {"INTEGER", "INTEGER", "REAL", "TEXT",
                                         "TEXT",    "TEXT",    "TEXT"};
    static const char *const pg[] = {"boolean",   "bigint",      "numeric", "date",
                                     "timestamp", "timestamptz", "text"};
    for (int t = 0; t < COLTYPE_COUNT; t++) {
        cr_expect_str_eq(coltype_sql((enum coltype)t, STORE_SQLITE), sqlite[t]);
        cr_expect_str_eq(coltype_sql((enum coltype)t, STORE_POSTGRESQL), pg[t]);
    }
    cr_expect_null(coltype_sql(COLTYPE_COUNT, STORE_SQLITE));
    cr_expect_null(coltype_sql(COLTYPE_TEXT, (enum store_backend_kind)0));
}

Test(coltype, pick_order)
{
    cr_expect_eq(coltype_pick(COLTYPE_ALL), COLTYPE_BOOLEAN);
    cr_expect_eq(coltype_pick(0), COLTYPE_TEXT);
    cr_expect_eq(coltype_pick(TEXT), COLTYPE_TEXT);
    cr_expect_eq(coltype_pick(BOOLEAN), COLTYPE_BOOLEAN);
    cr_expect_eq(coltype_pick(NUMBER), COLTYPE_INTEGER);
    cr_expect_eq(coltype_pick(NUMBER & DECIMAL), COLTYPE_DECIMAL);
    cr_expect_eq(coltype_pick(INT_ONLY), COLTYPE_INTEGER);
    cr_expect_eq(coltype_pick(DATE), COLTYPE_DATE);
    cr_expect_eq(coltype_pick(DATE & TS), COLTYPE_TIMESTAMP);
    cr_expect_eq(coltype_pick(TS & TSTZ), COLTYPE_TEXT);
    cr_expect_eq(coltype_pick(TSTZ), COLTYPE_TIMESTAMPTZ);
    cr_expect_eq(coltype_pick(B(TIMESTAMPTZ)), COLTYPE_TIMESTAMPTZ); /* no text bit */
    cr_expect_eq(coltype_pick(NUMBER & BOOLEAN), COLTYPE_TEXT);
    cr_expect_eq(coltype_pick(1u << COLTYPE_COUNT), COLTYPE_TEXT); /* unknown bits */
    /* Every single bit picks its own type. */
    for (int t = 0; t < COLTYPE_COUNT; t++)
        cr_expect_eq(coltype_pick(COLTYPE_BIT(t)), (enum coltype)t);
}

/* A cell converts to a type exactly when its mask has the type's bit, on both
 * backends, for every cell of a broad list. */
static const char *const CONSISTENCY_CELLS[] = {
    "0",
    "-0",
    "007",
    "1.5",
    ".5",
    "5.",
    "1e5",
    "1E-3",
    "9223372036854775807",
    "9223372036854775808",
    "1234567890123456",
    "true",
    "N",
    "yes",
    "2024-02-29",
    "2024-02-30",
    "2024-01-31 10:20",
    "2024-01-31T10:20:30.123456Z",
    "0001-01-01T00:30+01",
    "hello",
    "",
    "1e400",
    "inf",
    "-",
    "2024-01-31T10:20:30-05:00",
    "0.000001",
};

Test(coltype, classify_matches_convert)
{
    for (size_t i = 0; i < sizeof CONSISTENCY_CELLS / sizeof CONSISTENCY_CELLS[0]; i++) {
        const char *s = CONSISTENCY_CELLS[i];
        unsigned m = classify(s);
        cr_expect(m & TEXT, "\"%s\" always has text", s);
        for (int t = 0; t < COLTYPE_COUNT; t++)
            for (int be = STORE_SQLITE; be <= STORE_POSTGRESQL; be++) {
                struct store_value v;
                char txt[64];
                int rc =
                    convert((enum coltype)t, (enum store_backend_kind)be, s, &v, txt, sizeof txt);
                cr_expect_eq(rc == 0, (m & COLTYPE_BIT(t)) != 0, "\"%s\" as %s: rc %d, mask %#x", s,
                             coltype_name((enum coltype)t), rc, m);
            }
    }
}

/* ---- inference cases from the data file ----------------------------------------------- */

/* Decode one cell by the file's rules into out; returns its length. */
static size_t decode_cell(const char *s, size_t n, char *out)
{
    if (n == 2 && s[0] == '\\' && s[1] == 'e')
        return 0;
    return unit_unescape(s, n, out);
}

/* Check one column: infer its type, compare, and check that every non-NULL
 * cell converts to the inferred type on both backends. */
static void run_case(const char *want_name, char *cells, int lineno)
{
    enum coltype want;
    cr_assert_eq(coltype_from_name(want_name, strlen(want_name), &want), 0,
                 "%s:%d: unknown type \"%s\"", INFERENCE_FILE, lineno, want_name);
    unsigned mask = COLTYPE_ALL;
    size_t len = strlen(cells);
    char *p = cells, *end = cells + len;
    int ncells = 0, nonnull = 0;
    while (p <= end) {
        char *sep = strstr(p, " | ");
        char *stop = sep ? sep : end;
        char buf[512];
        cr_assert_lt((size_t)(stop - p), sizeof buf, "%s:%d: cell too long", INFERENCE_FILE,
                     lineno);
        size_t n = decode_cell(p, (size_t)(stop - p), buf);
        char *c = malloc(n > 0 ? n : 1); /* exactly n bytes: no NUL after the cell */
        cr_assert_not_null(c);
        memcpy(c, buf, n);
        if (!coltype_is_null(c, n)) {
            mask &= coltype_classify(c, n);
            nonnull++;
        }
        ncells++;
        free(c);
        if (!sep)
            break;
        p = sep + 3;
    }
    /* As coltype.h says: a column without a non-NULL cell is text. */
    enum coltype got = nonnull > 0 ? coltype_pick(mask) : COLTYPE_TEXT;
    cr_expect_eq(got, want, "%s:%d: inferred %s, want %s (mask %#x)", INFERENCE_FILE, lineno,
                 coltype_name(got), coltype_name(want), mask);

    /* Second pass: every non-NULL cell converts to the inferred type. */
    p = cells;
    while (p <= end) {
        char *sep = strstr(p, " | ");
        char *stop = sep ? sep : end;
        char buf[512], scratch[COLTYPE_SCRATCH];
        size_t n = decode_cell(p, (size_t)(stop - p), buf);
        if (!coltype_is_null(buf, n))
            for (int be = STORE_SQLITE; be <= STORE_POSTGRESQL; be++) {
                struct store_value v;
                cr_expect_eq(coltype_convert(got, (enum store_backend_kind)be, buf, n, scratch, &v),
                             0, "%s:%d: cell \"%.*s\" does not convert to %s", INFERENCE_FILE,
                             lineno, (int)(stop - p), p, coltype_name(got));
            }
        if (!sep)
            break;
        p = sep + 3;
    }
    cr_assert_gt(ncells, 0);
}

Test(coltype, inference_file)
{
    FILE *f = fopen(INFERENCE_FILE, "r");
    cr_assert_not_null(f, "cannot open %s (tests run from the repository root)", INFERENCE_FILE);
    char line[4096];
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        cr_assert(len > 0 && line[len - 1] == '\n', "%s:%d: line too long or no newline",
                  INFERENCE_FILE, lineno);
        line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        cr_assert_not_null(tab, "%s:%d: no TAB", INFERENCE_FILE, lineno);
        *tab = '\0';
        run_case(line, tab + 1, lineno);
        cases++;
    }
    fclose(f);
    cr_assert_gt(cases, 50, "only %d cases read", cases);
}
