/*
 * config: layered settings (see config.h for the rules users see).
 *
 * Storage. A config holds one value per key of CONFIG_KEYS: the canonical text
 * (an integer re-printed in decimal, a level as its lower-case name), the number
 * for CFG_T_INT and CFG_T_LEVEL, and the source string. All three are owned by
 * the config and replaced together.
 *
 * Layers. Each loader (yaml, .env, environment) first reads its whole input into
 * a `struct layer`: one pending slot per key plus the DB_* parts it saw. Every
 * value is validated as it is read, so errors come out in file order and name the
 * line. Only when the whole input is good is the layer committed; a failed load
 * leaves the config as it was. Inside a layer a slot keeps the entry with the
 * highest priority (FERRY_* over an alias over a URL built from DB_*), and among
 * equal priorities the last one read.
 *
 * DB_* parts. DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASS are remembered on
 * the config across layers, so a password in the environment completes a host in
 * .env. A layer that sets any DB_* variable builds database.url from the merged
 * parts when DB_HOST is set (non-empty), unless the same layer names a database
 * URL itself (DATABASE_URL or FERRY_DATABASE_URL); such a layer's DB_* variables
 * are ignored. A later layer's URL simply wins by layering.
 *
 * Errors. Every failure writes "WHERE: WHAT: PROBLEM" to c->err and returns
 * ERR_CONFIG. WHERE is "PATH:LINE" for files and "environment" for the
 * environment; WHAT is the setting as the user spelled it (the dotted key in
 * yaml, the variable name in .env and the environment, the flag). Offending
 * values are echoed only for integers and levels, quoted, escaped and cut at
 * CONFIG_ECHO_MAX bytes; string values may be secrets and are never echoed.
 *
 * Bounds: files CONFIG_FILE_MAX bytes, .env lines CONFIG_LINE_MAX, string values
 * CONFIG_VALUE_MAX, yaml nesting CONFIG_YAML_DEPTH_MAX (valid keys are two deep;
 * an unknown key is reported before anything below it is read).
 */
#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "core/err.h"
#include "core/url.h"

#define CONFIG_VALUE_MAX      4096             /* longest string value */
#define CONFIG_FILE_MAX       (1024 * 1024)    /* largest ferry.yml or .env */
#define CONFIG_LINE_MAX       8192             /* longest .env line */
#define CONFIG_YAML_DEPTH_MAX 8                /* mappings inside mappings */
#define CONFIG_YAML_PATH_MAX  128              /* longest dotted yaml path we look up */
#define CONFIG_YAML_SEEN_MAX  (2 * CFG__COUNT) /* distinct valid paths: keys + sections */
#define CONFIG_ERR_MAX        1024
#define CONFIG_ECHO_MAX       64 /* bytes of a bad value quoted in errors */
#define CONFIG_ECHO_BUF       (CONFIG_ECHO_MAX * 4 + 8)
#define CONFIG_NAME_MAX       128         /* longest variable name we classify */
#define CONFIG_WHERE_MAX      (4096 + 64) /* "PATH:LINE" or "env NAME" */

/* Priorities of entries inside one layer (higher wins). */
enum { PRIO_NONE = 0, PRIO_DB = 1, PRIO_ALIAS = 2, PRIO_KEY = 3 };

struct config_meta {
    const char *key;
    const char *flag;
    enum config_type type;
    int64_t min, max;
    const char *def;
    int secret;
    const char *help;
};

