/*
 * rawstore: the raw file store, a directory of files named by the sha256 of
 * their contents (ingest.files_dir, default data/files). An upload is
 * streamed into a temporary file in DIR/tmp while it is hashed, then fsync'd
 * and renamed to DIR/<sha256> — so a file under its final name is always
 * complete, and the same bytes uploaded twice are stored once. Files stay
 * after they are loaded (they are the record of what was loaded).
 *
 * Ownership: a rawstore_writer owns its temporary file until commit or abort;
 * freeing an uncommitted writer (rawstore_writer_abort) removes it, which is
 * what happens to an upload whose client goes away mid-body.
 */
#ifndef FERRY_INGEST_RAWSTORE_H
#define FERRY_INGEST_RAWSTORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rawstore_writer rawstore_writer;

#define RAWSTORE_PATH_MAX 4096

/* Create dir and dir/tmp if missing (mode 0750). Returns 0, or ERR_IO with a
 * reason in err. */
int rawstore_prepare(const char *dir, char *err, size_t errlen);

/* Start a new file in dir/tmp. Returns 0, ERR_IO, ERR_NOMEM. */
int rawstore_writer_begin(const char *dir, rawstore_writer **out);

/* Append n bytes (hashed as they pass). ERR_IO on a write error (disk full). */
int rawstore_writer_write(rawstore_writer *w, const void *data, size_t n);

/* Bytes written so far. */
int64_t rawstore_writer_size(const rawstore_writer *w);

/* Finish: fsync, name the file by its sha256 (hex, written to sha256), and
 * free the writer. When a file with that name exists already, the new copy is
 * dropped. Returns 0 or ERR_IO (the temporary file is removed either way). */
int rawstore_writer_commit(rawstore_writer *w, char sha256[65]);

/* Drop the temporary file and free the writer. Accepts NULL. */
void rawstore_writer_abort(rawstore_writer *w);

/* DIR/<sha256> into out. ERR_TOOBIG if it does not fit, ERR_INVAL for a sha256
 * that is not 64 lower-case hex digits. */
int rawstore_path(const char *dir, const char *sha256, char *out, size_t outlen);

#endif
