/*
 * Tests for src/core/config.c: defaults, each layer overriding the one before,
 * recorded sources, the seed aliases (DB_* composition included), masking in
 * config_show, and every error message form.
 *
 * Error cases are data: tests/data/config/ holds NAME.{yml,env,environ,flags}
 * with NAME.expected (see the README there); config/error_cases runs them all.
 * Tests never read the real environment (they pass their own envp) and write
 * files only under a mkdtemp directory, removed by the fixture.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

#define CASES_DIR "tests/data/config"

static char tmp_dir[64];
static char tmp_path[512];

static void tmp_setup(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ferry-config-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_teardown(void)
{
    nftw(tmp_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Write content to tmp_dir/name; returns the path (static, valid until the next call). */
static const char *tmp_file(const char *name, const char *content)
{
    snprintf(tmp_path, sizeof tmp_path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(tmp_path, "wb");
    cr_assert_not_null(f, "cannot write %s", tmp_path);
    fwrite(content, 1, strlen(content), f);
    fclose(f);
    return tmp_path;
}

/* Load yaml text from a temp file; asserts success. */
static void load_yaml_text(config *c, const char *text)
{
    int rc = config_load_yaml(c, tmp_file("ferry.yml", text));
    cr_assert_eq(rc, 0, "yaml: %s", config_error(c));
}

static void load_dotenv_text(config *c, const char *text)
{
    int rc = config_load_dotenv(c, tmp_file("dot.env", text));
    cr_assert_eq(rc, 0, "dotenv: %s", config_error(c));
}

static void load_env(config *c, char *const *envp)
{
    int rc = config_load_env(c, envp);
    cr_assert_eq(rc, 0, "env: %s", config_error(c));
}

/* config_show of c as a malloc'd string. */
static char *show(const config *c)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(config_show(c, &b), 0);
    return buf_take(&b, NULL);
}

TestSuite(config, .init = tmp_setup, .fini = tmp_teardown);

Test(config, defaults)
{
    config *c = config_new();
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:data/ferry.db");
    cr_assert_str_eq(config_str(c, CFG_DATABASE_MAIN_SCHEMA), "public");
    cr_assert_str_eq(config_str(c, CFG_HTTP_HOST), "127.0.0.1");
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 8080);
    cr_assert_str_eq(config_str(c, CFG_HTTP_PORT), "8080");
    cr_assert_eq(config_int(c, CFG_HTTP_MAX_BODY_BYTES), 1048576);
    cr_assert_eq(config_int(c, CFG_LOG_LEVEL), 1);
    cr_assert_str_eq(config_str(c, CFG_LOG_LEVEL), "info");
    cr_assert_str_eq(config_str(c, CFG_API_KEY), "");
    for (int k = 0; k < CFG__COUNT; k++)
        cr_assert_str_eq(config_source(c, (enum config_key)k), "default");
    cr_assert_str_eq(config_error(c), "");
    config_free(c);
    config_free(NULL);
}

Test(config, key_metadata)
{
    enum config_key k = CFG__COUNT;
    cr_assert_eq(config_key_lookup("http.port", &k), 0);
    cr_assert_eq(k, CFG_HTTP_PORT);
    cr_assert_eq(config_key_lookup("http.prot", &k), ERR_NOTFOUND);
    cr_assert_eq(config_key_lookup("http", &k), ERR_NOTFOUND);
    cr_assert_str_eq(config_key_name(CFG_DATABASE_MAIN_SCHEMA), "database.main_schema");
    cr_assert_str_eq(config_key_flag(CFG_HTTP_PORT), "--port");
    cr_assert_null(config_key_flag(CFG_API_KEY));
    cr_assert_not_null(config_key_help(CFG_LOG_LEVEL));
}

