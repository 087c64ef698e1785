/*
 * clients: the Hawk client registry against a fresh SQLite database per test —
 * add (given and generated keys), get, list, remove, rotate, enable/disable,
 * refusals of bad fields, scope checks, and the key at rest: sealed, bound to
 * its row, useless under another secret.
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/clients.h"
#include "auth/secret.h"
#include "core/err.h"
#include "core/log.h"
#include "store/migrate.h"
#include "store/store.h"

static char c_dir[PATH_MAX];
static store *c_db;
static secret_key *c_key;

static void cl_init(void)
{
    snprintf(c_dir, sizeof c_dir, "/tmp/ferry-clients-test-XXXXXX");
    cr_assert_not_null(mkdtemp(c_dir));
    char url[PATH_MAX + 32], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s/c.db", c_dir);
    struct store_options opt = {.create = 1};
    cr_assert_eq(store_open(url, &opt, &c_db, err, sizeof err), 0, "%s", err);
    int rc = migrate_apply(c_db, NULL, NULL, NULL);
    cr_assert_eq(rc, 0, "%s: %s", err_name(rc), store_errmsg(c_db));
    unsigned char raw[SECRET_KEY_BYTES];
    memset(raw, 0x5a, sizeof raw);
    cr_assert_eq(secret_key_from_bytes(raw, sizeof raw, "test", &c_key), 0);
}

static int cl_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cl_fini(void)
{
    secret_key_free(c_key);
    c_key = NULL;
    store_close(c_db);
    c_db = NULL;
    nftw(c_dir, cl_rm, 16, FTW_DEPTH | FTW_PHYS);
    log_set_level(LOG_INFO);
}

TestSuite(clients, .init = cl_init, .fini = cl_fini);

/* Add a client with a given key and scopes; returns the add's result. */
static int add(const char *id, const char *key, const char *const *scopes, size_t n)
{
    struct client_spec spec = {.id = id, .key = key, .scopes = scopes, .nscopes = n};
    return clients_add(c_db, c_key, &spec, NULL);
}

static struct client *get(const char *id)
{
    struct client *c = NULL;
    int rc = clients_get(c_db, c_key, id, strlen(id), &c);
    cr_assert_eq(rc, 0, "get %s: %s", id, err_name(rc));
    return c;
}

static int64_t count_clients(void)
{
    int64_t n = -1;
    cr_assert_eq(store_query_int(c_db, "SELECT count(*) FROM ferry_clients", NULL, 0, &n), 1);
    return n;
}

