/*
 * Unit tests for src/ingest/csvfile.c. Every input is read through a transcript
 * (one line per record, then the error if any; the format of
 * tests/data/csv/README.md), so a test compares text. Inputs are fed in one
 * chunk and again byte by byte (and in other chunk sizes), which must give the
 * same transcript. The data-driven cases in tests/data/csv/ run in
 * csvfile/data_cases.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "ingest/csvfile.h"

#define CASES_DIR "tests/data/csv"

/* ---- transcript ---------------------------------------------------------------------- */

struct run {
    struct buf out;
};

static int on_record(void *ctx, const struct csvfile_record *rec)
{
    struct run *run = ctx;
    buf_printf(&run->out, "%lld [", (long long)rec->line);
    for (size_t i = 0; i < rec->nfields; i++) {
        cr_assert_eq(rec->fields[i].p[rec->fields[i].n], '\0', "fields are NUL-terminated");
        buf_puts(&run->out, i ? ",\"" : "\"");
        json_escape(&run->out, rec->fields[i].p, rec->fields[i].n);
        buf_putc(&run->out, '"');
    }
    buf_puts(&run->out, "]\n");
    return 0;
}

/* Feed input[0..n) in chunks of `chunk` bytes (0: one chunk) and return the
 * transcript (malloc'd). *rc_out receives the final return code. */
static char *transcript(const char *input, size_t n, size_t chunk,
                        const struct csvfile_options *opt, int *rc_out)
{
    struct run run = {0};
    buf_init(&run.out, 64 << 20);
    csvfile *r = NULL;
    int rc = csvfile_open(opt, on_record, &run, &r);
    cr_assert_eq(rc, 0);
    if (chunk == 0)
        chunk = n ? n : 1;
    for (size_t i = 0; i < n && rc == 0; i += chunk)
        rc = csvfile_feed(r, input + i, n - i < chunk ? n - i : chunk);
    if (rc == 0)
        rc = csvfile_finish(r);
    if (rc < 0)
        buf_printf(&run.out, "error %s line=%lld row=%lld offset=%lld: %s\n", err_name(rc),
                   (long long)csvfile_error_line(r), (long long)csvfile_error_row(r),
                   (long long)csvfile_error_offset(r), csvfile_error(r));
    else if (csvfile_delimiter(r) == '\t')
        buf_puts(&run.out, "delimiter: tab\n");
    else
        buf_printf(&run.out, "delimiter: %c\n", csvfile_delimiter(r));
    csvfile_free(r);
    if (rc_out)
        *rc_out = rc;
    return buf_take(&run.out, NULL);
}

/* The transcript of input, checked to be the same in every chunking. */
static char *read_all(const char *input, size_t n, const struct csvfile_options *opt, int *rc)
{
    char *whole = transcript(input, n, 0, opt, rc);
    static const size_t chunks[] = {1, 2, 3, 7, 64, 4096};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        int rc2 = 0;
        char *t = transcript(input, n, chunks[i], opt, &rc2);
        cr_assert_str_eq(t, whole, "chunk size %zu differs:\n%s\n-- whole:\n%s", chunks[i], t,
                         whole);
        cr_assert_eq(rc2, rc ? *rc : rc2);
        free(t);
    }
    return whole;
}

static void expect(const char *input, const char *want)
{
    int rc = 0;
    char *got = read_all(input, strlen(input), NULL, &rc);
    cr_assert_str_eq(got, want, "input:\n%s\ngot:\n%s\nwant:\n%s", input, got, want);
    free(got);
}

static void expect_opt(const char *input, size_t n, const struct csvfile_options *opt,
                       const char *want)
{
    int rc = 0;
    char *got = read_all(input, n, opt, &rc);
    cr_assert_str_eq(got, want, "got:\n%s\nwant:\n%s", got, want);
    free(got);
}

/* ---- reading --------------------------------------------------------------------------- */

Test(csvfile, basic)
{
    expect("a,b\n1,2\n3,4\n", "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\n3 [\"3\",\"4\"]\ndelimiter: ,\n");
}

Test(csvfile, final_record_without_line_end)
{
    expect("a,b\n1,2", "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\ndelimiter: ,\n");
}

Test(csvfile, quoting)
{
    expect("a,b\n\"x \"\"y\"\"\",\"1,2\"\n\"\",\"\"\"\"\n",
           "1 [\"a\",\"b\"]\n2 [\"x \\\"y\\\"\",\"1,2\"]\n3 [\"\",\"\\\"\"]\ndelimiter: ,\n");
}

Test(csvfile, spaces_are_data)
{
    expect("a , b\n 1 ,\t2\t\n", "1 [\"a \",\" b\"]\n2 [\" 1 \",\"\\t2\\t\"]\ndelimiter: ,\n");
    expect("a,b\n\" x \", \n", "1 [\"a\",\"b\"]\n2 [\" x \",\" \"]\ndelimiter: ,\n");
}

