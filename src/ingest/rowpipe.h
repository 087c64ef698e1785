/*
 * rowpipe: hand rows of typed values from a producer thread (reading and
 * converting a CSV file) to the calling thread (feeding the database), so
 * that parsing and loading run at the same time on two cores.
 *
 * Rows travel in batches (up to ROWPIPE_BATCH_ROWS rows or ROWPIPE_BATCH_BYTES
 * of text each); a fixed set of ROWPIPE_BATCHES batches circulates between the
 * two threads, so memory is bounded by the batch sizes plus the largest row,
 * never by the file. Text and blob bytes are copied into the batch by
 * rowpipe_put, so the producer's buffers may be reused at once.
 *
 * Life:
 *   rowpipe_start       starts the producer thread running fn(ctx, pipe)
 *   (producer)          rowpipe_put per row; returning from fn ends the stream
 *   (consumer)          rowpipe_next until it returns 0 (end) or <0 (fn's error)
 *   rowpipe_stop        (optional) the consumer gives up: the producer's next
 *                       rowpipe_put fails with ERR_UNAVAILABLE
 *   rowpipe_finish      joins the producer and frees everything; returns fn's
 *                       result
 *
 * The producer thread starts with every signal blocked.
 */
#ifndef FERRY_INGEST_ROWPIPE_H
#define FERRY_INGEST_ROWPIPE_H

#include <stddef.h>

#include "store/store.h"

typedef struct rowpipe rowpipe;

#define ROWPIPE_BATCH_ROWS  2048
#define ROWPIPE_BATCH_BYTES (512u << 10)
#define ROWPIPE_BATCHES     4

/* Runs in the producer thread; returns 0 or an ERR_* code. */
typedef int (*rowpipe_produce_fn)(void *ctx, rowpipe *p);

/* Start: rows of ncols values; max_row_bytes bounds the text of one row (a
 * larger row makes rowpipe_put fail with ERR_TOOBIG). Returns 0 or ERR_NOMEM
 * (no thread was started). */
int rowpipe_start(size_t ncols, size_t max_row_bytes, rowpipe_produce_fn fn, void *ctx,
                  rowpipe **out);

/* Producer: queue one row (ncols values, borrowed for the call). Blocks while
 * every batch is full. Returns 0, ERR_UNAVAILABLE after rowpipe_stop, or
 * ERR_TOOBIG. */
int rowpipe_put(rowpipe *p, const struct store_value *vals);

/* Consumer: the next row (ncols values, valid until the next call). Returns 1,
 * 0 at the end of the stream, or the producer's error (<0). */
int rowpipe_next(rowpipe *p, const struct store_value **row);

/* Consumer: stop early (for instance when the database refused a row). */
void rowpipe_stop(rowpipe *p);

/* Join the producer and free the pipe. Returns the producer's result. Accepts
 * NULL (returns 0). */
int rowpipe_finish(rowpipe *p);

#endif