static const struct config_meta config_meta[CFG__COUNT] = {
#define CONFIG_META_(name, key, flag, type, min, max, def, secret, help) \
    [CFG_##name] = {key, flag, type, min, max, def, secret, help},
    CONFIG_KEYS(CONFIG_META_)
#undef CONFIG_META_
};

/* The names of enum log_level in src/core/log.h, in its order (LOG_DEBUG = 0). */
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
#define LEVEL_COUNT ((int)(sizeof level_names / sizeof level_names[0]))

/* Seed variable names accepted for a key in .env and the environment. */
static const struct {
    const char *name;
    enum config_key key;
} config_aliases[] = {
    {"DATABASE_URL", CFG_DATABASE_URL},
    {"APIKEY", CFG_API_KEY},
    {"MAIN_SCHEMA", CFG_DATABASE_MAIN_SCHEMA},
};

enum db_part_id { DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASS, DB__COUNT };
static const char *const db_part_names[DB__COUNT] = {"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
                                                     "DB_PASS"};

struct db_part {
    char *value;  /* owned; NULL when unset */
    char *source; /* owned; ".env:4" or "env DB_HOST" */
    char *where;  /* owned; error prefix: ".env:4" or "environment" */
};

struct config_value {
    char *str; /* owned, canonical text */
    int64_t num;
    char *source; /* owned */
};

struct config {
    struct config_value v[CFG__COUNT];
    struct db_part db[DB__COUNT];
    char err[CONFIG_ERR_MAX];
};

/* One loader's pending values; committed only when the whole input is good. */
struct layer_slot {
    char *str; /* owned; NULL when the layer does not set the key */
    int64_t num;
    char *source; /* owned */
    int prio;
};

struct layer {
    struct layer_slot slot[CFG__COUNT];
    struct db_part db[DB__COUNT];
    int url_given; /* DATABASE_URL or FERRY_DATABASE_URL seen */
};

/* ---- small helpers --------------------------------------------------------------------- */

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* Append printf-formatted text to dst (size bytes) at *pos, truncating silently. */
static void errf(char *dst, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void errf(char *dst, size_t size, size_t *pos, const char *fmt, ...)
{
    if (*pos + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst + *pos, size - *pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *pos = (size_t)n >= size - *pos ? size - 1 : *pos + (size_t)n;
}

/* Record "WHERE: WHAT: PROBLEM" (WHERE and WHAT may be NULL) and return ERR_CONFIG. */
static int fail(config *c, const char *where, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(config *c, const char *where, const char *what, const char *fmt, ...)
{
    size_t pos = 0;
    c->err[0] = '\0';
    if (where)
        errf(c->err, sizeof c->err, &pos, "%s: ", where);
    if (what)
        errf(c->err, sizeof c->err, &pos, "%s: ", what);
    if (pos + 1 < sizeof c->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + pos, sizeof c->err - pos, fmt, ap);
        va_end(ap);
    }
    return ERR_CONFIG;
}

/* Write s (n bytes) to out as a double-quoted, escaped string of at most
 * CONFIG_ECHO_MAX input bytes, "..." marking a cut. out has CONFIG_ECHO_BUF bytes. */
static void echo(char out[CONFIG_ECHO_BUF], const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n && i < CONFIG_ECHO_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    if (n > CONFIG_ECHO_MAX) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int is_name_char(char ch, int first)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' ||
           (!first && ch >= '0' && ch <= '9');
}

/* Parse s (n bytes) as a whole decimal integer in [min, max]. Returns 0 or -1. */
static int parse_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= '0' && s[i] <= '9') && !(i == 0 && s[i] == '-' && n > 1))
            return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (errno != 0 || end != tmp + n || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Check a string value: bounded, no control characters. Returns 0 or ERR_CONFIG. */
static int check_string(config *c, const char *v, size_t n, const char *where, const char *what)
{
    if (n > CONFIG_VALUE_MAX)
        return fail(c, where, what, "longer than %d bytes", CONFIG_VALUE_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f)
            return fail(c, where, what, "control characters are not allowed");
    }
    return 0;
}

/* Validate v (n bytes) for key. On success returns 0 and writes the canonical text
 * (malloc'd, caller takes) to *str_out and the number to *num_out; on failure
 * returns ERR_CONFIG with the message "WHERE: WHAT: PROBLEM". */
static int check_value(config *c, enum config_key key, const char *v, size_t n, const char *where,
                       const char *what, char **str_out, int64_t *num_out)
{
    const struct config_meta *m = &config_meta[key];
    char shown[CONFIG_ECHO_BUF];
    char num[32];
    int64_t x = 0;

    switch (m->type) {
    case CFG_T_STR:
        if (check_string(c, v, n, where, what) < 0)
            return ERR_CONFIG;
        *str_out = xstrndup(v, n);
        *num_out = 0;
        return 0;
    case CFG_T_INT:
        if (parse_int(v, n, m->min, m->max, &x) < 0) {
            echo(shown, v, n);
            return fail(c, where, what, "expected an integer from %lld to %lld, got %s",
                        (long long)m->min, (long long)m->max, shown);
        }
        snprintf(num, sizeof num, "%lld", (long long)x);
        *str_out = xstrdup(num);
        *num_out = x;
        return 0;
    case CFG_T_LEVEL:
        for (int i = 0; i < LEVEL_COUNT; i++) {
            if (strlen(level_names[i]) == n && strncasecmp(level_names[i], v, n) == 0) {
                *str_out = xstrdup(level_names[i]);
                *num_out = i;
                return 0;
            }
        }
        echo(shown, v, n);
        return fail(c, where, what, "expected one of debug, info, warn, error, off, got %s", shown);
    }
    return fail(c, where, what, "internal error: bad type in the key table");
}

/* Replace key's value: takes str, copies source. */
static void store_value(config *c, enum config_key key, char *str, int64_t num, const char *source)
{
    struct config_value *cv = &c->v[key];
    free(cv->str);
    free(cv->source);
    cv->str = str;
    cv->num = num;
    cv->source = xstrdup(source);
}

static int key_find(const char *name, size_t n, enum config_key *out)
{
    for (int k = 0; k < CFG__COUNT; k++) {
        if (strlen(config_meta[k].key) == n && memcmp(config_meta[k].key, name, n) == 0) {
            *out = (enum config_key)k;
            return 0;
        }
    }
    return ERR_NOTFOUND;
}

/* 1 if name (n bytes) is a section: some key starts with "name.". */
static int is_section(const char *name, size_t n)
{
    for (int k = 0; k < CFG__COUNT; k++)
        if (strncmp(config_meta[k].key, name, n) == 0 && memchr(name, '\0', n) == NULL &&
            config_meta[k].key[n] == '.')
            return 1;
    return 0;
}

/* "FERRY_" + key upper-cased with '.' -> '_'. */
static void env_name(enum config_key key, char *out, size_t size)
{
    const char *k = config_meta[key].key;
    size_t o = (size_t)snprintf(out, size, "FERRY_");
    for (; *k && o + 1 < size; k++)
        out[o++] = *k == '.' ? '_' : (char)(*k >= 'a' && *k <= 'z' ? *k - 'a' + 'A' : *k);
    out[o] = '\0';
}

static void db_part_clear(struct db_part *p)
{
    free(p->value);
    free(p->source);
    free(p->where);
    p->value = p->source = p->where = NULL;
}

/* ---- layers ---------------------------------------------------------------------------- */

static void layer_init(struct layer *L)
{
    memset(L, 0, sizeof *L);
}

static void layer_free(struct layer *L)
{
    for (int k = 0; k < CFG__COUNT; k++) {
        free(L->slot[k].str);
        free(L->slot[k].source);
    }
    for (int i = 0; i < DB__COUNT; i++)
        db_part_clear(&L->db[i]);
}

/* Offer a value to the layer: takes str, copies source. Kept if prio is at least
 * the slot's current priority. */
static void layer_put(struct layer *L, enum config_key key, int prio, char *str, int64_t num,
                      const char *source)
{
    struct layer_slot *s = &L->slot[key];
    if (prio < s->prio) {
        free(str);
        return;
    }
    free(s->str);
    free(s->source);
    s->str = str;
    s->num = num;
    s->source = xstrdup(source);
    s->prio = prio;
}

/* Append s percent-encoded (everything but RFC 3986 unreserved characters). */
static int put_pct(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int rc;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~')
            rc = buf_putc(b, (char)ch);
        else
            rc = buf_printf(b, "%%%02X", ch);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Build postgresql://USER:PASS@HOST:PORT/NAME from parts into b. */
static int compose_db_url(struct buf *b, struct db_part *const part[DB__COUNT])
{
    const char *user = part[DB_USER] ? part[DB_USER]->value : "";
    const char *pass = part[DB_PASS] ? part[DB_PASS]->value : "";
    const char *host = part[DB_HOST]->value;
    const char *port = part[DB_PORT] && part[DB_PORT]->value[0] ? part[DB_PORT]->value : "5432";
    const char *name = part[DB_NAME] ? part[DB_NAME]->value : "";
    int v6 = strchr(host, ':') != NULL && host[0] != '[';

    if (buf_puts(b, "postgresql://") < 0)
        return ERR_TOOBIG;
    if (user[0]) {
        if (put_pct(b, user) < 0)
            return ERR_TOOBIG;
        if (pass[0] && (buf_putc(b, ':') < 0 || put_pct(b, pass) < 0))
            return ERR_TOOBIG;
        if (buf_putc(b, '@') < 0)
            return ERR_TOOBIG;
    }
    return buf_printf(b, "%s%s%s:%s/%s", v6 ? "[" : "", host, v6 ? "]" : "", port, name);
}

/* Finish a .env or environment layer: build database.url from DB_* if due, then
 * move everything into c. Returns 0 or ERR_CONFIG (c unchanged). */
static int layer_commit(config *c, struct layer *L)
{
    int any_db = 0;
    for (int i = 0; i < DB__COUNT; i++)
        any_db |= L->db[i].value != NULL;

    if (any_db && L->url_given) {
        for (int i = 0; i < DB__COUNT; i++)
            db_part_clear(&L->db[i]);
        any_db = 0;
    }
    if (any_db) {
        struct db_part *merged[DB__COUNT];
        for (int i = 0; i < DB__COUNT; i++)
            merged[i] = L->db[i].value ? &L->db[i] : c->db[i].value ? &c->db[i] : NULL;
        if (merged[DB_HOST] && merged[DB_HOST]->value[0]) {
            struct buf url;
            buf_init(&url, CONFIG_VALUE_MAX);
            char *str = NULL;
            int64_t num = 0;
            const char *where = merged[DB_HOST]->where;
            int rc = compose_db_url(&url, merged);
            if (rc < 0) {
                buf_free(&url);
                return fail(c, where, "DB_HOST",
                            "the database URL built from DB_* is longer than %d bytes",
                            CONFIG_VALUE_MAX);
            }
            rc = check_value(c, CFG_DATABASE_URL, buf_cstr(&url), url.len, where, "database.url",
                             &str, &num);
            buf_free(&url);
            if (rc < 0)
                return rc;
            layer_put(L, CFG_DATABASE_URL, PRIO_DB, str, num, merged[DB_HOST]->source);
        }
        for (int i = 0; i < DB__COUNT; i++) {
            if (!L->db[i].value)
                continue;
            db_part_clear(&c->db[i]);
            c->db[i] = L->db[i];
            memset(&L->db[i], 0, sizeof L->db[i]);
        }
    }

    for (int k = 0; k < CFG__COUNT; k++) {
        struct layer_slot *s = &L->slot[k];
        if (!s->str)
            continue;
        struct config_value *cv = &c->v[k];
        free(cv->str);
        free(cv->source);
        cv->str = s->str;
        cv->num = s->num;
        cv->source = s->source;
        s->str = s->source = NULL;
    }
    return 0;
}

/* Take one NAME=VALUE from .env or the environment into L. where prefixes
 * errors; source is recorded with the value. Returns 0 or ERR_CONFIG. */
static int layer_var(config *c, struct layer *L, const char *name, size_t nlen, const char *value,
                     size_t vlen, const char *where, const char *source)
{
    char nm[CONFIG_NAME_MAX + 1];
    char env[CONFIG_NAME_MAX + 1];
    char *str = NULL;
    int64_t num = 0;

    if (nlen > CONFIG_NAME_MAX) {
        if (nlen >= 6 && memcmp(name, "FERRY_", 6) == 0)
            return fail(c, where, NULL, "unknown variable %.*s...", CONFIG_NAME_MAX, name);
        return 0;
    }
    memcpy(nm, name, nlen);
    nm[nlen] = '\0';

    for (int i = 0; i < DB__COUNT; i++) {
        if (strcmp(nm, db_part_names[i]) != 0)
            continue;
        if (i == DB_PORT && vlen > 0) {
            int64_t port;
            if (parse_int(value, vlen, 1, 65535, &port) < 0) {
                char shown[CONFIG_ECHO_BUF];
                echo(shown, value, vlen);
                return fail(c, where, nm, "expected an integer from 1 to 65535, got %s", shown);
            }
        }
        if (check_string(c, value, vlen, where, nm) < 0)
            return ERR_CONFIG;
        db_part_clear(&L->db[i]);
        L->db[i].value = xstrndup(value, vlen);
        L->db[i].source = xstrdup(source);
        L->db[i].where = xstrdup(where);
        return 0;
    }

    enum config_key key = CFG__COUNT;
    int prio = PRIO_NONE;
    for (size_t i = 0; i < sizeof config_aliases / sizeof config_aliases[0]; i++) {
        if (strcmp(nm, config_aliases[i].name) == 0) {
            key = config_aliases[i].key;
            prio = PRIO_ALIAS;
        }
    }
    if (prio == PRIO_NONE && strncmp(nm, "FERRY_", 6) == 0) {
        if (strcmp(nm, "FERRY_CONFIG") == 0)
            return 0; /* read by the CLI to find ferry.yml */
        for (int k = 0; k < CFG__COUNT; k++) {
            env_name((enum config_key)k, env, sizeof env);
            if (strcmp(nm, env) == 0) {
                key = (enum config_key)k;
                prio = PRIO_KEY;
            }
        }
        if (prio == PRIO_NONE)
            return fail(c, where, NULL, "unknown variable %s", nm);
    }
    if (prio == PRIO_NONE)
        return 0; /* not ours: the file and the environment are shared */

    if (check_value(c, key, value, vlen, where, nm, &str, &num) < 0)
        return ERR_CONFIG;
    if (key == CFG_DATABASE_URL)
        L->url_given = 1;
    layer_put(L, key, prio, str, num, source);
    return 0;
}

/* ---- files ----------------------------------------------------------------------------- */

/* Read path whole into *out (malloc'd, NUL-terminated; caller frees) and its length
 * into *len. Returns 0, 1 if the file does not exist and may_be_absent, or
 * ERR_CONFIG. */
static int read_file(config *c, const char *path, int may_be_absent, char **out, size_t *len)
{
    int rc = ERR_CONFIG;
    char ebuf[128];
    char chunk[16384];
    struct buf b;
    FILE *f = NULL;

    buf_init(&b, CONFIG_FILE_MAX);
    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && may_be_absent) {
            rc = 1;
            goto out;
        }
        rc = fail(c, NULL, NULL, "cannot read %s: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto out;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0 && buf_append(&b, chunk, n) < 0) {
            rc = fail(c, path, NULL, "file is larger than %d bytes", CONFIG_FILE_MAX);
            goto out;
        }
        if (n < sizeof chunk)
            break;
    }
    if (ferror(f)) {
        rc = fail(c, NULL, NULL, "cannot read %s: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto out;
    }
    *out = buf_take(&b, len);
    rc = 0;
out:
    if (f)
        fclose(f);
    buf_free(&b);
    return rc;
}

/* ---- ferry.yml ------------------------------------------------------------------------- */

struct yaml_ctx {
    config *c;
    const char *path;
    const char *data; /* the file, for lines of reader errors */
    size_t len;
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    struct layer *L;
    char seen[CONFIG_YAML_SEEN_MAX][CONFIG_YAML_PATH_MAX];
    int nseen;
};

/* Advance to the next event (deleting the current one). Returns 0 or ERR_CONFIG
 * with libyaml's problem and line. */
static int yaml_next(struct yaml_ctx *y)
{
    if (y->have_ev) {
        yaml_event_delete(&y->ev);
        y->have_ev = 0;
    }
    if (yaml_parser_parse(&y->parser, &y->ev)) {
        y->have_ev = 1;
        return 0;
    }
    const yaml_parser_t *p = &y->parser;
    const char *problem = p->problem ? p->problem : "cannot parse YAML";
    size_t line = p->problem_mark.line + 1;
    if (p->error == YAML_MEMORY_ERROR)
        abort();
    if (p->error == YAML_READER_ERROR) {
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < y->len; i++)
            line += y->data[i] == '\n';
    }
    if (p->context)
        return fail(y->c, NULL, NULL, "%s:%zu: %s (%s at line %zu)", y->path, line, problem,
                    p->context, p->context_mark.line + 1);
    return fail(y->c, NULL, NULL, "%s:%zu: %s", y->path, line, problem);
}

