/*
 * identity: routes about the caller's own credentials — a way for a client to
 * check its Hawk (or API-key) setup end to end — and the seeds' APIKEY check.
 */
#ifndef FERRY_API_IDENTITY_H
#define FERRY_API_IDENTITY_H

#include "http/http.h"

/* GET /api/v1/whoami: {"client": ID, "auth": "hawk"|"bewit"|"apikey"|"open",
 * "address": ...}. POST /api/v1/whoami also reports the body it received
 * ({"payload": {"bytes": N, "content_type": T}}), which proves payload signing
 * works (a Hawk POST with a hash is verified before the handler runs). */
void identity_whoami(http_req *r);

/* GET /apikey (public; the seeds' route and exact messages): 200 {"message":
 * "Success: Connect with the apikey, the application was running ..."} when the
 * APIKEY header matches api.key, else 401 {"message": "Error: Unauthorised with
 * 'APIKEY'"}. */
void identity_apikey(http_req *r);

#endif
