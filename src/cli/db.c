/*
 * db: `ferry db init | migrate | status` — the schema's life cycle from the
 * command line. init creates the database when missing; migrate refuses to (so a
 * typo in the URL is not silently a new, empty database); status only reads.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "store/migrate.h"

static const char db_usage[] =
    "usage: ferry db init | migrate | status [OPTIONS]\n\n"
    "  init       create the database if needed and apply every migration\n"
    "  migrate    apply pending migrations to an existing database\n"
    "  status     show the schema version and pending migrations\n"
    "             (exit 0 when up to date, 3 when migrations are pending)\n";

static void print_applied(const struct migration *m, void *ctx)
{
    (void)ctx;
    printf("applied %04d_%s\n", m->version, m->name);
    fflush(stdout);
}

/* Apply pending migrations and report. */
static int apply(const struct cli *c, store *s)
{
    int applied = 0;
    int rc = migrate_apply(s, &applied, print_applied, NULL);
    if (rc == ERR_CONFLICT) {
        cli_error("database %s has a newer schema than this ferry knows; upgrade ferry",
                  cli_database_display(c));
        return CLI_NOT_READY;
    }
    if (rc < 0) {
        cli_error("migration failed: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    struct migrate_status st;
    if (migrate_get_status(s, &st) < 0) {
        cli_error("cannot read the schema version: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    printf("%s at schema version %d%s\n", cli_database_display(c), st.current,
           applied ? "" : " (already up to date)");
    return CLI_OK;
}

static void print_pending(store *s, const struct migrate_status *st)
{
    size_t n;
    const struct migration *all = migrate_list(store_backend(s), &n);
    printf("pending: ");
    if (st->pending == 0) {
        printf("none\n");
        return;
    }
    int first = 1;
    for (size_t i = 0; i < n; i++)
        if (all[i].version > st->current) {
            printf("%s%04d_%s", first ? "" : ", ", all[i].version, all[i].name);
            first = 0;
        }
    printf("\n");
}

static int status(const struct cli *c, store *s)
{
    struct migrate_status st;
    if (migrate_get_status(s, &st) < 0) {
        cli_error("cannot read the schema version: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    printf("database: %s\n", cli_database_display(c));
    printf("backend: %s\n", store_backend_name(s));
    printf("schema version: %d (latest %d)\n", st.current, st.latest);
    print_pending(s, &st);
    if (st.unknown) {
        printf("unknown: %d applied migration(s) this ferry does not know; upgrade ferry\n",
               st.unknown);
        return CLI_NOT_READY;
    }
    return st.pending ? CLI_NOT_READY : CLI_OK;
}

int cli_db(int argc, char **argv)
{
    struct cli c;
    store *s = NULL;
    int rc = cli_setup(argc, argv, NULL, 0, 1, db_usage, &c);
    if (rc < 0)
        return CLI_OK;
    if (rc != CLI_OK)
        return rc;
    const char *sub = c.nargs ? c.args[0] : NULL;
    if (!sub) {
        fputs(db_usage, stdout);
        rc = CLI_OK;
        goto out;
    }
    int is_init = strcmp(sub, "init") == 0;
    if (!is_init && strcmp(sub, "migrate") != 0 && strcmp(sub, "status") != 0) {
        cli_error("unknown db command '%s' (init, migrate, status)", sub);
        rc = CLI_USAGE;
        goto out;
    }
    rc = cli_open_store(&c, is_init, &s);
    if (rc != CLI_OK) {
        if (rc == CLI_NOT_READY)
            cli_hint_missing_database(&c, "run `ferry db init` to create it");
        goto out;
    }
    rc = strcmp(sub, "status") == 0 ? status(&c, s) : apply(&c, s);
out:
    store_close(s);
    cli_free(&c);
    return rc;
}