Test(config, yaml_overrides_defaults)
{
    config *c = config_new();
    load_yaml_text(c, "# ferry settings\n"
                      "http:\n"
                      "  port: 9090\n"
                      "  host: \"0.0.0.0\"\n"
                      "\n"
                      "log:\n"
                      "  level: WARN\n"
                      "database:\n"
                      "  url: 'postgresql://u:p@db/ferry'\n"
                      "  pool_size: 4\n"
                      "api:\n"
                      "  key:\n");
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 9090);
    cr_assert_str_eq(config_str(c, CFG_HTTP_HOST), "0.0.0.0");
    cr_assert_eq(config_int(c, CFG_LOG_LEVEL), 2);
    cr_assert_str_eq(config_str(c, CFG_LOG_LEVEL), "warn");
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "postgresql://u:p@db/ferry");
    cr_assert_eq(config_int(c, CFG_DATABASE_POOL_SIZE), 4);
    cr_assert_str_eq(config_str(c, CFG_API_KEY), "");

    char want[600];
    snprintf(want, sizeof want, "%s:3", tmp_path);
    cr_assert_str_eq(config_source(c, CFG_HTTP_PORT), want);
    snprintf(want, sizeof want, "%s:7", tmp_path);
    cr_assert_str_eq(config_source(c, CFG_LOG_LEVEL), want);
    cr_assert_str_eq(config_source(c, CFG_HTTP_THREADS), "default");
    cr_assert_str_eq(config_error(c), "");
    config_free(c);
}

Test(config, yaml_flow_style_and_dotted_keys)
{
    config *c = config_new();
    load_yaml_text(c, "{http: {port: 1234}, log.level: debug, http.max_body_bytes: "
                      "9223372036854775807}\n");
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 1234);
    cr_assert_eq(config_int(c, CFG_LOG_LEVEL), 0);
    cr_assert_eq(config_int(c, CFG_HTTP_MAX_BODY_BYTES), INT64_MAX);
    config_free(c);
}

Test(config, yaml_empty_and_comment_only)
{
    const char *texts[] = {"", "# nothing here\n\n   # still nothing\n", "---\n",
                           "http:\n  # port: 1\nlog:\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        config *c = config_new();
        load_yaml_text(c, texts[i]);
        for (int k = 0; k < CFG__COUNT; k++)
            cr_assert_str_eq(config_source(c, (enum config_key)k), "default", "text %zu", i);
        config_free(c);
    }
}

Test(config, yaml_default_path)
{
    cr_assert_eq(chdir(tmp_dir), 0); /* each test runs in its own process */
    config *c = config_new();
    cr_assert_eq(config_load_yaml(c, NULL), 0, "absent ferry.yml is fine");
    cr_assert_eq(config_load_dotenv(c, NULL), 0, "absent .env is fine");
    tmp_file("ferry.yml", "http:\n  port: 7000\n");
    tmp_file(".env", "FERRY_HTTP_THREADS=3\n");
    cr_assert_eq(config_load_yaml(c, NULL), 0);
    cr_assert_eq(config_load_dotenv(c, NULL), 0);
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 7000);
    cr_assert_str_eq(config_source(c, CFG_HTTP_PORT), "ferry.yml:2");
    cr_assert_eq(config_int(c, CFG_HTTP_THREADS), 3);
    cr_assert_str_eq(config_source(c, CFG_HTTP_THREADS), ".env:1");
    config_free(c);
}

Test(config, layers_each_override_the_last)
{
    config *c = config_new();
    load_yaml_text(c, "http:\n  port: 1001\n  host: yaml-host\n  threads: 1\n  timeout_sec: 11\n");
    char yml[600];
    snprintf(yml, sizeof yml, "%s", tmp_path);

    load_dotenv_text(c, "FERRY_HTTP_PORT=1002\nFERRY_HTTP_HOST=env-file-host\n"
                        "FERRY_HTTP_THREADS=2\n");
    char dot[600];
    snprintf(dot, sizeof dot, "%s", tmp_path);

    char *envp[] = {"FERRY_HTTP_PORT=1003", "FERRY_HTTP_HOST=env-host", NULL};
    load_env(c, envp);
    cr_assert_eq(config_set_flag(c, "--port", "1004"), 0);

    char want[700];
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 1004, "flag beats environment");
    cr_assert_str_eq(config_source(c, CFG_HTTP_PORT), "flag --port");
    cr_assert_str_eq(config_str(c, CFG_HTTP_HOST), "env-host", "environment beats .env");
    cr_assert_str_eq(config_source(c, CFG_HTTP_HOST), "env FERRY_HTTP_HOST");
    cr_assert_eq(config_int(c, CFG_HTTP_THREADS), 2, ".env beats yaml");
    snprintf(want, sizeof want, "%s:3", dot);
    cr_assert_str_eq(config_source(c, CFG_HTTP_THREADS), want);
    cr_assert_eq(config_int(c, CFG_HTTP_TIMEOUT_SEC), 11, "yaml beats default");
    snprintf(want, sizeof want, "%s:5", yml);
    cr_assert_str_eq(config_source(c, CFG_HTTP_TIMEOUT_SEC), want);
    cr_assert_str_eq(config_source(c, CFG_HTTP_MAX_CONNECTIONS), "default");
    config_free(c);
}