Test(csvfile, empty_fields)
{
    expect("a,b,c\n,,\n", "1 [\"a\",\"b\",\"c\"]\n2 [\"\",\"\",\"\"]\ndelimiter: ,\n");
}

Test(csvfile, embedded_newlines_count_as_lines)
{
    expect("a,b\n\"x\ny\",1\n\"p\r\nq\rr\",2\nlast,3\n",
           "1 [\"a\",\"b\"]\n2 [\"x\\ny\",\"1\"]\n4 [\"p\\r\\nq\\rr\",\"2\"]\n"
           "7 [\"last\",\"3\"]\ndelimiter: ,\n");
}

Test(csvfile, crlf_lf_cr_line_ends)
{
    expect("a,b\r\n1,2\r\n3,4\r\n",
           "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\n3 [\"3\",\"4\"]\ndelimiter: ,\n");
    expect("a,b\r1,2\r3,4", "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\n3 [\"3\",\"4\"]\ndelimiter: ,\n");
    /* CR then CRLF is two line ends; LF CR is two. */
    expect("a\r\r\nb\n\rc\n", "1 [\"a\"]\n3 [\"b\"]\n5 [\"c\"]\ndelimiter: ,\n");
}

Test(csvfile, blank_lines_skipped_but_counted)
{
    expect("\n\na,b\n\n1,2\r\n\r\n\r\n3,4\n\n",
           "3 [\"a\",\"b\"]\n5 [\"1\",\"2\"]\n8 [\"3\",\"4\"]\ndelimiter: ,\n");
}

Test(csvfile, quoted_field_ending_in_cr_before_lf)
{
    /* CR inside the quotes, then the closing quote, then LF: two line ends. */
    expect("a\n\"x\r\"\nb\n", "1 [\"a\"]\n2 [\"x\\r\"]\n4 [\"b\"]\ndelimiter: ,\n");
}

Test(csvfile, chunking_gives_identical_records)
{
    /* A mix of everything; read_all compares chunk sizes 1, 2, 3, 7, 64, 4096. */
    const char *in = "\xef\xbb\xbfna\xc3\xafve,\"q\"\"x\",c\r\n"
                     "\"multi\r\nline\",\xe2\x82\xac,\xf0\x9f\x98\x80\r\n"
                     "\n"
                     "\" \",,\"a,b\"\r"
                     "x,y,z";
    expect(in, "1 [\"na\xc3\xafve\",\"q\\\"x\",\"c\"]\n"
               "2 [\"multi\\r\\nline\",\"\xe2\x82\xac\",\"\xf0\x9f\x98\x80\"]\n"
               "5 [\" \",\"\",\"a,b\"]\n"
               "6 [\"x\",\"y\",\"z\"]\n"
               "delimiter: ,\n");
}

Test(csvfile, every_chunk_size_same)
{
    const char *in = "h1;h2\r\n\"a;\r\nb\";2\r\n\r\nc;\"\"\"\"\nd;e";
    size_t n = strlen(in);
    int rc = 0;
    char *whole = transcript(in, n, 0, NULL, &rc);
    cr_assert_eq(rc, 0);
    for (size_t c = 1; c <= n; c++) {
        char *t = transcript(in, n, c, NULL, NULL);
        cr_assert_str_eq(t, whole, "chunk %zu", c);
        free(t);
    }
    cr_assert_str_eq(whole, "1 [\"h1\",\"h2\"]\n2 [\"a;\\r\\nb\",\"2\"]\n5 [\"c\",\"\\\"\"]\n"
                            "6 [\"d\",\"e\"]\ndelimiter: ;\n");
    free(whole);
}

Test(csvfile, large_input_many_slices)
{
    /* ~1 MB so slices, sniffing of the first 64 KiB and buffer reuse are exercised. */
    struct buf in;
    buf_init(&in, 4 << 20);
    buf_puts(&in, "id|name|note\n");
    for (int i = 0; i < 20000; i++)
        buf_printf(&in, "%d|name %d|\"note\n%d\"\n", i, i, i);
    int rc = 0;
    char *t = transcript(in.data, in.len, 0, NULL, &rc);
    cr_assert_eq(rc, 0, "%s", t);
    char *t2 = transcript(in.data, in.len, 1000, NULL, &rc);
    cr_assert_str_eq(t, t2);
    cr_assert_not_null(strstr(t, "\n40000 [\"19999\",\"name 19999\",\"note\\n19999\"]\n"));
    cr_assert_not_null(strstr(t, "delimiter: |\n"));
    free(t);
    free(t2);
    buf_free(&in);
}

/* ---- BOM, sniffing --------------------------------------------------------------------- */

