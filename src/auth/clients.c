/*
 * clients: the Hawk client registry (see clients.h).
 *
 * A struct client is built in one allocation: the struct, then the scope
 * pointer array, then the strings (id, key, description, scopes). client_free
 * wipes the key bytes in place before freeing. Keys are sealed with the aad
 * "client:ID" (secret.h), so the sealed column is useless without the server
 * secret and cannot be moved between rows.
 */
#include "auth/clients.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/base64.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#define AAD_PREFIX      "client:"
#define AAD_MAX         (sizeof AAD_PREFIX + CLIENT_ID_MAX)
/* Longest scopes JSON: every scope quoted, with a comma. */
#define SCOPES_JSON_MAX (2 + CLIENT_SCOPES_MAX * (CLIENT_SCOPE_MAX + 3))
#define SEALED_MAX      (SECRET_OVERHEAD + CLIENT_KEY_MAX)

/* Columns read by clients_get and clients_list, in this order. */
enum { COL_ID, COL_KEY, COL_ALG, COL_SCOPES, COL_DESC, COL_ENABLED, COL_CREATED, COL_UPDATED };

static const char *alg_text(enum hawk_alg alg)
{
    return alg == HAWK_SHA1 ? "sha1" : "sha256";
}

static void make_aad(const char *id, size_t len, char *out)
{
    snprintf(out, AAD_MAX, "%s%.*s", AAD_PREFIX, (int)len, id);
}

/* ---- validation ------------------------------------------------------------------ */

int client_id_valid(const char *id, size_t len)
{
    if (!id || len == 0 || len > CLIENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr("._:@-_", c)) ||
            c == '\0')
            return 0;
    }
    return 1;
}

int client_key_valid(const char *key, size_t len)
{
    if (!key || len == 0 || len > CLIENT_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
            return 0;
    return 1;
}

int client_scope_valid(const char *scope, size_t len)
{
    if (!scope || len == 0 || len > CLIENT_SCOPE_MAX)
        return 0;
    if (len == 1 && scope[0] == '*')
        return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)scope[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(":._-", c)) || c == '\0')
            return 0;
    }
    return 1;
}

/* UTF-8, no overlongs or surrogates, no control characters (C0, DEL, C1). */
int client_description_valid(const char *d, size_t len)
{
    if (len > CLIENT_DESCRIPTION_MAX)
        return 0;
    const unsigned char *p = (const unsigned char *)d;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (n == 0 || c > 0xf4 || i + n > len)
            return 0;
        uint32_t cp = c & (0xff >> (n + 1));
        for (size_t j = 1; j < n; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += n;
    }
    return 1;
}

/* ---- building a struct client ---------------------------------------------------- */

struct parts {
    const char *id;
    size_t id_len;
    const char *key; /* NULL: none */
    size_t key_len;
    const char *desc;
    size_t desc_len;
    json_t *scopes; /* an array of strings */
};

static char *put(char **cursor, const char *s, size_t n)
{
    char *at = *cursor;
    memcpy(at, s, n);
    at[n] = '\0';
    *cursor += n + 1;
    return at;
}

static struct client *client_build(const struct parts *pt)
{
    size_t ns = json_array_size(pt->scopes);
    size_t size = sizeof(struct client) + ns * sizeof(char *) + pt->id_len + 1 + pt->desc_len + 1 +
                  (pt->key ? pt->key_len + 1 : 0);
    for (size_t i = 0; i < ns; i++)
        size += json_string_length(json_array_get(pt->scopes, i)) + 1;
    struct client *c = calloc(1, size);
    if (!c)
        abort();
    const char **scopes = (const char **)(c + 1);
    char *cursor = (char *)(scopes + ns);
    c->id = put(&cursor, pt->id, pt->id_len);
    if (pt->key) {
        c->key = put(&cursor, pt->key, pt->key_len);
        c->key_len = pt->key_len;
    }
    c->description = put(&cursor, pt->desc, pt->desc_len);
    for (size_t i = 0; i < ns; i++) {
        json_t *v = json_array_get(pt->scopes, i);
        scopes[i] = put(&cursor, json_string_value(v), json_string_length(v));
    }
    c->scopes = scopes;
    c->nscopes = ns;
    return c;
}