static int is_base64url(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

Test(clients, add_with_key_then_get)
{
    const char *scopes[] = {"datasets:read", "runs.read"};
    struct client_spec spec = {.id = "client_id1",
                               .key = "client_key1",
                               .alg = HAWK_SHA1,
                               .scopes = scopes,
                               .nscopes = 2,
                               .description = "user 1 — ünïcode"};
    struct buf unused;
    buf_init(&unused, 256);
    cr_assert_eq(clients_add(c_db, c_key, &spec, &unused), 0);
    cr_assert_eq(unused.len, 0, "key_out untouched for a given key");
    buf_free(&unused);
    struct client *c = get("client_id1");
    cr_assert_str_eq(c->id, "client_id1");
    cr_assert_str_eq(c->key, "client_key1");
    cr_assert_eq(c->key_len, 11);
    cr_assert_eq(c->alg, HAWK_SHA1);
    cr_assert_eq(c->nscopes, 2);
    cr_assert_str_eq(c->scopes[0], "datasets:read");
    cr_assert_str_eq(c->scopes[1], "runs.read");
    cr_assert_str_eq(c->description, "user 1 — ünïcode");
    cr_assert_eq(c->enabled, 1);
    cr_assert_eq(strlen(c->created_at), 24, "%s", c->created_at);
    cr_assert_eq(c->created_at[23], 'Z');
    cr_assert_str_eq(c->created_at, c->updated_at);
    client_free(c);
}

Test(clients, add_generates_key)
{
    const char *scopes[] = {"*"};
    struct client_spec spec = {.id = "gen", .scopes = scopes, .nscopes = 1};
    struct buf key;
    buf_init(&key, 256);
    cr_assert_eq(clients_add(c_db, c_key, &spec, NULL), ERR_INVAL, "generated key needs key_out");
    cr_assert_eq(count_clients(), 0);
    cr_assert_eq(clients_add(c_db, c_key, &spec, &key), 0);
    cr_assert_eq(key.len, 43, "%s", buf_cstr(&key));
    cr_assert(is_base64url(buf_cstr(&key)), "%s", buf_cstr(&key));
    struct client *c = get("gen");
    cr_assert_str_eq(c->key, buf_cstr(&key));
    cr_assert_eq(c->alg, HAWK_SHA256, "sha256 by default");
    client_free(c);
    /* Two generated keys differ. */
    struct buf key2;
    buf_init(&key2, 256);
    spec.id = "gen2";
    cr_assert_eq(clients_add(c_db, c_key, &spec, &key2), 0);
    cr_assert_str_neq(buf_cstr(&key), buf_cstr(&key2));
    buf_free(&key);
    buf_free(&key2);
}

Test(clients, existing_id_is_left_unchanged)
{
    const char *s1[] = {"a"}, *s2[] = {"*"};
    cr_assert_eq(add("c1", "first-key", s1, 1), 0);
    cr_assert_eq(add("c1", "second-key", s2, 1), ERR_CONFLICT);
    struct client_spec gen = {.id = "c1", .scopes = s2, .nscopes = 1};
    struct buf key;
    buf_init(&key, 256);
    cr_assert_eq(clients_add(c_db, c_key, &gen, &key), ERR_CONFLICT);
    cr_assert_eq(key.len, 0, "no key handed out for a client that was not added");
    buf_free(&key);
    struct client *c = get("c1");
    cr_assert_str_eq(c->key, "first-key");
    cr_assert_eq(c->nscopes, 1);
    cr_assert_str_eq(c->scopes[0], "a");
    client_free(c);
    cr_assert_eq(count_clients(), 1);
}

Test(clients, bad_fields_are_refused)
{
    const char *ok[] = {"a"};
    char long_id[CLIENT_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    static const char *const bad_ids[] = {"", "has space", "a/b", "é", "a\"b", "tab\t"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        cr_assert_eq(add(bad_ids[i], "k", ok, 1), ERR_INVAL, "id '%s'", bad_ids[i]);
    cr_assert_eq(add(long_id, "k", ok, 1), ERR_INVAL);
    long_id[CLIENT_ID_MAX] = '\0'; /* exactly the maximum */
    cr_assert_eq(add(long_id, "k", ok, 1), 0);
    cr_assert_eq(add("a.b_c:d@e-f", "k", ok, 1), 0);
    struct client_spec nullid = {.key = "k", .scopes = ok, .nscopes = 1};
    cr_assert_eq(clients_add(c_db, c_key, &nullid, NULL), ERR_INVAL);
    /* Keys: printable ASCII, no spaces, bounded. */
    char long_key[CLIENT_KEY_MAX + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    cr_assert_eq(add("k1", "", ok, 1), ERR_INVAL);
    cr_assert_eq(add("k2", "with space", ok, 1), ERR_INVAL);
    cr_assert_eq(add("k3", "nön-ascii", ok, 1), ERR_INVAL);
    cr_assert_eq(add("k4", long_key, ok, 1), ERR_INVAL);
    /* Description: control characters and invalid UTF-8. */
    struct client_spec d = {.id = "d1", .key = "k", .scopes = ok, .nscopes = 1};
    d.description = "line\nbreak";
    cr_assert_eq(clients_add(c_db, c_key, &d, NULL), ERR_INVAL);
    d.description = "bad \xc3\x28 utf8";
    cr_assert_eq(clients_add(c_db, c_key, &d, NULL), ERR_INVAL);
    /* Algorithm out of range. */
    d.description = NULL;
    d.alg = (enum hawk_alg)7;
    cr_assert_eq(clients_add(c_db, c_key, &d, NULL), ERR_INVAL);
    cr_assert_eq(count_clients(), 2, "only the two valid ids were added");
}

Test(clients, bad_scopes_are_refused)
{
    char long_scope[CLIENT_SCOPE_MAX + 2];
    memset(long_scope, 's', sizeof long_scope - 1);
    long_scope[sizeof long_scope - 1] = '\0';
    static const char *const bad[] = {"", "Datasets", "a b", "a*", "**", "data\"sets", "a,b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *one[] = {bad[i]};
        cr_assert_eq(add("c", "k", one, 1), ERR_INVAL, "scope '%s'", bad[i]);
    }
    const char *lng[] = {long_scope};
    cr_assert_eq(add("c", "k", lng, 1), ERR_INVAL);
    const char *null_scope[] = {"a", NULL};
    cr_assert_eq(add("c", "k", null_scope, 2), ERR_INVAL);
    const char *many[CLIENT_SCOPES_MAX + 1];
    for (size_t i = 0; i < CLIENT_SCOPES_MAX + 1; i++)
        many[i] = "a";
    cr_assert_eq(add("c", "k", many, CLIENT_SCOPES_MAX + 1), ERR_INVAL);
    cr_assert_eq(count_clients(), 0);
    /* The whole alphabet, and duplicates dropped in order. */
    const char *good[] = {"datasets:read", "a.b_c-d:0-9", "datasets:read", "*"};
    cr_assert_eq(add("c", "k", good, 4), 0);
    struct client *c = get("c");
    cr_assert_eq(c->nscopes, 3);
    cr_assert_str_eq(c->scopes[0], "datasets:read");
    cr_assert_str_eq(c->scopes[1], "a.b_c-d:0-9");
    cr_assert_str_eq(c->scopes[2], "*");
    client_free(c);
}

Test(clients, scope_check)
{
    const char *some[] = {"datasets:read", "runs.read"}, *all[] = {"*"};
    cr_assert_eq(add("some", "k", some, 2), 0);
    cr_assert_eq(add("all", "k", all, 1), 0);
    cr_assert_eq(add("none", "k", NULL, 0), 0);
    struct client *s = get("some"), *a = get("all"), *n = get("none");
    cr_assert_eq(client_has_scope(s, "datasets:read"), 1);
    cr_assert_eq(client_has_scope(s, "runs.read"), 1);
    cr_assert_eq(client_has_scope(s, "datasets:write"), 0);
    cr_assert_eq(client_has_scope(s, "datasets"), 0, "no prefix match");
    cr_assert_eq(client_has_scope(s, "datasets:read:x"), 0);
    cr_assert_eq(client_has_scope(s, "*"), 0, "asking for '*' is not granted by others");
    cr_assert_eq(client_has_scope(a, "anything"), 1);
    cr_assert_eq(client_has_scope(a, "datasets:write"), 1);
    cr_assert_eq(client_has_scope(n, "datasets:read"), 0);
    cr_assert_eq(n->nscopes, 0);
    cr_assert_eq(client_has_scope(a, NULL), 0);
    cr_assert_eq(client_has_scope(a, ""), 0);
    cr_assert_eq(client_has_scope(NULL, "x"), 0);
    client_free(s);
    client_free(a);
    client_free(n);
}

Test(clients, get_unknown_and_invalid_ids)
{
    struct client *c = (struct client *)1;
    cr_assert_eq(clients_get(c_db, c_key, "nobody", 6, &c), ERR_NOTFOUND);
    cr_assert_null(c);
    cr_assert_eq(clients_get(c_db, c_key, "bad id", 6, &c), ERR_NOTFOUND);
    cr_assert_eq(clients_get(c_db, c_key, "", 0, &c), ERR_NOTFOUND);
    client_free(NULL);
}

Test(clients, get_takes_a_length)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "k1", s, 1), 0);
    struct client *c = NULL;
    cr_assert_eq(clients_get(c_db, c_key, "c1, and more", 2, &c), 0);
    cr_assert_str_eq(c->id, "c1");
    client_free(c);
}

Test(clients, list_is_ordered_and_has_no_keys)
{
    const char *s[] = {"x"};
    struct client **v = NULL;
    size_t n = 99;
    cr_assert_eq(clients_list(c_db, &v, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_null(v);
    cr_assert_eq(add("zeta", "kz", s, 1), 0);
    cr_assert_eq(add("alpha", "ka", s, 1), 0);
    cr_assert_eq(add("Mid", "km", s, 1), 0);
    cr_assert_eq(clients_set_enabled(c_db, "zeta", 0), 0);
    cr_assert_eq(clients_list(c_db, &v, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(v[0]->id, "Mid");
    cr_assert_str_eq(v[1]->id, "alpha");
    cr_assert_str_eq(v[2]->id, "zeta");
    for (size_t i = 0; i < n; i++) {
        cr_assert_null(v[i]->key);
        cr_assert_eq(v[i]->key_len, 0);
        cr_assert_eq(v[i]->nscopes, 1);
        cr_assert_str_eq(v[i]->scopes[0], "x");
    }
    cr_assert_eq(v[2]->enabled, 0);
    cr_assert_eq(v[1]->enabled, 1);
    clients_list_free(v, n);
    clients_list_free(NULL, 0);
}

Test(clients, remove)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "k1", s, 1), 0);
    cr_assert_eq(add("c2", "k2", s, 1), 0);
    cr_assert_eq(clients_remove(c_db, "c1"), 0);
    struct client *c = NULL;
    cr_assert_eq(clients_get(c_db, c_key, "c1", 2, &c), ERR_NOTFOUND);
    cr_assert_eq(clients_remove(c_db, "c1"), ERR_NOTFOUND);
    cr_assert_eq(clients_remove(c_db, "bad id"), ERR_NOTFOUND);
    cr_assert_eq(count_clients(), 1);
    /* Removed ids can be added again. */
    cr_assert_eq(add("c1", "k1-again", s, 1), 0);
    c = get("c1");
    cr_assert_str_eq(c->key, "k1-again");
    client_free(c);
}

Test(clients, rotate)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "old-key", s, 1), 0);
    struct buf key;
    buf_init(&key, 256);
    cr_assert_eq(clients_rotate(c_db, c_key, "c1", NULL), ERR_INVAL);
    cr_assert_eq(clients_rotate(c_db, c_key, "c1", &key), 0);
    cr_assert_eq(key.len, 43);
    struct client *c = get("c1");
    cr_assert_str_eq(c->key, buf_cstr(&key));
    cr_assert_str_neq(c->key, "old-key");
    cr_assert_str_eq(c->scopes[0], "a", "only the key changes");
    client_free(c);
    buf_reset(&key);
    cr_assert_eq(clients_rotate(c_db, c_key, "nobody", &key), ERR_NOTFOUND);
    cr_assert_eq(key.len, 0, "no key for a client that does not exist");
    struct buf tiny;
    buf_init(&tiny, 10);
    cr_assert_eq(clients_rotate(c_db, c_key, "c1", &tiny), ERR_TOOBIG);
    buf_free(&tiny);
    c = get("c1");
    cr_assert_eq(c->key_len, 43, "unchanged after a refused rotate");
    client_free(c);
    buf_free(&key);
}

