/*
 * gen_csv: a deterministic CSV for bench/ingest.sh, written to stdout.
 *
 *   cc -std=c11 -O2 -o /tmp/gen_csv bench/gen_csv.c && /tmp/gen_csv ROWS [SEED] > f.csv
 *
 * The same ROWS and SEED give the same bytes. One header row, then ROWS rows of
 * ten columns, LF line ends:
 *
 *   n        1..ROWS (integer; not "id", which ferry adds as its row id)
 *   name     words, some non-ASCII (é, ü, 日本, emoji); about 4% hold a comma,
 *            3% doubled quotes and 1% an embedded newline (all three quoted)
 *   amount   decimal with 2 places, some negative
 *   ratio    half scientific (3.14159e-3, 2.5e+4), half plain (123.4567)
 *   day      a valid date YYYY-MM-DD, 2000-2029
 *   seen_at  timestamp YYYY-MM-DDTHH:MM:SS, half with a .f{1,6} fraction, no zone
 *   active   true / false
 *   ref      empty in about 40% of rows, else an integer
 *   qty      small integer 0..999
 *   code     short text AB-1234
 *
 * Every number has at most 15 significant digits, so ferry infers integer,
 * text, decimal, decimal, date, timestamp, boolean, integer, integer, text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_CAP (1u << 20)

static char out[OUT_CAP + 4096];
static size_t out_len;

static uint64_t rng_state;

/* splitmix64: small, fast, good enough for test data. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A uniform-enough value in [0, n). */
static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(((rng() >> 32) * n) >> 32);
}

static void flush_out(void)
{
    if (out_len && fwrite(out, 1, out_len, stdout) != out_len) {
        perror("gen_csv: write");
        exit(1);
    }
    out_len = 0;
}

static void put(const char *s, size_t n)
{
    memcpy(out + out_len, s, n);
    out_len += n;
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

static void putc_(char c)
{
    out[out_len++] = c;
}

/* Unsigned decimal, at least width digits (zero-padded). */
static void put_u(uint64_t v, int width)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i < width)
        tmp[i++] = '0';
    while (i)
        out[out_len++] = tmp[--i];
}

static const char *const WORDS[] = {
    "Alice", "Martin", "Bob",  "Smith",  "Carol",  "Jones",  "Dave",  "Brown", "Eve",
    "Lee",   "Frank",  "Wood", "Grace",  "Hall",   "Heidi",  "Clark", "Ivan",  "Lewis",
    "Judy",  "Young",  "Acme", "Widget", "Gadget", "Supply", "Store", "Depot", "North",
    "South", "East",   "West", "Main",   "Street", "Road",   "Hill",  "Park",  "Lake",
};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

static const char *const INTL[] = {
    "Zoë", "Café", "Müller", "Ærøskøbing", "Ñandú", "日本", "東京都", "😀", "🚀 launch", "Łódź",
};
#define NINTL (sizeof INTL / sizeof INTL[0])

static void put_word(void)
{
    if (rnd(10) == 0)
        puts_(INTL[rnd(NINTL)]);
    else
        puts_(WORDS[rnd(NWORDS)]);
}

/* The name column: plain words, or a quoted field with a comma, quotes or a newline. */
static void put_name(void)
{
    uint32_t k = rnd(100);
    if (k < 4) { /* "Surname, First" */
        putc_('"');
        put_word();
        puts_(", ");
        put_word();
        putc_('"');
    } else if (k < 7) { /* The "Big" One */
        putc_('"');
        put_word();
        puts_(" \"\"");
        put_word();
        puts_("\"\" ");
        put_word();
        putc_('"');
    } else if (k < 8) { /* two lines */
        putc_('"');
        put_word();
        putc_(' ');
        put_word();
        putc_('\n');
        put_word();
        putc_('"');
    } else {
        uint32_t nw = 1 + rnd(3);
        for (uint32_t i = 0; i < nw; i++) {
            if (i)
                putc_(' ');
            put_word();
        }
    }
}

static int days_in_month(int y, int m)
{
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return DAYS[m - 1];
}

static void put_date(void)
{
    int y = 2000 + (int)rnd(30), m = 1 + (int)rnd(12);
    int d = 1 + (int)rnd((uint32_t)days_in_month(y, m));
    put_u((uint64_t)y, 4);
    putc_('-');
    put_u((uint64_t)m, 2);
    putc_('-');
    put_u((uint64_t)d, 2);
}

static void put_row(uint64_t n)
{
    put_u(n, 1);
    putc_(',');
    put_name();
    putc_(',');

    /* amount: -5000.00 .. 94999.99 */
    int64_t cents = (int64_t)rnd(10000000) - 500000;
    if (cents < 0) {
        putc_('-');
        cents = -cents;
    }
    put_u((uint64_t)cents / 100, 1);
    putc_('.');
    put_u((uint64_t)cents % 100, 2);
    putc_(',');

    /* ratio: d.ddddde[+-]x or plain ddddd.dddd */
    if (rnd(2)) {
        put_u(1 + rnd(9), 1);
        putc_('.');
        put_u(rnd(100000), 5);
        putc_('e');
        int e = (int)rnd(17) - 8;
        if (e < 0) {
            putc_('-');
            e = -e;
        } else if (rnd(2)) {
            putc_('+');
        }
        put_u((uint64_t)e, 1);
    } else {
        put_u(rnd(100000), 1);
        putc_('.');
        put_u(rnd(10000), 4);
    }
    putc_(',');

    put_date();
    putc_(',');

    put_date();
    putc_('T');
    put_u(rnd(24), 2);
    putc_(':');
    put_u(rnd(60), 2);
    putc_(':');
    put_u(rnd(60), 2);
    if (rnd(2)) {
        static const uint32_t POW10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
        int digits = 1 + (int)rnd(6);
        putc_('.');
        put_u(rnd(POW10[digits]), digits);
    }
    putc_(',');

    puts_(rnd(2) ? "true" : "false");
    putc_(',');

    if (rnd(10) >= 4)
        put_u(1 + rnd(1000000000), 1);
    putc_(',');

    put_u(rnd(1000), 1);
    putc_(',');

    putc_((char)('A' + rnd(26)));
    putc_((char)('A' + rnd(26)));
    putc_('-');
    put_u(rnd(10000), 4);
    putc_('\n');
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gen_csv ROWS [SEED] > file.csv\n");
        return 2;
    }
    char *end;
    uint64_t rows = strtoull(argv[1], &end, 10);
    if (*end) {
        fprintf(stderr, "gen_csv: ROWS must be a number\n");
        return 2;
    }
    rng_state = argc == 3 ? strtoull(argv[2], &end, 10) : 1;
    if (argc == 3 && *end) {
        fprintf(stderr, "gen_csv: SEED must be a number\n");
        return 2;
    }
    puts_("n,name,amount,ratio,day,seen_at,active,ref,qty,code\n");
    for (uint64_t i = 1; i <= rows; i++) {
        put_row(i);
        if (out_len >= OUT_CAP)
            flush_out();
    }
    flush_out();
    if (fflush(stdout) != 0) {
        perror("gen_csv: write");
        return 1;
    }
    return 0;
}