void client_free(struct client *c)
{
    if (!c)
        return;
    if (c->key)
        OPENSSL_cleanse((char *)c->key, c->key_len);
    free(c);
}

void clients_list_free(struct client **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        client_free(v[i]);
    free(v);
}

/* Parse the scopes column: a JSON array of strings. NULL if malformed. */
static json_t *parse_scopes(const char *text, size_t len)
{
    json_t *a = text ? json_loadb(text, len, 0, NULL) : NULL;
    if (!a || !json_is_array(a))
        goto bad;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_string(json_array_get(a, i)))
            goto bad;
    return a;
bad:
    json_decref(a);
    return NULL;
}

/* Build a client from the current row; with k, open the key column. */
static int row_to_client(store_stmt *st, const secret_key *k, struct client **out)
{
    struct parts pt = {0};
    struct buf key;
    int rc = ERR_INTERNAL;
    buf_init(&key, CLIENT_KEY_MAX);
    *out = NULL;
    pt.id = store_column_text(st, COL_ID, &pt.id_len);
    size_t scopes_len = 0;
    const char *scopes = store_column_text(st, COL_SCOPES, &scopes_len);
    pt.desc = store_column_text(st, COL_DESC, &pt.desc_len);
    const char *alg = store_column_text(st, COL_ALG, NULL);
    const char *created = store_column_text(st, COL_CREATED, NULL);
    const char *updated = store_column_text(st, COL_UPDATED, NULL);
    if (!pt.id || !pt.desc || !alg || !created || !updated)
        goto bad;
    pt.scopes = parse_scopes(scopes, scopes_len);
    if (!pt.scopes)
        goto bad;
    if (k) {
        size_t sealed_len = 0;
        char aad[AAD_MAX];
        const char *sealed = store_column_text(st, COL_KEY, &sealed_len);
        if (!sealed)
            goto bad;
        make_aad(pt.id, pt.id_len, aad);
        rc = secret_open(k, sealed, sealed_len, aad, &key);
        if (rc < 0) {
            log_error("client key does not open with the server secret", LF_STR("client", pt.id),
                      LF_STR("error", err_str(rc)));
            rc = ERR_INTERNAL;
            goto out;
        }
        pt.key = buf_cstr(&key);
        pt.key_len = key.len;
    }
    struct client *c = client_build(&pt);
    c->alg = strcmp(alg, "sha1") == 0 ? HAWK_SHA1 : HAWK_SHA256;
    c->enabled = store_column_int(st, COL_ENABLED) != 0;
    snprintf(c->created_at, sizeof c->created_at, "%s", created);
    snprintf(c->updated_at, sizeof c->updated_at, "%s", updated);
    *out = c;
    rc = 0;
    goto out;
bad:
    log_error("malformed row in ferry_clients", LF_STR("client", pt.id));
    rc = ERR_INTERNAL;
out:
    json_decref(pt.scopes);
    if (key.data)
        OPENSSL_cleanse(key.data, key.cap);
    buf_free(&key);
    return rc;
}

/* ---- the registry ------------------------------------------------------------------ */