Test(csvfile, bom_dropped)
{
    expect("\xef\xbb\xbf"
           "a,b\n1,2\n",
           "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\ndelimiter: ,\n");
    struct csvfile_options o = {.delimiter = ','};
    expect_opt("\xef\xbb\xbf"
               "a\n1\n",
               7, &o, "1 [\"a\"]\n2 [\"1\"]\ndelimiter: ,\n");
    /* Only at the start. */
    expect("a\n\xef\xbb\xbf\n", "1 [\"a\"]\n2 [\"\xef\xbb\xbf\"]\ndelimiter: ,\n");
}

Test(csvfile, bom_not_dropped_in_latin1)
{
    struct csvfile_options o = {.encoding = CSVFILE_LATIN1};
    expect_opt("\xef\xbb\xbf"
               "a\n1\n",
               7, &o,
               "1 [\"\xc3\xaf\xc2\xbb\xc2\xbf"
               "a\"]\n2 [\"1\"]\ndelimiter: ,\n");
}

Test(csvfile, sniff_delimiters)
{
    expect("a;b;c\n1;2;3\n", "1 [\"a\",\"b\",\"c\"]\n2 [\"1\",\"2\",\"3\"]\ndelimiter: ;\n");
    expect("a\tb\n1\t2\n", "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\ndelimiter: tab\n");
    expect("a|b\n1|2\n", "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\ndelimiter: |\n");
    /* Commas inside quotes do not count. */
    expect("\"a,b\";c\n\"1,2,3\";4\n", "1 [\"a,b\",\"c\"]\n2 [\"1,2,3\",\"4\"]\ndelimiter: ;\n");
    /* Consistent count wins over a larger but varying count. */
    expect("a;b,c,d\n1;2,3\n4;5,6,7,8\n", "1 [\"a\",\"b,c,d\"]\n2 [\"1\",\"2,3\"]\n"
                                          "3 [\"4\",\"5,6,7,8\"]\ndelimiter: ;\n");
    /* A tie prefers , then ; then tab then |. */
    expect("a,b;c\n1,2;3\n", "1 [\"a\",\"b;c\"]\n2 [\"1\",\"2;3\"]\ndelimiter: ,\n");
    expect("a|b;c\n1|2;3\n", "1 [\"a|b\",\"c\"]\n2 [\"1|2\",\"3\"]\ndelimiter: ;\n");
    /* None found: ','. */
    expect("a\n1\n", "1 [\"a\"]\n2 [\"1\"]\ndelimiter: ,\n");
}

Test(csvfile, sniff_decided_before_finish_on_long_input)
{
    struct buf in;
    buf_init(&in, 1 << 20);
    buf_puts(&in, "a;b\n");
    while (in.len < 100000)
        buf_puts(&in, "1;2\n");
    csvfile *r = NULL;
    cr_assert_eq(csvfile_open(NULL, NULL, NULL, &r), 0);
    cr_assert_eq(csvfile_delimiter(r), 0);
    cr_assert_eq(csvfile_feed(r, in.data, 1000), 0);
    cr_assert_eq(csvfile_delimiter(r), 0, "not enough input yet");
    cr_assert_eq(csvfile_feed(r, in.data + 1000, in.len - 1000), 0);
    cr_assert_eq(csvfile_delimiter(r), ';');
    cr_assert_eq(csvfile_finish(r), 0);
    cr_assert_eq(csvfile_rows(r), (int64_t)(in.len / 4));
    cr_assert_eq(csvfile_bytes(r), (int64_t)in.len);
    csvfile_free(r);
    buf_free(&in);
}

Test(csvfile, sniff_ignores_cut_last_line)
{
    /* 64 KiB of "a;b" lines, the window cut inside a line full of commas. */
    struct buf in;
    buf_init(&in, 1 << 20);
    buf_puts(&in, "a;b\n");
    while (in.len < 65536 - 10)
        buf_puts(&in, "1;2\n");
    while (in.len < 65536 + 100)
        buf_puts(&in, ",,,,,,,,,,");
    buf_puts(&in, "\n");
    csvfile *r = NULL;
    cr_assert_eq(csvfile_open(NULL, NULL, NULL, &r), 0);
    csvfile_feed(r, in.data, in.len);
    cr_assert_eq(csvfile_delimiter(r), ';');
    csvfile_free(r);
    buf_free(&in);
}

/* ---- encodings --------------------------------------------------------------------------- */

Test(csvfile, latin1)
{
    struct csvfile_options o = {.encoding = CSVFILE_LATIN1};
    const char in[] = "caf\xe9,x\n\x80\x81\xff,\xa0\n";
    expect_opt(in, sizeof in - 1, &o,
               "1 [\"caf\xc3\xa9\",\"x\"]\n2 [\"\xc2\x80\xc2\x81\xc3\xbf\",\"\xc2\xa0\"]\n"
               "delimiter: ,\n");
}

