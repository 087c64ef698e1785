/*
 * hawk: the Hawk HTTP authentication protocol, as the reference implementation
 * (@hapi/hawk 8.0.0) behaves — see ../shared/hawk/PROTOCOL.md, whose sections are
 * cited below. Pure functions: no I/O, no globals, no clock (the caller passes
 * now_ms), no randomness (the caller passes ts and nonce when signing). Lookups
 * the protocol needs (credentials by id, the nonce store) are callbacks.
 *
 * Server side
 *   hawk_authenticate()        verify an Authorization header (section 7)
 *   hawk_authenticate_bewit()  verify a bewit in a GET/HEAD URL (section 11.2)
 *   hawk_response_header()     the Server-Authorization header value (section 10)
 *   hawk_parse_host()          host and port from a Host header (section 6)
 * Client side (ferry request, tests)
 *   hawk_client_header()       the Authorization header value (sections 2, 3)
 *   hawk_client_verify_response()   check a Server-Authorization header
 *   hawk_bewit()               make a bewit token (section 11.1)
 * Building blocks (exposed for the vector tests)
 *   hawk_normalized(), hawk_mac(), hawk_payload_hash(), hawk_payload_normalized(),
 *   hawk_ts_mac(), hawk_parse_header()
 *
 * Every verification result is a struct hawk_result: ok, or the reference's
 * status (400/401/500; 503 for a nonce store failure), exact message and
 * WWW-Authenticate value (or none).
 *
 * Deliberate differences from the reference (each has a test citing its vector):
 *   - a ts that is not 1 to 31 ASCII digits is rejected as 401 "Stale timestamp" with
 *     ts/tsm, after the MAC and payload checks; such a request never reaches the nonce
 *     store (reference accepts ts="soon": non_numeric_ts_accepted);
 *   - dlg without app is dropped from the artifacts (dlg_added_by_attacker_without_app);
 *   - a bracketed IPv6 Host is compared without brackets (ipv6_host_mismatch);
 *   - Host ports lose their leading zeros, "0080" signs as "80", as 9.0.2 does
 *     (host_header_port_leading_zero); a port above 65535 is an invalid Host header;
 *   - bewit exp must be all digits, at most 15 significant, not 0
 *     (bewit_exp_non_numeric_valid_mac);
 *   - mohawk's padded bewits (up to two '=' or %3D) are accepted (an extension;
 *     bewit_bad_encoding_padding then reaches the MAC check);
 *   - hawk_bewit refuses an ext with characters above U+00FF or a backslash
 *     (the reference makes a bewit its own server rejects: bewit_ext_beyond_latin1);
 *   - hawk_client_header / hawk_response_header refuse an ext (or other value) with a
 *     quote, backslash, control or non-ASCII character instead of escaping it
 *     (client_refusals);
 *   - a nonce store failure is 503 "Nonce store unavailable" (fail closed);
 *   - a method longer than 15 bytes is 400 "Invalid method", a resource longer than
 *     HAWK_HEADER_MAX is 400 "Resource path exceeds max length" (artifact bounds).
 */
#ifndef FERRY_AUTH_HAWK_H
#define FERRY_AUTH_HAWK_H

#include <stddef.h>
#include <stdint.h>

#define HAWK_HEADER_MAX   4096 /* longest Authorization header / bewit resource */
#define HAWK_MAC_B64_MAX  45   /* base64 of a SHA-256 digest, with NUL */
#define HAWK_ATTR_MAX     4096
#define HAWK_MESSAGE_MAX  96
#define HAWK_WWW_AUTH_MAX 256

enum hawk_alg { HAWK_SHA256 = 0, HAWK_SHA1 = 1 };

/* Parse "sha256" / "sha1". Returns 0 or ERR_INVAL. */
int hawk_alg_parse(const char *name, enum hawk_alg *out);
const char *hawk_alg_name(enum hawk_alg alg);

struct hawk_credentials {
    const char *id;  /* borrowed */
    const char *key; /* borrowed; the shared secret (bytes, keep ASCII) */
    size_t key_len;
    enum hawk_alg alg;
};

/* The attributes of a parsed Authorization header; each points into the header
 * text or is NULL when absent (values are never empty). Not NUL-terminated:
 * each has a length. */
struct hawk_attr {
    const char *p;
    size_t n;
};
struct hawk_header {
    struct hawk_attr id, ts, nonce, hash, ext, mac, app, dlg;
};

/* What the server received, borrowed for the call. */
struct hawk_request {
    const char *method;        /* "GET" */
    const char *resource;      /* raw request target: path and query, as received */
    const char *host;          /* the host to sign (lower-cased by the protocol); NULL when
                                  the Host header was missing or invalid (hawk_parse_host
                                  failed): the result is 400 "Invalid Host header" */
    const char *port;          /* the port digits to sign (hawk_parse_host); NULL as host */
    const char *authorization; /* the header value, or NULL */
    const char *content_type;  /* the Content-Type header, or NULL */
    const void *payload;       /* the body, when the server verifies it */
    size_t payload_len;
    int check_payload; /* 1: verify the body (section 7 step 6); 0: do not */
};

