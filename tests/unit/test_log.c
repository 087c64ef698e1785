/*
 * Unit tests for src/core/log.c. Each test sends the log to a temporary file
 * with log_set_fd() and reads back what was written. A small JSON checker below
 * proves every line is one valid JSON object in valid UTF-8; the fields are then
 * compared exactly (everything after the timestamp is deterministic).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

static FILE *log_file;

static void log_setup(void)
{
    log_file = tmpfile();
    cr_assert_not_null(log_file);
    log_set_fd(fileno(log_file));
    log_set_level(LOG_INFO);
    log_set_request_id(NULL);
}

static void log_teardown(void)
{
    log_set_fd(2);
    log_set_level(LOG_INFO);
    log_set_request_id(NULL);
    fclose(log_file);
}

/* Everything written since the last call (malloc'd, NUL-terminated); empties the file. */
static char *take_output(size_t *len_out)
{
    int fd = fileno(log_file);
    off_t size = lseek(fd, 0, SEEK_END);
    cr_assert_geq(size, 0);
    char *p = malloc((size_t)size + 1);
    cr_assert_not_null(p);
    cr_assert_eq(pread(fd, p, (size_t)size, 0), size);
    p[size] = '\0';
    cr_assert_eq(ftruncate(fd, 0), 0);
    lseek(fd, 0, SEEK_SET);
    if (len_out)
        *len_out = (size_t)size;
    return p;
}

/* ---- a minimal strict JSON checker (RFC 8259 grammar) ---- */

static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int js_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *js_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* includes the end of the text */
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                if (!js_hex(p[1]) || !js_hex(p[2]) || !js_hex(p[3]) || !js_hex(p[4]))
                    return NULL;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
        } else {
            p++;
        }
    }
}

