/*
 * import: `ferry import FILE --dataset NAME [...]` loads a CSV file into a
 * dataset (ingest/ingest.h), and `ferry datasets list | show NAME` reads the
 * catalog.
 *
 * Progress: on a terminal, one status line redrawn in place on stderr (phase,
 * bar, bytes, rows/s, ETA); otherwise a plain line every 5 seconds, so logs of
 * a long import in CI or cron show it moving.
 *
 * Exit codes: 0 loaded or skipped (already loaded), 1 rejected (the file's
 * problems are printed) or failed, 2 usage, 3 database not ready.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "ingest/catalog.h"
#include "ingest/ingest.h"

static const char import_usage[] =
    "usage: ferry import FILE --dataset NAME [--mode append|upsert|replace] [--key COLS]\n"
    "                   [--primary-key COLS] [--types COL=TYPE,...] [--delimiter D]\n"
    "                   [--encoding utf-8|latin-1|cp1252] [--force]\n\n"
    "Load a CSV file (with a header row) into a dataset, all or nothing. A new\n"
    "dataset's column types are inferred from every value; loads into an existing\n"
    "dataset are validated against its types, and any problem rejects the file\n"
    "(the dataset is left as it was).\n\n"
    "  --dataset NAME        the dataset: a-z, 0-9, _ (created when new)\n"
    "  --mode MODE           append (default): add the rows; upsert: insert or update\n"
    "                        by the key; replace: a new generation of the table (the\n"
    "                        previous one is kept as a backup)\n"
    "  --key COLS            upsert: the key to match on (the dataset's primary key)\n"
    "  --primary-key COLS    key of a new dataset (or of a replace), e.g. id or a,b;\n"
    "                        without one, ferry adds a row id column \"id\"\n"
    "  --types COL=TYPE,...  types instead of inferred ones: boolean, integer, decimal,\n"
    "                        date, timestamp, timestamptz, text\n"
    "  --delimiter D         , ; tab | (default: sniffed from the file)\n"
    "  --encoding ENC        utf-8 (default, validated), latin-1, cp1252\n"
    "  --force               load a file even if it was loaded into the dataset before\n";

static const char datasets_usage[] =
    "usage: ferry datasets list\n"
    "       ferry datasets show NAME\n"
    "       ferry datasets publish NAME     (anyone may read it over the API, no credentials)\n"
    "       ferry datasets unpublish NAME\n\n"
    "  list   name, rows, columns, key, source and last update of every dataset\n"
    "  show   one dataset as JSON: columns (name, type, label), key, row count, times\n";

/* ---- progress ------------------------------------------------------------------------ */

struct progress_view {
    int tty;
    uint64_t start_us, last_line_us;
    int drew;
};

static const char *phase_name(enum ingest_phase p)
{
    switch (p) {
    case INGEST_PHASE_CHECK:
        return "checking";
    case INGEST_PHASE_LOAD:
        return "loading";
    case INGEST_PHASE_COMMIT:
        return "committing";
    }
    return "";
}

static void human_bytes(int64_t n, char *out, size_t len)
{
    if (n >= (int64_t)1 << 30)
        snprintf(out, len, "%.1f GB", (double)n / (1 << 30));
    else if (n >= 1 << 20)
        snprintf(out, len, "%.1f MB", (double)n / (1 << 20));
    else
        snprintf(out, len, "%.0f KB", (double)n / 1024);
}

static void show_progress(void *ctx, const struct ingest_progress *p)
{
    struct progress_view *v = ctx;
    uint64_t now = clock_mono_us();
    double secs = (double)(now - v->start_us) / 1e6;
    char done[32], total[32], eta[32] = "";
    human_bytes(p->bytes_done, done, sizeof done);
    human_bytes(p->bytes_total, total, sizeof total);
    double rate = secs > 0.2 ? (double)p->rows / secs : 0;
    if (p->percent > 2 && p->percent < 100)
        snprintf(eta, sizeof eta, " ETA %.0fs", secs * (100.0 - p->percent) / p->percent);
    if (v->tty) {
        char bar[31];
        int fill = p->percent * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-10s [%s] %3d%%  %s / %s  %.0f rows/s%s   ", phase_name(p->phase), bar,
                p->percent, done, total, rate, eta);
        v->drew = 1;
        return;
    }
    if (now - v->start_us < 5000000 || now - v->last_line_us < 5000000)
        return;
    v->last_line_us = now;
    fprintf(stderr, "import: %s %d%% (%s of %s, %lld rows)\n", phase_name(p->phase), p->percent,
            done, total, (long long)p->rows);
}

