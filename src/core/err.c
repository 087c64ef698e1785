/*
 * err: lookups generated from ERR_MAP in err.h. Nothing here is written by hand
 * per code; adding an error means adding one line to the list.
 */
#include "core/err.h"

struct err_info {
    const char *name;
    int status;
    const char *code;
    const char *msg;
};

static const struct err_info err_table[ERR__COUNT] = {[0] = {"OK", 200, "ok", "success"},
#define ERR_ROW_(name, status, code, msg) [ERR__POS_##name] = {#name, status, code, msg},
                                                      ERR_MAP(ERR_ROW_)
#undef ERR_ROW_
};

static const struct err_info err_unknown = {"UNKNOWN", 500, "internal", "unknown error"};

static const struct err_info *err_lookup(int err)
{
    if (err > 0 || err <= -ERR__COUNT)
        return &err_unknown;
    return &err_table[-err];
}

const char *err_name(int err)
{
    return err_lookup(err)->name;
}

const char *err_str(int err)
{
    return err_lookup(err)->msg;
}

const char *err_code(int err)
{
    return err_lookup(err)->code;
}

int err_http_status(int err)
{
    return err_lookup(err)->status;
}
