/*
 * coltype: column types, recognising a CSV cell, converting it (see coltype.h).
 *
 * Everything works on (pointer, length) cells that need not be NUL-terminated,
 * allocates nothing and calls nothing that depends on the locale: numbers,
 * dates and times are scanned by hand here. The one libc conversion, strtod
 * for a decimal on SQLite that the exact fast path cannot do, is given a
 * normalised copy in a stack buffer with no decimal point ("-12345e-310"), so
 * the locale's radix character cannot matter.
 *
 * coltype_classify dispatches on the first byte: a digit may start a number or
 * a date, '-' and '.' only a number, one of tTfFyYnN only a boolean, anything
 * else is text after that one comparison. The scanners used by classify are
 * the ones coltype_convert validates with, so a type in a cell's mask is
 * exactly a type the cell converts to.
 */
#include "ingest/coltype.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define BIT_TEXT COLTYPE_BIT(COLTYPE_TEXT)

/* Decimals: at most this many significant digits, and a magnitude between
 * 1e-307 and 9.99...e307, so that a double holds the value as written. */
#define DECIMAL_MAX_SIG 15
#define DECIMAL_MAX_EXP 307

/* Exponents are read up to this value and then saturate; exact for every cell
 * shorter than a gigabyte. */
#define EXP_SATURATE 1000000000LL

static const char *const NAMES[COLTYPE_COUNT] = {
    "boolean", "integer", "decimal", "date", "timestamp", "timestamptz", "text",
};

const char *coltype_name(enum coltype t)
{
    return (unsigned)t < COLTYPE_COUNT ? NAMES[t] : "?";
}

/* ---- small scanners ------------------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1 if p[0..n) equals lit ignoring ASCII case. lit is lower-case letters only:
 * c | 0x20 turns exactly the upper-case letters into lower-case ones and no
 * other byte into a letter, so this is an exact test. */
static int eq_nocase(const char *p, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] | 0x20) != (unsigned char)lit[i])
            return 0;
    return 1;
}

/* The two-digit number at p, or -1. */
static int dig2(const char *p)
{
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* ---- names ---------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum coltype t;
} TYPE_NAMES[] = {
    {"boolean", COLTYPE_BOOLEAN},    {"bool", COLTYPE_BOOLEAN},
    {"integer", COLTYPE_INTEGER},    {"int", COLTYPE_INTEGER},
    {"bigint", COLTYPE_INTEGER},     {"decimal", COLTYPE_DECIMAL},
    {"numeric", COLTYPE_DECIMAL},    {"real", COLTYPE_DECIMAL},
    {"float", COLTYPE_DECIMAL},      {"double", COLTYPE_DECIMAL},
    {"date", COLTYPE_DATE},          {"timestamp", COLTYPE_TIMESTAMP},
    {"datetime", COLTYPE_TIMESTAMP}, {"timestamptz", COLTYPE_TIMESTAMPTZ},
    {"text", COLTYPE_TEXT},          {"string", COLTYPE_TEXT},
    {"varchar", COLTYPE_TEXT},
};

int coltype_from_name(const char *name, size_t len, enum coltype *out)
{
    if (!name)
        return ERR_INVAL;
    for (size_t i = 0; i < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]; i++) {
        if (strlen(TYPE_NAMES[i].name) == len && eq_nocase(name, TYPE_NAMES[i].name, len)) {
            *out = TYPE_NAMES[i].t;
            return 0;
        }
    }
    return ERR_INVAL;
}

/* ---- NULL and boolean ----------------------------------------------------------------- */

int coltype_is_null(const char *p, size_t n)
{
    switch (n) {
    case 0:
        return 1;
    case 3:
        return memcmp(p, "N/A", 3) == 0;
    case 4:
        return memcmp(p, "NULL", 4) == 0 || memcmp(p, "None", 4) == 0;
    default:
        return 0;
    }
}

/* 1 for a true spelling, 0 for a false one, -1 for anything else (n >= 1). */
static int parse_bool(const char *p, size_t n)
{
    int c = (unsigned char)p[0] | 0x20;
    switch (n) {
    case 1:
        return c == 't' || c == 'y' ? 1 : c == 'f' || c == 'n' ? 0 : -1;
    case 2:
        return eq_nocase(p, "no", 2) ? 0 : -1;
    case 3:
        return eq_nocase(p, "yes", 3) ? 1 : -1;
    case 4:
        return eq_nocase(p, "true", 4) ? 1 : -1;
    case 5:
        return eq_nocase(p, "false", 5) ? 0 : -1;
    default:
        return -1;
    }
}

/* ---- numbers -------------------------------------------------------------------------- */