Test(config, flags)
{
    config *c = config_new();
    cr_assert_eq(config_set_flag(c, "--log-level", "error"), 0);
    cr_assert_eq(config_int(c, CFG_LOG_LEVEL), 3);
    cr_assert_eq(config_set_flag(c, "--database", "sqlite:/tmp/x.db"), 0);
    cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), "flag --database");
    cr_assert_eq(config_set_flag(c, "--nope", "1"), ERR_NOTFOUND);
    cr_assert_str_eq(config_error(c), "unknown flag --nope");
    config_free(c);
}

Test(config, config_set_direct)
{
    config *c = config_new();
    cr_assert_eq(config_set(c, CFG_HTTP_PORT, "0", "test"), 0);
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 0);
    cr_assert_str_eq(config_source(c, CFG_HTTP_PORT), "test");
    cr_assert_eq(config_set(c, CFG_HTTP_PORT, "-5", "test"), ERR_CONFIG);
    cr_assert_str_eq(config_error(c),
                     "test: http.port: expected an integer from 0 to 65535, got \"-5\"");
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 0, "a rejected value changes nothing");
    cr_assert_eq(config_set(c, CFG__COUNT, "1", "test"), ERR_INVAL);
    config_free(c);
}

Test(config, dotenv_syntax)
{
    config *c = config_new();
    load_dotenv_text(c, "# shared with other tools\n"
                        "\n"
                        "PATH=/usr/bin\n"
                        "export FERRY_HTTP_HOST=bare.host   # trailing comment\n"
                        "FERRY_API_KEY='lit#eral \\n $x'\n"
                        "FERRY_DATABASE_MAIN_SCHEMA=\"sch\\\"ema\\\\\" # c\n"
                        "  FERRY_HTTP_PORT = 8081\r\n"
                        "FERRY_CONFIG=other.yml\n"
                        "FERRY_HTTP_THREADS=4\n"
                        "FERRY_HTTP_THREADS=5");
    cr_assert_str_eq(config_str(c, CFG_HTTP_HOST), "bare.host");
    cr_assert_str_eq(config_str(c, CFG_API_KEY), "lit#eral \\n $x");
    cr_assert_str_eq(config_str(c, CFG_DATABASE_MAIN_SCHEMA), "sch\"ema\\");
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 8081);
    cr_assert_eq(config_int(c, CFG_HTTP_THREADS), 5, "last line wins, no final newline needed");
    char want[600];
    snprintf(want, sizeof want, "%s:10", tmp_path);
    cr_assert_str_eq(config_source(c, CFG_HTTP_THREADS), want);
    config_free(c);

    /* "debug#notacomment" is one bare value: '#' starts a comment only after a blank. */
    c = config_new();
    cr_assert_eq(config_load_dotenv(c, tmp_file("l.env", "FERRY_LOG_LEVEL=debug#x\n")), ERR_CONFIG);
    config_free(c);
}

Test(config, env_ignores_foreign_and_malformed)
{
    config *c = config_new();
    char *envp[] = {"HOME=/root",           "NOEQUALS", "FERRY_CONFIG=/etc/ferry.yml", "DB_HOSTX=y",
                    "FERRY_HTTP_PORT=8082", NULL};
    load_env(c, envp);
    cr_assert_eq(config_int(c, CFG_HTTP_PORT), 8082);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:data/ferry.db");
    cr_assert_eq(config_load_env(c, NULL), 0);
    config_free(c);
}

Test(config, aliases)
{
    config *c = config_new();
    char *envp[] = {"DATABASE_URL=postgresql://a@h/d", "APIKEY=k1", "MAIN_SCHEMA=s1", NULL};
    load_env(c, envp);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "postgresql://a@h/d");
    cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), "env DATABASE_URL");
    cr_assert_str_eq(config_str(c, CFG_API_KEY), "k1");
    cr_assert_str_eq(config_source(c, CFG_API_KEY), "env APIKEY");
    cr_assert_str_eq(config_str(c, CFG_DATABASE_MAIN_SCHEMA), "s1");
    config_free(c);

    c = config_new();
    load_dotenv_text(c, "APIKEY=from-dotenv\n");
    char want[600];
    snprintf(want, sizeof want, "%s:1", tmp_path);
    cr_assert_str_eq(config_source(c, CFG_API_KEY), want);
    config_free(c);
}

