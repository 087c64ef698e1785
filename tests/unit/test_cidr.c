/* Unit tests for src/auth/cidr.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth/cidr.h"
#include "core/err.h"

static struct cidr_list list;

static void parse_ok(const char *text)
{
    char err[128] = "";
    cr_assert_eq(cidr_list_parse(text, &list, err, sizeof err), 0, "%s", err);
}

Test(cidr, ipv4_addresses_and_networks)
{
    parse_ok("10.0.0.0/8, 192.168.1.7 172.16.0.0/12");
    cr_assert_eq(list.n, 3);
    cr_assert(cidr_list_contains(&list, "10.1.2.3"));
    cr_assert(cidr_list_contains(&list, "192.168.1.7"));
    cr_assert_not(cidr_list_contains(&list, "192.168.1.8"));
    cr_assert(cidr_list_contains(&list, "172.31.255.255"));
    cr_assert_not(cidr_list_contains(&list, "172.32.0.0"));
    cr_assert(cidr_list_contains(&list, "::ffff:10.9.9.9"), "IPv4-mapped peer");
    cr_assert_not(cidr_list_contains(&list, "11.0.0.1"));
}

Test(cidr, ipv6_networks_and_odd_prefixes)
{
    parse_ok("fd00::/8,::1,2001:db8::/33");
    cr_assert(cidr_list_contains(&list, "fd12:3456::1"));
    cr_assert(cidr_list_contains(&list, "::1"));
    cr_assert_not(cidr_list_contains(&list, "::2"));
    cr_assert(cidr_list_contains(&list, "2001:db8:7fff::1"));
    cr_assert_not(cidr_list_contains(&list, "2001:db8:8000::1"));
    cr_assert_not(cidr_list_contains(&list, "10.0.0.1"));
}

Test(cidr, empty_and_everything)
{
    parse_ok("");
    cr_assert_eq(list.n, 0);
    cr_assert_not(cidr_list_contains(&list, "127.0.0.1"));
    parse_ok("0.0.0.0/0");
    cr_assert(cidr_list_contains(&list, "203.0.113.5"));
    cr_assert_not(cidr_list_contains(&list, "2001:db8::1"), "an IPv4 /0 is IPv4 only");
}

Test(cidr, bad_entries_are_named)
{
    char err[128];
    const char *bad[] = {"10.0.0.300",  "10.0.0.0/33", "::1/129",   "10.0.0.0/",
                         "10.0.0.0/8x", "example.com", "1.2.3.4/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(cidr_list_parse(bad[i], &list, err, sizeof err), ERR_INVAL, "%s", bad[i]);
        cr_assert_not_null(strstr(err, "not an address or network"), "%s", err);
    }
    cr_assert_not(cidr_list_contains(&list, "not-an-ip"));
}