/* A fresh key: CLIENT_GENERATED_KEY_BYTES random bytes, unpadded base64url. */
static int generate_key(char *out, size_t outlen)
{
    unsigned char raw[CLIENT_GENERATED_KEY_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return ERR_INTERNAL;
    long n = base64_encode(raw, sizeof raw, BASE64_URL | BASE64_NOPAD, out, outlen);
    OPENSSL_cleanse(raw, sizeof raw);
    return n < 0 ? ERR_INTERNAL : (int)n;
}

/* Validate and de-duplicate the spec's scopes into a JSON array text. */
static int scopes_json(const struct client_spec *spec, struct buf *out)
{
    if (spec->nscopes > CLIENT_SCOPES_MAX || (spec->nscopes && !spec->scopes))
        return ERR_INVAL;
    buf_putc(out, '[');
    size_t written = 0;
    for (size_t i = 0; i < spec->nscopes; i++) {
        const char *s = spec->scopes[i];
        if (!s || !client_scope_valid(s, strlen(s)))
            return ERR_INVAL;
        size_t j = 0;
        while (j < i && strcmp(spec->scopes[j], s) != 0)
            j++;
        if (j < i)
            continue; /* a duplicate */
        if (buf_printf(out, "%s\"%s\"", written++ ? "," : "", s) < 0)
            return ERR_TOOBIG;
    }
    return buf_putc(out, ']');
}

int clients_add(store *s, const secret_key *k, const struct client_spec *spec, struct buf *key_out)
{
    char key[CLIENT_KEY_MAX + 1], aad[AAD_MAX], now[CLIENT_TIME_MAX];
    struct buf sealed, scopes;
    int rc = ERR_INVAL;
    int64_t changes = 0;
    size_t key_len;
    buf_init(&sealed, SEALED_MAX);
    buf_init(&scopes, SCOPES_JSON_MAX);
    key[0] = '\0';
    const char *desc = spec->description ? spec->description : "";
    if (!spec->id || !client_id_valid(spec->id, strlen(spec->id)) ||
        (spec->alg != HAWK_SHA256 && spec->alg != HAWK_SHA1) ||
        !client_description_valid(desc, strlen(desc)))
        goto out;
    if (spec->key) {
        key_len = strlen(spec->key);
        if (!client_key_valid(spec->key, key_len))
            goto out;
        memcpy(key, spec->key, key_len + 1);
    } else {
        if (!key_out)
            goto out;
        int n = generate_key(key, sizeof key);
        if (n < 0) {
            rc = n;
            goto out;
        }
        key_len = (size_t)n;
        rc = buf_reserve(key_out, key_len); /* so the append after the insert cannot fail */
        if (rc < 0)
            goto out;
    }
    rc = scopes_json(spec, &scopes);
    if (rc < 0)
        goto out;
    make_aad(spec->id, strlen(spec->id), aad);
    rc = secret_seal(k, key, key_len, aad, &sealed);
    if (rc < 0)
        goto out;
    clock_now_iso(now);
    struct store_value p[] = {SV_TEXT(spec->id),
                              SV_BLOB(sealed.data, sealed.len),
                              SV_TEXT(alg_text(spec->alg)),
                              SV_TEXTN(scopes.data, scopes.len),
                              SV_TEXT(desc),
                              SV_BOOL(!spec->disabled),
                              SV_TEXT(now)};
    rc = store_execv(s,
                     "INSERT INTO ferry_clients (id, key_enc, algorithm, scopes, description, "
                     "enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
                     "ON CONFLICT (id) DO NOTHING",
                     p, sizeof p / sizeof p[0], &changes);
    if (rc < 0)
        goto out;
    if (changes == 0) {
        rc = ERR_CONFLICT;
        goto out;
    }
    if (!spec->key)
        rc = buf_append(key_out, key, key_len);
out:
    OPENSSL_cleanse(key, sizeof key);
    buf_free(&sealed);
    buf_free(&scopes);
    return rc;
}

int clients_get(store *s, const secret_key *k, const char *id, size_t id_len, struct client **out)
{
    store_stmt *st = NULL;
    *out = NULL;
    if (!client_id_valid(id, id_len))
        return ERR_NOTFOUND;
    int rc = store_prepare(s,
                           "SELECT id, key_enc, algorithm, scopes, description, enabled, "
                           "created_at, updated_at FROM ferry_clients WHERE id = $1",
                           &st);
    if (rc < 0)
        return rc;
    rc = store_bind(st, 1, SV_TEXTN(id, id_len));
    if (rc == 0)
        rc = store_step(st);
    if (rc == STORE_ROW)
        rc = row_to_client(st, k, out);
    else if (rc == STORE_DONE)
        rc = ERR_NOTFOUND;
    store_stmt_reset(st);
    return rc;
}

int client_has_scope(const struct client *c, const char *scope)
{
    if (!c || !scope || !*scope)
        return 0;
    for (size_t i = 0; i < c->nscopes; i++)
        if (strcmp(c->scopes[i], "*") == 0 || strcmp(c->scopes[i], scope) == 0)
            return 1;
    return 0;
}

int clients_list(store *s, struct client ***out, size_t *n)
{
    store_stmt *st = NULL;
    struct client **v = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *n = 0;
    int rc = store_prepare(s,
                           "SELECT id, NULL, algorithm, scopes, description, enabled, "
                           "created_at, updated_at FROM ferry_clients ORDER BY id",
                           &st);
    if (rc < 0)
        return rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            struct client **nv = realloc(v, cap * sizeof *v);
            if (!nv)
                abort();
            v = nv;
        }
        rc = row_to_client(st, NULL, &v[len]);
        if (rc < 0)
            break;
        len++;
    }
    store_stmt_reset(st);
    if (rc < 0) {
        clients_list_free(v, len);
        return rc;
    }
    *out = v;
    *n = len;
    return 0;
}

