/*
 * Unit tests for src/core/err.c: every code in ERR_MAP has a name, a message, a
 * JSON code and an HTTP error status; ERR_OK and unknown codes have fixed answers.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "core/err.h"

Test(err, every_code_is_described)
{
    int count = 0;
    for (int e = -1; e > -ERR__COUNT; e--) {
        cr_assert_str_neq(err_name(e), "UNKNOWN", "code %d", e);
        cr_assert_str_neq(err_name(e), "OK", "code %d", e);
        cr_assert_not_null(err_str(e));
        cr_assert_gt(strlen(err_str(e)), 0, "code %d", e);
        cr_assert_not_null(err_code(e));
        cr_assert_gt(strlen(err_code(e)), 0, "code %d", e);
        cr_assert_geq(err_http_status(e), 400, "%s", err_name(e));
        cr_assert_leq(err_http_status(e), 599, "%s", err_name(e));
        for (const char *c = err_code(e); *c; c++)
            cr_assert((*c >= 'a' && *c <= 'z') || *c == '_', "code string %s", err_code(e));
        count++;
    }
    cr_assert_eq(count, ERR__COUNT - 1);
}

Test(err, names_are_unique)
{
    for (int a = -1; a > -ERR__COUNT; a--)
        for (int b = a - 1; b > -ERR__COUNT; b--)
            cr_assert_str_neq(err_name(a), err_name(b));
}

Test(err, known_codes)
{
    cr_assert_str_eq(err_name(ERR_NOTFOUND), "NOTFOUND");
    cr_assert_str_eq(err_code(ERR_NOTFOUND), "not_found");
    cr_assert_str_eq(err_str(ERR_NOTFOUND), "not found");
    cr_assert_eq(err_http_status(ERR_NOTFOUND), 404);
    cr_assert_eq(err_http_status(ERR_TOOBIG), 413);
    cr_assert_eq(err_http_status(ERR_INVAL), 400);
    cr_assert_eq(err_http_status(ERR_UNPROCESSABLE), 422);
    cr_assert_str_eq(err_name(ERR_NOMEM), "NOMEM");
    cr_assert_eq(ERR_NOMEM, -1);
    cr_assert_str_eq(err_name(ERR_UNSUPPORTED), "UNSUPPORTED");
    cr_assert_eq(ERR_UNSUPPORTED, -(ERR__COUNT - 1), "the last code in the list");
}

Test(err, ok)
{
    cr_assert_eq(ERR_OK, 0);
    cr_assert_str_eq(err_name(ERR_OK), "OK");
    cr_assert_eq(err_http_status(ERR_OK), 200);
    cr_assert_not_null(err_str(ERR_OK));
    cr_assert_not_null(err_code(ERR_OK));
}

Test(err, unknown_codes)
{
    const int unknown[] = {1, 42, -ERR__COUNT, -ERR__COUNT - 1, -100000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int e = unknown[i];
        cr_assert_str_eq(err_name(e), "UNKNOWN", "code %d", e);
        cr_assert_eq(err_http_status(e), 500, "code %d", e);
        cr_assert_not_null(err_str(e));
        cr_assert_gt(strlen(err_str(e)), 0);
        cr_assert_str_eq(err_code(e), "internal");
    }
}