Test(csvfile, cp1252)
{
    struct csvfile_options o = {.encoding = CSVFILE_CP1252};
    const char in[] = "\x80,\x93q\x94\n\xe9,\x99\n";
    expect_opt(in, sizeof in - 1, &o,
               "1 [\"\xe2\x82\xac\",\"\xe2\x80\x9cq\xe2\x80\x9d\"]\n"
               "2 [\"\xc3\xa9\",\"\xe2\x84\xa2\"]\ndelimiter: ,\n");
}

Test(csvfile, cp1252_undefined_bytes)
{
    static const unsigned char bad[] = {0x81, 0x8d, 0x8f, 0x90, 0x9d};
    for (size_t i = 0; i < sizeof bad; i++) {
        char in[32];
        int n = snprintf(in, sizeof in, "a,b\n1,2\nx%c,y\n", bad[i]);
        struct csvfile_options o = {.encoding = CSVFILE_CP1252};
        char want[160];
        snprintf(want, sizeof want,
                 "1 [\"a\",\"b\"]\n2 [\"1\",\"2\"]\nerror INVAL line=3 row=3 offset=9: invalid "
                 "cp1252 byte 0x%02X at line 3, byte offset 9\n",
                 bad[i]);
        expect_opt(in, (size_t)n, &o, want);
    }
}

Test(csvfile, parse_error_offset_in_input_bytes_when_converted)
{
    /* \xe9 becomes two bytes; the offset is still counted in input bytes. */
    struct csvfile_options o = {.encoding = CSVFILE_LATIN1};
    const char in[] = "a,b\n\xe9\xe9,x\"y\n";
    expect_opt(in, sizeof in - 1, &o,
               "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=8: quote inside an unquoted "
               "field at line 2, byte offset 8\n");
}

Test(csvfile, nul_is_an_error)
{
    const char in[] = "a,b\n1,\0\n";
    expect_opt(in, sizeof in - 1, NULL,
               "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=6: NUL byte at line 2, byte "
               "offset 6\n");
    struct csvfile_options o = {.encoding = CSVFILE_LATIN1};
    expect_opt(in, sizeof in - 1, &o,
               "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=6: NUL byte at line 2, byte "
               "offset 6\n");
}

static void expect_bad_utf8(const char *in, size_t n, int64_t line, int64_t off)
{
    char want[512];
    int rc = 0;
    char *got = read_all(in, n, NULL, &rc);
    cr_assert_eq(rc, ERR_INVAL, "%s", got);
    snprintf(want, sizeof want, "line=%lld row=", (long long)line);
    cr_assert_not_null(strstr(got, want), "%s", got);
    snprintf(want, sizeof want, "offset=%lld: invalid UTF-8 at line %lld, byte offset %lld\n",
             (long long)off, (long long)line, (long long)off);
    cr_assert_not_null(strstr(got, want), "want %s in:\n%s", want, got);
    free(got);
}

Test(csvfile, invalid_utf8)
{
    /* The offset is that of the first byte of the bad sequence. */
#define BAD(s, line, off) expect_bad_utf8(s, sizeof s - 1, line, off)
    BAD("a,b\n1,\xc0\x80\n", 2, 6);                 /* overlong 2 bytes */
    BAD("a,b\n1,\xc1\xbf\n", 2, 6);                 /* overlong */
    BAD("a,b\n1,\xe0\x80\xaf\n", 2, 6);             /* overlong 3 bytes */
    BAD("a,b\n1,\xf0\x80\x80\xaf\n", 2, 6);         /* overlong 4 bytes */
    BAD("a,b\n1,\xed\xa0\x80\n", 2, 6);             /* surrogate */
    BAD("a,b\n1,\xed\xbf\xbf\n", 2, 6);             /* surrogate */
    BAD("a,b\n1,\xf4\x90\x80\x80\n", 2, 6);         /* above U+10FFFF */
    BAD("a,b\n1,\xf5\x80\x80\x80\n", 2, 6);         /* never a lead */
    BAD("a,b\n1,\xff\n", 2, 6);                     /* never valid */
    BAD("a,b\n1,x\x80y\n", 2, 7);                   /* lone continuation */
    BAD("a,b\n1,\xe2\x82,z\n", 2, 6);               /* truncated, then ASCII */
    BAD("a,b\n1,\xe2\x82", 2, 6);                   /* truncated at the end */
    BAD("a,b\n\"x\ny\",\"\r\n\xc3\x28\"\n", 4, 13); /* after embedded newlines */
    BAD("\xef\xbb\xbf"
        "a\n\xc3",
        2, 5); /* offsets count the BOM */
#undef BAD
}

