/*
 * client: `ferry client add | list | remove | rotate | disable | enable` — the
 * Hawk client registry (auth/clients.h) from the command line.
 *
 * Every subcommand needs an existing database at this binary's schema version
 * (exit 3 otherwise, with the command that fixes it) and checks the server
 * secret against the database (auth/secret.h). add and rotate may create the
 * secret file, but only for a database that never had a secret; the others
 * never create it, and run without one while nothing has been sealed yet.
 * Problems with the secret (missing, malformed, group-readable, not this
 * database's) are configuration errors: exit 2.
 *
 * Keys are shown once: add prints a generated key, rotate the new one. list
 * never shows keys. --scope may be repeated; cli_setup keeps one value per
 * option, so the scopes are collected from argv here with the same rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/clients.h"
#include "auth/secret.h"
#include "cli/cli.h"
#include "core/err.h"
#include "store/migrate.h"

static const char client_usage[] =
    "usage: ferry client add --id ID --scope SCOPE [--scope SCOPE ...] [--key KEY]\n"
    "                        [--description TEXT] [--algorithm sha256|sha1]\n"
    "       ferry client list\n"
    "       ferry client remove ID\n"
    "       ferry client rotate ID\n"
    "       ferry client disable ID | enable ID\n\n"
    "Hawk API clients. Keys are stored encrypted with the server secret (auth.secret,\n"
    "or the file auth.secret_file, created on first use). A generated key is shown\n"
    "once: by add without --key, and by rotate.\n\n"
    "  add        register a client (an existing id is left unchanged: exit 1)\n"
    "  list       id, algorithm, scopes, enabled, description, created (never keys)\n"
    "  remove     delete a client\n"
    "  rotate     give a client a new generated key\n"
    "  disable    refuse a client's requests, keeping it; enable undoes it\n\n"
    "  --id ID             Hawk id: 1-128 of letters, digits and . _ : @ -\n"
    "  --scope SCOPE       a scope granted, e.g. datasets:read; '*' = every scope;\n"
    "                      repeat it or separate scopes with commas\n"
    "  --key KEY           use this key instead of a generated one (printable ASCII;\n"
    "                      note that it shows in shell history and ps)\n"
    "  --description TEXT  a note for people (at most 1000 bytes)\n"
    "  --algorithm ALG     sha256 (default) or sha1\n";

/* The longest key printed (a generated one is 43 characters). */
#define KEY_OUT_MAX CLIENT_KEY_MAX

struct scope_list {
    char *text[CLIENT_SCOPES_MAX]; /* owned copies of the --scope values */
    size_t ntext;
    const char *items[CLIENT_SCOPES_MAX]; /* point into text */
    size_t n;
};

static void scope_list_free(struct scope_list *l)
{
    for (size_t i = 0; i < l->ntext; i++)
        free(l->text[i]);
    memset(l, 0, sizeof *l);
}

/* Split one --scope value on commas (spaces around items ignored). */
static int scope_list_add(struct scope_list *l, const char *value)
{
    if (l->ntext == CLIENT_SCOPES_MAX) {
        cli_error("too many --scope options (at most %d)", CLIENT_SCOPES_MAX);
        return CLI_USAGE;
    }
    char *copy = strdup(value);
    if (!copy)
        abort();
    l->text[l->ntext++] = copy;
    char *p = copy;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ')
            p++;
        size_t len = strlen(p);
        while (len && p[len - 1] == ' ')
            p[--len] = '\0';
        if (len == 0) {
            cli_error("--scope: empty scope in '%s'", value);
            return CLI_USAGE;
        }
        if (!client_scope_valid(p, len)) {
            cli_error("--scope: '%s' is not a scope: 1-%d of a-z 0-9 : . _ - (like datasets:read), "
                      "or '*' alone for every scope",
                      p, CLIENT_SCOPE_MAX);
            return CLI_USAGE;
        }
        if (l->n == CLIENT_SCOPES_MAX) {
            cli_error("--scope: too many scopes (at most %d)", CLIENT_SCOPES_MAX);
            return CLI_USAGE;
        }
        l->items[l->n++] = p;
        if (!comma)
            return CLI_OK;
        p = comma + 1;
    }
}

