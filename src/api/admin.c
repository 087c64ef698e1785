/*
 * admin: the Hawk client registry over HTTP, read-only for now (clients are added
 * with `ferry client add`, which prints a generated key once on a terminal).
 */
#include "api/admin.h"

#include "api/api.h"
#include "auth/clients.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#define CLIENTS_BODY_LIMIT (16u << 20)

static void write_client(struct json_writer *w, const struct client *c)
{
    json_object_begin(w);
    json_key(w, "id");
    json_string(w, c->id);
    json_key(w, "algorithm");
    json_string(w, hawk_alg_name(c->alg));
    json_key(w, "scopes");
    json_array_begin(w);
    for (size_t i = 0; i < c->nscopes; i++)
        json_string(w, c->scopes[i]);
    json_array_end(w);
    json_key(w, "enabled");
    json_bool(w, c->enabled);
    json_key(w, "description");
    json_string(w, c->description);
    json_key(w, "created_at");
    json_string(w, c->created_at);
    json_key(w, "updated_at");
    json_string(w, c->updated_at);
    json_object_end(w);
}

void admin_clients_list(http_req *r)
{
    const struct api_ctx *api = http_req_app(r);
    store *s = NULL;
    struct client **v = NULL;
    size_t n = 0;
    int rc = store_pool_acquire(api->pool, api->db_wait_ms, &s);
    if (rc == 0) {
        rc = clients_list(s, &v, &n);
        if (rc < 0)
            log_error("listing clients failed", LF_STR("error", store_errmsg(s)));
    }
    store_pool_release(api->pool, s);
    if (rc < 0) {
        http_reply_error(r, rc == ERR_UNAVAILABLE ? rc : ERR_INTERNAL, NULL);
        return;
    }
    struct buf b;
    struct json_writer w;
    buf_init(&b, CLIENTS_BODY_LIMIT);
    json_init(&w, &b);
    json_object_begin(&w);
    json_key(&w, "clients");
    json_array_begin(&w);
    for (size_t i = 0; i < n; i++)
        write_client(&w, v[i]);
    json_array_end(&w);
    json_object_end(&w);
    clients_list_free(v, n);
    if (json_finish(&w) < 0) {
        buf_free(&b);
        http_reply_error(r, ERR_INTERNAL, "too many clients to list");
        return;
    }
    buf_putc(&b, '\n');
    http_reply_buf(r, 200, "application/json", &b);
    buf_free(&b);
}
