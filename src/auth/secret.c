/*
 * secret: the server secret and AES-256-GCM sealing (see secret.h).
 *
 * The key file is created by writing a temporary file (mkstemp: O_EXCL, mode
 * 0600) and link()ing it to its name: link never replaces an existing file, so
 * two processes starting at once end up with the same secret (the loser reads
 * the winner's file), and a crash leaves at most a stray temporary file, never
 * a half-written key. On file systems without hard links the file is created
 * directly with O_CREAT | O_EXCL.
 *
 * Derived keys (secret_derive) are HMAC-SHA256 of a purpose label keyed with
 * the secret: one secret to keep, a separate key for each use.
 */
#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/base64.h"
#include "core/clock.h"
#include "core/err.h"

/* Longest key file we read: base64 of 32 bytes is 44 characters. */
#define KEYFILE_MAX 512

#define CHECK_NAME "secret_check"
#define CHECK_AAD  "ferry_settings:secret_check"
#define CHECK_TEXT "ferry server secret check v1"

struct secret_key {
    unsigned char bytes[SECRET_KEY_BYTES];
    char source[PATH_MAX];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Parse base64 text (trailing whitespace allowed) into k->bytes. */
static int parse_key_text(secret_key *k, const char *text, size_t n, char *err, size_t errlen)
{
    unsigned char raw[SECRET_KEY_BYTES + 3];
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '\t'))
        n--;
    /* Strict standard base64, padding optional (`openssl rand -base64` pads). */
    long got = base64_decode(text, n, BASE64_PAD_OPTIONAL, raw, sizeof raw);
    int rc = ERR_CONFIG;
    if (got < 0)
        set_err(err, errlen,
                "%s: the server secret is not valid base64 (expected base64 of %d random bytes, "
                "e.g. from `openssl rand -base64 32`)",
                k->source, SECRET_KEY_BYTES);
    else if (got != SECRET_KEY_BYTES)
        set_err(err, errlen,
                "%s: the server secret decodes to %ld bytes, expected %d (e.g. from `openssl "
                "rand -base64 32`)",
                k->source, got, SECRET_KEY_BYTES);
    else {
        memcpy(k->bytes, raw, SECRET_KEY_BYTES);
        rc = 0;
    }
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}

/* ---- the key file ------------------------------------------------------------ */

static int read_key_file(secret_key *k, const char *path, char *err, size_t errlen)
{
    char text[KEYFILE_MAX + 1];
    size_t len = 0;
    int rc = ERR_IO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            set_err(err, errlen,
                    "server secret file %s does not exist (set auth.secret_file or auth.secret)",
                    path);
            return ERR_NOTFOUND;
        }
        set_err(err, errlen, "cannot read server secret file %s: %s", path, strerror(errno));
        return ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        set_err(err, errlen, "cannot read server secret file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "server secret file %s is not a regular file", path);
        rc = ERR_CONFIG;
        goto out;
    }
    if (st.st_mode & 077) {
        set_err(err, errlen,
                "server secret file %s has mode %04o: group and others must have no access "
                "(chmod 600 %s)",
                path, (unsigned)(st.st_mode & 07777), path);
        rc = ERR_FORBIDDEN;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, text + len, sizeof text - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(err, errlen, "cannot read server secret file %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof text) {
            set_err(err, errlen, "server secret file %s is too long (expected base64 of %d bytes)",
                    path, SECRET_KEY_BYTES);
            rc = ERR_CONFIG;
            goto out;
        }
    }
    rc = parse_key_text(k, text, len, err, errlen);
out:
    OPENSSL_cleanse(text, sizeof text);
    close(fd);
    return rc;
}

/* mkdir -p the directory part of path, new directories mode 0700. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        set_err(err, errlen, "server secret file path is too long");
        return ERR_IO;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    set_err(err, errlen, "cannot create directory %s for the server secret: %s", dir,
            strerror(errno));
    return ERR_IO;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void sync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Create the key file with fresh random bytes. Returns 0 (written), ERR_CONFLICT
 * (another process created it first: read that one), or ERR_IO. */
