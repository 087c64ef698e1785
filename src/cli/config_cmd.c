/*
 * config_cmd: `ferry config show` — the effective configuration, each key with
 * the layer it came from, secrets masked.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char config_usage[] =
    "usage: ferry config show [OPTIONS]\n\n"
    "  show    print every setting, its value (secrets masked) and where it came from\n"
    "          (default, ferry.yml:LINE, .env:LINE, env NAME or flag --NAME)\n";

int cli_config(int argc, char **argv)
{
    struct cli c;
    int rc = cli_setup(argc, argv, NULL, 0, 1, config_usage, &c);
    if (rc < 0)
        return CLI_OK;
    if (rc != CLI_OK)
        return rc;
    if (c.nargs != 1 || strcmp(c.args[0], "show") != 0) {
        if (c.nargs == 0) {
            fputs(config_usage, stdout);
        } else {
            cli_error("unknown config command '%s' (show)", c.args[0]);
            rc = CLI_USAGE;
        }
        goto out;
    }
    struct buf b;
    buf_init(&b, 1u << 20);
    if (config_show(c.cfg, &b) == 0)
        fputs(buf_cstr(&b), stdout);
    buf_free(&b);
out:
    cli_free(&c);
    return rc;
}
