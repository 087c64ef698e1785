/*
 * admin: administration routes (scope "admin").
 */
#ifndef FERRY_API_ADMIN_H
#define FERRY_API_ADMIN_H

#include "http/http.h"

/* GET /api/v1/clients: {"clients": [{"id", "algorithm", "scopes", "enabled",
 * "description", "created_at", "updated_at"}, ...]} ordered by id; never keys. */
void admin_clients_list(http_req *r);

#endif