static size_t yaml_line(const struct yaml_ctx *y)
{
    return y->ev.start_mark.line + 1;
}

/* "a list", "a mapping", ... for the current event. */
static const char *yaml_what(const struct yaml_ctx *y)
{
    switch (y->ev.type) {
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SCALAR_EVENT:
        return "a single value";
    case YAML_ALIAS_EVENT:
        return "an alias (aliases are not supported)";
    default:
        return "something else";
    }
}

/* 1 if the current event is an empty or null plain scalar (`http:` with nothing). */
static int yaml_is_null(const struct yaml_ctx *y)
{
    if (y->ev.type != YAML_SCALAR_EVENT || y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = (const char *)y->ev.data.scalar.value;
    return y->ev.data.scalar.length == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Read a mapping whose MAPPING_START is the current event; prefix (plen bytes) is
 * its dotted path, "" at the top. Returns 0 or ERR_CONFIG. */
static int yaml_mapping(struct yaml_ctx *y, const char *prefix, size_t plen, int depth)
{
    config *c = y->c;
    char where[CONFIG_WHERE_MAX];
    char shown[CONFIG_ECHO_BUF];
    char path[CONFIG_YAML_PATH_MAX];
    int rc;

    if (depth > CONFIG_YAML_DEPTH_MAX)
        return fail(c, NULL, NULL, "%s:%zu: nested too deeply", y->path, yaml_line(y));
    for (;;) {
        if ((rc = yaml_next(y)) < 0)
            return rc;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        size_t kline = yaml_line(y);
        if (y->ev.type != YAML_SCALAR_EVENT)
            return fail(c, NULL, NULL, "%s:%zu: expected a setting name, got %s", y->path, kline,
                        yaml_what(y));

        const char *k = (const char *)y->ev.data.scalar.value;
        size_t klen = y->ev.data.scalar.length;
        size_t n = plen + (plen ? 1 : 0) + klen;
        if (n >= sizeof path) {
            /* Longer than any key: unknown. Show what fits. */
            char full[CONFIG_YAML_PATH_MAX + CONFIG_ECHO_MAX + 2];
            snprintf(full, sizeof full, "%.*s%s%.*s", (int)plen, prefix, plen ? "." : "",
                     (int)(klen > CONFIG_ECHO_MAX ? CONFIG_ECHO_MAX : klen), k);
            echo(shown, full, n);
            return fail(c, NULL, NULL, "%s:%zu: unknown key %s", y->path, kline, shown);
        }
        memcpy(path, prefix, plen);
        if (plen)
            path[plen] = '.';
        memcpy(path + n - klen, k, klen);
        path[n] = '\0';

        enum config_key key = CFG__COUNT;
        int leaf = key_find(path, n, &key) == 0;
        if (!leaf && !is_section(path, n)) {
            echo(shown, path, n);
            return fail(c, NULL, NULL, "%s:%zu: unknown key %s", y->path, kline, shown);
        }
        for (int i = 0; i < y->nseen; i++) {
            if (strlen(y->seen[i]) == n && memcmp(y->seen[i], path, n) == 0) {
                echo(shown, path, n);
                return fail(c, NULL, NULL, "%s:%zu: duplicate key %s", y->path, kline, shown);
            }
        }
        if (y->nseen < CONFIG_YAML_SEEN_MAX)
            memcpy(y->seen[y->nseen++], path, n + 1);

        if ((rc = yaml_next(y)) < 0)
            return rc;
        size_t vline = yaml_line(y);
        snprintf(where, sizeof where, "%s:%zu", y->path, vline);
        if (leaf) {
            if (y->ev.type != YAML_SCALAR_EVENT)
                return fail(c, where, path, "expected a single value, got %s", yaml_what(y));
            char *str = NULL;
            int64_t num = 0;
            if (check_value(c, key, (const char *)y->ev.data.scalar.value, y->ev.data.scalar.length,
                            where, path, &str, &num) < 0)
                return ERR_CONFIG;
            layer_put(y->L, key, PRIO_KEY, str, num, where);
        } else if (y->ev.type == YAML_MAPPING_START_EVENT) {
            if ((rc = yaml_mapping(y, path, n, depth + 1)) < 0)
                return rc;
        } else if (!yaml_is_null(y)) {
            return fail(c, where, path, "expected a section of settings, got %s", yaml_what(y));
        }
    }
}

/* Parse the whole stream into y->L. Returns 0 or ERR_CONFIG. */
static int yaml_stream(struct yaml_ctx *y)
{
    int rc;
    if ((rc = yaml_next(y)) < 0) /* STREAM_START */
        return rc;
    if ((rc = yaml_next(y)) < 0)
        return rc;
    if (y->ev.type == YAML_STREAM_END_EVENT)
        return 0;                /* empty, or only comments */
    if ((rc = yaml_next(y)) < 0) /* the document's root */
        return rc;
    if (y->ev.type == YAML_MAPPING_START_EVENT) {
        if ((rc = yaml_mapping(y, "", 0, 1)) < 0)
            return rc;
    } else if (!yaml_is_null(y)) {
        return fail(y->c, NULL, NULL, "%s:%zu: expected a mapping of settings, got %s", y->path,
                    yaml_line(y), yaml_what(y));
    }
    if ((rc = yaml_next(y)) < 0) /* DOCUMENT_END */
        return rc;
    if ((rc = yaml_next(y)) < 0)
        return rc;
    if (y->ev.type != YAML_STREAM_END_EVENT)
        return fail(y->c, NULL, NULL, "%s:%zu: only one YAML document is allowed", y->path,
                    yaml_line(y));
    return 0;
}

int config_load_yaml(config *c, const char *path)
{
    int rc = ERR_CONFIG;
    char *data = NULL;
    size_t len = 0;
    struct layer L;
    struct yaml_ctx *y = NULL;

    layer_init(&L);
    rc = read_file(c, path ? path : "ferry.yml", path == NULL, &data, &len);
    if (rc != 0) {
        rc = rc == 1 ? 0 : rc;
        goto out;
    }
    y = calloc(1, sizeof *y);
    if (!y || !yaml_parser_initialize(&y->parser))
        abort();
    y->c = c;
    y->path = path ? path : "ferry.yml";
    y->data = data;
    y->len = len;
    y->L = &L;
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)data, len);
    rc = yaml_stream(y);
    if (rc == 0)
        rc = layer_commit(c, &L);
out:
    if (y) {
        if (y->have_ev)
            yaml_event_delete(&y->ev);
        yaml_parser_delete(&y->parser);
        free(y);
    }
    layer_free(&L);
    free(data);
    return rc;
}

