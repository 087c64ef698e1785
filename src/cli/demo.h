/*
 * demo: the demo dataset and client `ferry serve --demo` (make run) prepares,
 * and the ready-to-paste command it prints. See demo.c.
 */
#ifndef FERRY_CLI_DEMO_H
#define FERRY_CLI_DEMO_H

#include "auth/secret.h"
#include "cli/cli.h"
#include "core/buf.h"

/* Make sure the dataset "demo" and the client "demo" (scope datasets:read)
 * exist; append the client's key to key. Returns CLI_OK or a CLI_* failure
 * (reported on stderr). */
int demo_prepare(const struct cli *c, const secret_key *k, struct buf *key);

/* Print the command that fetches the demo's first page from host:port. */
void demo_print(const char *host, int port, const char *key);

#endif
