/*
 * auth: who is calling, and may they call this route. The HTTP layer (api/guard)
 * fills a struct auth_input from the request and asks auth_check(); auth knows
 * nothing of HTTP types, so it is tested with plain structs.
 *
 * Order of checks for a protected route:
 *
 *   1. client address: the socket peer, or the auth.xff_depth-th X-Forwarded-For
 *      entry from the right (fewer entries -> 401); checked against
 *      auth.ip_allowlist when one is set (-> 401, before any credential);
 *   2. credentials, the first that applies:
 *        APIKEY header (when api.key is set): constant-time compare -> api.key_scopes;
 *        Authorization: Hawk ...             -> hawk_authenticate (nonce, skew, payload);
 *        ?bewit=... on GET/HEAD              -> hawk_authenticate_bewit;
 *        none                                -> 401 with WWW-Authenticate: Hawk;
 *      a known but disabled client is 401 "Unknown credentials" (no oracle);
 *   3. scope: the route's scope must be among the client's (or the client has "*")
 *      -> 403.
 *
 * Payload policy (mohawk's, which the seed services rely on): the body is verified
 * against the header's hash whenever the header has one, and a request with a
 * body or a content type but no hash is refused ("Missing required payload hash").
 *
 * Streamed bodies: the request is checked before its body arrives
 * (payload_deferred), and the body is then hashed as it streams by:
 *
 *   auth_check(payload_deferred) -> allowed -> auth_payload_begin -> (no hash to
 *   check: *out NULL, done) | auth_payload_update ... -> auth_payload_end
 *   (0, or ERR_UNAUTHORIZED: answer as auth_fail_payload describes)
 *
 * Hawk host and port: auth.hawk_host/auth.hawk_port when configured (behind a
 * proxy, the values clients sign); else X-Forwarded-Host/-Proto/-Port when the
 * peer is one of http.trusted_proxies; else the Host header (port 80 if none).
 */
#ifndef FERRY_AUTH_AUTH_H
#define FERRY_AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/hawk.h"
#include "core/config.h"

typedef struct auth auth;

enum auth_method { AUTH_NONE = 0, AUTH_OPEN, AUTH_APIKEY, AUTH_HAWK, AUTH_BEWIT };

#define AUTH_ID_MAX  128
#define AUTH_KEY_MAX 256

/* A client as the credential lookup returns it. Strings are borrowed from
 * whatever the lookup owns, valid until its release callback runs. */
struct auth_client {
    struct hawk_credentials creds;
    const char *const *scopes;
    size_t nscopes;
    int enabled;
    void *owner; /* the lookup's own object, handed back to release */
};

/* Find a client by id (id_len bytes). Return 0, ERR_NOTFOUND, or another error. */
typedef int (*auth_lookup_fn)(void *ctx, const char *id, size_t id_len, struct auth_client *out);
/* Release what a successful lookup returned. */
typedef void (*auth_release_fn)(void *ctx, struct auth_client *c);
/* The Hawk nonce store (see nonce.h); may be NULL for none. */
typedef int (*auth_nonce_fn)(void *ctx, const char *id, const char *nonce, const char *ts);

/* What the HTTP layer saw; all borrowed, NULL when absent. */
struct auth_input {
    const char *method;
    const char *target; /* raw request target */
    const char *peer;   /* socket peer address */
    const char *host;   /* Host header */
    const char *x_forwarded_for, *x_forwarded_host, *x_forwarded_proto, *x_forwarded_port;
    const char *authorization;
    const char *apikey;
    const char *content_type;
    const void *body;
    size_t body_len;
    const char *scope; /* the scope the route needs; NULL = any authenticated caller */
    /* 1: the body has not arrived yet (a streamed body). body is then NULL and
     * body_len the length the headers announce (Content-Length; SIZE_MAX when the
     * body comes chunked); only whether it is 0 matters. Everything but the payload
     * hash is verified, including the rule that a body or a content type needs a
     * hash; the hash itself is checked with auth_payload_* as the body streams. */
    int payload_deferred;
    /* 1: a request with no credentials at all (no APIKEY when one is configured,
     * no Authorization, no bewit) is allowed as anonymous (method AUTH_NONE, no
     * scope check): the route serves public data and decides itself. The
     * address allowlist still applies; credentials that are present are checked
     * as usual. */
    int anonymous_ok;
};