/* ---- .env ------------------------------------------------------------------------------ */

/* Parse one .env line (len bytes, no newline). Returns 1 with the name and value
 * (unquoted, into val) for an entry, 0 for a blank or comment line, or ERR_CONFIG. */
static int dotenv_line(config *c, const char *where, const char *s, size_t len, const char **name,
                       size_t *nlen, struct buf *val)
{
    size_t i = 0;
    buf_reset(val);
    if (len > 0 && s[len - 1] == '\r')
        len--;
    while (i < len && is_blank(s[i]))
        i++;
    if (i == len || s[i] == '#')
        return 0;
    if (len - i > 7 && memcmp(s + i, "export", 6) == 0 && is_blank(s[i + 6])) {
        i += 6;
        while (i < len && is_blank(s[i]))
            i++;
    }
    *name = s + i;
    if (i == len || !is_name_char(s[i], 1))
        return fail(c, where, NULL, "expected NAME=VALUE");
    while (i < len && is_name_char(s[i], 0))
        i++;
    *nlen = (size_t)(s + i - *name);
    while (i < len && is_blank(s[i]))
        i++;
    if (i == len || s[i] != '=')
        return fail(c, where, NULL, "expected NAME=VALUE");
    i++;
    size_t ws = i;
    while (i < len && is_blank(s[i]))
        i++;

    if (i < len && (s[i] == '\'' || s[i] == '"')) {
        char q = s[i++];
        int closed = 0;
        while (i < len) {
            char ch = s[i++];
            if (ch == q) {
                closed = 1;
                break;
            }
            if (q == '"' && ch == '\\' && i < len) {
                char e = s[i++];
                if (e == 'n')
                    ch = '\n';
                else if (e == '"' || e == '\\')
                    ch = e;
                else if (buf_putc(val, '\\') < 0)
                    return fail(c, where, NULL, "line too long");
                else
                    ch = e;
            }
            if (buf_putc(val, ch) < 0)
                return fail(c, where, NULL, "line too long");
        }
        if (!closed)
            return fail(c, where, NULL, "unterminated %s-quoted value",
                        q == '"' ? "double" : "single");
        while (i < len && is_blank(s[i]))
            i++;
        if (i < len && s[i] != '#')
            return fail(c, where, NULL, "unexpected text after the closing quote");
        return 1;
    }

    /* Bare: cut at " #comment", then trailing blanks. */
    size_t end = i;
    for (; end < len; end++)
        if (s[end] == '#' && (end == i ? i > ws : is_blank(s[end - 1])))
            break;
    while (end > i && is_blank(s[end - 1]))
        end--;
    if (buf_append(val, s + i, end - i) < 0)
        return fail(c, where, NULL, "line too long");
    return 1;
}