Test(config, ferry_name_beats_alias_in_one_layer)
{
    /* FERRY_* first or last: it wins either way. */
    char *a[] = {"FERRY_DATABASE_URL=sqlite:ferry.db", "DATABASE_URL=sqlite:alias.db",
                 "FERRY_API_KEY=real", "APIKEY=alias", NULL};
    char *b[] = {"DATABASE_URL=sqlite:alias.db", "FERRY_DATABASE_URL=sqlite:ferry.db",
                 "APIKEY=alias", "FERRY_API_KEY=real", NULL};
    char *const *envs[] = {a, b};
    for (int i = 0; i < 2; i++) {
        config *c = config_new();
        load_env(c, envs[i]);
        cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:ferry.db");
        cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), "env FERRY_DATABASE_URL");
        cr_assert_str_eq(config_str(c, CFG_API_KEY), "real");
        config_free(c);
    }
    /* But an alias in a later layer beats FERRY_* in an earlier one. */
    config *c = config_new();
    load_dotenv_text(c, "FERRY_API_KEY=dotenv\n");
    char *e[] = {"APIKEY=env", NULL};
    load_env(c, e);
    cr_assert_str_eq(config_str(c, CFG_API_KEY), "env");
    config_free(c);
}

Test(config, db_parts_compose_url)
{
    struct {
        char *envp[6];
        const char *url;
    } cases[] = {
        {{"DB_HOST=db.local", "DB_NAME=ferry", "DB_USER=u", "DB_PASS=p", NULL},
         "postgresql://u:p@db.local:5432/ferry"},
        {{"DB_PASS=p@ss:w/rd %", "DB_USER=us er@x", "DB_HOST=h", "DB_PORT=6543", "DB_NAME=d", NULL},
         "postgresql://us%20er%40x:p%40ss%3Aw%2Frd%20%25@h:6543/d"},
        {{"DB_HOST=h", "DB_USER=u", "DB_NAME=d", NULL}, "postgresql://u@h:5432/d"},
        {{"DB_HOST=h", "DB_PASS=secret", "DB_NAME=d", NULL}, "postgresql://h:5432/d"},
        {{"DB_HOST=::1", "DB_NAME=d", NULL}, "postgresql://[::1]:5432/d"},
        {{"DB_HOST=h", "DB_PORT=", NULL}, "postgresql://h:5432/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config *c = config_new();
        load_env(c, cases[i].envp);
        cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), cases[i].url, "case %zu", i);
        cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), "env DB_HOST");
        config_free(c);
    }
}

Test(config, db_parts_without_host_or_with_url)
{
    char *no_host[] = {"DB_USER=u", "DB_PASS=p", "DB_HOST=", NULL};
    char *with_url[] = {"DB_HOST=h", "DATABASE_URL=sqlite:x.db", NULL};
    char *with_ferry_url[] = {"FERRY_DATABASE_URL=sqlite:y.db", "DB_HOST=h", NULL};
    config *c = config_new();
    load_env(c, no_host);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:data/ferry.db");
    config_free(c);
    c = config_new();
    load_env(c, with_url);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:x.db");
    config_free(c);
    c = config_new();
    load_env(c, with_ferry_url);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:y.db");
    config_free(c);
}

Test(config, db_parts_across_layers)
{
    /* .env builds the URL; the environment's password completes it. */
    config *c = config_new();
    load_dotenv_text(c, "DB_USER=app\nDB_HOST=pg\nDB_NAME=ferry\n");
    char want[600];
    snprintf(want, sizeof want, "%s:2", tmp_path);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "postgresql://app@pg:5432/ferry");
    cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), want);
    char *e[] = {"DB_PASS=s3cret", NULL};
    load_env(c, e);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "postgresql://app:s3cret@pg:5432/ferry");
    cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), want, "source names DB_HOST's place");
    config_free(c);

    /* A URL in the environment beats DB_* in .env. */
    c = config_new();
    load_dotenv_text(c, "DB_HOST=pg\n");
    char *e2[] = {"DATABASE_URL=sqlite:env.db", "DB_PASS=ignored", NULL};
    load_env(c, e2);
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:env.db");
    cr_assert_str_eq(config_source(c, CFG_DATABASE_URL), "env DATABASE_URL");
    config_free(c);

    /* .env's own DATABASE_URL beats its DB_*. */
    c = config_new();
    load_dotenv_text(c, "DB_HOST=pg\nDATABASE_URL=sqlite:dotenv.db\n");
    cr_assert_str_eq(config_str(c, CFG_DATABASE_URL), "sqlite:dotenv.db");
    config_free(c);
}