/* The artifacts of an authenticated request: what hawk_response_header needs.
 * Copies (NUL-terminated), so they outlive the request strings. */
struct hawk_artifacts {
    char method[16];
    char resource[HAWK_HEADER_MAX + 1];
    char host[256];
    char port[16];
    char ts[32];
    char nonce[HAWK_ATTR_MAX + 1];
    char app[HAWK_ATTR_MAX + 1]; /* "" when absent */
    char dlg[HAWK_ATTR_MAX + 1]; /* "" when absent or when app is absent */
    char ext[HAWK_ATTR_MAX + 1];
    char hash[HAWK_ATTR_MAX + 1]; /* the request's hash attribute, "" when absent (any
                                     length: it is only checked when the body is) */
    char id[HAWK_ATTR_MAX + 1];
};

struct hawk_result {
    int ok;                                   /* 1 authenticated */
    int status;                               /* 400, 401, 500, 503 when not ok */
    char message[HAWK_MESSAGE_MAX];           /* the reference's message, e.g. "Bad mac" */
    char www_authenticate[HAWK_WWW_AUTH_MAX]; /* "" when none (always none on a 400) */
};

/* Look up credentials by id (id_len bytes, not NUL-terminated). Fill *out (its
 * strings must stay valid until hawk_authenticate returns) and return 0; return
 * ERR_NOTFOUND for an unknown id, or another <0 error (then 500). */
typedef int (*hawk_lookup_fn)(void *ctx, const char *id, size_t id_len,
                              struct hawk_credentials *out);

/* Record (id, nonce, ts). Return 0 when it was not seen before, ERR_CONFLICT for a
 * replay (401 "Invalid nonce"), or another <0 error (the store is down: the caller
 * fails closed; hawk reports status 503 "Nonce store unavailable"). */
typedef int (*hawk_nonce_fn)(void *ctx, const char *id, const char *nonce, const char *ts);

/* Verify req at now_ms with the given skew (seconds; <= 0 means the default 60).
 * nonce may be NULL (no replay check). artifacts must not be NULL; creds_out may be.
 * On success res->ok = 1 and *artifacts and *creds_out describe the request. On
 * failure the artifacts hold what was known (for logging only). Follows
 * PROTOCOL.md section 7 order and messages; a lookup error other than ERR_NOTFOUND
 * gives its err_http_status (500 for a 4xx) and err_str message. Allocates nothing
 * itself (OpenSSL allocates its MAC context); the MAC input is streamed. */
void hawk_authenticate(const struct hawk_request *req, int64_t now_ms, int skew_sec,
                       hawk_lookup_fn lookup, void *lookup_ctx, hawk_nonce_fn nonce,
                       void *nonce_ctx, struct hawk_result *res, struct hawk_artifacts *artifacts,
                       struct hawk_credentials *creds_out);

/* Verify a bewit in req->resource (method GET or HEAD; req->authorization must be
 * NULL or ""). Section 11.2. artifacts must not be NULL. On success the artifacts
 * have the method, host, port, id, ts (the exp), ext (as UTF-8) and the resource
 * without the bewit; nonce, hash, app and dlg are "". */
void hawk_authenticate_bewit(const struct hawk_request *req, int64_t now_ms, hawk_lookup_fn lookup,
                             void *lookup_ctx, struct hawk_result *res,
                             struct hawk_artifacts *artifacts);

/* Does the raw resource carry a bewit parameter (?bewit= or &bewit=)? */
int hawk_has_bewit(const char *resource);

/* Server-Authorization value for a response (section 10): hash the body with its
 * content type when payload is not NULL (payload "" with length 0 hashes an empty
 * body); ext may be NULL or "" (then no ext). Writes a NUL-terminated string to out.
 * Returns 0, ERR_TOOBIG, or ERR_INVAL (bad credentials, or an ext outside the
 * header value characters of section 2.2). */
int hawk_response_header(const struct hawk_artifacts *a, const struct hawk_credentials *c,
                         const char *content_type, const void *payload, size_t payload_len,
                         const char *ext, char *out, size_t outlen);

/* Host and port from a Host header value (section 6, grammar of 8.0.0): writes the
 * lower-cased host without IPv6 brackets and the port digits without leading
 * zeros ("0080" -> "80"), or "443"/"80" by tls when there is none. Trailing
 * whitespace is trimmed first (as HTTP parsers do). NULL, empty, longer than
 * HAWK_HEADER_MAX, not matching the grammar, a control or non-ASCII byte in the
 * host, a port above 65535, or a result that does not fit host_len/port_len:
 * ERR_INVAL ("Invalid Host header"). Returns 0 or ERR_INVAL. */
