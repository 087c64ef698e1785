/*
 * migrate: numbered schema migrations, embedded in the binary at build time.
 *
 * Sources live in src/store/migrations/NNNN_name.BACKEND.sql (BACKEND = sqlite |
 * pg); the build turns them into a generated table (build/gen/migrations.c).
 * Versions are dense from 1 per backend and both backends carry the same
 * versions with the same names.
 *
 * Applied migrations are recorded in ferry_migrations(version, name, applied_at).
 * Each migration runs in its own transaction together with its record, so a
 * failure leaves the database at the previous version.
 */
#ifndef FERRY_STORE_MIGRATE_H
#define FERRY_STORE_MIGRATE_H

#include <stddef.h>

#include "store/store.h"

struct migration {
    int version;
    const char *name; /* e.g. "init" */
    const char *sql;
};

/* The embedded migrations for a backend, in version order. */
const struct migration *migrate_list(enum store_backend_kind backend, size_t *n);

struct migrate_status {
    int current; /* highest applied version; 0 for an empty database */
    int latest;  /* highest embedded version */
    int pending; /* embedded versions not yet applied */
    int unknown; /* applied versions this binary does not know (a newer ferry ran) */
};

/* Read the state; works on a database where nothing was ever applied. */
int migrate_get_status(store *s, struct migrate_status *out);

/* Called after each applied migration (may be NULL). */
typedef void (*migrate_progress_fn)(const struct migration *m, void *ctx);

/* Apply every pending migration in order. Writes how many were applied to
 * *applied (if not NULL). Stops at the first failure (ERR_STORE; the database's
 * message is in store_errmsg). Refuses with ERR_CONFLICT if the database has
 * versions this binary does not know. */
int migrate_apply(store *s, int *applied, migrate_progress_fn progress, void *ctx);

#endif
