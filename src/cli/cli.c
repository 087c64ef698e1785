/*
 * cli: option parsing and start-up shared by every command.
 *
 * Config layers are applied in order (defaults, ferry.yml, .env, environment,
 * flags); flags are collected first so that --config can name the yaml file
 * wherever it appears on the line.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/url.h"
#include "store/migrate.h"

extern char **environ;

#define MAX_FLAGS 64

struct flag_pair {
    const char *name;
    const char *value;
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ferry: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, size_t nopts, const char *name,
                                      size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int is_config_flag(const char *name, size_t len)
{
    for (int k = 0; k < CFG__COUNT; k++) {
        const char *f = config_key_flag((enum config_key)k);
        if (f && strlen(f) == len && memcmp(f, name, len) == 0)
            return 1;
    }
    return 0;
}

/* One pass over argv: command options are stored, config flags collected, --config
 * remembered, positional arguments gathered. */
static int parse_args(int argc, char **argv, const struct cli_opt *opts, size_t nopts,
                      size_t max_args, struct cli *out, struct flag_pair *flags, size_t *nflags,
                      const char **config_path, int *help)
{
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (out->nargs == max_args) {
                cli_error("unexpected argument '%s' (see --help)", a);
                return CLI_USAGE;
            }
            out->args[out->nargs++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const struct cli_opt *o = find_opt(opts, nopts, a, len);
        int takes_value = o ? o->value != NULL : 1;
        const char *value = eq ? eq + 1 : NULL;
        if (o && !takes_value) {
            if (eq) {
                cli_error("option %.*s takes no value", (int)len, a);
                return CLI_USAGE;
            }
            *o->flag = 1;
            continue;
        }
        if (!o && !is_config_flag(a, len) && !(len == 8 && memcmp(a, "--config", 8) == 0)) {
            cli_error("unknown option %.*s (see --help)", (int)len, a);
            return CLI_USAGE;
        }
        if (!value) {
            if (i + 1 >= argc) {
                cli_error("option %s needs a value", a);
                return CLI_USAGE;
            }
            value = argv[++i];
        }
        if (o) {
            *o->value = value;
        } else if (len == 8 && memcmp(a, "--config", 8) == 0) {
            *config_path = value;
        } else {
            if (*nflags == MAX_FLAGS) {
                cli_error("too many options");
                return CLI_USAGE;
            }
            flags[*nflags].name = a;
            flags[*nflags].value = value;
            (*nflags)++;
        }
    }
    return CLI_OK;
}

static int load_config(config *cfg, const char *config_path, const struct flag_pair *flags,
                       size_t nflags)
{
    if (!config_path)
        config_path = getenv("FERRY_CONFIG");
    if (config_load_yaml(cfg, config_path) < 0 || config_load_dotenv(cfg, NULL) < 0 ||
        config_load_env(cfg, environ) < 0)
        goto bad;
    for (size_t i = 0; i < nflags; i++) {
        /* The flag name may carry "=value": pass only the name. */
        char name[64];
        const char *eq = strchr(flags[i].name, '=');
        size_t len = eq ? (size_t)(eq - flags[i].name) : strlen(flags[i].name);
        snprintf(name, sizeof name, "%.*s", (int)len, flags[i].name);
        if (config_set_flag(cfg, name, flags[i].value) < 0)
            goto bad;
    }
    return CLI_OK;
bad:
    cli_error("%s", config_error(cfg));
    return CLI_USAGE;
}

int cli_setup(int argc, char **argv, const struct cli_opt *opts, size_t nopts, size_t max_args,
              const char *usage, struct cli *out)
{
    struct flag_pair flags[MAX_FLAGS];
    size_t nflags = 0;
    const char *config_path = NULL;
    int help = 0;
    memset(out, 0, sizeof *out);
    out->args = calloc((size_t)argc + 1, sizeof *out->args);
    if (!out->args)
        abort();
    int rc =
        parse_args(argc, argv, opts, nopts, max_args, out, flags, &nflags, &config_path, &help);
    if (rc != CLI_OK)
        goto fail;
    if (help) {
        fputs(usage, stdout);
        cli_print_common_options();
        cli_free(out);
        return -1;
    }
    out->cfg = config_new();
    rc = load_config(out->cfg, config_path, flags, nflags);
    if (rc != CLI_OK)
        goto fail;
    log_set_level((enum log_level)config_int(out->cfg, CFG_LOG_LEVEL));
    return CLI_OK;
fail:
    cli_free(out);
    return rc;
}

