/*
 * cli: the command-line front end. main.c dispatches `ferry COMMAND ...` to one
 * cli_* function per command group (serve.c, db.c, config_cmd.c); this header
 * also holds what they share: exit codes, option parsing and start-up (config
 * layers, logging, opening the database).
 *
 * Output: results for people go to stdout as plain lines; errors go to stderr as
 * one line "ferry: ..."; logs (serve) are JSON lines on stderr.
 */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

/* Exit codes (documented in the README). */
enum cli_exit {
    CLI_OK = 0,        /* success */
    CLI_FAIL = 1,      /* runtime failure: database unreachable, port in use, migration failed */
    CLI_USAGE = 2,     /* bad command line or bad configuration */
    CLI_NOT_READY = 3, /* database missing, or its schema not at this binary's version */
};

/* A command's own option. Either value (takes an argument) or flag (a switch). */
struct cli_opt {
    const char *name;   /* "--migrate" */
    const char **value; /* OUT: the argument, for options that take one */
    int *flag;          /* OUT: set to 1 when present, for switches */
    const char *help;
};

struct cli {
    config *cfg;
    char **args; /* positional arguments (borrowed from argv) */
    size_t nargs;
};

/* Parse argv (the words after the command), load the config layers (ferry.yml
 * from --config or FERRY_CONFIG, .env, the environment, then config flags such as
 * --port) and set the log level. Accepts `--name value` and `--name=value`.
 * On error prints one line to stderr and returns CLI_USAGE; on success fills
 * *out (free with cli_free) and returns CLI_OK. `usage` is printed for --help
 * (then the return is -1: the caller exits 0). */
int cli_setup(int argc, char **argv, const struct cli_opt *opts, size_t nopts, size_t max_args,
              const char *usage, struct cli *out);
void cli_free(struct cli *c);

/* cli_open_store, then require this binary's schema version: a missing
 * database, pending migrations or a newer schema print what to do and return
 * CLI_NOT_READY. */
int cli_open_ready_store(const struct cli *c, store **out);

/* Print "ferry: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open one connection to the configured database. With create, a missing SQLite
 * database is created. Prints the reason and returns CLI_NOT_READY (missing
 * database) or CLI_FAIL; CLI_OK on success. */
int cli_open_store(const struct cli *c, int create, store **out);

/* After cli_open_store said CLI_NOT_READY (no such database): print how to create
 * it. SQLite: sqlite_hint (e.g. "run `ferry db init` to create it"). PostgreSQL:
 * ferry creates its schemas and tables but not the database itself, so say that. */
void cli_hint_missing_database(const struct cli *c, const char *sqlite_hint);

/* The configured database URL with its password masked (for messages). Borrowed
 * from a static buffer: use it before the next call. */
const char *cli_database_display(const struct cli *c);

/* Print the options every command accepts (config flags and --config). */
void cli_print_common_options(void);

/* The commands. argc/argv exclude the program name and the command words. */
int cli_serve(int argc, char **argv);
int cli_db(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_request(int argc, char **argv);
int cli_client(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_datasets(int argc, char **argv);

#endif