Test(csvfile, valid_utf8_edges)
{
    /* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF */
    expect("a\n\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
           "\xf4\x8f\xbf\xbf\n",
           "1 [\"a\"]\n2 [\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0"
           "\x90\x80\x80\xf4\x8f\xbf\xbf\"]\ndelimiter: ,\n");
}

Test(csvfile, invalid_utf8_message_example)
{
    const char in[] = "id,name\n1,ok\n2,\"bad \xe9 here\"\n";
    expect_opt(in, sizeof in - 1, NULL,
               "1 [\"id\",\"name\"]\n2 [\"1\",\"ok\"]\nerror INVAL line=3 row=3 offset=20: "
               "invalid UTF-8 at line 3, byte offset 20\n");
}

/* ---- malformed input, ragged rows, empty input ---------------------------------------- */

Test(csvfile, malformed_quotes)
{
    expect("a,b\n1,x\"y\n", "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=7: quote inside an "
                            "unquoted field at line 2, byte offset 7\n");
    expect("a,b\n1,\"x\"y\n",
           "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=9: unexpected character after a "
           "closing quote at line 2, byte offset 9\n");
    expect("a,b\n1,\"x\" \n",
           "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=9: unexpected character after a "
           "closing quote at line 2, byte offset 9\n");
    expect("a,b\n1,\"x\ny\nz",
           "1 [\"a\",\"b\"]\nerror INVAL line=2 row=2 offset=-1: unterminated quoted field "
           "starting at line 2\n");
    expect("a,b\n\"p\nq\",\"x\ny\"z\n",
           "1 [\"a\",\"b\"]\nerror INVAL line=4 row=2 offset=15: unexpected character after a "
           "closing quote at line 4, byte offset 15\n");
}

Test(csvfile, ragged_rows)
{
    expect("a,b,c\n1,2,3\n\n4,5\n",
           "1 [\"a\",\"b\",\"c\"]\n2 [\"1\",\"2\",\"3\"]\nerror INVAL line=4 row=3 offset=-1: row "
           "3 has a different number of data points (2) than there are column headers (3)\n");
    expect("a\n1,2\n", "1 [\"a\"]\nerror INVAL line=2 row=2 offset=-1: row 2 has a different "
                       "number of data points (2) than there are column headers (1)\n");
}

Test(csvfile, empty_and_header_only)
{
    expect("", "error INVAL line=0 row=0 offset=-1: no headers found\n");
    expect("\n\r\n\n", "error INVAL line=0 row=0 offset=-1: no headers found\n");
    expect("\xef\xbb\xbf", "error INVAL line=0 row=0 offset=-1: no headers found\n");
    expect("a,b\n", "1 [\"a\",\"b\"]\nerror INVAL line=0 row=0 offset=-1: no data found\n");
    expect("a,b", "1 [\"a\",\"b\"]\nerror INVAL line=0 row=0 offset=-1: no data found\n");
}

/* ---- limits -------------------------------------------------------------------------------- */

Test(csvfile, max_columns)
{
    struct csvfile_options o = {.max_columns = 3};
    expect_opt("a,b,c\n1,2,3\n", 12, &o,
               "1 [\"a\",\"b\",\"c\"]\n2 [\"1\",\"2\",\"3\"]\ndelimiter: ,\n");
    expect_opt("a,b,c\n1,2,3,4\n", 14, &o,
               "1 [\"a\",\"b\",\"c\"]\nerror TOOBIG line=2 row=2 offset=-1: row 2 has more than "
               "3 columns\n");
}

Test(csvfile, max_field)
{
    struct csvfile_options o = {.max_field = 4};
    expect_opt("abcd\n\"wx\n\"\n", 11, &o, "1 [\"abcd\"]\n2 [\"wx\\n\"]\ndelimiter: ,\n");
    expect_opt("abcd\n1\n\"abcde\"\n", 15, &o,
               "1 [\"abcd\"]\n2 [\"1\"]\nerror TOOBIG line=3 row=3 offset=-1: field longer than "
               "4 bytes at line 3\n");
}

Test(csvfile, max_record)
{
    struct csvfile_options o = {.max_record = 6};
    expect_opt("abc,def\n1,2\n", 12, &o, "1 [\"abc\",\"def\"]\n2 [\"1\",\"2\"]\ndelimiter: ,\n");
    expect_opt("abc,defg\n", 9, &o,
               "error TOOBIG line=1 row=1 offset=-1: row 1 is longer than 6 bytes (line 1)\n");
}

