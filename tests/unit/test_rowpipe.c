/* Unit tests for src/ingest/rowpipe.c: rows arrive in order and intact across
 * batch boundaries (by count and by bytes, a row bigger than a batch), the
 * producer's buffers may be reused at once, errors travel both ways. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "ingest/rowpipe.h"

struct job {
    int rows;
    size_t big_every; /* every Nth row carries a text bigger than a batch (0: none) */
    int fail_at;      /* return ERR_IO after this many rows (0: never) */
    int put_rc;       /* what the last rowpipe_put said */
};

static char bigtext[ROWPIPE_BATCH_BYTES + 1000];

static int produce(void *ctx, rowpipe *p)
{
    struct job *j = ctx;
    char text[64];
    for (int i = 0; i < j->rows; i++) {
        if (j->fail_at && i == j->fail_at)
            return ERR_IO;
        snprintf(text, sizeof text, "row %d", i);
        int big = j->big_every && i % (int)j->big_every == 0;
        struct store_value v[4] = {
            SV_INT(i),
            SV_TEXTN(text, strlen(text)),
            big ? SV_TEXTN(bigtext, sizeof bigtext) : SV_NULL(),
            SV_DOUBLE(i / 2.0),
        };
        j->put_rc = rowpipe_put(p, v);
        memset(text, 'X', sizeof text); /* the pipe copied it */
        if (j->put_rc < 0)
            return j->put_rc;
    }
    return 0;
}

static void check_all(struct job *j)
{
    rowpipe *p = NULL;
    cr_assert_eq(rowpipe_start(4, sizeof bigtext + 100, produce, j, &p), 0);
    const struct store_value *row;
    int n = 0, rc;
    char want[64];
    while ((rc = rowpipe_next(p, &row)) == 1) {
        cr_assert_eq(row[0].type, STORE_INT);
        cr_assert_eq(row[0].v.i, n);
        snprintf(want, sizeof want, "row %d", n);
        cr_assert_eq(row[1].v.s.n, strlen(want));
        cr_assert_eq(memcmp(row[1].v.s.p, want, strlen(want)), 0, "row %d", n);
        int big = j->big_every && n % (int)j->big_every == 0;
        if (big) {
            cr_assert_eq(row[2].type, STORE_TEXT);
            cr_assert_eq(row[2].v.s.n, sizeof bigtext);
            cr_assert_eq(memcmp(row[2].v.s.p, bigtext, sizeof bigtext), 0);
        } else {
            cr_assert_eq(row[2].type, STORE_NULL);
        }
        cr_assert_float_eq(row[3].v.d, n / 2.0, 1e-9);
        n++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, j->rows);
    cr_assert_eq(rowpipe_finish(p), 0);
}

Test(rowpipe, rows_arrive_in_order_across_batches)
{
    struct job j = {.rows = ROWPIPE_BATCH_ROWS * ROWPIPE_BATCHES * 3 + 17};
    check_all(&j);
}

Test(rowpipe, rows_bigger_than_a_batch_pass_whole)
{
    memset(bigtext, 'b', sizeof bigtext);
    bigtext[0] = 'B';
    struct job j = {.rows = 5000, .big_every = 997};
    check_all(&j);
}

Test(rowpipe, an_empty_stream_ends_at_once)
{
    struct job j = {.rows = 0};
    check_all(&j);
}

Test(rowpipe, the_producers_error_reaches_the_consumer_after_its_rows)
{
    struct job j = {.rows = 100000, .fail_at = 5000};
    rowpipe *p = NULL;
    cr_assert_eq(rowpipe_start(4, 1 << 20, produce, &j, &p), 0);
    const struct store_value *row;
    int n = 0, rc;
    while ((rc = rowpipe_next(p, &row)) == 1)
        n++;
    cr_assert_eq(rc, ERR_IO);
    cr_assert_leq(n, 5000);
    cr_assert_eq(rowpipe_finish(p), ERR_IO);
}

Test(rowpipe, a_consumer_that_stops_early_stops_the_producer)
{
    struct job j = {.rows = 1000000};
    rowpipe *p = NULL;
    cr_assert_eq(rowpipe_start(4, 1 << 20, produce, &j, &p), 0);
    const struct store_value *row;
    for (int i = 0; i < 10; i++)
        cr_assert_eq(rowpipe_next(p, &row), 1);
    rowpipe_stop(p);
    cr_assert_eq(rowpipe_finish(p), ERR_UNAVAILABLE);
    cr_assert_eq(j.put_rc, ERR_UNAVAILABLE);
}

Test(rowpipe, a_row_over_the_limit_is_refused)
{
    memset(bigtext, 'b', sizeof bigtext);
    struct job j = {.rows = 10, .big_every = 1};
    rowpipe *p = NULL;
    cr_assert_eq(rowpipe_start(4, 100, produce, &j, &p), 0);
    const struct store_value *row;
    cr_assert_eq(rowpipe_next(p, &row), ERR_TOOBIG);
    cr_assert_eq(rowpipe_finish(p), ERR_TOOBIG);
}
