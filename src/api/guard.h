/*
 * guard: the HTTP side of authentication. Installed as the server's guard and
 * before-send hooks (server.h): it turns a request into an auth_input, asks
 * auth_check(), answers refusals (JSON error, WWW-Authenticate, a log line and a
 * metric), keeps the identity on the request for handlers, and signs responses
 * to Hawk requests with Server-Authorization.
 */
#ifndef FERRY_API_GUARD_H
#define FERRY_API_GUARD_H

#include <stddef.h>

#include "auth/auth.h"
#include "http/http.h"

/* Give auth the client lookup (the Hawk client registry, clients.h). */
void guard_install(auth *a);

/* Server guard hook: 0 = allowed (identity stored on r), 1 = refused (answered). */
int guard_check(http_req *r);

/* Server before-send hook: adds Server-Authorization to responses to Hawk requests. */
void guard_before_send(http_req *r, int status, const char *content_type, const void *body,
                       size_t len);

/* The identity of an allowed request (NULL on public routes). */
const struct auth_result *guard_identity(const http_req *r);

#endif