Test(csvfile, limit_crossed_before_a_bad_quote)
{
    /* The limit is crossed at the byte that passes it, before the quote error
     * that follows, in every chunking (a pending field may hold max_field + 1). */
    struct csvfile_options o = {.max_field = 4};
    expect_opt("abcd\nabcdef\"\n", 13, &o,
               "1 [\"abcd\"]\nerror TOOBIG line=2 row=2 offset=-1: field longer than 4 bytes at "
               "line 2\n");
    expect_opt("abcd\nabcde\"\n", 12, &o,
               "1 [\"abcd\"]\nerror INVAL line=2 row=2 offset=10: quote inside an unquoted field "
               "at line 2, byte offset 10\n");
    struct csvfile_options rec = {.max_record = 6};
    expect_opt("ab,cdefgh\"\n", 11, &rec,
               "error TOOBIG line=1 row=1 offset=-1: row 1 is longer than 6 bytes (line 1)\n");
}

Test(csvfile, doubled_quotes_across_chunks)
{
    /* Doubled quotes move the rest of the field left, also when the field
     * spans slices and chunks. */
    struct buf in;
    buf_init(&in, 1 << 20);
    buf_puts(&in, "a,b\n\"");
    for (int i = 0; i < 30000; i++)
        buf_puts(&in, i % 7 ? "x\"\"" : "\r\n");
    buf_puts(&in, "\",2\nend,3\n");
    int rc = 0;
    char *whole = transcript(in.data, in.len, 0, NULL, &rc);
    cr_assert_eq(rc, 0, "%s", whole);
    static const size_t chunks[] = {1, 5, 4096, 65535, 65537};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char *t = transcript(in.data, in.len, chunks[i], NULL, NULL);
        cr_assert_str_eq(t, whole, "chunk %zu", chunks[i]);
        free(t);
    }
    /* 4286 CRLFs inside the field: the next record starts on line 2 + 4286 + 1. */
    cr_assert_not_null(strstr(whole, "\n4289 [\"end\",\"3\"]\n"), "%.200s", whole);
    free(whole);
    buf_free(&in);
}

static int count_only(void *ctx, const struct csvfile_record *rec)
{
    (void)rec;
    (*(int *)ctx)++;
    return 0;
}

Test(csvfile, huge_field_fails_before_it_is_buffered)
{
    struct csvfile_options o = {.max_field = 1000};
    csvfile *r = NULL;
    int n = 0;
    cr_assert_eq(csvfile_open(&o, count_only, &n, &r), 0);
    cr_assert_eq(csvfile_feed(r, "a\n\"", 3), 0);
    char chunk[64 << 10];
    memset(chunk, 'x', sizeof chunk);
    int rc = 0;
    int fed = 0;
    for (; fed < 1000 && rc == 0; fed++)
        rc = csvfile_feed(r, chunk, sizeof chunk);
    cr_assert_eq(rc, ERR_TOOBIG);
    cr_assert_lt(fed, 4, "failed after %d chunks of 64 KiB", fed);
    cr_assert_str_eq(csvfile_error(r), "field longer than 1000 bytes at line 2");
    cr_assert_eq(csvfile_error_line(r), 2);
    cr_assert_eq(csvfile_error_row(r), 2);
    cr_assert_eq(csvfile_feed(r, "x", 1), ERR_TOOBIG, "sticky");
    cr_assert_eq(csvfile_finish(r), ERR_TOOBIG, "sticky");
    cr_assert_str_eq(csvfile_error(r), "field longer than 1000 bytes at line 2");
    csvfile_free(r);
}

Test(csvfile, huge_unquoted_record_fails_early)
{
    struct csvfile_options o = {.delimiter = ',', .max_record = 10000, .max_field = 1u << 30};
    csvfile *r = NULL;
    cr_assert_eq(csvfile_open(&o, NULL, NULL, &r), 0);
    char chunk[64 << 10];
    memset(chunk, 'y', sizeof chunk);
    int rc = csvfile_feed(r, chunk, sizeof chunk);
    cr_assert_eq(rc, ERR_TOOBIG);
    cr_assert_str_eq(csvfile_error(r), "row 1 is longer than 10000 bytes (line 1)");
    csvfile_free(r);
}

/* ---- callback, lifecycle ------------------------------------------------------------------- */

static int reject_row3(void *ctx, const struct csvfile_record *rec)
{
    (void)ctx;
    if (rec->row == 3) {
        csvfile *r = *(csvfile **)ctx;
        csvfile_set_error(r, "bad value \"%s\" in row %lld", rec->fields[0].p, (long long)rec->row);
        return ERR_UNPROCESSABLE;
    }
    return 0;
}

static int reject_silently(void *ctx, const struct csvfile_record *rec)
{
    (void)ctx;
    return rec->row == 2 ? ERR_INVAL : 0;
}

static int set_but_accept(void *ctx, const struct csvfile_record *rec)
{
    csvfile_set_error(*(csvfile **)ctx, "ignored %lld", (long long)rec->row);
    return 0;
}