void cli_free(struct cli *c)
{
    if (!c)
        return;
    config_free(c->cfg);
    free(c->args);
    memset(c, 0, sizeof *c);
}

const char *cli_database_display(const struct cli *c)
{
    static char shown[512];
    struct buf b;
    buf_init(&b, sizeof shown - 1);
    if (url_redact(config_str(c->cfg, CFG_DATABASE_URL), &b) < 0)
        snprintf(shown, sizeof shown, "(database URL)");
    else
        snprintf(shown, sizeof shown, "%s", buf_cstr(&b));
    buf_free(&b);
    return shown;
}

int cli_open_store(const struct cli *c, int create, store **out)
{
    char why[512];
    struct store_options opt = {0};
    opt.create = create;
    opt.busy_timeout_ms = (int)config_int(c->cfg, CFG_DATABASE_BUSY_TIMEOUT_MS);
    opt.main_schema = config_str(c->cfg, CFG_DATABASE_MAIN_SCHEMA);
    /* A database server may still be starting (containers start together). */
    int rc = store_wait(config_str(c->cfg, CFG_DATABASE_URL), &opt,
                        (int)config_int(c->cfg, CFG_DATABASE_WAIT_SEC), why, sizeof why);
    if (rc == 0)
        rc = store_open(config_str(c->cfg, CFG_DATABASE_URL), &opt, out, why, sizeof why);
    if (rc == 0)
        return CLI_OK;
    cli_error("cannot open database %s: %s", cli_database_display(c), why);
    return rc == ERR_NOTFOUND ? CLI_NOT_READY : rc == ERR_INVAL ? CLI_USAGE : CLI_FAIL;
}

void cli_hint_missing_database(const struct cli *c, const char *sqlite_hint)
{
    enum store_backend_kind kind;
    if (store_url_backend(config_str(c->cfg, CFG_DATABASE_URL), &kind) == 0 &&
        kind == STORE_POSTGRESQL)
        cli_error("ferry creates its schemas and tables, not the PostgreSQL database itself: "
                  "create it (createdb, or CREATE DATABASE), then run `ferry db init`");
    else
        cli_error("%s", sqlite_hint);
}

void cli_print_common_options(void)
{
    printf("\noptions every command accepts:\n");
    printf("  %-22s %s\n", "--config FILE",
           "ferry.yml to read (default: ./ferry.yml if present; "
           "or FERRY_CONFIG)");
    for (int k = 0; k < CFG__COUNT; k++) {
        const char *f = config_key_flag((enum config_key)k);
        if (!f)
            continue;
        char left[64];
        snprintf(left, sizeof left, "%s VALUE", f);
        printf("  %-22s %s (%s)\n", left, config_key_help((enum config_key)k),
               config_key_name((enum config_key)k));
    }
    printf("  %-22s %s\n", "--help", "show help for the command");
}

/* Open the database and require this binary's schema version. */
int cli_open_ready_store(const struct cli *c, store **out)
{
    struct migrate_status st;
    int rc = cli_open_store(c, 0, out);
    if (rc != CLI_OK) {
        if (rc == CLI_NOT_READY)
            cli_hint_missing_database(c, "run `ferry db init` to create it");
        return rc;
    }
    if (migrate_get_status(*out, &st) < 0) {
        cli_error("cannot read the schema version: %s", store_errmsg(*out));
        return CLI_FAIL;
    }
    if (st.unknown) {
        cli_error("database %s has a newer schema (version %d) than this ferry knows (%d); "
                  "upgrade ferry",
                  cli_database_display(c), st.current, st.latest);
        return CLI_NOT_READY;
    }
    if (st.pending) {
        cli_error("database %s has %d pending migration%s (schema version %d, latest %d); run "
                  "`ferry db migrate`",
                  cli_database_display(c), st.pending, st.pending == 1 ? "" : "s", st.current,
                  st.latest);
        return CLI_NOT_READY;
    }
    return CLI_OK;
}