static const char *js_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *js_container(const char *p, int depth, char close, int is_object)
{
    p = js_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (is_object) {
            p = js_string(js_ws(p));
            if (!p)
                return NULL;
            p = js_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = js_value(p, depth + 1);
        if (!p)
            return NULL;
        p = js_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *js_value(const char *p, int depth)
{
    if (depth > 100)
        return NULL;
    p = js_ws(p);
    switch (*p) {
    case '{':
        return js_container(p, depth, '}', 1);
    case '[':
        return js_container(p, depth, ']', 0);
    case '"':
        return js_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return js_number(p);
    }
}

/* 1 if s[0..n) is well-formed UTF-8. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return 0;
        }
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += len;
    }
    return 1;
}

/* Check line is exactly one JSON object, valid UTF-8, ending in "}\n", with a
 * well-formed ts first; return what follows the ts member (starting at ","). */
static const char *check_line(const char *line, size_t len)
{
    cr_assert_gt(len, 2);
    cr_assert_leq(len, LOG_LINE_MAX, "line of %zu bytes", len);
    cr_assert_eq(strlen(line), len, "NUL inside the line");
    cr_assert(utf8_valid((const unsigned char *)line, len), "invalid UTF-8: %s", line);
    cr_assert_eq(line[len - 1], '\n');
    cr_assert_eq(line[len - 2], '}');
    cr_assert_eq(memchr(line, '\n', len - 1), NULL, "newline inside the line");
    cr_assert_eq(line[0], '{', "%s", line);
    const char *end = js_value(line, 0);
    cr_assert_not_null(end, "not JSON: %s", line);
    cr_assert_eq(end, line + len - 1, "trailing text: %s", line);

    /* {"ts":"2026-11-23T11:30:00.123Z" */
    const char *pfx = "{\"ts\":\"";
    cr_assert_eq(strncmp(line, pfx, strlen(pfx)), 0, "%s", line);
    const char *ts = line + strlen(pfx);
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ\"";
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd')
            cr_assert(ts[i] >= '0' && ts[i] <= '9', "bad ts: %s", line);
        else
            cr_assert_eq(ts[i], shape[i], "bad ts: %s", line);
    }
    return ts + strlen(shape);
}

/* Take the single line written and compare everything after ts with rest. */
static void expect_line(const char *rest)
{
    size_t len;
    char *out = take_output(&len);
    cr_assert_gt(len, 0, "nothing written");
    cr_assert_eq(strchr(out, '\n'), out + len - 1, "more than one line: %s", out);
    cr_expect_str_eq(check_line(out, len), rest);
    free(out);
}

static void expect_nothing(void)
{
    size_t len;
    char *out = take_output(&len);
    cr_expect_eq(len, 0, "unexpected output: %s", out);
    free(out);
}

TestSuite(log, .init = log_setup, .fini = log_teardown);

Test(log, basic_line)
{
    log_info("listening", LF_STR("host", "127.0.0.1"), LF_INT("port", 8080));
    expect_line(
        ",\"level\":\"info\",\"msg\":\"listening\",\"host\":\"127.0.0.1\",\"port\":8080}\n");
}

Test(log, no_fields)
{
    log_warn("shutting down");
    expect_line(",\"level\":\"warn\",\"msg\":\"shutting down\"}\n");
    log_emit(LOG_ERROR, "x", NULL, 0);
    expect_line(",\"level\":\"error\",\"msg\":\"x\"}\n");
}

Test(log, typed_fields)
{
    log_error("types", LF_INT("min", INT64_MIN), LF_UINT("max", UINT64_MAX), LF_DOUBLE("d", 0.1),
              LF_DOUBLE("nan", NAN), LF_DOUBLE("inf", -INFINITY), LF_BOOL("t", 5), LF_BOOL("f", 0),
              LF_STR("nil", NULL), LF_STR("empty", ""));
    expect_line(",\"level\":\"error\",\"msg\":\"types\",\"min\":-9223372036854775808,"
                "\"max\":18446744073709551615,\"d\":0.1,\"nan\":null,\"inf\":null,\"t\":true,"
                "\"f\":false,\"nil\":null,\"empty\":\"\"}\n");
}

Test(log, escaping)
{
    log_info("say \"hi\"\n\tnow\x01", LF_STR("path", "C:\\x\xe2\x80\xa8"),
             LF_STR("bad", "a\xff\xc3"));
    expect_line(",\"level\":\"info\",\"msg\":\"say \\\"hi\\\"\\n\\tnow\\u0001\","
                "\"path\":\"C:\\\\x\\u2028\",\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd\"}\n");
}

Test(log, secret_masked)
{
    log_set_level(LOG_DEBUG);
    log_debug("login", LF_STR("user", "ann"), LF_SECRET("password"));
    expect_line(",\"level\":\"debug\",\"msg\":\"login\",\"user\":\"ann\",\"password\":\"***\"}\n");
    /* The union is ignored for secrets even if a caller fills it in. */
    struct log_field f = LF_SECRET("token");
    f.v.s = "hunter2";
    log_emit(LOG_INFO, "tok", &f, 1);
    size_t len;
    char *out = take_output(&len);
    cr_assert_null(strstr(out, "hunter2"));
    cr_assert_not_null(strstr(out, "\"token\":\"***\""));
    free(out);
}

Test(log, level_filtering)
{
    log_set_level(LOG_WARN);
    cr_assert_eq(log_get_level(), LOG_WARN);
    cr_assert(!log_enabled(LOG_DEBUG));
    cr_assert(!log_enabled(LOG_INFO));
    cr_assert(log_enabled(LOG_WARN));
    cr_assert(log_enabled(LOG_ERROR));
    log_debug("d");
    log_info("i", LF_INT("n", 1));
    expect_nothing();
    log_warn("w");
    expect_line(",\"level\":\"warn\",\"msg\":\"w\"}\n");
    log_error("e");
    expect_line(",\"level\":\"error\",\"msg\":\"e\"}\n");

    log_set_level(LOG_OFF);
    cr_assert(!log_enabled(LOG_ERROR));
    log_error("e");
    expect_nothing();

    log_set_level(LOG_DEBUG);
    cr_assert(log_enabled(LOG_DEBUG));
    cr_assert(!log_enabled(LOG_OFF), "LOG_OFF is not a level to write at");
    log_emit(LOG_OFF, "never", NULL, 0);
    expect_nothing();
}

Test(log, level_parse_and_name)
{
    const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = LOG_DEBUG; i <= LOG_OFF; i++) {
        enum log_level lv = LOG_ERROR;
        cr_assert_eq(log_level_parse(names[i], &lv), 0);
        cr_assert_eq(lv, (enum log_level)i);
        cr_assert_str_eq(log_level_name((enum log_level)i), names[i]);
    }
    enum log_level lv = LOG_ERROR;
    cr_assert_eq(log_level_parse("INFO", &lv), 0);
    cr_assert_eq(lv, LOG_INFO);
    lv = LOG_ERROR;
    cr_assert_eq(log_level_parse("verbose", &lv), ERR_INVAL);
    cr_assert_eq(log_level_parse("", &lv), ERR_INVAL);
    cr_assert_eq(log_level_parse("info ", &lv), ERR_INVAL);
    cr_assert_eq(log_level_parse(NULL, &lv), ERR_INVAL);
    cr_assert_eq(lv, LOG_ERROR, "out must be untouched on error");
    cr_assert_str_eq(log_level_name((enum log_level)99), "unknown");
}

Test(log, request_id)
{
    log_set_request_id("req-42\"x");
    log_info("handled", LF_INT("status", 200));
    expect_line(",\"level\":\"info\",\"msg\":\"handled\",\"request_id\":\"req-42\\\"x\","
                "\"status\":200}\n");
    log_set_request_id(NULL);
    log_info("idle");
    expect_line(",\"level\":\"info\",\"msg\":\"idle\"}\n");
}

static void *other_thread(void *arg)
{
    (void)arg;
    log_info("from thread");
    return NULL;
}