static int create_key_file(secret_key *k, const char *path, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    char text[64];
    int fd = -1, rc = ERR_IO, linked = 0;
    tmp[0] = '\0';
    if (RAND_bytes(k->bytes, SECRET_KEY_BYTES) != 1) {
        set_err(err, errlen, "cannot generate a server secret: no randomness");
        return ERR_INTERNAL;
    }
    long n = base64_encode(k->bytes, SECRET_KEY_BYTES, 0, text, sizeof text - 1);
    if (n < 0) {
        set_err(err, errlen, "cannot encode the server secret");
        rc = ERR_INTERNAL;
        goto out;
    }
    text[n++] = '\n';
    rc = make_parent_dirs(path, err, errlen);
    if (rc < 0)
        goto out;
    rc = ERR_IO;
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp) {
        set_err(err, errlen, "server secret file path is too long");
        tmp[0] = '\0';
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        set_err(err, errlen, "cannot create server secret file %s: %s", path, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    if (fchmod(fd, 0600) < 0 || write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0) {
        set_err(err, errlen, "cannot write server secret file %s: %s", path, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (link(tmp, path) == 0) {
        linked = 1;
    } else if (errno == EEXIST) {
        rc = ERR_CONFLICT;
        goto out;
    } else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOSYS) {
        /* No hard links here: create the file itself, exclusively. */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
            rc = ERR_CONFLICT;
            goto out;
        }
        if (fd < 0 || fchmod(fd, 0600) < 0 || write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0) {
            set_err(err, errlen, "cannot write server secret file %s: %s", path, strerror(errno));
            if (fd >= 0)
                unlink(path);
            goto out;
        }
        linked = 1;
    } else {
        set_err(err, errlen, "cannot create server secret file %s: %s", path, strerror(errno));
        goto out;
    }
    sync_parent_dir(path);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    if (!linked)
        OPENSSL_cleanse(k->bytes, sizeof k->bytes);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

static secret_key *key_new(const char *source)
{
    secret_key *k = calloc(1, sizeof *k);
    if (!k)
        abort();
    snprintf(k->source, sizeof k->source, "%s", source);
    return k;
}

int secret_key_load(const char *inline_b64, const char *path, int create, secret_key **out,
                    char *err, size_t errlen)
{
    secret_key *k = NULL;
    int rc;
    *out = NULL;
    if (inline_b64 && *inline_b64) {
        k = key_new("auth.secret");
        rc = parse_key_text(k, inline_b64, strlen(inline_b64), err, errlen);
        goto out;
    }
    if (!path || !*path) {
        set_err(err, errlen, "no server secret: auth.secret and auth.secret_file are both empty");
        return ERR_CONFIG;
    }
    k = key_new(path);
    rc = read_key_file(k, path, err, errlen);
    if (rc == ERR_NOTFOUND && create) {
        rc = create_key_file(k, path, err, errlen);
        if (rc == ERR_CONFLICT) /* created by someone else meanwhile */
            rc = read_key_file(k, path, err, errlen);
    }
out:
    if (rc < 0) {
        secret_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int secret_key_from_bytes(const void *bytes, size_t n, const char *source, secret_key **out)
{
    *out = NULL;
    if (!bytes || n != SECRET_KEY_BYTES)
        return ERR_INVAL;
    secret_key *k = key_new(source ? source : "key");
    memcpy(k->bytes, bytes, n);
    *out = k;
    return 0;
}

void secret_key_free(secret_key *k)
{
    if (!k)
        return;
    OPENSSL_cleanse(k, sizeof *k);
    free(k);
}

const char *secret_key_source(const secret_key *k)
{
    return k->source;
}

void secret_derive(const secret_key *k, const char *label, unsigned char out[SECRET_DERIVED_BYTES])
{
    unsigned int len = 0;
    /* Only a broken crypto library fails here: nothing a caller could handle. */
    if (!HMAC(EVP_sha256(), k->bytes, SECRET_KEY_BYTES, (const unsigned char *)label, strlen(label),
              out, &len) ||
        len != SECRET_DERIVED_BYTES)
        abort();
}

/* ---- sealing ------------------------------------------------------------------ */

/* Set up ctx for one seal/open with the header and aad authenticated. */
static int gcm_begin(EVP_CIPHER_CTX *ctx, int encrypt, const secret_key *k,
                     const unsigned char *header, const char *aad)
{
    int len = 0;
    const unsigned char *iv = header + 1;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_BYTES, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, k->bytes, iv, encrypt) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &len, header, 1) != 1)
        return ERR_INTERNAL;
    size_t alen = aad ? strlen(aad) : 0;
    if (alen > INT_MAX)
        return ERR_INVAL;
    if (alen && EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)alen) != 1)
        return ERR_INTERNAL;
    return 0;
}

int secret_seal(const secret_key *k, const void *plain, size_t n, const char *aad, struct buf *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *sealed = NULL;
    int rc = ERR_INTERNAL, len = 0;
    if (n > SECRET_PLAIN_MAX)
        return ERR_TOOBIG;
    if (buf_reserve(out, SECRET_OVERHEAD + n) < 0)
        return ERR_TOOBIG;
    size_t total = SECRET_OVERHEAD + n;
    sealed = malloc(total);
    ctx = EVP_CIPHER_CTX_new();
    if (!sealed || !ctx)
        abort();
    sealed[0] = SECRET_VERSION;
    if (RAND_bytes(sealed + 1, SECRET_NONCE_BYTES) != 1)
        goto out;
    rc = gcm_begin(ctx, 1, k, sealed, aad);
    if (rc < 0)
        goto out;
    rc = ERR_INTERNAL;
    unsigned char *ct = sealed + 1 + SECRET_NONCE_BYTES;
    if (n && EVP_CipherUpdate(ctx, ct, &len, plain, (int)n) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, ct + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_BYTES, ct + n) != 1)
        goto out;
    rc = buf_append(out, sealed, total);
