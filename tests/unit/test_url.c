/* Unit tests for src/core/url.c. */
#include <criterion/criterion.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/url.h"

static void redacts(const char *in, const char *want)
{
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(url_redact(in, &b), 0);
    cr_assert_str_eq(buf_cstr(&b), want);
    buf_free(&b);
}

Test(url, redaction)
{
    redacts("postgresql://ferry:s3cret@db.example:5432/ferry",
            "postgresql://ferry:***@db.example:5432/ferry");
    redacts("postgres://ferry@db/ferry", "postgres://ferry@db/ferry");
    redacts("postgresql://u:p@ss@host/db", "postgresql://u:***@host/db");
    redacts("postgresql://db/ferry?sslmode=require&password=hunter2&x=1#frag",
            "postgresql://db/ferry?sslmode=require&password=***&x=1#frag");
    redacts("postgresql://u:pw@h?PASSWORD=a", "postgresql://u:***@h?PASSWORD=***");
    redacts("postgresql://host", "postgresql://host");
    redacts("sqlite:data/ferry.db", "sqlite:data/ferry.db");
    redacts("data/ferry.db", "data/ferry.db");
    struct buf small;
    buf_init(&small, 8);
    cr_assert_eq(url_redact("postgresql://u:p@h/db", &small), ERR_TOOBIG);
    cr_assert_eq(small.len, 0);
    buf_free(&small);
}