int config_load_dotenv(config *c, const char *path)
{
    const char *p = path ? path : ".env";
    int rc = ERR_CONFIG;
    char *data = NULL;
    size_t len = 0;
    struct layer L;
    struct buf val;
    char where[CONFIG_WHERE_MAX];

    layer_init(&L);
    buf_init(&val, CONFIG_LINE_MAX);
    rc = read_file(c, p, path == NULL, &data, &len);
    if (rc != 0) {
        rc = rc == 1 ? 0 : rc;
        goto out;
    }
    size_t lineno = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t llen = nl ? (size_t)(nl - (data + off)) : len - off;
        const char *line = data + off;
        off += llen + (nl ? 1 : 0);
        lineno++;
        snprintf(where, sizeof where, "%s:%zu", p, lineno);
        if (llen > CONFIG_LINE_MAX) {
            rc = fail(c, where, NULL, "line longer than %d bytes", CONFIG_LINE_MAX);
            goto out;
        }
        if (memchr(line, '\0', llen)) {
            rc = fail(c, where, NULL, "NUL byte in line");
            goto out;
        }
        const char *name = NULL;
        size_t nlen = 0;
        rc = dotenv_line(c, where, line, llen, &name, &nlen, &val);
        if (rc < 0)
            goto out;
        if (rc == 0)
            continue;
        rc = layer_var(c, &L, name, nlen, buf_cstr(&val), val.len, where, where);
        if (rc < 0)
            goto out;
    }
    rc = layer_commit(c, &L);
