/*
 * url: redacting secrets from URLs before they are shown or logged. One
 * function, used by config show, the CLI and the logs.
 */
#include "core/url.h"

#include <string.h>
#include <strings.h>

#include "core/err.h"

/* Is this query parameter one whose value must be hidden? */
static int secret_param(const char *key, size_t n)
{
    static const char *const names[] = {"password", "sslpassword", "pass", "pwd"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(key, names[i], n) == 0)
            return 1;
    return 0;
}

/* Append a query string (from '?' up to '#' or the end) with secret values hidden. */
static int redact_query(const char *q, size_t n, struct buf *out)
{
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && q[end] != '&')
            end++;
        const char *eq = memchr(q + i, '=', end - i);
        int rc;
        if (eq && secret_param(q + i, (size_t)(eq - (q + i)))) {
            rc = buf_append(out, q + i, (size_t)(eq - (q + i)) + 1);
            if (rc == 0)
                rc = buf_puts(out, "***");
        } else {
            rc = buf_append(out, q + i, end - i);
        }
        if (rc == 0 && end < n)
            rc = buf_putc(out, '&');
        if (rc < 0)
            return rc;
        i = end + 1;
    }
    return 0;
}

int url_redact(const char *url, struct buf *out)
{
    if (!url || !out)
        return ERR_INVAL;
    size_t start = out->len;
    int rc;
    const char *sep = strstr(url, "://");
    if (!sep) {
        rc = buf_puts(out, url); /* a path: nothing secret */
        goto out;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i; /* the last '@' ends the user info */
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon) {
        rc = buf_append(out, url, (size_t)(colon + 1 - url));
        if (rc == 0)
            rc = buf_puts(out, "***");
        if (rc == 0)
            rc = buf_append(out, at, (size_t)(auth + alen - at));
    } else {
        rc = buf_append(out, url, (size_t)(auth + alen - url));
    }
    if (rc < 0)
        goto out;
    const char *rest = auth + alen;
    size_t plen = strcspn(rest, "?#");
    rc = buf_append(out, rest, plen);
    if (rc < 0)
        goto out;
    rest += plen;
    if (*rest == '?') {
        size_t qlen = strcspn(rest + 1, "#");
        rc = buf_putc(out, '?');
        if (rc == 0)
            rc = redact_query(rest + 1, qlen, out);
        if (rc < 0)
            goto out;
        rest += 1 + qlen;
    }
    rc = buf_puts(out, rest); /* the fragment */
out:
    if (rc < 0)
        buf_truncate(out, start);
    return rc;
}
