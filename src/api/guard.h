/*
 * guard: the HTTP side of authentication. Installed as the server's guard and
 * before-send hooks (server.h): it turns a request into an auth_input, asks
 * auth_check(), answers refusals (JSON error, WWW-Authenticate, a log line and a
 * metric), keeps the identity on the request for handlers, and signs responses
 * to Hawk requests with Server-Authorization.
 *
 * On ROUTE_STREAM routes the check runs before the body (payload deferred); the
 * body_observe hook hashes the body as it streams and body_end compares the hash
 * with the header's (a mismatch: 401 "Bad payload hash", as on other routes).
 * Install all five hooks with guard_hooks.
 */
#ifndef FERRY_API_GUARD_H
#define FERRY_API_GUARD_H

#include <stddef.h>

#include "auth/auth.h"
#include "http/http.h"
#include "http/server.h"

/* Give auth the client lookup (the Hawk client registry, clients.h). */
void guard_install(auth *a);

/* Server guard hook: 0 = allowed (identity stored on r), 1 = refused (answered). */
int guard_check(http_req *r);

/* Server before-send hook: adds Server-Authorization to responses to Hawk requests. */
void guard_before_send(http_req *r, int status, const char *content_type, const void *body,
                       size_t len);

/* Server body_observe hook (stream routes): hash the piece. Always 0. */
int guard_body_observe(http_req *r, const char *data, size_t n);

/* Server body_end hook (stream routes): 0 when the body matches the header's
 * payload hash (or there is none to check), else answers 401 (500 if hashing
 * failed) and returns -1. */
int guard_body_end(http_req *r);

/* Server request_end hook: frees an unfinished payload check, wipes the key copy. */
void guard_request_end(http_req *r);

/* Set the guard's hooks in opt: guard, before_send, body_observe, body_end and
 * request_end. */
void guard_hooks(struct http_server_options *opt);

/* On a ROUTE_ANON route: 1 when the caller came without credentials. */
int guard_anonymous(const http_req *r);

/* Answer an anonymous caller as the guard answers a request without
 * credentials on a protected route (401, WWW-Authenticate: Hawk). */
void guard_refuse_anonymous(http_req *r);

/* The origin ("http://host:port") for absolute links in responses; see
 * auth_origin. Returns 0 or ERR_INVAL. */
int guard_origin(const http_req *r, char *out, size_t outlen);

/* The identity of an allowed request (NULL on public routes). */
const struct auth_result *guard_identity(const http_req *r);

#endif
