/*
 * secret: the server secret, and authenticated encryption of small values with
 * it (AES-256-GCM, OpenSSL EVP). Client keys (clients.h) and source credentials
 * are kept sealed in the database; the secret itself never is.
 *
 * Where the secret comes from
 *
 *   auth.secret        base64 of exactly 32 bytes; wins when non-empty.
 *   auth.secret_file   a file holding the same (plus an optional newline),
 *                      default data/secret.key. With create, a missing file is
 *                      generated (32 bytes from RAND_bytes), written to a
 *                      temporary file of mode 0600 and linked into place, so
 *                      it appears whole or not at all and never replaces a
 *                      file that exists. A file that group or others may
 *                      access is refused.
 *
 * Sealed format (SECRET_OVERHEAD bytes more than the plaintext)
 *
 *   version (1 byte, SECRET_VERSION) | nonce (12 random bytes) | ciphertext | tag (16)
 *
 * The version byte and the caller's aad are authenticated along with the
 * ciphertext. The aad names the row the value belongs to ("client:ID"), so a
 * sealed value copied to another row does not open.
 *
 * The database remembers its secret: ferry_settings holds a sealed check value
 * (secret_check). secret_verify_store writes it on first use and afterwards
 * refuses a different secret, so a lost or replaced key file is a clear
 * start-up error instead of keys that silently fail to decrypt.
 *
 * A secret_key is immutable once loaded: share it between threads freely.
 */
#ifndef FERRY_AUTH_SECRET_H
#define FERRY_AUTH_SECRET_H

#include <stddef.h>

#include "core/buf.h"
#include "store/store.h"

typedef struct secret_key secret_key;

#define SECRET_KEY_BYTES   32
#define SECRET_VERSION     1
#define SECRET_NONCE_BYTES 12
#define SECRET_TAG_BYTES   16
#define SECRET_OVERHEAD    (1 + SECRET_NONCE_BYTES + SECRET_TAG_BYTES)
/* Largest plaintext secret_seal accepts. */
#define SECRET_PLAIN_MAX   (1024 * 1024)

/* Load the server secret: inline_b64 when it is non-empty (NULL counts as
 * empty), else the file at path. With create, a missing file is generated (and
 * its missing parent directories, mode 0700). On success returns 0 and *out
 * (free with secret_key_free). On failure *out is NULL and a one-line reason
 * naming auth.secret or the path is written to err:
 *   ERR_NOTFOUND   the file does not exist and create is 0
 *   ERR_CONFIG     not base64, or not 32 bytes once decoded; path empty
 *   ERR_FORBIDDEN  the file is accessible by group or others (mode & 077)
 *   ERR_IO         cannot read, create or write the file */
int secret_key_load(const char *inline_b64, const char *path, int create, secret_key **out,
                    char *err, size_t errlen);

/* A key from raw bytes (n must be SECRET_KEY_BYTES, else ERR_INVAL); for tests
 * and tools. source names it in messages (copied; NULL = "key"). */
int secret_key_from_bytes(const void *bytes, size_t n, const char *source, secret_key **out);

/* Wipe and free. Accepts NULL. */
void secret_key_free(secret_key *k);

/* A 32-byte key for one purpose, derived from the secret:
 * HMAC-SHA256(secret, label). The same secret and label always give the same
 * key, so every process sharing the secret derives it without storing it
 * (the data API's cursor key: label "ferry cursor v1"). k and label (a
 * NUL-terminated string) are borrowed; writes SECRET_DERIVED_BYTES to out.
 * Cannot fail (a crypto library that cannot compute an HMAC aborts). */
#define SECRET_DERIVED_BYTES 32
void secret_derive(const secret_key *k, const char *label, unsigned char out[SECRET_DERIVED_BYTES]);

/* Where the key came from, for messages: the file path or "auth.secret". */
const char *secret_key_source(const secret_key *k);

/* Seal n bytes of plain (borrowed) bound to aad (a NUL-terminated label;
 * NULL = ""). Appends SECRET_OVERHEAD + n bytes to out. Returns 0, ERR_TOOBIG
 * (n > SECRET_PLAIN_MAX, or out's limit; out unchanged) or ERR_INTERNAL (the
 * crypto library failed). */
int secret_seal(const secret_key *k, const void *plain, size_t n, const char *aad, struct buf *out);

/* Open a sealed value with the same aad. Appends the plaintext to out; out is
 * unchanged on failure. Returns 0, ERR_INVAL (too short, or an unknown version
 * byte), ERR_FORBIDDEN (authentication failed: another key, another aad, or
 * altered bytes), ERR_TOOBIG (out's limit) or ERR_INTERNAL. Plaintext is
 * secret: the caller wipes out (OPENSSL_cleanse) before freeing it. */
int secret_open(const secret_key *k, const void *sealed, size_t n, const char *aad,
                struct buf *out);

/* Does the database hold a check value (has a secret been used with it)?
 * Returns 1, 0, or <0 (a store error; the reason in store_errmsg). */
int secret_store_has_check(store *s);

/* Check k against the database's check value, writing one when there is none
 * (first start; concurrent first starts agree on whichever wrote first).
 * Returns 0; ERR_CONFLICT with "the server secret does not match this database
 * (was PATH lost or replaced? client keys cannot be decrypted)" in err; or a
 * store error (reason in err). Needs migration 0002 (ferry_settings). */
int secret_verify_store(store *s, const secret_key *k, char *err, size_t errlen);

/* The start-up sequence in one call: load the secret as secret_key_load does,
 * creating the file only when create is set and the database has never had a
 * secret (a database that has one gets ERR_NOTFOUND "... is missing, but this
 * database has keys sealed with it: restore it ..." instead of a fresh secret
 * that can open nothing), then secret_verify_store. Returns 0 and *out, or an
 * error from either with the reason in err and *out NULL. */
int secret_setup(store *s, const char *inline_b64, const char *path, int create, secret_key **out,
                 char *err, size_t errlen);

#endif