/* Run an UPDATE or DELETE on one client: ERR_NOTFOUND when no row matched. */
static int change_one(store *s, const char *sql, const struct store_value *p, size_t np)
{
    int64_t changes = 0;
    int rc = store_execv(s, sql, p, np, &changes);
    if (rc < 0)
        return rc;
    return changes == 0 ? ERR_NOTFOUND : 0;
}

int clients_remove(store *s, const char *id)
{
    if (!id || !client_id_valid(id, strlen(id)))
        return ERR_NOTFOUND;
    struct store_value p[] = {SV_TEXT(id)};
    return change_one(s, "DELETE FROM ferry_clients WHERE id = $1", p, 1);
}

int clients_rotate(store *s, const secret_key *k, const char *id, struct buf *key_out)
{
    char key[CLIENT_KEY_MAX + 1], aad[AAD_MAX], now[CLIENT_TIME_MAX];
    struct buf sealed;
    int rc = ERR_NOTFOUND;
    buf_init(&sealed, SEALED_MAX);
    key[0] = '\0';
    if (!key_out) {
        rc = ERR_INVAL;
        goto out;
    }
    if (!id || !client_id_valid(id, strlen(id)))
        goto out;
    int n = generate_key(key, sizeof key);
    if (n < 0) {
        rc = n;
        goto out;
    }
    rc = buf_reserve(key_out, (size_t)n);
    if (rc < 0)
        goto out;
    make_aad(id, strlen(id), aad);
    rc = secret_seal(k, key, (size_t)n, aad, &sealed);
    if (rc < 0)
        goto out;
    clock_now_iso(now);
    struct store_value p[] = {SV_TEXT(id), SV_BLOB(sealed.data, sealed.len), SV_TEXT(now)};
    rc =
        change_one(s, "UPDATE ferry_clients SET key_enc = $2, updated_at = $3 WHERE id = $1", p, 3);
    if (rc == 0)
        rc = buf_append(key_out, key, (size_t)n);
out:
    OPENSSL_cleanse(key, sizeof key);
    buf_free(&sealed);
    return rc;
}

int clients_set_enabled(store *s, const char *id, int enabled)
{
    char now[CLIENT_TIME_MAX];
    if (!id || !client_id_valid(id, strlen(id)))
        return ERR_NOTFOUND;
    clock_now_iso(now);
    struct store_value p[] = {SV_TEXT(id), SV_BOOL(enabled), SV_TEXT(now)};
    return change_one(s, "UPDATE ferry_clients SET enabled = $2, updated_at = $3 WHERE id = $1", p,
                      3);
}
