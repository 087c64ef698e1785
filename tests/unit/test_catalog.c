/*
 * The ingest bookkeeping against a fresh SQLite database per test: the catalog
 * (names, save/get round trip, list order, JSON), the datafile registry (insert,
 * claim races, leases, release, finish, "already loaded"), and the raw file
 * store (commit by sha256, abort removes, the same bytes stored once). The
 * same code runs on PostgreSQL in the e2e suite (tests/e2e/import.test.mjs,
 * uploads.test.mjs).
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "ingest/catalog.h"
#include "ingest/datafiles.h"
#include "ingest/rawstore.h"
#include "store/migrate.h"
#include "store/store.h"

static char t_dir[PATH_MAX];
static store *t_db;

static void setup(void)
{
    snprintf(t_dir, sizeof t_dir, "/tmp/ferry-catalog-test-XXXXXX");
    cr_assert_not_null(mkdtemp(t_dir));
    char url[PATH_MAX + 32], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s/c.db", t_dir);
    struct store_options opt = {.create = 1};
    cr_assert_eq(store_open(url, &opt, &t_db, err, sizeof err), 0, "%s", err);
    cr_assert_eq(migrate_apply(t_db, NULL, NULL, NULL), 0, "%s", store_errmsg(t_db));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    store_close(t_db);
    t_db = NULL;
    nftw(t_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(catalog, .init = setup, .fini = teardown);
TestSuite(datafiles, .init = setup, .fini = teardown);
TestSuite(rawstore, .init = setup, .fini = teardown);

/* ---- catalog ------------------------------------------------------------------------ */