/* A scanned number: its value is (neg ? -1 : 1) * digits * 10^exp10, where
 * digits holds the significant digits (from the first non-zero one, trailing
 * zeros included) while there are at most 19 of them. */
struct num {
    int neg;
    int integer_form; /* [-]digits: no point, no exponent */
    unsigned sig;     /* significant digits, counted up to 20 */
    uint64_t digits;
    long long exp10;
};

static void add_digit(struct num *x, char c)
{
    if (x->sig == 0 && c == '0')
        return; /* a leading zero */
    if (x->sig < 20)
        x->sig++;
    if (x->sig <= 19)
        x->digits = x->digits * 10 + (uint64_t)(c - '0');
}

/*
 * Scan [-]digits[.digits][(e|E)[+-]digits] or [-].digits[(e|E)[+-]digits],
 * where the digits before the point are "0" or do not start with 0. Returns 0,
 * or -1 if p[0..n) is not a number of that form at all.
 */
static int scan_number(const char *p, size_t n, struct num *x)
{
    size_t i = 0;
    memset(x, 0, sizeof *x);
    if (i < n && p[i] == '-') {
        x->neg = 1;
        i++;
    }
    size_t int_start = i;
    while (i < n && is_digit(p[i]))
        add_digit(x, p[i++]);
    size_t int_len = i - int_start;
    if (int_len > 1 && p[int_start] == '0')
        return -1;
    size_t frac_len = 0;
    int point = 0, expo = 0;
    if (i < n && p[i] == '.') {
        point = 1;
        size_t frac_start = ++i;
        while (i < n && is_digit(p[i]))
            add_digit(x, p[i++]);
        frac_len = i - frac_start;
        if (frac_len == 0)
            return -1; /* "5." and "." */
    } else if (int_len == 0) {
        return -1;
    }
    long long e = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        expo = 1;
        i++;
        int eneg = 0;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        size_t exp_start = i;
        for (; i < n && is_digit(p[i]); i++)
            if (e < EXP_SATURATE)
                e = e * 10 + (p[i] - '0');
        if (i == exp_start)
            return -1;
        if (eneg)
            e = -e;
    }
    if (i != n)
        return -1;
    x->integer_form = !point && !expo;
    x->exp10 = e - (long long)(frac_len < (size_t)EXP_SATURATE ? frac_len : EXP_SATURATE);
    return 0;
}

/* 1 if x is an integer in 64 bits; its value goes to *v. */
static int num_integer(const struct num *x, int64_t *v)
{
    const uint64_t lim = (uint64_t)INT64_MAX + 1u;
    if (!x->integer_form || x->sig > 19)
        return 0;
    if (x->digits > lim - (x->neg ? 0u : 1u))
        return 0;
    if (x->neg)
        *v = x->digits == lim ? INT64_MIN : -(int64_t)x->digits;
    else
        *v = (int64_t)x->digits;
    return 1;
}

/* 1 if x is a decimal: few enough significant digits, magnitude in range. */
static int num_decimal(const struct num *x)
{
    if (x->sig > DECIMAL_MAX_SIG)
        return 0;
    if (x->sig == 0)
        return 1; /* zero, with any exponent */
    long long sci = x->exp10 + (long long)x->sig - 1;
    return sci >= -DECIMAL_MAX_EXP && sci <= DECIMAL_MAX_EXP;
}

static unsigned classify_number(const char *p, size_t n)
{
    struct num x;
    int64_t v;
    if (scan_number(p, n, &x) < 0)
        return BIT_TEXT;
    return BIT_TEXT | (num_integer(&x, &v) ? COLTYPE_BIT(COLTYPE_INTEGER) : 0) |
           (num_decimal(&x) ? COLTYPE_BIT(COLTYPE_DECIMAL) : 0);
}

/* The double of a decimal (num_decimal(x) holds). With at most 15 digits the
 * significand is exact in a double; when 10^|exp10| is too (|exp10| <= 22)
 * one multiplication or division is correctly rounded. Otherwise strtod reads
 * a normalised copy: digits, 'e', exponent, no point (locale-proof). */
static double num_double(const struct num *x)
{
    static const double P10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double d;
    if (x->sig == 0) {
        d = 0.0;
    } else if (x->exp10 >= 0 && x->exp10 <= 22) {
        d = (double)x->digits * P10[x->exp10];
    } else if (x->exp10 < 0 && x->exp10 >= -22) {
        d = (double)x->digits / P10[-x->exp10];
    } else {
        char tmp[48], rev[20];
        size_t o = 0, r = 0;
        uint64_t m = x->digits;
        while (m > 0) {
            rev[r++] = (char)('0' + m % 10);
            m /= 10;
        }
        while (r > 0)
            tmp[o++] = rev[--r];
        tmp[o++] = 'e';
        long long e = x->exp10; /* |e| < 400 here: num_decimal bounds it */
        if (e < 0) {
            tmp[o++] = '-';
            e = -e;
        }
        r = 0;
        do {
            rev[r++] = (char)('0' + e % 10);
            e /= 10;
        } while (e > 0);
        while (r > 0)
            tmp[o++] = rev[--r];
        tmp[o] = '\0';
        d = strtod(tmp, NULL);
    }
    return x->neg ? -d : d;
}