/* ---- ferry import ---------------------------------------------------------------------- */

static void print_problems(const struct ingest_result *res)
{
    if (res->nproblems == 0)
        return;
    fprintf(stderr, "%-8s %-24s %-24s %s\n", "line", "column", "value", "expected");
    for (size_t i = 0; i < res->nproblems; i++) {
        const struct ingest_problem *p = &res->problems[i];
        fprintf(stderr, "%-8lld %-24s %-24s %s\n", (long long)p->line, p->column, p->value,
                p->expected);
    }
    if (res->total_problems > (int64_t)res->nproblems)
        fprintf(stderr, "... and %lld more (%lld problems in all)\n",
                (long long)(res->total_problems - (int64_t)res->nproblems),
                (long long)res->total_problems);
}

/* The reader's limits and the load options from flags and config. */
static int import_options(const struct cli *c, const char *mode, const char *delim, const char *enc,
                          struct ingest_options *o)
{
    if (mode && ingest_mode_parse(mode, &o->mode) < 0) {
        cli_error("--mode must be append, upsert or replace, not “%s”", mode);
        return CLI_USAGE;
    }
    if (csvfile_delimiter_parse(delim, &o->csv.delimiter) < 0) {
        cli_error("--delimiter must be one of , ; tab |");
        return CLI_USAGE;
    }
    if (csvfile_encoding_parse(enc, &o->csv.encoding) < 0) {
        cli_error("--encoding must be utf-8, latin-1 or cp1252");
        return CLI_USAGE;
    }
    o->csv.max_field = (size_t)config_int(c->cfg, CFG_INGEST_MAX_FIELD_BYTES);
    o->csv.max_columns = (size_t)config_int(c->cfg, CFG_INGEST_MAX_COLUMNS);
    o->csv.max_record = (size_t)config_int(c->cfg, CFG_INGEST_MAX_LINE_BYTES);
    o->source = "file";
    o->owner = "cli";
    return CLI_OK;
}

int cli_import(int argc, char **argv)
{
    const char *dataset = NULL, *mode = NULL, *key = NULL, *pk = NULL, *types = NULL;
    const char *delim = NULL, *enc = NULL;
    int force = 0;
    struct cli_opt opts[] = {
        {"--dataset", &dataset, NULL, NULL}, {"--mode", &mode, NULL, NULL},
        {"--key", &key, NULL, NULL},         {"--primary-key", &pk, NULL, NULL},
        {"--types", &types, NULL, NULL},     {"--delimiter", &delim, NULL, NULL},
        {"--encoding", &enc, NULL, NULL},    {"--force", NULL, &force, NULL},
    };
    struct cli c;
    store *s = NULL;
    int rc = cli_setup(argc, argv, opts, sizeof opts / sizeof opts[0], 1, import_usage, &c);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (c.nargs != 1 || !dataset) {
        cli_error("import needs a FILE and --dataset NAME (see `ferry import --help`)");
        rc = CLI_USAGE;
        goto out;
    }
    struct ingest_options o = {.types = types, .primary_key = pk, .key = key, .force = force};
    if ((rc = import_options(&c, mode, delim, enc, &o)) != CLI_OK)
        goto out;
    if (!catalog_name_valid(dataset)) {
        cli_error("invalid dataset name “%s”: use a-z, 0-9 and _, starting with a letter (at most "
                  "%d characters, not starting with ferry_)",
                  dataset, CATALOG_NAME_MAX);
        rc = CLI_USAGE;
        goto out;
    }
    if ((rc = cli_open_ready_store(&c, &s)) != CLI_OK)
        goto out;
    struct progress_view view = {.tty = isatty(STDERR_FILENO), .start_us = clock_mono_us()};
    o.progress = show_progress;
    o.progress_ctx = &view;
    struct ingest_result *res = malloc(sizeof *res);
    if (!res)
        abort();
    int irc = ingest_file(s, c.args[0], dataset, &o, res);
    if (view.drew)
        fputc('\n', stderr);
    double secs = (double)(clock_mono_us() - view.start_us) / 1e6;
    switch (res->status) {
    case INGEST_LOADED:
        printf("%s in %.2fs (%.0f rows/s)\n", res->message, secs,
               secs > 0 ? (double)res->rows / secs : 0.0);
        rc = CLI_OK;
        break;
    case INGEST_SKIPPED:
        printf("%s\n", res->message);
        rc = CLI_OK;
        break;
    case INGEST_REJECTED:
        cli_error("rejected %s: %s", c.args[0], res->message);
        print_problems(res);
        fprintf(stderr, "nothing was loaded; dataset %s is unchanged\n", dataset);
        rc = CLI_FAIL;
        break;
    default:
        cli_error("import failed: %s (%s)", res->message, err_str(irc));
        rc = CLI_FAIL;
    }
    free(res);
out:
    store_close(s);
    cli_free(&c);
    return rc;
}