int hawk_parse_host(const char *host_header, int tls, char *host, size_t host_len, char *port,
                    size_t port_len);

/* ---- client side ---------------------------------------------------------------- */

struct hawk_client_options {
    const char *ts;              /* seconds, as text */
    const char *nonce;           /* any non-empty VCHAR-HAWK text */
    const char *ext, *app, *dlg; /* may be NULL */
    int hash_payload;            /* 1: include hash of (content_type, payload) */
    const char *content_type;
    const void *payload;
    size_t payload_len;
};

/* Authorization header value for method + resource on host:port, attributes in
 * the reference order. Returns 0, ERR_INVAL (a value the header cannot carry) or
 * ERR_TOOBIG. */
int hawk_client_header(const struct hawk_credentials *c, const char *method, const char *resource,
                       const char *host, const char *port, const struct hawk_client_options *o,
                       char *out, size_t outlen);

/* Verify a Server-Authorization value against the request the client sent (its
 * options o) and the response body. Requires and checks the hash when payload is
 * not NULL. Returns 0, or ERR_UNAUTHORIZED with a reason in why. */
int hawk_client_verify_response(const struct hawk_credentials *c, const char *method,
                                const char *resource, const char *host, const char *port,
                                const struct hawk_client_options *o, const char *header,
                                const char *content_type, const void *payload, size_t payload_len,
                                char *why, size_t why_len);

/* Bewit token (base64url, no padding) for GET resource on host:port, expiring at
 * exp_sec (now + ttl, computed by the caller; 1 to 15 digits). ext may be NULL; it
 * is UTF-8 and may hold only characters up to U+00FF and no backslash (the token
 * carries it as Latin-1, the MAC as UTF-8). The id may not hold a backslash.
 * Returns 0, ERR_INVAL, or ERR_TOOBIG (out too small, or a token of more than
 * HAWK_HEADER_MAX bytes, which no server could verify). */
int hawk_bewit(const struct hawk_credentials *c, const char *resource, const char *host,
               const char *port, int64_t exp_sec, const char *ext, char *out, size_t outlen);

/* ---- building blocks ------------------------------------------------------------ */

/* Parse an Authorization value (section 2.3). Returns 0 (res->ok = 1), or
 * ERR_UNAUTHORIZED (401: absent, or another scheme) / ERR_INVAL (400) and fills res
 * with the reference's error. Does not check that id/ts/nonce/mac are present
 * (hawk_authenticate does: "Missing attributes"). */
int hawk_parse_header(const char *value, struct hawk_header *out, struct hawk_result *res);

/* Payload hash (section 4), base64, into out (at least HAWK_MAC_B64_MAX); "" if
 * OpenSSL fails. content_type may be NULL (= ""). */
void hawk_payload_hash(enum hawk_alg alg, const char *content_type, const void *payload, size_t len,
                       char *out);

/* The payload normalized string (section 4), NUL-terminated, for tests and
 * debugging. Returns its length or ERR_TOOBIG. */
int hawk_payload_normalized(const char *content_type, const void *payload, size_t len, char *out,
                            size_t outlen);

/* The lines of a normalized string (section 3). Each field is a slice; absent =
 * {NULL, 0}. type is "header", "response" or "bewit". On output the method is
 * upper-cased and the host lower-cased; a resource not starting with '/' (absolute
 * form) is cut to the path and query of its URL; ext is escaped (backslash doubled,
 * LF as backslash-n); the app and dlg lines appear only when app is non-empty.
 * ext_latin1: the ext bytes are Latin-1 code points (a decoded bewit) and are
 * written as UTF-8. */
struct hawk_norm {
    const char *type;
    struct hawk_attr ts, nonce, method, resource, host, port, hash, ext, app, dlg;
    int ext_latin1;
};

/* A slice of a C string (NULL gives {NULL, 0}). */
struct hawk_attr hawk_attr_str(const char *s);

/* Write the normalized string, NUL-terminated. Returns its length or ERR_TOOBIG. */
int hawk_normalized(const struct hawk_norm *n, char *out, size_t outlen);

/* base64 HMAC of the normalized string, streamed (no buffer), into out (at least
 * HAWK_MAC_B64_MAX). Returns 0, ERR_INVAL (no key, unknown algorithm) or
 * ERR_INTERNAL (OpenSSL failed). */
int hawk_mac(const struct hawk_credentials *c, const struct hawk_norm *n, char *out);

/* tsm for the server time now_sec (section 5): base64 HMAC of
 * "hawk.1.ts\n<now_sec>\n" into out (at least HAWK_MAC_B64_MAX). Returns 0 or an
 * error as hawk_mac. */
int hawk_ts_mac(const struct hawk_credentials *c, int64_t now_sec, char *out);

/* Constant-time comparison of two strings of possibly different lengths. */
int hawk_equal(const char *a, size_t an, const char *b, size_t bn);

#endif