/* ---- dates and times ------------------------------------------------------------------ */

struct dt {
    int y, mo, d, h, mi, s;
    int has_time, has_zone;
    int off;          /* zone offset, minutes east of UTC */
    const char *frac; /* fraction digits (without the point) */
    size_t frac_len;
};

static int days_in_month(int y, int m)
{
    static const unsigned char DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        return 29;
    return DAYS[m - 1];
}

/*
 * Scan YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,6}]][Z|z|(+|-)HH[[:]MM]]] with real
 * calendar and clock values. Returns 0 or -1. A zone needs a time.
 */
static int scan_datetime(const char *p, size_t n, struct dt *t)
{
    memset(t, 0, sizeof *t);
    if (n < 10 || p[4] != '-' || p[7] != '-')
        return -1;
    int yh = dig2(p), yl = dig2(p + 2);
    t->mo = dig2(p + 5);
    t->d = dig2(p + 8);
    if (yh < 0 || yl < 0 || t->mo < 1 || t->mo > 12 || t->d < 1)
        return -1;
    t->y = yh * 100 + yl;
    if (t->y == 0 || t->d > days_in_month(t->y, t->mo))
        return -1;
    if (n == 10)
        return 0;

    if (n < 16 || (p[10] != 'T' && p[10] != ' ') || p[13] != ':')
        return -1;
    t->h = dig2(p + 11);
    t->mi = dig2(p + 14);
    if (t->h < 0 || t->h > 23 || t->mi < 0 || t->mi > 59)
        return -1;
    t->has_time = 1;
    size_t i = 16;
    if (i < n && p[i] == ':') {
        if (n - i < 3 || (t->s = dig2(p + i + 1)) < 0 || t->s > 59)
            return -1;
        i += 3;
        if (i < n && p[i] == '.') {
            t->frac = p + ++i;
            while (i < n && is_digit(p[i]))
                i++;
            t->frac_len = (size_t)(p + i - t->frac);
            if (t->frac_len < 1 || t->frac_len > 6)
                return -1;
        }
    }
    if (i == n)
        return 0;

    t->has_zone = 1;
    if (p[i] == 'Z' || p[i] == 'z')
        return i + 1 == n ? 0 : -1;
    if (p[i] != '+' && p[i] != '-')
        return -1;
    int sign = p[i] == '-' ? -1 : 1;
    i++;
    int oh, om = 0;
    if (n - i < 2 || (oh = dig2(p + i)) < 0 || oh > 23)
        return -1;
    i += 2;
    if (i < n) {
        if (p[i] == ':')
            i++;
        if (n - i != 2 || (om = dig2(p + i)) < 0 || om > 59)
            return -1;
        i += 2;
    }
    t->off = sign * (oh * 60 + om);
    return 0;
}

/* Shift t by its zone offset to UTC (the offset is under a day, so at most one
 * day moves). Returns -1 if the result is outside years 0001-9999. */
static int to_utc(struct dt *t)
{
    int m = t->h * 60 + t->mi - t->off;
    if (m < 0) {
        m += 24 * 60;
        if (--t->d == 0) {
            if (--t->mo == 0) {
                t->mo = 12;
                if (--t->y == 0)
                    return -1;
            }
            t->d = days_in_month(t->y, t->mo);
        }
    } else if (m >= 24 * 60) {
        m -= 24 * 60;
        if (++t->d > days_in_month(t->y, t->mo)) {
            t->d = 1;
            if (++t->mo > 12) {
                t->mo = 1;
                if (++t->y > 9999)
                    return -1;
            }
        }
    }
    t->h = m / 60;
    t->mi = m % 60;
    t->off = 0;
    return 0;
}

static unsigned classify_datetime(const char *p, size_t n)
{
    struct dt t;
    if (scan_datetime(p, n, &t) < 0)
        return BIT_TEXT;
    if (!t.has_time)
        return BIT_TEXT | COLTYPE_BIT(COLTYPE_DATE) | COLTYPE_BIT(COLTYPE_TIMESTAMP);
    if (!t.has_zone)
        return BIT_TEXT | COLTYPE_BIT(COLTYPE_TIMESTAMP);
    return BIT_TEXT | (to_utc(&t) == 0 ? COLTYPE_BIT(COLTYPE_TIMESTAMPTZ) : 0);
}

