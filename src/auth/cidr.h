/*
 * cidr: lists of IP addresses and networks ("10.0.0.0/8, 192.168.1.7, ::1,
 * fd00::/8") and matching an address against them. Used by the IP allowlist and
 * the trusted-proxy list. A list is parsed once at start-up and then only read,
 * from any thread.
 */
#ifndef FERRY_AUTH_CIDR_H
#define FERRY_AUTH_CIDR_H

#include <stddef.h>

#define CIDR_LIST_MAX 256

struct cidr {
    unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d */
    int bits;               /* prefix length over the 128-bit form */
};

struct cidr_list {
    struct cidr items[CIDR_LIST_MAX];
    size_t n;
};

/* Parse a comma- or space-separated list into *out (which it fills from empty).
 * "" gives an empty list. Returns 0, or ERR_INVAL with the offending entry named
 * in err ("not an address or network: 10.0.0.300"). */
int cidr_list_parse(const char *text, struct cidr_list *out, char *err, size_t errlen);

/* Is the address (IPv4 or IPv6 text, IPv4-mapped IPv6 allowed) in the list? An
 * unparsable address matches nothing. */
int cidr_list_contains(const struct cidr_list *list, const char *addr);

#endif
