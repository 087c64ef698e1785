/*
 * router: matching a raw path against the route table, segment by segment.
 *
 * The table is small (tens of routes) and matching walks it linearly: a few
 * hundred byte comparisons per request, no allocation. Specificity (literal
 * segments beat parameters) is decided by counting literal segments of each
 * candidate that matched.
 */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static const char *const known_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

static int is_known_method(const char *m)
{
    for (size_t i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++)
        if (strcmp(m, known_methods[i]) == 0)
            return 1;
    return 0;
}

/* The segment of s starting at *pos (after a '/'): writes its start and length and
 * moves *pos past it. */
static void next_segment(const char *s, size_t *pos, const char **seg, size_t *len)
{
    size_t i = *pos;
    size_t j = i;
    while (s[j] && s[j] != '/')
        j++;
    *seg = s + i;
    *len = j - i;
    *pos = s[j] == '/' ? j + 1 : j;
}

static int is_param_segment(const char *seg, size_t len)
{
    return len >= 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/* Match path against pattern; on success fill params and return the number of
 * literal segments (>= 0); -1 when it does not match. */
static int match_pattern(const char *pattern, const char *path, struct route_match *m)
{
    size_t pp = 1, ph = 1; /* both start with '/' */
    int literals = 0;
    m->nparams = 0;
    if (path[0] != '/')
        return -1;
    for (;;) {
        const char *ps, *hs;
        size_t pl, hl;
        int pat_last = strchr(pattern + pp, '/') == NULL;
        int path_last = strchr(path + ph, '/') == NULL;
        next_segment(pattern, &pp, &ps, &pl);
        next_segment(path, &ph, &hs, &hl);
        if (is_param_segment(ps, pl)) {
            if (hl == 0 || m->nparams == ROUTER_MAX_PARAMS)
                return -1;
            struct route_param *p = &m->params[m->nparams++];
            p->name = ps + 1;
            p->name_len = pl - 2;
            p->value = hs;
            p->value_len = hl;
        } else {
            if (pl != hl || memcmp(ps, hs, pl) != 0)
                return -1;
            literals++;
        }
        if (pat_last || path_last) {
            if (pat_last != path_last)
                return -1;
            return literals;
        }
    }
}

static int method_matches(const char *route_method, const char *method)
{
    if (strcmp(route_method, method) == 0)
        return 1;
    return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

/* Is method already one of the ", "-separated entries of allow? */
static int allow_has(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += n)
        if ((p == allow || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

static void allow_add(char *allow, size_t allow_len, const char *method)
{
    if (!allow || allow_len == 0 || allow_has(allow, method))
        return;
    size_t used = strlen(allow);
    snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", method);
}

int router_match(const struct route *routes, size_t n, const char *method, const char *path,
                 struct route_match *m, char *allow, size_t allow_len)
{
    int best = -1;
    int path_matched = 0;
    struct route_match cand;
    if (allow && allow_len)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int lit = match_pattern(routes[i].pattern, path, &cand);
        if (lit < 0)
            continue;
        path_matched = 1;
        if (!method_matches(routes[i].method, method)) {
            allow_add(allow, allow_len, routes[i].method);
            if (strcmp(routes[i].method, "GET") == 0)
                allow_add(allow, allow_len, "HEAD");
            continue;
        }
        if (lit > best) {
            best = lit;
            *m = cand;
            m->route = &routes[i];
            m->index = i;
        }
    }
    if (best >= 0)
        return 0;
    return path_matched ? ERR_METHOD : ERR_NOTFOUND;
}

/* ---- validation --------------------------------------------------------------------- */

static int is_ident(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static int is_literal_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Check one pattern; on failure write the reason to why. */
static int validate_pattern(const char *pat, char *why, size_t why_len)
{
    if (pat[0] != '/') {
        snprintf(why, why_len, "must start with '/'");
        return -1;
    }
    const char *names[ROUTER_MAX_PARAMS];
    size_t name_lens[ROUTER_MAX_PARAMS];
    size_t nparams = 0, nseg = 0, pos = 1;
    while (pat[pos]) {
        const char *seg;
        size_t len;
        next_segment(pat, &pos, &seg, &len);
        if (len == 0 || ++nseg > ROUTER_MAX_SEGMENTS) {
            snprintf(why, why_len, len == 0 ? "empty segment" : "too many segments");
            return -1;
        }
        if (!memchr(seg, '{', len) && !memchr(seg, '}', len)) {
            for (size_t k = 0; k < len; k++)
                if (!is_literal_char(seg[k])) {
                    snprintf(why, why_len, "character '%c' not allowed in a literal segment",
                             seg[k]);
                    return -1;
                }
            continue;
        }
        if (!is_param_segment(seg, len) || !is_ident(seg + 1, len - 2)) {
            snprintf(why, why_len, "a parameter must be a whole segment {identifier}");
            return -1;
        }
        for (size_t k = 0; k < nparams; k++)
            if (name_lens[k] == len - 2 && memcmp(names[k], seg + 1, len - 2) == 0) {
                snprintf(why, why_len, "parameter {%.*s} appears twice", (int)len - 2, seg + 1);
                return -1;
            }
        if (nparams == ROUTER_MAX_PARAMS) {
            snprintf(why, why_len, "too many parameters");
            return -1;
        }
        names[nparams] = seg + 1;
        name_lens[nparams++] = len - 2;
    }
    return 0;
}

/* Do two valid patterns have the same shape (equal but for parameter names)? */
static int same_shape(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a == '{' && *b == '{') {
            a = strchr(a, '}') + 1;
            b = strchr(b, '}') + 1;
            continue;
        }
        if (*a++ != *b++)
            return 0;
    }
    return *a == *b;
}

int router_validate(const struct route *routes, size_t n, char *errbuf, size_t errlen)
{
    char why[128];
    for (size_t i = 0; i < n; i++) {
        const struct route *r = &routes[i];
        const char *pat = r->pattern ? r->pattern : "(null)";
        if (!r->method || !is_known_method(r->method)) {
            snprintf(errbuf, errlen, "route %zu %s: unknown method", i, pat);
            return ERR_INVAL;
        }
        if (!r->pattern || validate_pattern(r->pattern, why, sizeof why) < 0) {
            snprintf(errbuf, errlen, "route %zu %s %s: %s", i, r->method, pat,
                     r->pattern ? why : "no pattern");
            return ERR_INVAL;
        }
        if (!r->handler || !r->name || !r->name[0]) {
            snprintf(errbuf, errlen, "route %zu %s %s: needs a handler and a name", i, r->method,
                     pat);
            return ERR_INVAL;
        }
        if (r->body_limit && !(r->flags & ROUTE_BODY)) {
            snprintf(errbuf, errlen, "route %zu %s %s: body limit without ROUTE_BODY", i, r->method,
                     pat);
            return ERR_INVAL;
        }
        if ((r->flags & ROUTE_STREAM) && !(r->flags & ROUTE_BODY)) {
            snprintf(errbuf, errlen, "route %zu %s %s: ROUTE_STREAM without ROUTE_BODY", i,
                     r->method, pat);
            return ERR_INVAL;
        }
        if ((r->flags & ROUTE_ANON) && (r->flags & ROUTE_PUBLIC)) {
            snprintf(errbuf, errlen, "route %zu %s %s: ROUTE_ANON on a public route", i, r->method,
                     pat);
            return ERR_INVAL;
        }
        if (!(r->flags & ROUTE_STREAM) != !r->sink) {
            snprintf(errbuf, errlen, "route %zu %s %s: %s", i, r->method, pat,
                     r->sink ? "a sink without ROUTE_STREAM" : "ROUTE_STREAM without a sink");
            return ERR_INVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(routes[j].method, r->method) == 0 &&
                same_shape(routes[j].pattern, r->pattern)) {
                snprintf(errbuf, errlen, "route %zu %s %s: same as route %zu %s", i, r->method, pat,
                         j, routes[j].pattern);
                return ERR_INVAL;
            }
        }
    }
    return 0;
}
