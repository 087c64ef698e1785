/*
 * meta: routes about ferry itself, open to anyone: the load balancers' health
 * check, Prometheus metrics and the seeds' liveness route.
 */
#ifndef FERRY_API_META_H
#define FERRY_API_META_H

#include "http/http.h"

/* GET /healthcheck and /healthcheck/: 200 {"status": "OK", ...} when the database
 * answers, 503 {"status": "FAIL", ...} when it does not. */
void meta_healthcheck(http_req *r);

/* GET /metrics: Prometheus text format. */
void meta_metrics(http_req *r);

/* GET /api: {"message": "Success: Application was running ..."} (the seeds'). */
void meta_liveness(http_req *r);

#endif