Test(clients, disable_and_enable)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "k", s, 1), 0);
    cr_assert_eq(clients_set_enabled(c_db, "c1", 0), 0);
    struct client *c = get("c1");
    cr_assert_eq(c->enabled, 0);
    cr_assert_str_eq(c->key, "k", "a disabled client keeps its key");
    client_free(c);
    cr_assert_eq(clients_set_enabled(c_db, "c1", 1), 0);
    c = get("c1");
    cr_assert_eq(c->enabled, 1);
    client_free(c);
    cr_assert_eq(clients_set_enabled(c_db, "nobody", 0), ERR_NOTFOUND);
    struct client_spec spec = {.id = "off", .key = "k", .scopes = s, .nscopes = 1, .disabled = 1};
    cr_assert_eq(clients_add(c_db, c_key, &spec, NULL), 0);
    c = get("off");
    cr_assert_eq(c->enabled, 0);
    client_free(c);
}

Test(clients, key_is_encrypted_at_rest)
{
    const char *s[] = {"a"};
    const char *key = "a-very-recognisable-client-key";
    cr_assert_eq(add("c1", key, s, 1), 0);
    struct buf raw;
    buf_init(&raw, 4096);
    cr_assert_eq(
        store_query_text(c_db, "SELECT key_enc FROM ferry_clients WHERE id = 'c1'", NULL, 0, &raw),
        1);
    cr_assert_eq(raw.len, strlen(key) + SECRET_OVERHEAD);
    cr_assert_null(memmem(raw.data, raw.len, key, strlen(key)), "the key is in the clear");
    cr_assert_null(memmem(raw.data, raw.len, "recognisable", 12));
    int64_t n = -1;
    cr_assert_eq(store_query_int(c_db,
                                 "SELECT count(*) FROM ferry_clients WHERE instr(CAST(key_enc AS "
                                 "TEXT), 'recognisable') > 0 OR typeof(key_enc) <> 'blob'",
                                 NULL, 0, &n),
                 1);
    cr_assert_eq(n, 0);
    buf_free(&raw);
}