Test(config, show_masks_secrets)
{
    config *c = config_new();
    char *s = show(c);
    cr_assert_not_null(strstr(s, "database.url = sqlite:data/ferry.db   # default\n"), "%s", s);
    cr_assert_not_null(strstr(s, "api.key = "), "%s", s);
    cr_assert_null(strstr(s, "********"), "an empty secret stays empty: %s", s);
    free(s);

    cr_assert_eq(config_set(c, CFG_API_KEY, "topsecret", "test"), 0);
    cr_assert_eq(config_set(c, CFG_DATABASE_URL,
                            "postgresql://user:pa:ss@db:5432/ferry?sslmode=require&password=pw2",
                            "test"),
                 0);
    s = show(c);
    cr_assert_null(strstr(s, "topsecret"), "%s", s);
    cr_assert_null(strstr(s, "pa:ss"), "%s", s);
    cr_assert_null(strstr(s, "pw2"), "%s", s);
    cr_assert_not_null(strstr(s, "api.key = ********"), "%s", s);
    cr_assert_not_null(
        strstr(s,
               "database.url = postgresql://user:***@db:5432/ferry?sslmode=require&password=***"),
        "%s", s);
    free(s);

    cr_assert_eq(config_set(c, CFG_DATABASE_URL, "postgresql://u@h/db", "test"), 0);
    s = show(c);
    cr_assert_not_null(strstr(s, "database.url = postgresql://u@h/db "), "%s", s);
    free(s);
    config_free(c);
}

Test(config, show_lines_aligned_in_table_order)
{
    config *c = config_new();
    char *s = show(c);
    int line = 0;
    long col = -1;
    for (char *p = s, *nl; (nl = strchr(p, '\n')); p = nl + 1, line++) {
        *nl = '\0';
        cr_assert(line < CFG__COUNT, "too many lines");
        const char *key = config_key_name((enum config_key)line);
        cr_assert_eq(strncmp(p, key, strlen(key)), 0, "line %d: %s", line, p);
        cr_assert_eq(strncmp(p + strlen(key), " = ", 3), 0, "line %d: %s", line, p);
        char *hash = strstr(p, "   # ");
        cr_assert_not_null(hash, "line %d: %s", line, p);
        long at = (long)(hash - p);
        if (col < 0)
            col = at;
        cr_assert_eq(at, col, "line %d not aligned: %s", line, p);
    }
    cr_assert_eq(line, CFG__COUNT);
    free(s);
    config_free(c);
}

