/*
 * rowpipe: see rowpipe.h. Two queues of batch indexes under one mutex: free
 * batches (the producer fills them) and full ones (the consumer drains them, in
 * order). While a batch fills, its text values hold offsets into the batch's
 * text buffer (which may move as it grows); they become pointers when the
 * batch is handed over.
 */
#include "ingest/rowpipe.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct batch {
    size_t nrows;
    struct store_value *vals; /* ROWPIPE_BATCH_ROWS * ncols */
    size_t *off;              /* text offset of each text/blob value while filling */
    char *text;
    size_t used, cap;
};

struct queue {
    int item[ROWPIPE_BATCHES];
    size_t head, count;
};

struct rowpipe {
    size_t ncols, max_row;
    rowpipe_produce_fn fn;
    void *ctx;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch batches[ROWPIPE_BATCHES];
    struct queue freeq, fullq;
    int done, stopped, result;
    int fill;  /* producer's batch, -1 when none */
    int drain; /* consumer's batch, -1 when none */
    size_t drain_pos;
};

static void q_push(struct queue *q, int b)
{
    q->item[(q->head + q->count) % ROWPIPE_BATCHES] = b;
    q->count++;
}

static int q_pop(struct queue *q)
{
    int b = q->item[q->head];
    q->head = (q->head + 1) % ROWPIPE_BATCHES;
    q->count--;
    return b;
}

/* ---- producer --------------------------------------------------------------------- */

static int is_bytes(const struct store_value *v)
{
    return v->type == STORE_TEXT || v->type == STORE_BLOB;
}

/* Give the filled batch to the consumer, its offsets turned into pointers. */
static void hand_over(rowpipe *p)
{
    struct batch *b = &p->batches[p->fill];
    size_t n = b->nrows * p->ncols;
    for (size_t i = 0; i < n; i++)
        if (is_bytes(&b->vals[i]))
            b->vals[i].v.s.p = b->text + b->off[i];
    pthread_mutex_lock(&p->mu);
    q_push(&p->fullq, p->fill);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    p->fill = -1;
}

static int take_free(rowpipe *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->freeq.count == 0 && !p->stopped)
        pthread_cond_wait(&p->cv, &p->mu);
    int stopped = p->stopped;
    if (!stopped)
        p->fill = q_pop(&p->freeq);
    pthread_mutex_unlock(&p->mu);
    if (stopped)
        return ERR_UNAVAILABLE;
    struct batch *b = &p->batches[p->fill];
    b->nrows = 0;
    b->used = 0;
    if (b->cap > ROWPIPE_BATCH_BYTES) { /* a huge row grew it: back to the usual size */
        char *t = realloc(b->text, ROWPIPE_BATCH_BYTES);
        if (t) {
            b->text = t;
            b->cap = ROWPIPE_BATCH_BYTES;
        }
    }
    return 0;
}

int rowpipe_put(rowpipe *p, const struct store_value *vals)
{
    size_t need = 0;
    for (size_t i = 0; i < p->ncols; i++)
        if (is_bytes(&vals[i]))
            need += vals[i].v.s.n;
    if (need > p->max_row)
        return ERR_TOOBIG;
    if (p->fill >= 0) {
        struct batch *b = &p->batches[p->fill];
        if (b->nrows == ROWPIPE_BATCH_ROWS ||
            (b->nrows > 0 && b->used + need > ROWPIPE_BATCH_BYTES))
            hand_over(p);
    }
    int rc;
    if (p->fill < 0 && (rc = take_free(p)) < 0)
        return rc;
    struct batch *b = &p->batches[p->fill];
    if (b->used + need > b->cap) { /* one row bigger than a batch's text */
        char *t = realloc(b->text, b->used + need);
        if (!t)
            return ERR_NOMEM;
        b->text = t;
        b->cap = b->used + need;
    }
    struct store_value *row = &b->vals[b->nrows * p->ncols];
    size_t *off = &b->off[b->nrows * p->ncols];
    for (size_t i = 0; i < p->ncols; i++) {
        row[i] = vals[i];
        if (!is_bytes(&vals[i]))
            continue;
        if (vals[i].v.s.n)
            memcpy(b->text + b->used, vals[i].v.s.p, vals[i].v.s.n);
        off[i] = b->used;
        b->used += vals[i].v.s.n;
    }
    b->nrows++;
    return 0;
}

static void *producer_main(void *arg)
{
    rowpipe *p = arg;
    int rc = p->fn(p->ctx, p);
    if (rc == 0 && p->fill >= 0 && p->batches[p->fill].nrows > 0)
        hand_over(p);
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    p->result = rc;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- consumer --------------------------------------------------------------------- */

int rowpipe_next(rowpipe *p, const struct store_value **row)
{
    if (p->drain >= 0 && p->drain_pos < p->batches[p->drain].nrows) {
        *row = &p->batches[p->drain].vals[p->drain_pos++ * p->ncols];
        return 1;
    }
    pthread_mutex_lock(&p->mu);
    if (p->drain >= 0) {
        q_push(&p->freeq, p->drain);
        p->drain = -1;
        pthread_cond_broadcast(&p->cv);
    }
    while (p->fullq.count == 0 && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    int rc = 0;
    if (p->fullq.count > 0) {
        p->drain = q_pop(&p->fullq);
        p->drain_pos = 1;
        *row = &p->batches[p->drain].vals[0];
        rc = 1;
    } else if (p->result < 0) {
        rc = p->result;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void rowpipe_stop(rowpipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopped = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- life ------------------------------------------------------------------------- */

static void free_batches(rowpipe *p)
{
    for (int i = 0; i < ROWPIPE_BATCHES; i++) {
        free(p->batches[i].vals);
        free(p->batches[i].off);
        free(p->batches[i].text);
    }
}

int rowpipe_start(size_t ncols, size_t max_row_bytes, rowpipe_produce_fn fn, void *ctx,
                  rowpipe **out)
{
    rowpipe *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p || ncols == 0)
        goto fail;
    p->ncols = ncols;
    p->max_row = max_row_bytes;
    p->fn = fn;
    p->ctx = ctx;
    p->fill = p->drain = -1;
    for (int i = 0; i < ROWPIPE_BATCHES; i++) {
        struct batch *b = &p->batches[i];
        b->vals = calloc(ROWPIPE_BATCH_ROWS * ncols, sizeof *b->vals);
        b->off = calloc(ROWPIPE_BATCH_ROWS * ncols, sizeof *b->off);
        b->text = malloc(ROWPIPE_BATCH_BYTES);
        b->cap = ROWPIPE_BATCH_BYTES;
        if (!b->vals || !b->off || !b->text)
            goto fail;
        q_push(&p->freeq, i);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&p->thread, NULL, producer_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        goto fail;
    }
    p->started = 1;
    *out = p;
    return 0;
fail:
    if (p)
        free_batches(p);
    free(p);
    return ERR_NOMEM;
}

int rowpipe_finish(rowpipe *p)
{
    if (!p)
        return 0;
    rowpipe_stop(p); /* a producer still filling gives up instead of waiting */
    pthread_join(p->thread, NULL);
    int rc = p->result;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free_batches(p);
    free(p);
    return rc;
}
