/*
 * clients: the registry of Hawk API clients, table ferry_clients.
 *
 * A client is
 *
 *   id           the Hawk id: 1-CLIENT_ID_MAX characters of [A-Za-z0-9._:@-] and
 *                '_' (the seeds' ids are like client_id1); case-sensitive.
 *   key          the shared Hawk secret: 1-CLIENT_KEY_MAX printable ASCII
 *                characters, no spaces. Generated keys are 32 random bytes as
 *                unpadded base64url (43 characters). Stored sealed with the
 *                server secret (secret.h) and bound to the id (aad "client:ID"),
 *                so the database alone does not reveal it and a sealed key
 *                copied to another row does not open.
 *   algorithm    HAWK_SHA256 (default) or HAWK_SHA1.
 *   scopes       0-CLIENT_SCOPES_MAX names of 1-CLIENT_SCOPE_MAX characters of
 *                [a-z0-9:._-] (like "datasets:read"), or "*" alone, which grants
 *                every scope. Duplicates are dropped, order is kept. Stored as
 *                a JSON array. An empty list grants nothing.
 *   description  0-CLIENT_DESCRIPTION_MAX bytes of UTF-8 without control
 *                characters.
 *   enabled      a disabled client keeps its key but must not authenticate
 *                (the auth layer answers as for an unknown id).
 *   created_at, updated_at   ISO-8601 UTC with milliseconds and a Z.
 *
 * Life cycle: add -> (rotate | disable | enable)* -> remove. Adding an id that
 * exists changes nothing (ERR_CONFLICT), as the seeds' add_hawk_user did.
 *
 * The per-request path is clients_get: one primary-key query and one AES-GCM
 * open; the result is one allocation, freed (and its key wiped) by client_free.
 * Functions take a store connection used by one thread at a time (store.h).
 */
#ifndef FERRY_AUTH_CLIENTS_H
#define FERRY_AUTH_CLIENTS_H

#include <stddef.h>

#include "auth/hawk.h"
#include "auth/secret.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"

#define CLIENT_ID_MAX              128
#define CLIENT_KEY_MAX             255 /* fits auth.h's AUTH_KEY_MAX with a NUL */
#define CLIENT_SCOPE_MAX           64
#define CLIENT_SCOPES_MAX          64
#define CLIENT_DESCRIPTION_MAX     1000
#define CLIENT_GENERATED_KEY_BYTES 32            /* random bytes in a generated key */
#define CLIENT_TIME_MAX            CLOCK_ISO_MAX /* "2026-11-23T11:30:00.000Z" */

/* What clients_add needs; all borrowed for the call. Zero-initialised means:
 * sha256, no scopes, no description, enabled, a generated key. */
struct client_spec {
    const char *id;
    const char *key; /* NULL: generate one (returned through key_out) */
    enum hawk_alg alg;
    const char *const *scopes;
    size_t nscopes;
    const char *description; /* NULL = "" */
    int disabled;            /* 1: add the client disabled */
};

/* A client as read back. One allocation holding every string; the caller owns
 * it and frees it with client_free (list results: clients_list_free). */
struct client {
    const char *id;
    const char *key; /* NUL-terminated; NULL in clients_list results */
    size_t key_len;
    enum hawk_alg alg;
    const char *const *scopes;
    size_t nscopes;
    const char *description;
    int enabled;
    char created_at[CLIENT_TIME_MAX];
    char updated_at[CLIENT_TIME_MAX];
};

/* ---- validation (also for the CLI and the API, to refuse early) ---------------- */

/* 1 if valid, else 0. They take lengths so ids from headers need no copy. */
int client_id_valid(const char *id, size_t len);
int client_key_valid(const char *key, size_t len);
int client_scope_valid(const char *scope, size_t len);
int client_description_valid(const char *d, size_t len);

/* ---- the registry --------------------------------------------------------------- */

/* Add a client. When spec->key is NULL a key is generated and appended to
 * key_out (which must then not be NULL; the caller shows it once and wipes it);
 * key_out is untouched otherwise. Returns 0; ERR_INVAL (a field fails its
 * check; nothing written); ERR_CONFLICT (the id exists; nothing changes);
 * ERR_TOOBIG (key_out's limit); a store error. */
int clients_add(store *s, const secret_key *k, const struct client_spec *spec, struct buf *key_out);

/* Look up a client by id (id_len bytes, need not be NUL-terminated) and decrypt
 * its key. Disabled clients are returned too (check ->enabled). On success
 * returns 0 and *out (free with client_free). Returns ERR_NOTFOUND for an
 * unknown or invalid id; ERR_INTERNAL when the stored key does not open with k
 * or the row is malformed (logged with the id: the row was altered or the
 * secret replaced); or a store error. *out is NULL on failure. */
int clients_get(store *s, const secret_key *k, const char *id, size_t id_len, struct client **out);

/* Wipe the key and free. Accepts NULL. */
void client_free(struct client *c);

/* Does c grant scope? 1 when one of its scopes is "*" or equals scope; else 0
 * (also for a NULL or empty scope). */
int client_has_scope(const struct client *c, const char *scope);

/* Every client ordered by id, without keys (key NULL, key_len 0). On success
 * returns 0 with *out a malloc'd array of *n clients (NULL when none), freed
 * with clients_list_free. Nothing is decrypted: no secret needed. */
int clients_list(store *s, struct client ***out, size_t *n);
void clients_list_free(struct client **v, size_t n); /* accepts NULL */

/* Delete a client. Returns 0, ERR_NOTFOUND, or a store error. */
int clients_remove(store *s, const char *id);

/* Replace a client's key with a new generated one, appended to key_out (not
 * NULL; shown once, then the caller wipes it). Returns 0, ERR_NOTFOUND,
 * ERR_TOOBIG (key_out's limit; nothing changes), ERR_INVAL (key_out NULL), or
 * a store error. */
int clients_rotate(store *s, const secret_key *k, const char *id, struct buf *key_out);

/* Enable (1) or disable (0) a client. Returns 0, ERR_NOTFOUND, or a store error. */
int clients_set_enabled(store *s, const char *id, int enabled);

#endif