Test(clients, sealed_key_bound_to_its_row)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "key-one", s, 1), 0);
    cr_assert_eq(add("c2", "key-two", s, 1), 0);
    cr_assert_eq(store_exec(c_db, "UPDATE ferry_clients SET key_enc = (SELECT key_enc FROM "
                                  "ferry_clients WHERE id = 'c1') WHERE id = 'c2'"),
                 0);
    log_set_level(LOG_OFF);
    struct client *c = (struct client *)1;
    cr_assert_eq(clients_get(c_db, c_key, "c2", 2, &c), ERR_INTERNAL);
    cr_assert_null(c);
    c = get("c1");
    client_free(c);
}

Test(clients, other_secret_cannot_open)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "key-one", s, 1), 0);
    unsigned char raw[SECRET_KEY_BYTES] = {0};
    secret_key *other = NULL;
    cr_assert_eq(secret_key_from_bytes(raw, sizeof raw, NULL, &other), 0);
    log_set_level(LOG_OFF);
    struct client *c = NULL;
    cr_assert_eq(clients_get(c_db, other, "c1", 2, &c), ERR_INTERNAL);
    cr_assert_null(c);
    secret_key_free(other);
    /* list needs no secret at all. */
    struct client **v = NULL;
    size_t n = 0;
    cr_assert_eq(clients_list(c_db, &v, &n), 0);
    cr_assert_eq(n, 1);
    clients_list_free(v, n);
}

