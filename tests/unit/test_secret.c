/*
 * secret: sealing round trips and every way a sealed value must fail to open;
 * loading the secret inline and from a file (created 0600, reused, refused when
 * group-readable or malformed); the database's check value on first start and
 * on a mismatch; derived keys (known vectors, and what they depend on). Each
 * test has its own directory and SQLite database.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/secret.h"
#include "core/err.h"
#include "store/migrate.h"
#include "store/store.h"

static char s_dir[PATH_MAX];
static store *s_db;

/* base64 of 32 zero bytes, and of 32 bytes of 0x01. */
#define ZERO_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ONES_B64 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

static void sec_init(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/ferry-secret-test-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
    char url[PATH_MAX + 32], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s/s.db", s_dir);
    struct store_options opt = {.create = 1};
    cr_assert_eq(store_open(url, &opt, &s_db, err, sizeof err), 0, "%s", err);
    int rc = migrate_apply(s_db, NULL, NULL, NULL);
    cr_assert_eq(rc, 0, "%s: %s", err_name(rc), store_errmsg(s_db));
}

static int sec_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void sec_fini(void)
{
    store_close(s_db);
    s_db = NULL;
    nftw(s_dir, sec_rm, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(secret, .init = sec_init, .fini = sec_fini);

static secret_key *key_of(unsigned char fill)
{
    unsigned char raw[SECRET_KEY_BYTES];
    secret_key *k = NULL;
    memset(raw, fill, sizeof raw);
    cr_assert_eq(secret_key_from_bytes(raw, sizeof raw, "test", &k), 0);
    return k;
}

static void path_in_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

/* Seal with a, open with b: the opened text must equal the plaintext. */
static void assert_same_key(const secret_key *a, const secret_key *b)
{
    struct buf sealed, plain;
    buf_init(&sealed, 1024);
    buf_init(&plain, 1024);
    cr_assert_eq(secret_seal(a, "probe", 5, "aad", &sealed), 0);
    cr_assert_eq(secret_open(b, sealed.data, sealed.len, "aad", &plain), 0);
    cr_assert_str_eq(buf_cstr(&plain), "probe");
    buf_free(&sealed);
    buf_free(&plain);
}

Test(secret, seal_open_round_trip)
{
    secret_key *k = key_of(7);
    struct buf sealed, plain;
    buf_init(&sealed, 1024);
    buf_init(&plain, 1024);
    const char *msg = "the client key";
    cr_assert_eq(secret_seal(k, msg, strlen(msg), "client:c1", &sealed), 0);
    cr_assert_eq(sealed.len, strlen(msg) + SECRET_OVERHEAD);
    cr_assert_eq((unsigned char)sealed.data[0], SECRET_VERSION);
    cr_assert_null(memmem(sealed.data, sealed.len, msg, strlen(msg)), "plaintext visible");
    cr_assert_eq(secret_open(k, sealed.data, sealed.len, "client:c1", &plain), 0);
    cr_assert_eq(plain.len, strlen(msg));
    cr_assert_str_eq(buf_cstr(&plain), msg);
    buf_free(&sealed);
    buf_free(&plain);
    secret_key_free(k);
}

Test(secret, seal_empty_and_null_aad)
{
    secret_key *k = key_of(7);
    struct buf sealed, plain;
    buf_init(&sealed, 1024);
    buf_init(&plain, 1024);
    cr_assert_eq(secret_seal(k, "", 0, NULL, &sealed), 0);
    cr_assert_eq(sealed.len, SECRET_OVERHEAD);
    cr_assert_eq(secret_open(k, sealed.data, sealed.len, "", &plain), 0, "NULL aad is \"\"");
    cr_assert_eq(plain.len, 0);
    buf_free(&sealed);
    buf_free(&plain);
    secret_key_free(k);
}

Test(secret, nonces_differ)
{
    secret_key *k = key_of(7);
    struct buf a, b;
    buf_init(&a, 1024);
    buf_init(&b, 1024);
    cr_assert_eq(secret_seal(k, "same", 4, "x", &a), 0);
    cr_assert_eq(secret_seal(k, "same", 4, "x", &b), 0);
    cr_assert_neq(memcmp(a.data, b.data, a.len), 0);
    buf_free(&a);
    buf_free(&b);
    secret_key_free(k);
}

Test(secret, tampered_bytes_do_not_open)
{
    secret_key *k = key_of(7);
    struct buf sealed, plain;
    buf_init(&sealed, 1024);
    buf_init(&plain, 1024);
    cr_assert_eq(secret_seal(k, "secret key", 10, "client:c1", &sealed), 0);
    for (size_t i = 0; i < sealed.len; i++) {
        sealed.data[i] ^= 0x01;
        int rc = secret_open(k, sealed.data, sealed.len, "client:c1", &plain);
        cr_assert_eq(rc, i == 0 ? ERR_INVAL : ERR_FORBIDDEN, "byte %zu: %s", i, err_name(rc));
        cr_assert_eq(plain.len, 0, "out unchanged on failure");
        sealed.data[i] ^= 0x01;
    }
    cr_assert_eq(secret_open(k, sealed.data, sealed.len - 1, "client:c1", &plain), ERR_FORBIDDEN);
    cr_assert_eq(secret_open(k, sealed.data, SECRET_OVERHEAD - 1, "client:c1", &plain), ERR_INVAL);
    cr_assert_eq(secret_open(k, sealed.data, sealed.len, "client:c1", &plain), 0);
    buf_free(&sealed);
    buf_free(&plain);
    secret_key_free(k);
}

Test(secret, wrong_aad_does_not_open)
{
    secret_key *k = key_of(7);
    struct buf sealed, plain;
    buf_init(&sealed, 1024);
    buf_init(&plain, 1024);
    cr_assert_eq(secret_seal(k, "key", 3, "client:c1", &sealed), 0);
    cr_assert_eq(secret_open(k, sealed.data, sealed.len, "client:c2", &plain), ERR_FORBIDDEN);
    cr_assert_eq(secret_open(k, sealed.data, sealed.len, NULL, &plain), ERR_FORBIDDEN);
    buf_free(&sealed);
    buf_free(&plain);
    secret_key_free(k);
}

Test(secret, wrong_key_does_not_open)
{
    secret_key *k = key_of(7), *other = key_of(8);
    struct buf sealed, plain;
    buf_init(&sealed, 1024);
    buf_init(&plain, 1024);
    cr_assert_eq(secret_seal(k, "key", 3, "a", &sealed), 0);
    cr_assert_eq(secret_open(other, sealed.data, sealed.len, "a", &plain), ERR_FORBIDDEN);
    buf_free(&sealed);
    buf_free(&plain);
    secret_key_free(k);
    secret_key_free(other);
}

Test(secret, out_limit_is_toobig)
{
    secret_key *k = key_of(7);
    struct buf small;
    buf_init(&small, SECRET_OVERHEAD + 2);
    cr_assert_eq(secret_seal(k, "abc", 3, "a", &small), ERR_TOOBIG);
    cr_assert_eq(small.len, 0);
    buf_free(&small);
    secret_key_free(k);
}

Test(secret, key_from_bytes_needs_32)
{
    secret_key *k = (secret_key *)1;
    cr_assert_eq(secret_key_from_bytes("short", 5, NULL, &k), ERR_INVAL);
    cr_assert_null(k);
    secret_key_free(NULL);
}

/* Derived keys: HMAC-SHA256(secret, label). The vectors were computed with
 * `printf 'LABEL' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f`. */
static void derive_hex(const secret_key *k, const char *label,
                       char hex[2 * SECRET_DERIVED_BYTES + 1])
{
    unsigned char out[SECRET_DERIVED_BYTES];
    secret_derive(k, label, out);
    for (size_t i = 0; i < sizeof out; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

Test(secret, derive_known_vectors)
{
    unsigned char raw[SECRET_KEY_BYTES];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)i;
    secret_key *k = NULL;
    cr_assert_eq(secret_key_from_bytes(raw, sizeof raw, "test", &k), 0);
    char hex[2 * SECRET_DERIVED_BYTES + 1];
    derive_hex(k, "ferry cursor v1", hex);
    cr_assert_str_eq(hex, "5aca9dcbfb035645fd6128e9473e2d457b248fdc506595924cd93812c4f0f1e7");
    derive_hex(k, "", hex);
    cr_assert_str_eq(hex, "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb");
    secret_key_free(k);
}

Test(secret, derive_depends_on_secret_and_label)
{
    secret_key *a = key_of(7), *a2 = key_of(7), *b = key_of(8);
    char x[2 * SECRET_DERIVED_BYTES + 1], y[2 * SECRET_DERIVED_BYTES + 1];
    derive_hex(a, "ferry cursor v1", x);
    derive_hex(a2, "ferry cursor v1", y);
    cr_assert_str_eq(x, y, "same secret and label, same key");
    derive_hex(a, "ferry cursor v2", y);
    cr_assert_str_neq(x, y, "another label");
    derive_hex(b, "ferry cursor v1", y);
    cr_assert_str_neq(x, y, "another secret");
    derive_hex(a, "ferry cursor v1 ", y);
    cr_assert_str_neq(x, y, "a label is not a prefix of another");
    secret_key_free(a);
    secret_key_free(a2);
    secret_key_free(b);
}

Test(secret, key_file_created_0600_and_reused)
{
    char path[PATH_MAX + 64], err[512] = "";
    path_in_dir(path, sizeof path, "data/sub/secret.key");
    secret_key *a = NULL, *b = NULL;
    cr_assert_eq(secret_key_load("", path, 1, &a, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    cr_assert_eq(st.st_size, 45, "base64 of 32 bytes and a newline");
    cr_assert_str_eq(secret_key_source(a), path);
    /* Loaded again (with or without create): the same key, the file unchanged. */
    cr_assert_eq(secret_key_load(NULL, path, 1, &b, err, sizeof err), 0, "%s", err);
    assert_same_key(a, b);
    secret_key_free(b);
    cr_assert_eq(secret_key_load(NULL, path, 0, &b, err, sizeof err), 0, "%s", err);
    assert_same_key(b, a);
    secret_key_free(a);
    secret_key_free(b);
    /* No temporary file left behind. */
    char dir[PATH_MAX + 64];
    path_in_dir(dir, sizeof dir, "data/sub");
    int entries = 0;
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        entries += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(entries, 1);
}

Test(secret, key_file_missing_without_create)
{
    char path[PATH_MAX + 64], err[512] = "";
    path_in_dir(path, sizeof path, "secret.key");
    secret_key *k = (secret_key *)1;
    cr_assert_eq(secret_key_load(NULL, path, 0, &k, err, sizeof err), ERR_NOTFOUND);
    cr_assert_null(k);
    cr_assert_not_null(strstr(err, path), "%s", err);
    cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "not created");
}

Test(secret, inline_secret_wins)
{
    char path[PATH_MAX + 64], err[512] = "";
    path_in_dir(path, sizeof path, "secret.key");
    secret_key *a = NULL, *b = NULL;
    cr_assert_eq(secret_key_load(ZERO_B64, path, 1, &a, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "no file for an inline secret");
    cr_assert_str_eq(secret_key_source(a), "auth.secret");
    b = key_of(0);
    assert_same_key(a, b);
    secret_key_free(a);
    secret_key_free(b);
    /* Unpadded and with a trailing newline are accepted too. */
    cr_assert_eq(secret_key_load("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\n", path, 0, &a, err,
                                 sizeof err),
                 0, "%s", err);
    b = key_of(1);
    assert_same_key(a, b);
    secret_key_free(a);
    secret_key_free(b);
}

Test(secret, bad_base64_and_length_refused)
{
    char err[512] = "";
    secret_key *k = NULL;
    static const char *const bad[] = {"not base64!", "AAAA*AAA", "A", "AAAAA",
                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(secret_key_load(bad[i], "unused", 0, &k, err, sizeof err), ERR_CONFIG, "%s",
                     bad[i]);
        cr_assert_null(k);
        cr_assert_not_null(strstr(err, "auth.secret: the server secret is not valid base64"), "%s",
                           err);
        cr_assert_null(strchr(err, '\n'), "one line");
    }
    /* 16 bytes: valid base64, wrong length. */
    cr_assert_eq(secret_key_load("AAAAAAAAAAAAAAAAAAAAAA==", "unused", 0, &k, err, sizeof err),
                 ERR_CONFIG);
    cr_assert_not_null(strstr(err, "decodes to 16 bytes, expected 32"), "%s", err);
    /* 33 bytes. */
    cr_assert_eq(secret_key_load("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unused", 0, &k,
                                 err, sizeof err),
                 ERR_CONFIG);
    cr_assert_not_null(strstr(err, "decodes to 33 bytes"), "%s", err);
    /* No source at all. */
    cr_assert_eq(secret_key_load("", "", 1, &k, err, sizeof err), ERR_CONFIG);
    cr_assert_not_null(strstr(err, "auth.secret_file"), "%s", err);
}

Test(secret, bad_key_file_refused)
{
    char path[PATH_MAX + 64], err[512] = "";
    path_in_dir(path, sizeof path, "secret.key");
    secret_key *k = NULL;
    write_file(path, "AAAAAAAAAAAAAAAAAAAAAA==\n", 0600);
    cr_assert_eq(secret_key_load(NULL, path, 1, &k, err, sizeof err), ERR_CONFIG);
    cr_assert_not_null(strstr(err, path), "%s", err);
    cr_assert_not_null(strstr(err, "decodes to 16 bytes"), "%s", err);
    /* CRLF is fine. */
    write_file(path, ONES_B64 "\r\n", 0600);
    cr_assert_eq(secret_key_load(NULL, path, 0, &k, err, sizeof err), 0, "%s", err);
    secret_key_free(k);
}

Test(secret, group_readable_file_refused)
{
    char path[PATH_MAX + 64], err[512] = "";
    path_in_dir(path, sizeof path, "secret.key");
    secret_key *k = NULL;
    write_file(path, ZERO_B64 "\n", 0640);
    cr_assert_eq(secret_key_load(NULL, path, 1, &k, err, sizeof err), ERR_FORBIDDEN);
    cr_assert_null(k);
    cr_assert_not_null(strstr(err, "mode 0640"), "%s", err);
    cr_assert_not_null(strstr(err, "chmod 600"), "%s", err);
    cr_assert_eq(chmod(path, 0604), 0);
    cr_assert_eq(secret_key_load(NULL, path, 0, &k, err, sizeof err), ERR_FORBIDDEN);
    cr_assert_eq(chmod(path, 0400), 0);
    cr_assert_eq(secret_key_load(NULL, path, 0, &k, err, sizeof err), 0, "%s", err);
    secret_key_free(k);
}

Test(secret, verify_store_first_start_then_match)
{
    char err[512] = "";
    secret_key *k = key_of(3);
    cr_assert_eq(secret_store_has_check(s_db), 0);
    cr_assert_eq(secret_verify_store(s_db, k, err, sizeof err), 0, "%s", err);
    cr_assert_eq(secret_store_has_check(s_db), 1);
    int64_t n = 0;
    cr_assert_eq(store_query_int(s_db, "SELECT count(*) FROM ferry_settings", NULL, 0, &n), 1);
    cr_assert_eq(n, 1);
    /* Same key again: still fine, nothing rewritten. */
    struct buf before, after;
    buf_init(&before, 4096);
    buf_init(&after, 4096);
    const char *q = "SELECT value FROM ferry_settings WHERE name = 'secret_check'";
    cr_assert_eq(store_query_text(s_db, q, NULL, 0, &before), 1);
    cr_assert_eq(secret_verify_store(s_db, k, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_query_text(s_db, q, NULL, 0, &after), 1);
    cr_assert_eq(before.len, after.len);
    cr_assert_eq(memcmp(before.data, after.data, before.len), 0);
    buf_free(&before);
    buf_free(&after);
    secret_key_free(k);
}

Test(secret, verify_store_mismatch_is_conflict)
{
    char err[512] = "";
    char path[PATH_MAX + 64];
    path_in_dir(path, sizeof path, "data/secret.key");
    secret_key *k = NULL, *other = NULL;
    cr_assert_eq(secret_key_load(NULL, path, 1, &k, err, sizeof err), 0, "%s", err);
    cr_assert_eq(secret_verify_store(s_db, k, err, sizeof err), 0, "%s", err);
    /* The file is lost and a new one generated. */
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(secret_key_load(NULL, path, 1, &other, err, sizeof err), 0, "%s", err);
    cr_assert_eq(secret_verify_store(s_db, other, err, sizeof err), ERR_CONFLICT);
    char want[PATH_MAX + 256];
    snprintf(want, sizeof want,
             "the server secret does not match this database (was %s lost or replaced? client "
             "keys cannot be decrypted)",
             path);
    cr_assert_str_eq(err, want);
    secret_key_free(k);
    secret_key_free(other);
}

Test(secret, setup_creates_only_for_a_fresh_database)
{
    char err[512] = "";
    char path[PATH_MAX + 64];
    path_in_dir(path, sizeof path, "secret.key");
    secret_key *k = NULL;
    /* Fresh database, no file: without create, not found; with create, made. */
    cr_assert_eq(secret_setup(s_db, "", path, 0, &k, err, sizeof err), ERR_NOTFOUND);
    cr_assert_null(k);
    cr_assert_eq(secret_setup(s_db, "", path, 1, &k, err, sizeof err), 0, "%s", err);
    cr_assert_not_null(k);
    secret_key_free(k);
    k = NULL;
    /* The database now has a secret: losing the file is an error, even with create. */
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(secret_setup(s_db, "", path, 1, &k, err, sizeof err), ERR_NOTFOUND);
    cr_assert_null(k);
    cr_assert_not_null(strstr(err, "is missing, but this database has client keys"), "%s", err);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "no new secret was created");
    /* Another secret inline: a mismatch. */
    cr_assert_eq(secret_setup(s_db, ZERO_B64, path, 1, &k, err, sizeof err), ERR_CONFLICT);
    cr_assert_not_null(strstr(err, "was auth.secret lost or replaced"), "%s", err);
    cr_assert_null(k);
}