static char *put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

/* Write "YYYY-MM-DDTHH:MM:SS[.ffffff][Z]" to out (room for 28 bytes, with a
 * NUL that is not counted) and return its length. */
static size_t format_timestamp(const struct dt *t, int zulu, char *out)
{
    char *o = put2(put2(out, t->y / 100), t->y % 100);
    *o++ = '-';
    o = put2(o, t->mo);
    *o++ = '-';
    o = put2(o, t->d);
    *o++ = 'T';
    o = put2(o, t->h);
    *o++ = ':';
    o = put2(o, t->mi);
    *o++ = ':';
    o = put2(o, t->s);
    if (t->frac_len > 0) {
        *o++ = '.';
        memcpy(o, t->frac, t->frac_len);
        o += t->frac_len;
    }
    if (zulu)
        *o++ = 'Z';
    *o = '\0';
    return (size_t)(o - out);
}

/* ---- classify, pick, sql -------------------------------------------------------------- */

unsigned coltype_classify(const char *p, size_t n)
{
    if (n == 0)
        return BIT_TEXT;
    switch (p[0]) {
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (n >= 10 && p[4] == '-')
            return classify_datetime(p, n);
        return classify_number(p, n);
    case '-':
    case '.':
        return classify_number(p, n);
    case 't':
    case 'T':
    case 'f':
    case 'F':
    case 'y':
    case 'Y':
    case 'n':
    case 'N':
        return parse_bool(p, n) >= 0 ? BIT_TEXT | COLTYPE_BIT(COLTYPE_BOOLEAN) : BIT_TEXT;
    default:
        return BIT_TEXT;
    }
}

enum coltype coltype_pick(unsigned mask)
{
    for (int t = COLTYPE_BOOLEAN; t < COLTYPE_TEXT; t++)
        if (mask & COLTYPE_BIT(t))
            return (enum coltype)t;
    return COLTYPE_TEXT;
}

const char *coltype_sql(enum coltype t, enum store_backend_kind backend)
{
    static const char *const SQLITE[COLTYPE_COUNT] = {
        "INTEGER", "INTEGER", "REAL", "TEXT", "TEXT", "TEXT", "TEXT",
    };
    static const char *const PG[COLTYPE_COUNT] = {
        "boolean", "bigint", "numeric", "date", "timestamp", "timestamptz", "text",
    };
    if ((unsigned)t >= COLTYPE_COUNT)
        return NULL;
    switch (backend) {
    case STORE_SQLITE:
        return SQLITE[t];
    case STORE_POSTGRESQL:
        return PG[t];
    default:
        return NULL;
    }
}

/* ---- convert -------------------------------------------------------------------------- */

int coltype_convert(enum coltype t, enum store_backend_kind backend, const char *p, size_t n,
                    char scratch[COLTYPE_SCRATCH], struct store_value *out)
{
    struct num x;
    struct dt d;
    int64_t v;
    int b;
    switch (t) {
    case COLTYPE_BOOLEAN:
        if (n == 0 || (b = parse_bool(p, n)) < 0)
            return ERR_INVAL;
        *out = SV_BOOL(b);
        return 0;
    case COLTYPE_INTEGER:
        if (scan_number(p, n, &x) < 0 || !num_integer(&x, &v))
            return ERR_INVAL;
        *out = SV_INT(v);
        return 0;
    case COLTYPE_DECIMAL:
        if (scan_number(p, n, &x) < 0 || !num_decimal(&x))
            return ERR_INVAL;
        if (backend == STORE_SQLITE)
            *out = SV_DOUBLE(num_double(&x));
        else if (backend == STORE_POSTGRESQL)
            *out = SV_TEXTN(p, n);
        else
            return ERR_INVAL;
        return 0;
    case COLTYPE_DATE:
        if (scan_datetime(p, n, &d) < 0 || d.has_time)
            return ERR_INVAL;
        *out = SV_TEXTN(p, n);
        return 0;
    case COLTYPE_TIMESTAMP:
        if (scan_datetime(p, n, &d) < 0 || d.has_zone)
            return ERR_INVAL;
        *out = SV_TEXTN(scratch, format_timestamp(&d, 0, scratch));
        return 0;
    case COLTYPE_TIMESTAMPTZ:
        if (scan_datetime(p, n, &d) < 0 || !d.has_zone || to_utc(&d) < 0)
            return ERR_INVAL;
        *out = SV_TEXTN(scratch, format_timestamp(&d, 1, scratch));
        return 0;
    case COLTYPE_TEXT:
        *out = SV_TEXTN(p, n);
        return 0;
    default:
        return ERR_INVAL;
    }
}