Test(catalog, dataset_names)
{
    const char *good[] = {"a", "people", "sales_2024", "x1_y2",
                          "abcdefghijabcdefghijabcdefghijabcdefghij12"};
    const char *bad[] = {"",
                         "People",
                         "1abc",
                         "_a",
                         "a-b",
                         "a b",
                         "a.b",
                         "ferry_x",
                         "ferry_datasets",
                         "é",
                         "a\"b",
                         NULL,
                         "abcdefghijabcdefghijabcdefghijabcdefghij123"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(catalog_name_valid(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!catalog_name_valid(bad[i]), "%s", bad[i] ? bad[i] : "(null)");
}

static struct catalog_dataset *sample(void)
{
    static struct catalog_column cols[] = {
        {.name = "id", .label = "id", .type = COLTYPE_INTEGER, .generated = 1},
        {.name = "full_name", .label = "Full \"Name\"", .type = COLTYPE_TEXT, .nullable = 1},
        {.name = "born", .label = "Born", .type = COLTYPE_DATE, .nullable = 1},
    };
    static char *key[] = {"id"};
    static struct catalog_dataset d = {.name = "people",
                                       .schema = "main",
                                       .kind = "table",
                                       .cols = cols,
                                       .ncols = 3,
                                       .key = key,
                                       .nkey = 1,
                                       .source = "file",
                                       .row_count = 42};
    return &d;
}

Test(catalog, save_and_get_round_trip)
{
    cr_assert_eq(catalog_save(t_db, sample()), 0, "%s", store_errmsg(t_db));
    struct catalog_dataset *d = NULL;
    cr_assert_eq(catalog_get(t_db, "people", &d), 0);
    cr_assert_str_eq(d->name, "people");
    cr_assert_str_eq(d->kind, "table");
    cr_assert_eq(d->ncols, 3);
    cr_assert_str_eq(d->cols[1].name, "full_name");
    cr_assert_str_eq(d->cols[1].label, "Full \"Name\"");
    cr_assert_eq(d->cols[2].type, COLTYPE_DATE);
    cr_assert(d->cols[0].generated && !d->cols[0].nullable);
    cr_assert(d->cols[1].nullable && !d->cols[1].generated);
    cr_assert_eq(d->nkey, 1);
    cr_assert_str_eq(d->key[0], "id");
    cr_assert_eq(d->row_count, 42);
    cr_assert_str_eq(d->source, "file");
    cr_assert_not_null(catalog_column_find(d, "born"));
    cr_assert_null(catalog_column_find(d, "nope"));
    char created[64];
    snprintf(created, sizeof created, "%s", d->created_at);
    catalog_dataset_free(d);

    /* Saving again replaces what is recorded but keeps created_at. */
    usleep(2000);
    struct catalog_dataset changed = *sample();
    changed.row_count = 7;
    changed.ncols = 2;
    cr_assert_eq(catalog_save(t_db, &changed), 0);
    cr_assert_eq(catalog_set_row_count(t_db, "people", 9), 0);
    cr_assert_eq(catalog_get(t_db, "people", &d), 0);
    cr_assert_eq(d->ncols, 2);
    cr_assert_eq(d->row_count, 9);
    cr_assert_str_eq(d->created_at, created);
    cr_assert_str_neq(d->updated_at, created);
    catalog_dataset_free(d);

    cr_assert_eq(catalog_get(t_db, "nobody", &d), ERR_NOTFOUND);
    cr_assert_null(d);
}

Test(catalog, list_is_ordered_by_name)
{
    struct catalog_dataset d = *sample();
    const char *names[] = {"zeta", "alpha", "mid"};
    for (size_t i = 0; i < 3; i++) {
        d.name = (char *)names[i];
        cr_assert_eq(catalog_save(t_db, &d), 0);
    }
    struct catalog_dataset **list = NULL;
    size_t n = 0;
    cr_assert_eq(catalog_list(t_db, &list, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(list[0]->name, "alpha");
    cr_assert_str_eq(list[1]->name, "mid");
    cr_assert_str_eq(list[2]->name, "zeta");
    catalog_list_free(list, n);
}

Test(catalog, damaged_columns_are_an_error_not_trusted)
{
    cr_assert_eq(catalog_save(t_db, sample()), 0);
    cr_assert_eq(store_exec(t_db, "UPDATE ferry_datasets SET columns = "
                                  "'[{\"name\": \"x\", \"type\": \"money\"}]'"),
                 0);
    struct catalog_dataset *d = NULL;
    cr_assert_eq(catalog_get(t_db, "people", &d), ERR_STORE);
    cr_assert_null(d);
}

Test(catalog, json_has_the_documented_fields)
{
    cr_assert_eq(catalog_save(t_db, sample()), 0);
    struct catalog_dataset *d = NULL;
    cr_assert_eq(catalog_get(t_db, "people", &d), 0);
    struct buf b;
    struct json_writer w;
    buf_init(&b, 1 << 16);
    json_init(&w, &b);
    catalog_write_json(d, &w);
    cr_assert_eq(json_finish(&w), 0);
    const char *want[] = {
        "\"name\":\"people\"",
        "\"kind\":\"table\"",
        "{\"name\":\"full_name\",\"type\":\"text\",\"label\":\"Full \\\"Name\\\"\","
        "\"nullable\":true,\"generated\":false}",
        "\"key\":[\"id\"]",
        "\"row_count\":42",
        "\"public\":false"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_not_null(strstr(buf_cstr(&b), want[i]), "%s not in %s", want[i], buf_cstr(&b));
    buf_free(&b);
    catalog_dataset_free(d);
}

/* ---- datafiles ---------------------------------------------------------------------- */

static const char SHA[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static int64_t add_upload(const char *dataset, const char *state)
{
    struct datafile_new n = {.dataset = dataset,
                             .name = "f.csv",
                             .sha256 = SHA,
                             .source = "upload",
                             .mode = "append",
                             .options = "{\"force\":false}",
                             .state = state,
                             .size = 10,
                             .lease_owner = "me",
                             .lease_ms = 60000};
    int64_t id = 0;
    cr_assert_eq(datafiles_insert(t_db, &n, &id), 0, "%s", store_errmsg(t_db));
    cr_assert_gt(id, 0);
    return id;
}

Test(datafiles, claim_takes_each_upload_once_in_order)
{
    int64_t a = add_upload("ds", "received"), b = add_upload("ds", "received");
    int64_t got = 0;
    cr_assert_eq(datafiles_claim(t_db, "w1", 60000, &got), 1);
    cr_assert_eq(got, a);
    cr_assert_eq(datafiles_claim(t_db, "w2", 60000, &got), 1);
    cr_assert_eq(got, b);
    cr_assert_eq(datafiles_claim(t_db, "w3", 60000, &got), 0, "nothing left");
    cr_assert_eq(datafiles_claim_id(t_db, a, "w4", 60000), 0, "already claimed");
}

Test(datafiles, an_expired_lease_is_claimed_again_and_release_requeues)
{
    int64_t a = add_upload("ds", "received"), got = 0;
    cr_assert_eq(datafiles_claim(t_db, "dead", -1000, &got), 1); /* lease already over */
    cr_assert_eq(datafiles_claim(t_db, "alive", 60000, &got), 1);
    cr_assert_eq(got, a);
    /* Only the lease's owner records progress. */
    cr_assert_eq(datafiles_progress(t_db, a, "dead", 50, "stale", 60000), 0);
    cr_assert_eq(datafiles_progress(t_db, a, "alive", 40, "mine", 60000), 0);
    struct datafile *p = NULL;
    cr_assert_eq(datafiles_get(t_db, a, &p), 0);
    cr_assert_eq(p->progress, 40);
    cr_assert_str_eq(p->info, "mine");
    datafile_free(p);
    /* Only the lease's owner ends the load or puts it back. */
    cr_assert_eq(datafiles_finish(t_db, a, "dead", "failed", -1, "x", "x", NULL), 0);
    cr_assert_eq(datafiles_release(t_db, a, "dead"), 0);
    cr_assert_eq(datafiles_get(t_db, a, &p), 0);
    cr_assert_str_eq(p->state, "loading");
    datafile_free(p);
    cr_assert_eq(datafiles_release(t_db, a, "alive"), 1);
    cr_assert_eq(datafiles_release(t_db, a, "alive"), 0, "not loading any more");
    struct datafile *d = NULL;
    cr_assert_eq(datafiles_get(t_db, a, &d), 0);
    cr_assert_str_eq(d->state, "received");
    datafile_free(d);
    cr_assert_eq(datafiles_claim_id(t_db, a, "w", 60000), 1);
}

Test(datafiles, cli_imports_are_never_claimed_but_abandoned_ones_fail)
{
    struct datafile_new n = {.dataset = "ds",
                             .name = "f.csv",
                             .sha256 = SHA,
                             .source = "file",
                             .mode = "append",
                             .state = "loading",
                             .size = 1,
                             .lease_owner = "cli",
                             .lease_ms = -1000};
    int64_t id = 0, got = 0, failed = 0;
    cr_assert_eq(datafiles_insert(t_db, &n, &id), 0);
    cr_assert_eq(datafiles_claim(t_db, "w", 60000, &got), 0);
    cr_assert_eq(datafiles_fail_abandoned(t_db, &failed), 0);
    cr_assert_eq(failed, 1);
    struct datafile *d = NULL;
    cr_assert_eq(datafiles_get(t_db, id, &d), 0);
    cr_assert_str_eq(d->state, "failed");
    cr_assert_not_null(strstr(d->error, "interrupted"));
    datafile_free(d);
}

Test(datafiles, finish_records_the_outcome_and_loaded_files_are_found)
{
    int64_t a = add_upload("ds", "loading"), b = add_upload("ds", "loading"), prior = 0;
    cr_assert_eq(datafiles_find_loaded(t_db, "ds", SHA, 0, &prior), 0);
    cr_assert_eq(datafiles_finish(t_db, a, NULL, "loaded", 3, "loaded 3 rows", NULL, NULL), 0);
    cr_assert_eq(datafiles_find_loaded(t_db, "ds", SHA, b, &prior), 1);
    cr_assert_eq(prior, a);
    cr_assert_eq(datafiles_find_loaded(t_db, "ds", SHA, a, &prior), 0, "itself excluded");
    cr_assert_eq(datafiles_find_loaded(t_db, "other", SHA, 0, &prior), 0, "per dataset");
    cr_assert_eq(
        datafiles_finish(t_db, b, NULL, "rejected", -1, "bad", "bad", "{\"total\":1,\"items\":[]}"),
        0);
    struct datafile *d = NULL;
    cr_assert_eq(datafiles_get(t_db, b, &d), 0);
    cr_assert_str_eq(d->state, "rejected");
    cr_assert_eq(d->rows, -1);
    cr_assert_eq(d->progress, 100);
    cr_assert_not_null(d->finished_at);
    struct buf out;
    struct json_writer w;
    buf_init(&out, 1 << 16);
    json_init(&w, &out);
    datafile_write_json(d, &w);
    cr_assert_eq(json_finish(&w), 0);
    cr_assert_not_null(strstr(buf_cstr(&out), "\"progress\":\"100\""));
    cr_assert_not_null(strstr(buf_cstr(&out), "\"rows\":null"));
    cr_assert_not_null(strstr(buf_cstr(&out), "\"errors\":{\"total\":1,\"items\":[]}"));
    buf_free(&out);
    datafile_free(d);
    cr_assert_eq(datafiles_get(t_db, 999, &d), ERR_NOTFOUND);
}

/* ---- rawstore ----------------------------------------------------------------------- */

Test(rawstore, a_file_is_named_by_its_sha256_and_stored_once)
{
    char dir[PATH_MAX + 16], err[256], sha[65], path[RAWSTORE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/files", t_dir);
    cr_assert_eq(rawstore_prepare(dir, err, sizeof err), 0, "%s", err);
    for (int round = 0; round < 2; round++) {
        rawstore_writer *w = NULL;
        cr_assert_eq(rawstore_writer_begin(dir, &w), 0);
        cr_assert_eq(rawstore_writer_write(w, "a,b\n", 4), 0);
        cr_assert_eq(rawstore_writer_write(w, "1,2\n", 4), 0);
        cr_assert_eq(rawstore_writer_size(w), 8);
        cr_assert_eq(rawstore_writer_commit(w, sha), 0);
        cr_assert_str_eq(
            sha,
            "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470"); /* sha256 of the
                                                                                    bytes */
    }
    cr_assert_eq(rawstore_path(dir, sha, path, sizeof path), 0);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char got[16] = "";
    cr_assert_eq(fread(got, 1, sizeof got, f), 8);
    fclose(f);
    cr_assert_eq(memcmp(got, "a,b\n1,2\n", 8), 0);
    /* Nothing is left behind in tmp/. */
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    cr_assert_eq(rmdir(tmp), 0, "tmp/ is empty");
}

Test(rawstore, abort_removes_the_temporary_file)
{
    char dir[PATH_MAX + 16], err[256], tmp[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/files", t_dir);
    cr_assert_eq(rawstore_prepare(dir, err, sizeof err), 0, "%s", err);
    rawstore_writer *w = NULL;
    cr_assert_eq(rawstore_writer_begin(dir, &w), 0);
    cr_assert_eq(rawstore_writer_write(w, "x", 1), 0);
    rawstore_writer_abort(w);
    rawstore_writer_abort(NULL);
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    cr_assert_eq(rmdir(tmp), 0, "tmp/ is empty");
}

Test(rawstore, paths_take_only_real_sha256_names)
{
    char path[RAWSTORE_PATH_MAX];
    cr_assert_eq(rawstore_path("/d", "../../etc/passwd", path, sizeof path), ERR_INVAL);
    cr_assert_eq(rawstore_path("/d", SHA, path, sizeof path), 0);
    cr_assert_str_eq(path, "/d/"
                           "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    char upper[65];
    snprintf(upper, sizeof upper, "%s", SHA);
    upper[10] = 'A';
    cr_assert_eq(rawstore_path("/d", upper, path, sizeof path), ERR_INVAL);
    cr_assert_eq(rawstore_path("/d", SHA, path, 20), ERR_TOOBIG);
}
