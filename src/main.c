/*
 * main: `ferry COMMAND ...` — dispatches to the command groups in src/cli.
 * The table below is also the help text: one line per command.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ferry %s (%s)\n", FERRY_VERSION, FERRY_GIT_REV);
    return CLI_OK;
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"serve", cli_serve, "serve the HTTP API (see `ferry serve --help`)"},
    {"db", cli_db, "db init | migrate | status: create the database, apply or list migrations"},
    {"config", cli_config,
     "config show: the effective configuration and where each value came from"},
    {"client", cli_client,
     "client add | list | remove | rotate | disable | enable: Hawk API clients"},
    {"request", cli_request,
     "request URL: a Hawk-signed HTTP request (the seeds' hawk_api_request)"},
    {"import", cli_import, "import FILE --dataset NAME: load a CSV file into a dataset"},
    {"datasets", cli_datasets, "datasets list | show NAME: the catalog"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "show this help"},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ferry %s: a small, fast data platform in one binary\n\n"
           "usage: ferry COMMAND [ARGS] [OPTIONS]\n\ncommands:\n",
           FERRY_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-9s %s\n", commands[i].name, commands[i].summary);
    cli_print_common_options();
    printf("\nexit codes: 0 ok, 1 failure, 2 bad usage or configuration, 3 database not ready\n");
    return CLI_OK;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "help";
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    if (strcmp(name, "--version") == 0)
        name = "version";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc > 1 ? argc - 2 : 0, argv + 2);
    cli_error("unknown command '%s' (see `ferry --help`)", name);
    return CLI_USAGE;
}
