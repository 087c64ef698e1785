/*
 * data: the data API - the catalog and the rows of datasets (README "Reading
 * data"). Handlers for the route table; the parsing is dquery.h, the SQL
 * dsql.h, the values rowenc.h.
 *
 *   GET /api/v1/datasets               data_list
 *   GET /api/v1/datasets/{name}        data_read
 *   GET /api/v1/datasets/{name}/data   data_rows
 *
 * The routes are ROUTE_ANON with scope datasets:read: a caller without
 * credentials reaches them as anonymous and sees public datasets only; for
 * anything else (a private dataset, or one that does not exist) it gets the
 * 401 a protected route gives, so anonymous callers learn nothing of what is
 * private.
 */
#ifndef FERRY_API_DATA_H
#define FERRY_API_DATA_H

#include "http/http.h"

void data_list(http_req *r);
void data_read(http_req *r);
void data_rows(http_req *r);

#endif