out:
    EVP_CIPHER_CTX_free(ctx);
    free(sealed);
    return rc;
}

int secret_open(const secret_key *k, const void *sealed, size_t n, const char *aad, struct buf *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *plain = NULL;
    int rc = ERR_INVAL, len = 0;
    const unsigned char *in = sealed;
    if (n < SECRET_OVERHEAD || in[0] != SECRET_VERSION)
        return ERR_INVAL;
    size_t pn = n - SECRET_OVERHEAD;
    if (pn > SECRET_PLAIN_MAX)
        return ERR_INVAL;
    if (buf_reserve(out, pn) < 0)
        return ERR_TOOBIG;
    plain = malloc(pn + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (!plain || !ctx)
        abort();
    rc = gcm_begin(ctx, 0, k, in, aad);
    if (rc < 0)
        goto out;
    rc = ERR_INTERNAL;
    const unsigned char *ct = in + 1 + SECRET_NONCE_BYTES;
    if (pn && EVP_CipherUpdate(ctx, plain, &len, ct, (int)pn) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_BYTES, (void *)(ct + pn)) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, plain + len, &len) != 1) {
        rc = ERR_FORBIDDEN;
        goto out;
    }
    rc = buf_append(out, plain, pn); /* reserved: no reallocation leaves a copy behind */
out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(plain, pn + 1);
    free(plain);
    return rc;
}

/* ---- the database's check value ---------------------------------------------- */

int secret_store_has_check(store *s)
{
    struct store_value p[1] = {SV_TEXT(CHECK_NAME)};
    int rc = store_query_int(s, "SELECT 1 FROM ferry_settings WHERE name = $1", p, 1, NULL);
    return rc < 0 ? rc : rc > 0;
}

int secret_verify_store(store *s, const secret_key *k, char *err, size_t errlen)
{
    struct buf sealed, plain;
    char ts[CLOCK_ISO_MAX];
    buf_init(&sealed, 4096);
    buf_init(&plain, 4096);
    struct store_value name = SV_TEXT(CHECK_NAME);
    int rc =
        store_query_text(s, "SELECT value FROM ferry_settings WHERE name = $1", &name, 1, &sealed);
    if (rc == 0) { /* first use: remember this secret */
        rc = secret_seal(k, CHECK_TEXT, strlen(CHECK_TEXT), CHECK_AAD, &sealed);
        if (rc < 0) {
            set_err(err, errlen, "cannot seal the secret check value: %s", err_str(rc));
            goto out;
        }
        clock_now_iso(ts);
        struct store_value p[3] = {name, SV_BLOB(sealed.data, sealed.len), SV_TEXT(ts)};
        rc = store_execv(s,
                         "INSERT INTO ferry_settings (name, value, updated_at) VALUES ($1, $2, $3) "
                         "ON CONFLICT (name) DO NOTHING",
                         p, 3, NULL);
        if (rc < 0)
            goto store_fail;
        /* Read back: a concurrent first start may have written its own. */
        rc = store_query_text(s, "SELECT value FROM ferry_settings WHERE name = $1", &name, 1,
                              &sealed);
    }
    if (rc < 0)
        goto store_fail;
    if (rc == 0) {
        set_err(err, errlen, "the secret check value disappeared from ferry_settings");
        rc = ERR_STORE;
        goto out;
    }
    rc = secret_open(k, sealed.data, sealed.len, CHECK_AAD, &plain);
    if (rc == 0 && (plain.len != strlen(CHECK_TEXT) || memcmp(plain.data, CHECK_TEXT, plain.len)))
        rc = ERR_FORBIDDEN;
    if (rc == ERR_FORBIDDEN || rc == ERR_INVAL) {
        set_err(err, errlen,
                "the server secret does not match this database (was %s lost or replaced? client "
                "keys cannot be decrypted)",
                k->source);
        rc = ERR_CONFLICT;
    } else if (rc < 0) {
        set_err(err, errlen, "cannot open the secret check value: %s", err_str(rc));
    }
    goto out;
store_fail:
    set_err(err, errlen, "cannot read or write ferry_settings: %s", store_errmsg(s));
out:
    buf_free(&sealed);
    buf_free(&plain);
    return rc;
}

int secret_setup(store *s, const char *inline_b64, const char *path, int create, secret_key **out,
                 char *err, size_t errlen)
{
    secret_key *k = NULL;
    *out = NULL;
    int has = secret_store_has_check(s);
    if (has < 0) {
        set_err(err, errlen, "cannot read ferry_settings: %s", store_errmsg(s));
        return has;
    }
    int rc = secret_key_load(inline_b64, path, create && !has, &k, err, errlen);
    if (rc == ERR_NOTFOUND && has) {
        set_err(err, errlen,
                "server secret file %s is missing, but this database has client keys sealed with "
                "a server secret: restore the file (or set auth.secret); a new secret could not "
                "decrypt them",
                path);
    }
    if (rc < 0)
        return rc;
    rc = secret_verify_store(s, k, err, errlen);
    if (rc < 0) {
        secret_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}