Test(clients, malformed_scopes_row_is_internal)
{
    const char *s[] = {"a"};
    cr_assert_eq(add("c1", "k", s, 1), 0);
    cr_assert_eq(store_exec(c_db, "UPDATE ferry_clients SET scopes = '[1, 2]' WHERE id = 'c1'"), 0);
    log_set_level(LOG_OFF);
    struct client *c = NULL;
    cr_assert_eq(clients_get(c_db, c_key, "c1", 2, &c), ERR_INTERNAL);
    struct client **v = NULL;
    size_t n = 0;
    cr_assert_eq(clients_list(c_db, &v, &n), ERR_INTERNAL);
    cr_assert_null(v);
}

Test(clients, validators)
{
    cr_assert_eq(client_id_valid("a", 1), 1);
    cr_assert_eq(client_id_valid("a\0b", 3), 0, "NUL inside");
    cr_assert_eq(client_id_valid(NULL, 0), 0);
    cr_assert_eq(client_scope_valid("*", 1), 1);
    cr_assert_eq(client_scope_valid("a\0", 2), 0);
    cr_assert_eq(client_key_valid("k\x7f", 2), 0);
    cr_assert_eq(client_description_valid("", 0), 1);
    cr_assert_eq(client_description_valid("\xed\xa0\x80", 3), 0, "surrogate");
    cr_assert_eq(client_description_valid("\xc0\xaf", 2), 0, "overlong");
    cr_assert_eq(client_description_valid("\xc2\x85", 2), 0, "C1 control");
    cr_assert_eq(client_description_valid("\xf0\x9f\x98\x80", 4), 1, "emoji");
}
