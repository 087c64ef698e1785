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
 * failure leaves the database at the previous version. A migration file must
 * therefore not contain BEGIN/COMMIT. ferry_migrations itself is created by
 * migrate (SQLite: main; PostgreSQL: ferry.ferry_migrations, creating the schema
 * "ferry" if needed), not by a migration file.
 *
 * A malformed embedded set (a bad file name, a gap in the versions, backends
 * that disagree) is a build defect: migrate_list returns none, and
 * migrate_get_status / migrate_apply fail with ERR_INTERNAL, the reason in
 * store_errmsg.
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

/* The embedded migrations for a backend, in version order (static storage; n may
 * be NULL). NULL with *n = 0 if there are none or the set is malformed. */
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