out:
    buf_free(&val);
    layer_free(&L);
    free(data);
    return rc;
}

/* ---- environment and flags ------------------------------------------------------------- */

int config_load_env(config *c, char *const *envp)
{
    int rc = 0;
    struct layer L;
    char source[CONFIG_NAME_MAX + 8];

    layer_init(&L);
    for (size_t i = 0; envp && envp[i]; i++) {
        const char *eq = strchr(envp[i], '=');
        if (!eq)
            continue;
        size_t nlen = (size_t)(eq - envp[i]);
        snprintf(source, sizeof source, "env %.*s", (int)(nlen > CONFIG_NAME_MAX ? 0 : nlen),
                 envp[i]);
        rc = layer_var(c, &L, envp[i], nlen, eq + 1, strlen(eq + 1), "environment", source);
        if (rc < 0)
            goto out;
    }
    rc = layer_commit(c, &L);
out:
    layer_free(&L);
    return rc;
}

int config_set_flag(config *c, const char *flag, const char *value)
{
    char source[64];
    for (int k = 0; k < CFG__COUNT; k++) {
        if (!config_meta[k].flag || strcmp(config_meta[k].flag, flag) != 0)
            continue;
        char *str = NULL;
        int64_t num = 0;
        if (check_value(c, (enum config_key)k, value, strlen(value), NULL, flag, &str, &num) < 0)
            return ERR_CONFIG;
        snprintf(source, sizeof source, "flag %s", flag);
        store_value(c, (enum config_key)k, str, num, source);
        return 0;
    }
    fail(c, NULL, NULL, "unknown flag %.*s", CONFIG_NAME_MAX, flag);
    return ERR_NOTFOUND;
}