struct auth_result {
    int status;        /* 0 = allowed; else 400, 401, 403, 500, 503 */
    const char *code;  /* machine code for the JSON error ("unauthorized", ...) */
    char message[128]; /* for the client */
    char www_authenticate[HAWK_WWW_AUTH_MAX];
    const char *reason; /* short label for logs and metrics ("bad_mac", "scope", ...) */
    enum auth_method method;
    char client_id[AUTH_ID_MAX + 1];
    char client_addr[64];
    /* For signing the response (Hawk only). */
    int can_sign;
    struct hawk_artifacts artifacts;
    char key[AUTH_KEY_MAX];
    size_t key_len;
    enum hawk_alg alg;
};

/* Read the auth settings from the config. On failure returns <0 with a one-line
 * reason in err (a bad allowlist entry, say). The nonce store and lookup are
 * attached with auth_set_*. */
int auth_new(const config *cfg, auth **out, char *err, size_t errlen);
void auth_free(auth *a);

void auth_set_lookup(auth *a, auth_lookup_fn lookup, auth_release_fn release);
void auth_set_nonce(auth *a, auth_nonce_fn nonce, void *nonce_ctx);

/* Is authentication on (auth.enabled)? */
int auth_enabled(const auth *a);

/* Decide. lookup_ctx is passed to the lookup and release callbacks. */
void auth_check(const auth *a, const struct auth_input *in, int64_t now_ms, void *lookup_ctx,
                struct auth_result *res);

/* The Server-Authorization value for a response to an allowed Hawk request, or
 * ERR_NOTFOUND when none should be sent (not Hawk, or signing is off). payload
 * NULL = a streamed body: no hash. */
/* The scheme and authority clients reach this server by, for absolute links
 * ("http://example.org", "https://h:8443", "http://[::1]:8080"): from
 * X-Forwarded-Proto/-Host/-Port when the peer is one of http.trusted_proxies,
 * else http and the Host header. The default port of the scheme is left out.
 * Returns 0, or ERR_INVAL when there is no usable host (missing, malformed, or
 * holding characters other than letters, digits, '.', '-', '_' and an IPv6
 * address's hex digits and colons). */
int auth_origin(const auth *a, const struct auth_input *in, char *out, size_t outlen);

/* Turn an anonymous result (anonymous_ok) into the refusal a request without
 * credentials gets on a protected route: 401 with WWW-Authenticate: Hawk. */
void auth_refuse_anonymous(struct auth_result *res);

int auth_sign_response(const auth *a, const struct auth_result *res, const char *content_type,
                       const void *payload, size_t len, char *out, size_t outlen);

/* For GET /apikey: is header the configured API key? (0 when none is configured.) */
int auth_apikey_matches(const auth *a, const char *header);

/* Wipe the key copy in a result. */
void auth_result_wipe(struct auth_result *res);

/* ---- streamed payloads ------------------------------------------------------------ */

/* The payload hash of one streamed body, being computed. */
typedef struct auth_payload auth_payload;

/* Start verifying the body of an allowed request (res from auth_check with
 * payload_deferred) against its header's hash. content_type: the request's
 * Content-Type (borrowed, may be NULL). Returns 0 with *out the verifier (free it
 * with auth_payload_end or auth_payload_free), 0 with *out NULL when there is
 * nothing to verify (not Hawk, no hash, or res refused), or ERR_INTERNAL. The
 * verifier copies what it needs from res. */
int auth_payload_begin(const struct auth_result *res, const char *content_type, auth_payload **out);

/* Hash the next n bytes of the body (borrowed). */
void auth_payload_update(auth_payload *p, const void *data, size_t n);

/* Finish: returns 0 when the body matches the hash, ERR_UNAUTHORIZED when it does
 * not (compared in constant time), ERR_INTERNAL when hashing failed. Frees p. */
int auth_payload_end(auth_payload *p);

/* Free an unfinished verifier (the request was aborted). Accepts NULL. */
void auth_payload_free(auth_payload *p);

/* Turn an allowed res into the refusal of a body that does not match its hash,
 * exactly as auth_check refuses one it has whole: 401 "Bad payload hash", reason
 * "payload", WWW-Authenticate Hawk error="Bad payload hash"; the response is not
 * signed. */
void auth_fail_payload(struct auth_result *res);

#endif