Test(log, request_id_is_per_thread)
{
    log_set_request_id("main-req");
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    expect_line(",\"level\":\"info\",\"msg\":\"from thread\"}\n");
}

Test(log, errno_preserved)
{
    errno = ENOENT;
    log_info("x", LF_STR("a", "b"));
    cr_assert_eq(errno, ENOENT);
    free(take_output(NULL));
}

/* A string field of len copies of unit (unit_len bytes each). */
static char *repeat(const char *unit, size_t unit_len, size_t count)
{
    char *s = malloc(unit_len * count + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * unit_len, unit, unit_len);
    s[unit_len * count] = '\0';
    return s;
}

/* Log one overlong field between two small ones and check the result. */
static void check_truncated(const char *unit, size_t unit_len, const char *escaped_unit)
{
    char *big = repeat(unit, unit_len, 3 * LOG_LINE_MAX);
    log_info("big", LF_STR("before", "x"), LF_STR("body", big), LF_INT("status", 500));
    free(big);

    size_t len;
    char *out = take_output(&len);
    const char *rest = check_line(out, len);
    cr_assert_gt(len, LOG_LINE_MAX - 64, "truncated far too short: %zu", len);

    const char *pfx = ",\"level\":\"info\",\"msg\":\"big\",\"before\":\"x\",\"body\":\"";
    const char *sfx = "...\",\"status\":500}\n";
    cr_assert_eq(strncmp(rest, pfx, strlen(pfx)), 0, "%s", rest);
    size_t rlen = strlen(rest);
    cr_assert_eq(strcmp(rest + rlen - strlen(sfx), sfx), 0, "%s", rest + rlen - 40);

    /* The kept part is whole escaped units. */
    const char *body = rest + strlen(pfx);
    size_t body_len = rlen - strlen(pfx) - strlen(sfx);
    size_t eu = strlen(escaped_unit);
    cr_assert_eq(body_len % eu, 0, "cut inside a unit");
    for (size_t i = 0; i < body_len; i += eu)
        cr_assert_eq(memcmp(body + i, escaped_unit, eu), 0, "at %zu", i);
    free(out);
}

Test(log, truncate_ascii)
{
    check_truncated("a", 1, "a");
}

Test(log, truncate_multibyte)
{
    check_truncated("\xe2\x82\xac", 3, "\xe2\x82\xac");
    check_truncated("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
}

Test(log, truncate_escapes)
{
    check_truncated("\x01", 1, "\\u0001");
    check_truncated("\"", 1, "\\\"");
    check_truncated("\xe2\x80\xa8", 3, "\\u2028");
    check_truncated("\xff", 1, "\xef\xbf\xbd");
}

Test(log, truncate_message)
{
    char *big = repeat("m", 1, 2 * LOG_LINE_MAX);
    log_set_request_id("rid");
    log_warn(big, LF_INT("n", 1), LF_STR("s", "tail"));
    free(big);
    size_t len;
    char *out = take_output(&len);
    const char *rest = check_line(out, len);
    const char *sfx = "mmm...\",\"request_id\":\"rid\",\"n\":1,\"s\":\"tail\"}\n";
    size_t rlen = strlen(rest);
    cr_assert_eq(strcmp(rest + rlen - strlen(sfx), sfx), 0, "%s", rest + rlen - 60);
    free(out);
}

Test(log, truncate_many_fields)
{
    /* Far more fields than fit: each line is still valid and bounded. */
    enum { N = 2000 };
    struct log_field *f = malloc(N * sizeof *f);
    cr_assert_not_null(f);
    for (size_t i = 0; i < N; i++)
        f[i] = i % 2 ? LF_INT("num", i) : LF_STR("str", "value");
    log_emit(LOG_INFO, "many", f, N);
    size_t len;
    char *out = take_output(&len);
    check_line(out, len);
    cr_assert_not_null(strstr(out, "\"msg\":\"many\",\"str\":\"value\",\"num\":1,"),
                       "the leading fields are the ones kept");
    cr_assert_gt(len, LOG_LINE_MAX - 64, "room left unused: %zu", len);
    free(out);
    free(f);
}

Test(log, exactly_fitting_line_is_not_truncated)
{
    /* Find the longest body that is written whole, then one more byte truncates. */
    log_info("m", LF_STR("s", ""));
    size_t len;
    char *out = take_output(&len);
    free(out);
    size_t room = LOG_LINE_MAX - len;
    char *big = repeat("b", 1, room);
    log_info("m", LF_STR("s", big));
    out = take_output(&len);
    check_line(out, len);
    cr_assert_eq(len, LOG_LINE_MAX);
    cr_assert_null(strstr(out, "..."));
    free(out);
    free(big);

    big = repeat("b", 1, room + 1);
    log_info("m", LF_STR("s", big));
    out = take_output(&len);
    check_line(out, len);
    cr_assert_not_null(strstr(out, "b...\"}"));
    free(out);
    free(big);
}