int config_set(config *c, enum config_key key, const char *value, const char *source)
{
    if ((int)key < 0 || key >= CFG__COUNT)
        return ERR_INVAL;
    char *str = NULL;
    int64_t num = 0;
    if (check_value(c, key, value, strlen(value), source, config_meta[key].key, &str, &num) < 0)
        return ERR_CONFIG;
    store_value(c, key, str, num, source);
    return 0;
}

/* ---- lifecycle and accessors ----------------------------------------------------------- */

config *config_new(void)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    for (int k = 0; k < CFG__COUNT; k++) {
        /* A default that does not validate is a bug in the key table. */
        if (config_set(c, (enum config_key)k, config_meta[k].def, "default") < 0)
            abort();
    }
    return c;
}

void config_free(config *c)
{
    if (!c)
        return;
    for (int k = 0; k < CFG__COUNT; k++) {
        free(c->v[k].str);
        free(c->v[k].source);
    }
    for (int i = 0; i < DB__COUNT; i++)
        db_part_clear(&c->db[i]);
    free(c);
}

const char *config_error(const config *c)
{
    return c->err;
}

const char *config_str(const config *c, enum config_key key)
{
    if ((int)key < 0 || key >= CFG__COUNT)
        return NULL;
    return c->v[key].str;
}

