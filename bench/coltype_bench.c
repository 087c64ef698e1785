/*
 * coltype_bench: throughput of coltype_is_null + coltype_classify on a mix of
 * cells like those of a typical CSV (ids, amounts, names, dates, timestamps,
 * flags, empty cells). Run by hand, not part of the tests:
 *
 *   cc -std=c11 -O2 -Isrc -o /tmp/coltype_bench bench/coltype_bench.c \
 *      src/ingest/coltype.c src/core/err.c && /tmp/coltype_bench [cells]
 *
 * Cells are copied into one arena without NULs between them, as a CSV reader
 * hands them over; the mask of each column is ANDed like the importer does.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/coltype.h"

static const char *const MIX[] = {
    "184467",
    "-42",
    "0",
    "007",
    "1299.95",
    "-0.5",
    "3.14159265358979",
    "1e5",
    "Alice Martin",
    "Tom",
    "nantes",
    "alice@example.com",
    "2024-02-29",
    "2024-02-30",
    "2024-01-31 10:20:30",
    "2024-01-31T10:20:30.123456Z",
    "2024-12-31T22:00:00-05:00",
    "true",
    "N",
    "no",
    "",
    "NULL",
    "N/A",
    "9223372036854775808",
    "FR-75001",
    "Lorem ipsum dolor sit amet, consectetur",
    "+33 1 23 45 67 89",
    "12:30",
    "1; DROP TABLE x",
    "hello world",
    "\xc3\xa9t\xc3\xa9",
    "42.0",
};
#define NMIX (sizeof MIX / sizeof MIX[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t ncells = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000000;
    size_t ncols = NMIX;
    /* One row = every MIX cell once, in a shuffled order per row block. */
    size_t total = 0;
    for (size_t i = 0; i < NMIX; i++)
        total += strlen(MIX[i]);
    size_t rows_in_arena = 4096;
    char *arena = malloc(total * rows_in_arena);
    size_t *off = malloc(sizeof *off * (NMIX * rows_in_arena + 1));
    if (!arena || !off)
        return 1;
    size_t o = 0, k = 0;
    unsigned seed = 12345;
    for (size_t r = 0; r < rows_in_arena; r++) {
        for (size_t c = 0; c < NMIX; c++) {
            seed = seed * 1103515245u + 12345u;
            const char *s = MIX[(c + (seed >> 16) % 3) % NMIX];
            size_t n = strlen(s);
            off[k++] = o;
            memcpy(arena + o, s, n);
            o += n;
        }
    }
    off[k] = o;
    size_t arena_cells = k;

    unsigned mask[NMIX];
    for (size_t c = 0; c < ncols; c++)
        mask[c] = COLTYPE_ALL;
    size_t bytes = 0, nulls = 0;
    double t0 = now();
    for (size_t i = 0; i < ncells; i++) {
        size_t j = i % arena_cells;
        const char *p = arena + off[j];
        size_t n = off[j + 1] - off[j];
        bytes += n;
        if (coltype_is_null(p, n)) {
            nulls++;
            continue;
        }
        mask[j % ncols] &= coltype_classify(p, n);
    }
    double dt = now() - t0;
    unsigned all = 0;
    for (size_t c = 0; c < ncols; c++)
        all |= mask[c];
    printf("%zu cells (%zu NULL), %.1f MB in %.3f s: %.1f M cells/s, %.0f MB/s (masks %#x)\n",
           ncells, nulls, (double)bytes / 1e6, dt, (double)ncells / dt / 1e6,
           (double)bytes / dt / 1e6, all);
    free(arena);
    free(off);
    return 0;
}
