/*
 * demo: first contact. `ferry serve --demo` (what `make run` starts) makes sure
 * the database has a small demo dataset and a demo client, and once the server
 * listens prints a `ferry request` command that fetches the first page:
 *
 *   demo: try  ./build/ferry request 'http://127.0.0.1:8080/api/v1/datasets/demo/data?page_size=3'
 * \
 *              --client-id demo --client-key ...
 *
 * The dataset ("demo", DEMO_ROWS orders) is generated from a fixed seed into a
 * temporary CSV and loaded with the ordinary CSV ingest, so it exercises every
 * column type. The client ("demo", scope datasets:read) gets a generated key;
 * on later starts the key is read back (decrypted) to print the same command.
 * Nothing is created when a dataset or client named demo exists already.
 */
#include "cli/demo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/clients.h"
#include "core/err.h"
#include "core/log.h"
#include "ingest/catalog.h"
#include "ingest/ingest.h"

#define DEMO_NAME "demo"
#define DEMO_ROWS 5000

/* A small deterministic generator (xorshift64*): the demo is the same everywhere. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void write_row(FILE *f, int i, uint64_t *rng)
{
    static const char *const cities[] = {"Leeds",   "York",    "Bristol", "Glasgow",
                                         "Cardiff", "Belfast", "Norwich", "Exeter"};
    static const char *const notes[] = {"", "gift wrap", "leave at the door", "call first",
                                        "\"fragile, \"\"handle with care\"\"\""};
    uint64_t r = next_rand(rng);
    int day = (int)(r % 365), minute = (int)((r >> 9) % 1440);
    int month = 1, mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    while (day >= mdays[month - 1])
        day -= mdays[month - 1], month++;
    fprintf(f, "ORD-%05d,%s,%d.%02d,%d,%s,2026-%02d-%02d,2026-%02d-%02dT%02d:%02d:00Z,%s\n", i + 1,
            cities[(r >> 20) % 8], (int)((r >> 24) % 500), (int)((r >> 33) % 100),
            (int)((r >> 40) % 9) + 1, (r >> 45) % 4 ? "true" : "false", month, day + 1, month,
            day + 1, minute / 60, minute % 60, notes[(r >> 50) % 5]);
}

/* Generate the CSV into a temporary file; its path goes to path. */
static int write_demo_csv(char *path, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, len, "%s/ferry-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return ERR_IO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return ERR_IO;
    }
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    fputs("order_ref,city,amount,quantity,paid,ordered_on,ordered_at,note\n", f);
    for (int i = 0; i < DEMO_ROWS; i++)
        write_row(f, i, &rng);
    if (fclose(f) != 0) {
        unlink(path);
        return ERR_IO;
    }
    return 0;
}

static int load_demo_dataset(store *s)
{
    struct catalog_dataset *d = NULL;
    int rc = catalog_get(s, DEMO_NAME, &d);
    catalog_dataset_free(d);
    if (rc != ERR_NOTFOUND)
        return rc; /* there already (0), or an error */
    char path[512];
    if ((rc = write_demo_csv(path, sizeof path)) < 0)
        return rc;
    struct ingest_options o = {.source = "file", .file_name = "demo.csv"};
    struct ingest_result *res = calloc(1, sizeof *res);
    if (!res) {
        unlink(path);
        return ERR_NOMEM;
    }
    rc = ingest_file(s, path, DEMO_NAME, &o, res);
    if (rc == 0 && res->status != INGEST_LOADED)
        rc = ERR_INTERNAL;
    if (rc == 0)
        log_info("demo dataset loaded", LF_STR("dataset", DEMO_NAME), LF_INT("rows", res->rows));
    else
        log_error("cannot load the demo dataset", LF_STR("why", res->message));
    free(res);
    unlink(path);
    return rc;
}

/* The demo client's key into key (made now, or read back). */
static int demo_client_key(store *s, const secret_key *k, struct buf *key)
{
    struct client *c = NULL;
    int rc = clients_get(s, k, DEMO_NAME, strlen(DEMO_NAME), &c);
    if (rc == 0) {
        rc = buf_append(key, c->key, c->key_len);
        client_free(c);
        return rc;
    }
    if (rc != ERR_NOTFOUND)
        return rc;
    const char *scopes[] = {"datasets:read"};
    struct client_spec spec = {.id = DEMO_NAME,
                               .scopes = scopes,
                               .nscopes = 1,
                               .description = "made by ferry serve --demo"};
    return clients_add(s, k, &spec, key);
}

int demo_prepare(const struct cli *c, const secret_key *k, struct buf *key)
{
    store *s = NULL;
    int rc = cli_open_ready_store(c, &s);
    if (rc != CLI_OK)
        return rc;
    if (load_demo_dataset(s) < 0 || demo_client_key(s, k, key) < 0) {
        cli_error("cannot prepare the demo: %s", store_errmsg(s));
        rc = CLI_FAIL;
    }
    store_close(s);
    return rc;
}

void demo_print(const char *host, int port, const char *key)
{
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        host = "127.0.0.1";
    printf("\nferry is serving on http://%s:%d\n"
           "demo: fetch the first page of the demo dataset with\n\n"
           "  ./build/ferry request 'http://%s:%d/api/v1/datasets/demo/data?page_size=3' "
           "--client-id demo --client-key %s\n\n",
           host, port, host, port, key);
    fflush(stdout);
}