Test(csvfile, callback_stops_with_its_message)
{
    csvfile *r = NULL;
    struct csvfile_options o = {.delimiter = ','};
    cr_assert_eq(csvfile_open(&o, reject_row3, &r, &r), 0);
    const char *in = "a\n1\n\"x\ny\"\n\nz\n";
    cr_assert_eq(csvfile_feed(r, in, strlen(in)), ERR_UNPROCESSABLE);
    cr_assert_str_eq(csvfile_error(r), "bad value \"x\ny\" in row 3");
    cr_assert_eq(csvfile_error_line(r), 3);
    cr_assert_eq(csvfile_error_row(r), 3);
    cr_assert_eq(csvfile_error_offset(r), -1);
    cr_assert_eq(csvfile_finish(r), ERR_UNPROCESSABLE);
    csvfile_free(r);

    cr_assert_eq(csvfile_open(NULL, reject_silently, NULL, &r), 0);
    cr_assert_eq(csvfile_feed(r, "a\nb\n", 4), 0, "not started: 3 bytes kept for the BOM check");
    cr_assert_eq(csvfile_finish(r), ERR_INVAL);
    cr_assert_str_eq(csvfile_error(r), "stopped");
    cr_assert_eq(csvfile_error_row(r), 2);
    csvfile_free(r);

    cr_assert_eq(csvfile_open(NULL, set_but_accept, &r, &r), 0);
    cr_assert_eq(csvfile_feed(r, "a\nb\n", 4), 0);
    cr_assert_eq(csvfile_finish(r), 0);
    cr_assert_str_eq(csvfile_error(r), "");
    cr_assert_eq(csvfile_rows(r), 2);
    csvfile_free(r);
}

Test(csvfile, open_rejects_bad_options)
{
    csvfile *r = (csvfile *)1;
    struct csvfile_options o = {.delimiter = ':'};
    cr_assert_eq(csvfile_open(&o, NULL, NULL, &r), ERR_INVAL);
    cr_assert_null(r);
    struct csvfile_options e = {.encoding = (enum csvfile_encoding)7};
    cr_assert_eq(csvfile_open(&e, NULL, NULL, &r), ERR_INVAL);
    cr_assert_null(r);
    csvfile_free(NULL);
}

Test(csvfile, no_error_state)
{
    csvfile *r = NULL;
    cr_assert_eq(csvfile_open(NULL, NULL, NULL, &r), 0);
    cr_assert_str_eq(csvfile_error(r), "");
    cr_assert_eq(csvfile_error_line(r), 0);
    cr_assert_eq(csvfile_error_offset(r), -1);
    cr_assert_eq(csvfile_error_row(r), 0);
    cr_assert_eq(csvfile_rows(r), 0);
    cr_assert_eq(csvfile_feed(r, "a,b\n1,2\n", 8), 0);
    cr_assert_eq(csvfile_finish(r), 0);
    cr_assert_eq(csvfile_rows(r), 2);
    cr_assert_eq(csvfile_bytes(r), 8);
    cr_assert_eq(csvfile_feed(r, "x", 1), ERR_INVAL, "input after finish");
    csvfile_free(r);
}

/* ---- column names ---------------------------------------------------------------------------- */

/* names of the headers (a NULL-terminated list), joined with '|'. */
static char *names_of(const char *const *h)
{
    struct csvfile_field f[64];
    size_t n = 0;
    for (; h[n]; n++) {
        f[n].p = h[n];
        f[n].n = strlen(h[n]);
    }
    char **names = NULL;
    cr_assert_eq(csvfile_column_names(f, n, &names), 0);
    struct buf b;
    buf_init(&b, 1 << 16);
    for (size_t i = 0; i < n; i++) {
        cr_assert_leq(strlen(names[i]), 63);
        buf_printf(&b, "%s%s", i ? "|" : "", names[i]);
        free(names[i]);
    }
    free(names);
    return buf_take(&b, NULL);
}

#define NAMES(want, ...)                              \
    do {                                              \
        const char *const h_[] = {__VA_ARGS__, NULL}; \
        char *got_ = names_of(h_);                    \
        cr_assert_str_eq(got_, want);                 \
        free(got_);                                   \
    } while (0)

Test(csvfile, column_names_basic)
{
    NAMES("id|first_name|e_mail|x_y", "ID", "First Name", "  e-mail  ", "x__y");
    NAMES("a_drop_table_x", "a\"; DROP TABLE x; --");
    NAMES("robert_drop_table_students", "Robert'); DROP TABLE Students;--");
    NAMES("c_2024|c_1st_place|c_99_bottles", "2024", "1st place", "  99 bottles");
}

Test(csvfile, column_names_blank_and_symbols)
{
    NAMES("a|column_2|column_3|column_4", "a", "", "  ", "%$#");
}

Test(csvfile, column_names_non_ascii)
{
    NAMES("caf|na_ve|column_3|stra_e", "caf\xc3\xa9", "na\xc3\xafve", "\xe6\x97\xa5\xe6\x9c\xac",
          "Stra\xc3\x9f"
          "e");
}