/* ---- ferry datasets -------------------------------------------------------------------- */

static int datasets_list(store *s)
{
    struct catalog_dataset **list = NULL;
    size_t n = 0;
    if (catalog_list(s, &list, &n) < 0) {
        cli_error("cannot read the catalog: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    if (n == 0)
        printf("no datasets yet: `ferry import FILE --dataset NAME` makes one\n");
    else
        printf("%-28s %12s %8s  %-16s %-8s %s\n", "name", "rows", "columns", "key", "source",
               "updated");
    for (size_t i = 0; i < n; i++) {
        const struct catalog_dataset *d = list[i];
        printf("%-28s %12lld %8zu  ", d->name, (long long)d->row_count, d->ncols);
        struct buf k;
        buf_init(&k, 256);
        for (size_t j = 0; j < d->nkey; j++)
            buf_printf(&k, "%s%s", j ? "," : "", d->key[j]);
        printf("%-16s %-8s %s\n", buf_cstr(&k), d->source ? d->source : "-", d->updated_at);
        buf_free(&k);
    }
    catalog_list_free(list, n);
    return CLI_OK;
}

static int datasets_show(store *s, const char *name)
{
    struct catalog_dataset *d = NULL;
    int rc = catalog_get(s, name, &d);
    if (rc == ERR_NOTFOUND) {
        cli_error("no dataset %s (see `ferry datasets list`)", name);
        return CLI_FAIL;
    }
    if (rc < 0) {
        cli_error("cannot read the catalog: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    struct buf out;
    struct json_writer w;
    buf_init(&out, 16u << 20);
    json_init(&w, &out);
    catalog_write_json(d, &w);
    if (json_finish(&w) == 0)
        printf("%s\n", buf_cstr(&out));
    buf_free(&out);
    catalog_dataset_free(d);
    return CLI_OK;
}

static int datasets_publish(store *s, const char *name, int on)
{
    int rc = catalog_set_public(s, name, on);
    if (rc == ERR_NOTFOUND) {
        cli_error("no dataset %s (see `ferry datasets list`)", name);
        return CLI_FAIL;
    }
    if (rc < 0) {
        cli_error("cannot update the catalog: %s", store_errmsg(s));
        return CLI_FAIL;
    }
    printf("%s is now %s\n", name, on ? "public" : "private");
    return CLI_OK;
}

int cli_datasets(int argc, char **argv)
{
    struct cli c;
    store *s = NULL;
    int rc = cli_setup(argc, argv, NULL, 0, 2, datasets_usage, &c);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    const char *sub = c.nargs ? c.args[0] : NULL;
    int list = sub && strcmp(sub, "list") == 0 && c.nargs == 1;
    int show = sub && strcmp(sub, "show") == 0 && c.nargs == 2;
    int publish = sub && strcmp(sub, "publish") == 0 && c.nargs == 2;
    int unpublish = sub && strcmp(sub, "unpublish") == 0 && c.nargs == 2;
    if (!list && !show && !publish && !unpublish) {
        fputs(datasets_usage, stderr);
        rc = CLI_USAGE;
        goto out;
    }
    if ((rc = cli_open_ready_store(&c, &s)) != CLI_OK)
        goto out;
    if (list)
        rc = datasets_list(s);
    else if (show)
        rc = datasets_show(s, c.args[1]);
    else
        rc = datasets_publish(s, c.args[1], publish);
out:
    store_close(s);
    cli_free(&c);
    return rc;
}