/* Collect every --scope value with cli_setup's rules: "--name=value", or
 * "--name value" where every other "--name" without '=' (except --help) takes
 * the next word as its value. */
static int collect_scopes(int argc, char **argv, struct scope_list *l)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0' || strcmp(a, "--help") == 0)
            continue;
        const char *value = NULL;
        if (strncmp(a, "--scope=", 8) == 0)
            value = a + 8;
        else if (strchr(a, '='))
            continue;
        else if (i + 1 < argc && strcmp(a, "--scope") == 0)
            value = argv[++i];
        else if (i + 1 < argc)
            i++; /* the value of another option */
        if (value) {
            int rc = scope_list_add(l, value);
            if (rc != CLI_OK)
                return rc;
        }
    }
    return CLI_OK;
}

/* Load and verify the server secret. Without create, a database that never had
 * a secret needs none: *k stays NULL. */
static int load_secret(const struct cli *c, store *s, int create, secret_key **k)
{
    char err[1024] = "";
    const char *inline_b64 = config_str(c->cfg, CFG_AUTH_SECRET);
    const char *path = config_str(c->cfg, CFG_AUTH_SECRET_FILE);
    int has = secret_store_has_check(s);
    if (has < 0) {
        cli_error("cannot read ferry_settings: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    int rc = secret_setup(s, inline_b64, path, create, k, err, sizeof err);
    if (rc == ERR_NOTFOUND && !has && !create)
        return CLI_OK;
    if (rc == 0)
        return CLI_OK;
    cli_error("%s", err);
    return rc == ERR_IO || rc == ERR_INTERNAL || rc == ERR_STORE || rc == ERR_BUSY ? CLI_FAIL
                                                                                   : CLI_USAGE;
}

static int store_failure(store *s, int rc)
{
    cli_error("database error: %s (%s)", err_str(rc), store_errmsg(s));
    return CLI_FAIL;
}

static void print_key(const char *what, const char *id, const struct buf *key)
{
    printf("%s\nkey: %s\n", what, buf_cstr(key));
    printf("store this key now: it is shown only once and cannot be recovered "
           "(`ferry client rotate %s` makes a new one)\n",
           id);
}

static int do_add(store *s, const secret_key *k, const struct client_spec *spec)
{
    struct buf key;
    buf_init(&key, KEY_OUT_MAX);
    int rc = clients_add(s, k, spec, &key);
    if (rc == ERR_CONFLICT) {
        cli_error("client '%s' already exists and was left unchanged (`ferry client rotate %s` "
                  "gives it a new key)",
                  spec->id, spec->id);
        rc = CLI_FAIL;
    } else if (rc == ERR_INVAL) {
        cli_error("invalid client"); /* the fields were checked before: not expected */
        rc = CLI_USAGE;
    } else if (rc < 0) {
        rc = store_failure(s, rc);
    } else {
        char what[256];
        snprintf(what, sizeof what, "added client %s", spec->id);
        if (spec->key)
            printf("%s\n", what);
        else
            print_key(what, spec->id, &key);
        rc = CLI_OK;
    }
    if (key.data)
        OPENSSL_cleanse(key.data, key.cap);
    buf_free(&key);
    return rc;
}

static void join_scopes(const struct client *c, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->nscopes && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? "," : "", c->scopes[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static int do_list(store *s)
{
    struct client **v = NULL;
    size_t n = 0;
    char scopes[CLIENT_SCOPES_MAX * (CLIENT_SCOPE_MAX + 1) + 1];
    int rc = clients_list(s, &v, &n);
    if (rc < 0)
        return store_failure(s, rc);
    if (n == 0) {
        printf("no clients (add one with `ferry client add --id ID --scope SCOPE`)\n");
        return CLI_OK;
    }
    int wid = 2, wscopes = 6, wdesc = 11;
    for (size_t i = 0; i < n; i++) {
        join_scopes(v[i], scopes, sizeof scopes);
        int l = (int)strlen(v[i]->id);
        wid = l > wid ? l : wid;
        l = (int)strlen(scopes);
        wscopes = l > wscopes ? l : wscopes;
        l = (int)strlen(v[i]->description);
        wdesc = l > wdesc ? l : wdesc;
    }
    printf("%-*s  %-9s  %-*s  %-7s  %-*s  %s\n", wid, "ID", "ALGORITHM", wscopes, "SCOPES",
           "ENABLED", wdesc, "DESCRIPTION", "CREATED");
    for (size_t i = 0; i < n; i++) {
        join_scopes(v[i], scopes, sizeof scopes);
        printf("%-*s  %-9s  %-*s  %-7s  %-*s  %s\n", wid, v[i]->id,
               v[i]->alg == HAWK_SHA1 ? "sha1" : "sha256", wscopes, scopes,
               v[i]->enabled ? "yes" : "no", wdesc, v[i]->description, v[i]->created_at);
    }
    clients_list_free(v, n);
    return CLI_OK;
}

static int not_found(const char *id)
{
    cli_error("no client '%s' (see `ferry client list`)", id);
    return CLI_FAIL;
}

static int do_rotate(store *s, const secret_key *k, const char *id)
{
    struct buf key;
    buf_init(&key, KEY_OUT_MAX);
    int rc = clients_rotate(s, k, id, &key);
    if (rc == ERR_NOTFOUND) {
        rc = not_found(id);
    } else if (rc < 0) {
        rc = store_failure(s, rc);
    } else {
        char what[256];
        snprintf(what, sizeof what, "new key for client %s (the old one no longer works)", id);
        print_key(what, id, &key);
        rc = CLI_OK;
    }
    if (key.data)
        OPENSSL_cleanse(key.data, key.cap);
    buf_free(&key);
    return rc;
}

static int do_simple(store *s, const char *sub, const char *id)
{
    int rc;
    if (strcmp(sub, "remove") == 0)
        rc = clients_remove(s, id);
    else
        rc = clients_set_enabled(s, id, strcmp(sub, "enable") == 0);
    if (rc == ERR_NOTFOUND)
        return not_found(id);
    if (rc < 0)
        return store_failure(s, rc);
    printf("%s client %s\n",
           strcmp(sub, "remove") == 0   ? "removed"
           : strcmp(sub, "enable") == 0 ? "enabled"
                                        : "disabled",
           id);
    return CLI_OK;
}

/* Check add's options; fills spec. */
static int check_add(const char *id, const char *key, const char *desc, const char *alg,
                     const struct scope_list *scopes, struct client_spec *spec)
{
    if (!id) {
        cli_error("client add: missing required option --id (see --help)");
        return CLI_USAGE;
    }
    if (scopes->n == 0) {
        cli_error("client add: missing required option --scope (e.g. --scope datasets:read, or "
                  "--scope '*' for every scope)");
        return CLI_USAGE;
    }
    if (!client_id_valid(id, strlen(id))) {
        cli_error("--id: '%s' is not a client id: 1-%d of letters, digits and . _ : @ -", id,
                  CLIENT_ID_MAX);
        return CLI_USAGE;
    }
    if (key && !client_key_valid(key, strlen(key))) {
        cli_error("--key: expected 1-%d printable ASCII characters without spaces", CLIENT_KEY_MAX);
        return CLI_USAGE;
    }
    if (desc && !client_description_valid(desc, strlen(desc))) {
        cli_error("--description: at most %d bytes of UTF-8 text without control characters",
                  CLIENT_DESCRIPTION_MAX);
        return CLI_USAGE;
    }
    spec->alg = HAWK_SHA256;
    if (alg && strcmp(alg, "sha1") == 0) {
        spec->alg = HAWK_SHA1;
    } else if (alg && strcmp(alg, "sha256") != 0) {
        cli_error("--algorithm: expected sha256 or sha1, got '%s'", alg);
        return CLI_USAGE;
    }
    spec->id = id;
    spec->key = key;
    spec->description = desc;
    spec->scopes = scopes->items;
    spec->nscopes = scopes->n;
    return CLI_OK;
}

int cli_client(int argc, char **argv)
{
    const char *id = NULL, *key = NULL, *scope = NULL, *desc = NULL, *alg = NULL;
    const struct cli_opt opts[] = {
        {"--id", &id, NULL, "client id"},
        {"--key", &key, NULL, "client key"},
        {"--scope", &scope, NULL, "scope (repeatable)"},
        {"--description", &desc, NULL, "description"},
        {"--algorithm", &alg, NULL, "sha256 or sha1"},
    };
    struct scope_list scopes = {0};
    struct client_spec spec = {0};
    struct cli c;
    store *s = NULL;
    secret_key *k = NULL;
    int rc = cli_setup(argc, argv, opts, sizeof opts / sizeof opts[0], 2, client_usage, &c);
    if (rc < 0)
        return CLI_OK;
    if (rc != CLI_OK)
        return rc;
    const char *sub = c.nargs ? c.args[0] : NULL;
    if (!sub) {
        fputs(client_usage, stdout);
        rc = CLI_OK;
        goto out;
    }
    int is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0;
    int is_rotate = strcmp(sub, "rotate") == 0;
    if (!is_add && !is_list && !is_rotate && strcmp(sub, "remove") != 0 &&
        strcmp(sub, "disable") != 0 && strcmp(sub, "enable") != 0) {
        cli_error("unknown client command '%s' (add, list, remove, rotate, disable, enable)", sub);
        rc = CLI_USAGE;
        goto out;
    }
    rc = CLI_USAGE;
    if (!is_add && (key || scope || desc || alg)) {
        cli_error("client %s: --key, --scope, --description and --algorithm are for `client add`",
                  sub);
        goto out;
    }
    const char *target = c.nargs > 1 ? c.args[1] : id;
    if (is_add || is_list) {
        if (c.nargs > 1) {
            cli_error("client %s: unexpected argument '%s'%s", sub, c.args[1],
                      is_add ? " (give the id with --id)" : "");
            goto out;
        }
        if (is_list && id) {
            cli_error("client list: --id is not an option of list");
            goto out;
        }
    } else if (!target) {
        cli_error("client %s: missing the client id (ferry client %s ID)", sub, sub);
        goto out;
    } else if (c.nargs > 1 && id && strcmp(id, c.args[1]) != 0) {
        cli_error("client %s: two different ids given ('%s' and --id '%s')", sub, c.args[1], id);
        goto out;
    }
    if (is_add) {
        rc = collect_scopes(argc, argv, &scopes);
        if (rc == CLI_OK)
            rc = check_add(id, key, desc, alg, &scopes, &spec);
        if (rc != CLI_OK)
            goto out;
    }
    rc = cli_open_ready_store(&c, &s);
    if (rc != CLI_OK)
        goto out;
    rc = load_secret(&c, s, is_add || is_rotate, &k);
    if (rc != CLI_OK)
        goto out;
    if (is_add)
        rc = do_add(s, k, &spec);
    else if (is_list)
        rc = do_list(s);
    else if (is_rotate)
        rc = do_rotate(s, k, target);
    else
        rc = do_simple(s, sub, target);
out:
    secret_key_free(k);
    store_close(s);
    scope_list_free(&scopes);
    cli_free(&c);
    return rc;
}