int64_t config_int(const config *c, enum config_key key)
{
    if ((int)key < 0 || key >= CFG__COUNT)
        return 0;
    return c->v[key].num;
}

const char *config_source(const config *c, enum config_key key)
{
    if ((int)key < 0 || key >= CFG__COUNT)
        return NULL;
    return c->v[key].source;
}

const char *config_key_name(enum config_key key)
{
    return (int)key >= 0 && key < CFG__COUNT ? config_meta[key].key : NULL;
}

const char *config_key_flag(enum config_key key)
{
    return (int)key >= 0 && key < CFG__COUNT ? config_meta[key].flag : NULL;
}

const char *config_key_help(enum config_key key)
{
    return (int)key >= 0 && key < CFG__COUNT ? config_meta[key].help : NULL;
}

int config_key_lookup(const char *name, enum config_key *out)
{
    return key_find(name, strlen(name), out);
}

/* ---- show ------------------------------------------------------------------------------ */

/* The value of key as config_show prints it, into b. */
static int put_shown(struct buf *b, const config *c, int k)
{
    const char *v = c->v[k].str;
    if (config_meta[k].secret == 1 && v[0])
        return buf_puts(b, "********");
    if (config_meta[k].secret == 2)
        return url_redact(v, b);
    return buf_puts(b, v);
}

/* Lines whose "key = value" is wider than this do not push the # column right. */
#define SHOW_ALIGN_MAX 56

int config_show(const config *c, struct buf *out)
{
    int rc = 0;
    size_t col = 0;
    struct buf v[CFG__COUNT];

    for (int k = 0; k < CFG__COUNT; k++)
        buf_init(&v[k], CONFIG_VALUE_MAX * 2);
    for (int k = 0; k < CFG__COUNT; k++) {
        if ((rc = put_shown(&v[k], c, k)) < 0)
            goto out;
        size_t w = strlen(config_meta[k].key) + 3 + v[k].len;
        if (w <= SHOW_ALIGN_MAX && w > col)
            col = w;
    }
    for (int k = 0; k < CFG__COUNT; k++) {
        size_t w = strlen(config_meta[k].key) + 3 + v[k].len;
        int pad = (int)(w < col ? col - w : 0) + 3;
        rc = buf_printf(out, "%s = %s%*s# %s\n", config_meta[k].key, buf_cstr(&v[k]), pad, "",
                        c->v[k].source);
        if (rc < 0)
            goto out;
    }
out:
    for (int k = 0; k < CFG__COUNT; k++)
        buf_free(&v[k]);
    return rc;
}
