/*
 * rawstore: see rawstore.h. Temporary files come from mkostemp in DIR/tmp (the
 * same file system as DIR, so the final rename is atomic); the directory is
 * fsync'd after the rename so the name survives a crash too.
 */
#include "ingest/rawstore.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

struct rawstore_writer {
    int fd;
    int64_t size;
    EVP_MD_CTX *sha;
    char dir[RAWSTORE_PATH_MAX];
    char tmp[RAWSTORE_PATH_MAX];
};

static int make_dir(const char *path)
{
    char buf[RAWSTORE_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

int rawstore_prepare(const char *dir, char *err, size_t errlen)
{
    char tmp[RAWSTORE_PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/tmp", dir) >= (int)sizeof tmp) {
        snprintf(err, errlen, "ingest.files_dir is too long");
        return ERR_IO;
    }
    if (make_dir(dir) < 0 || make_dir(tmp) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return ERR_IO;
    }
    return 0;
}

int rawstore_writer_begin(const char *dir, rawstore_writer **out)
{
    rawstore_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return ERR_NOMEM;
    w->fd = -1;
    if (snprintf(w->dir, sizeof w->dir, "%s", dir) >= (int)sizeof w->dir ||
        snprintf(w->tmp, sizeof w->tmp, "%s/tmp/upload-XXXXXX", dir) >= (int)sizeof w->tmp)
        goto fail;
    if ((w->fd = mkostemp(w->tmp, O_CLOEXEC)) < 0)
        goto fail;
    if (!(w->sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL))
        goto fail;
    *out = w;
    return 0;
fail:
    rawstore_writer_abort(w);
    return ERR_IO;
}

int rawstore_writer_write(rawstore_writer *w, const void *data, size_t n)
{
    const char *p = data;
    EVP_DigestUpdate(w->sha, data, n);
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return ERR_IO;
        p += k;
        n -= (size_t)k;
        w->size += k;
    }
    return 0;
}

int64_t rawstore_writer_size(const rawstore_writer *w)
{
    return w->size;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int rawstore_writer_commit(rawstore_writer *w, char sha256[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char final[RAWSTORE_PATH_MAX];
    int rc = ERR_IO;
    EVP_DigestFinal_ex(w->sha, md, &mdlen);
    for (unsigned i = 0; i < 32 && i < mdlen; i++)
        snprintf(sha256 + 2 * i, 3, "%02x", md[i]);
    if (fsync(w->fd) < 0 || rawstore_path(w->dir, sha256, final, sizeof final) < 0)
        goto out;
    if (access(final, F_OK) == 0) {
        rc = 0; /* the same bytes are stored already */
        goto out;
    }
    if (rename(w->tmp, final) < 0)
        goto out;
    w->tmp[0] = '\0';
    sync_dir(w->dir);
    rc = 0;
out:
    rawstore_writer_abort(w);
    return rc;
}

void rawstore_writer_abort(rawstore_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp[0] && !strstr(w->tmp, "XXXXXX"))
        unlink(w->tmp);
    EVP_MD_CTX_free(w->sha);
    free(w);
}

int rawstore_path(const char *dir, const char *sha256, char *out, size_t outlen)
{
    if (!sha256 || strlen(sha256) != 64 || strspn(sha256, "0123456789abcdef") != 64)
        return ERR_INVAL;
    if (snprintf(out, outlen, "%s/%s", dir, sha256) >= (int)outlen)
        return ERR_TOOBIG;
    return 0;
}
