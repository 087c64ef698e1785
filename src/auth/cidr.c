/*
 * cidr: addresses are kept in 128-bit form (IPv4 mapped into ::ffff:0:0/96), so
 * one prefix comparison serves both families and "10.0.0.1" matches an
 * IPv4-mapped peer address "::ffff:10.0.0.1".
 */
#include "auth/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Parse one address into 128-bit form; *is_v4 tells the family. Returns 0 or -1. */
static int parse_addr(const char *s, size_t n, unsigned char out[16], int *is_v4)
{
    char text[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    unsigned char v4[4];
    if (inet_pton(AF_INET, text, v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, v4, 4);
        *is_v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *is_v4 = 0;
        return 0;
    }
    return -1;
}

static int parse_entry(const char *s, size_t n, struct cidr *c)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    int is_v4 = 0;
    if (parse_addr(s, alen, c->addr, &is_v4) < 0)
        return -1;
    int max = is_v4 ? 32 : 128;
    int bits = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dn = n - alen - 1;
        if (dn == 0 || dn > 3)
            return -1;
        bits = 0;
        for (size_t i = 0; i < dn; i++) {
            if (d[i] < '0' || d[i] > '9')
                return -1;
            bits = bits * 10 + (d[i] - '0');
        }
        if (bits > max)
            return -1;
    }
    c->bits = is_v4 ? bits + 96 : bits;
    return 0;
}

int cidr_list_parse(const char *text, struct cidr_list *out, char *err, size_t errlen)
{
    out->n = 0;
    const char *p = text ? text : "";
    while (*p) {
        size_t skip = strspn(p, ", \t");
        p += skip;
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        if (out->n == CIDR_LIST_MAX) {
            snprintf(err, errlen, "more than %d addresses or networks", CIDR_LIST_MAX);
            return ERR_INVAL;
        }
        if (parse_entry(p, n, &out->items[out->n]) < 0) {
            snprintf(err, errlen, "not an address or network: %.*s", n > 64 ? 64 : (int)n, p);
            return ERR_INVAL;
        }
        out->n++;
        p += n;
    }
    return 0;
}

static int prefix_match(const unsigned char a[16], const unsigned char b[16], int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int cidr_list_contains(const struct cidr_list *list, const char *addr)
{
    unsigned char a[16];
    int is_v4;
    if (!addr || parse_addr(addr, strlen(addr), a, &is_v4) < 0)
        return 0;
    for (size_t i = 0; i < list->n; i++)
        if (prefix_match(a, list->items[i].addr, list->items[i].bits))
            return 1;
    return 0;
}