Test(csvfile, column_names_duplicates)
{
    NAMES("x|x_1|x_2", "x", "X", "x ");
    NAMES("a|a_1|a_1_1", "a", "a", "a_1");
    NAMES("a|a_1|a_2", "a", "a_1", "a");
    NAMES("column_2|column_2_1", "column_2", "");
    NAMES("x_1|x|x_2|x_1_1", "x_1", "x", "x", "x_1");
}

Test(csvfile, column_names_length_cut)
{
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char want56[57];
    memset(want56, 'a', 56);
    want56[56] = '\0';
    char want[200];
    snprintf(want, sizeof want, "%s|%s_1|%s_2", want56, want56, want56);
    NAMES(want, longname, longname, longname);
    /* A cut that ends on an underscore drops it. */
    char under[80];
    memset(under, 'b', 55);
    under[55] = ' ';
    under[56] = 'c';
    under[57] = '\0';
    char want55[56];
    memset(want55, 'b', 55);
    want55[55] = '\0';
    NAMES(want55, under);
}

Test(csvfile, column_names_many_duplicates)
{
    struct csvfile_field f[1000];
    for (size_t i = 0; i < 1000; i++) {
        f[i].p = "dup";
        f[i].n = 3;
    }
    char **names = NULL;
    cr_assert_eq(csvfile_column_names(f, 1000, &names), 0);
    cr_assert_str_eq(names[0], "dup");
    cr_assert_str_eq(names[999], "dup_999");
    for (size_t i = 0; i < 1000; i++)
        free(names[i]);
    free(names);
    cr_assert_eq(csvfile_column_names(f, 0, &names), 0);
    free(names);
}

/* ---- data-driven cases ------------------------------------------------------------------------
 */

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    struct buf b;
    buf_init(&b, 16 << 20);
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        cr_assert_eq(buf_append(&b, tmp, k), 0);
    fclose(f);
    *n = b.len;
    return buf_take(&b, NULL);
}

/* The expected file without comment lines; a "names:" line is split off. */
static char *load_expected(const char *path, char **names_line)
{
    size_t n;
    char *text = slurp(path, &n);
    struct buf out;
    buf_init(&out, 16 << 20);
    *names_line = NULL;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= 7 && strncmp(line, "names: ", 7) == 0)
            *names_line = strndup(line + 7, len - 7);
        else if (line[0] != '#')
            buf_printf(&out, "%.*s\n", (int)len, line);
        line += len + (nl != NULL);
    }
    free(text);
    return buf_take(&out, NULL);
}

static int header_names(void *ctx, const struct csvfile_record *rec)
{
    struct buf *out = ctx;
    if (rec->row != 1)
        return 0;
    char **names = NULL;
    cr_assert_eq(csvfile_column_names(rec->fields, rec->nfields, &names), 0);
    for (size_t i = 0; i < rec->nfields; i++) {
        buf_printf(out, "%s%s", i ? "," : "", names[i]);
        free(names[i]);
    }
    free(names);
    return 0;
}

Test(csvfile, data_cases)
{
    DIR *d = opendir(CASES_DIR);
    cr_assert_not_null(d, "run from the repository root");
    struct dirent *e;
    int cases = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".csv") != 0)
            continue;
        char csv[512], expected[512];
        snprintf(csv, sizeof csv, "%s/%s", CASES_DIR, e->d_name);
        snprintf(expected, sizeof expected, "%s/%.*s.expected", CASES_DIR, (int)(len - 4),
                 e->d_name);
        struct csvfile_options o = {0};
        if (strstr(e->d_name, ".latin1."))
            o.encoding = CSVFILE_LATIN1;
        else if (strstr(e->d_name, ".cp1252."))
            o.encoding = CSVFILE_CP1252;
        size_t n;
        char *in = slurp(csv, &n);
        char *names_want = NULL;
        char *want = load_expected(expected, &names_want);
        int rc = 0;
        char *got = read_all(in, n, &o, &rc);
        cr_expect_str_eq(got, want, "%s:\ngot:\n%s\nwant:\n%s", e->d_name, got, want);
        if (names_want) {
            struct buf names;
            buf_init(&names, 1 << 16);
            csvfile *r = NULL;
            cr_assert_eq(csvfile_open(&o, header_names, &names, &r), 0);
            csvfile_feed(r, in, n);
            csvfile_finish(r);
            csvfile_free(r);
            cr_expect_str_eq(buf_cstr(&names), names_want, "%s: names", e->d_name);
            buf_free(&names);
            free(names_want);
        }
        free(got);
        free(want);
        free(in);
        cases++;
    }
    closedir(d);
    cr_assert_geq(cases, 20, "only %d cases found", cases);
}