Test(config, file_errors)
{
    config *c = config_new();
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.yml", tmp_dir);
    char want[800];

    cr_assert_eq(config_load_yaml(c, missing), ERR_CONFIG);
    snprintf(want, sizeof want, "cannot read %s: No such file or directory", missing);
    cr_assert_str_eq(config_error(c), want);
    cr_assert_eq(config_load_dotenv(c, missing), ERR_CONFIG);
    cr_assert_str_eq(config_error(c), want);

    cr_assert_eq(config_load_yaml(c, tmp_dir), ERR_CONFIG);
    snprintf(want, sizeof want, "cannot read %s: Is a directory", tmp_dir);
    cr_assert_str_eq(config_error(c), want);

    /* Over the 1 MiB bound: a comment that never ends. */
    size_t big = 1024 * 1024 + 10;
    char *text = malloc(big + 1);
    cr_assert_not_null(text);
    memset(text, '#', big);
    text[big] = '\0';
    const char *p = tmp_file("big.yml", text);
    cr_assert_eq(config_load_yaml(c, p), ERR_CONFIG);
    snprintf(want, sizeof want, "%s: file is larger than 1048576 bytes", p);
    cr_assert_str_eq(config_error(c), want);

    /* A .env line over 8192 bytes. */
    memcpy(text, "APIKEY=", 7);
    memset(text + 7, 'k', 9000);
    memcpy(text + 9007, "\n", 2);
    p = tmp_file("long.env", text);
    cr_assert_eq(config_load_dotenv(c, p), ERR_CONFIG);
    snprintf(want, sizeof want, "%s:1: line longer than 8192 bytes", p);
    cr_assert_str_eq(config_error(c), want);

    /* A string value over 4096 bytes (never echoed: it may be a secret). */
    memcpy(text, "api:\n  key: ", 12);
    memset(text + 12, 'k', 4097);
    memcpy(text + 12 + 4097, "\n", 2);
    p = tmp_file("long.yml", text);
    cr_assert_eq(config_load_yaml(c, p), ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2: api.key: longer than 4096 bytes", p);
    cr_assert_str_eq(config_error(c), want);
    free(text);

    /* A long bad integer is echoed cut short and escaped. */
    cr_assert_eq(config_set_flag(c, "--port",
                                 "\"1\"\t2222222222222222222222222222222222222222222222"
                                 "2222222222222222222222222222222222222"),
                 ERR_CONFIG);
    cr_assert_str_eq(config_error(c), "--port: expected an integer from 0 to 65535, got "
                                      "\"\\\"1\\\"\\x0922222222222222222222222222222222222222222"
                                      "2222222222222222222\"...");
    config_free(c);
}

/* ---- data-driven error cases ----------------------------------------------------------- */

#define MAX_CASES 256
#define MAX_LINES 64

/* Read a whole small file; malloc'd. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    static char tmp[65536];
    size_t n = fread(tmp, 1, sizeof tmp - 1, f);
    fclose(f);
    tmp[n] = '\0';
    return strdup(tmp);
}

/* Split text into lines in place (no trailing empty line). Returns the count. */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    for (char *p = text; *p && n < max;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[n++] = p;
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* expected with every "{path}" replaced by path, into out. */
static void expand(const char *expected, const char *path, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = expected; *p && o + 1 < size;) {
        if (strncmp(p, "{path}", 6) == 0) {
            o += (size_t)snprintf(out + o, size - o, "%s", path);
            p += 6;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < size ? o : size - 1] = '\0';
}

/* Run one case; returns the rc of the failing call (0 if nothing failed). */
static int run_case(config *c, const char *input)
{
    const char *ext = strrchr(input, '.');
    if (strcmp(ext, ".yml") == 0)
        return config_load_yaml(c, input);
    if (strcmp(ext, ".env") == 0)
        return config_load_dotenv(c, input);

    char *text = slurp(input);
    char *lines[MAX_LINES + 1];
    int n = split_lines(text, lines, MAX_LINES);
    int rc = 0;
    if (strcmp(ext, ".environ") == 0) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (lines[i][0] && lines[i][0] != '#')
                lines[m++] = lines[i];
        lines[m] = NULL;
        rc = config_load_env(c, lines);
    } else {
        for (int i = 0; i < n && rc == 0; i++) {
            char *sp = strchr(lines[i], ' ');
            cr_assert_not_null(sp, "%s: expected \"--flag value\"", input);
            *sp = '\0';
            rc = config_set_flag(c, lines[i], sp + 1);
        }
    }
    free(text);
    return rc;
}

Test(config, error_cases)
{
    static const char *const exts[] = {".yml", ".env", ".environ", ".flags"};
    char *names[MAX_CASES];
    int n = 0;
    DIR *d = opendir(CASES_DIR);
    cr_assert_not_null(d, "run the tests from the repository root");
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 9 && strcmp(e->d_name + len - 9, ".expected") == 0) {
            cr_assert(n < MAX_CASES);
            names[n++] = strndup(e->d_name, len - 9);
        }
    }
    closedir(d);
    cr_assert(n > 0);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);

    config *fresh = config_new();
    char *defaults = show(fresh);
    config_free(fresh);

    for (int i = 0; i < n; i++) {
        char input[512] = "", path[512], want[2048];
        for (size_t j = 0; j < sizeof exts / sizeof exts[0] && !input[0]; j++) {
            snprintf(path, sizeof path, "%s/%s%s", CASES_DIR, names[i], exts[j]);
            if (access(path, R_OK) == 0)
                snprintf(input, sizeof input, "%s", path);
        }
        cr_assert(input[0], "%s: no input file", names[i]);

        snprintf(path, sizeof path, "%s/%s.expected", CASES_DIR, names[i]);
        char *expected = slurp(path);
        expected[strcspn(expected, "\n")] = '\0';
        expand(expected, input, want, sizeof want);
        free(expected);

        config *c = config_new();
        int rc = run_case(c, input);
        cr_expect_eq(rc, ERR_CONFIG, "%s: rc %d (%s)", names[i], rc, err_name(rc));
        cr_expect_str_eq(config_error(c), want, "%s", names[i]);
        char *after = show(c);
        cr_expect_str_eq(after, defaults, "%s: a failed load must change nothing", names[i]);
        free(after);
        config_free(c);
        free(names[i]);
    }
    free(defaults);
}
