/*
 * fuzz_hawk: arbitrary bytes through the Hawk server paths. The first byte picks
 * the split: the rest of the input is the Authorization header for
 * hawk_parse_header and hawk_authenticate, and, cut at the first byte's value
 * (modulo the length), a Host header and a request target for hawk_parse_host
 * and hawk_authenticate_bewit. One fixed credential is known. Nothing may crash,
 * read out of bounds or leak, and every result must be a well-formed verdict.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/hawk.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char KEY[] = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";

static int lookup(void *ctx, const char *id, size_t id_len, struct hawk_credentials *out)
{
    (void)ctx;
    if (id_len != 12 || memcmp(id, "dh37fgj492je", 12) != 0)
        return ERR_NOTFOUND;
    out->id = "dh37fgj492je";
    out->key = KEY;
    out->key_len = sizeof KEY - 1;
    out->alg = HAWK_SHA256;
    return 0;
}

static int nonce_ok(void *ctx, const char *id, const char *nonce, const char *ts)
{
    (void)ctx;
    /* The strings must be readable to their NUL. */
    return (strlen(id) + strlen(nonce) + strlen(ts)) % 7 == 0 ? ERR_CONFLICT : 0;
}

static void check(const struct hawk_result *r)
{
    if (r->ok)
        return;
    if (r->status != 400 && r->status != 401 && r->status != 500 && r->status != 503)
        abort();
    if (r->status == 400 && r->www_authenticate[0])
        abort();
    if (r->status == 401 && strncmp(r->www_authenticate, "Hawk", 4) != 0)
        abort();
}

static struct hawk_artifacts art;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = size - 1;
    char *s = malloc(n + 1);
    memcpy(s, data + 1, n);
    s[n] = '\0';

    /* The Authorization header. */
    struct hawk_header h;
    struct hawk_result res;
    int rc = hawk_parse_header(s, &h, &res);
    if (rc == 0 && h.id.p && (h.id.p < s || h.id.p + h.id.n > s + n))
        abort();
    check(&res);
    struct hawk_request req = {.method = (data[0] & 1) ? "POST" : "GET",
                               .resource = "/resource/1?b=1&a=2",
                               .host = "example.com",
                               .port = "8000",
                               .authorization = s,
                               .content_type = "application/json",
                               .payload = s,
                               .payload_len = n,
                               .check_payload = data[0] & 2};
    hawk_authenticate(&req, 1353832234500LL, 60, lookup, NULL, (data[0] & 4) ? nonce_ok : NULL,
                      NULL, &res, &art, NULL);
    check(&res);

    /* Host header and bewit target, split at data[0] (bytes after a NUL are unused). */
    size_t cut = n ? data[0] % (n + 1) : 0;
    char *host_header = malloc(cut + 1);
    memcpy(host_header, s, cut);
    host_header[cut] = '\0';
    char host[256], port[16];
    int hok = hawk_parse_host(host_header, data[0] & 8, host, sizeof host, port, sizeof port) == 0;
    struct hawk_request breq = {.method = (data[0] & 16) ? "HEAD" : "GET",
                                .resource = s + cut,
                                .host = hok ? host : "example.com",
                                .port = hok ? port : "8080",
                                .authorization = (data[0] & 32) ? "Hawk" : NULL};
    hawk_authenticate_bewit(&breq, 1353832234500LL, lookup, NULL, &res, &art);
    check(&res);
    (void)hawk_has_bewit(s + cut);

    free(host_header);
    free(s);
    return 0;
}
