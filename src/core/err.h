/*
 * err: the one list of error codes.
 *
 * Every fallible function in ferry returns 0 on success or a negative ERR_* code.
 * The list below is the single source: the enum, err_name(), err_str() and
 * err_http_status() are generated from it. Details of a particular failure
 * (a line number, a libsqlite message) never travel in the return value; they are
 * kept on the context object that failed (store_errmsg(), config_error(), ...).
 *
 * Columns: NAME, HTTP status, stable machine code (used in JSON errors), message.
 */
#ifndef FERRY_CORE_ERR_H
#define FERRY_CORE_ERR_H

#define ERR_MAP(X)                                                               \
    X(NOMEM, 500, "internal", "out of memory")                                   \
    X(INTERNAL, 500, "internal", "internal error")                               \
    X(INVAL, 400, "bad_request", "invalid request")                              \
    X(TOOBIG, 413, "too_large", "request body too large")                        \
    X(HEADER_TOOBIG, 431, "headers_too_large", "request headers too large")      \
    X(NOTFOUND, 404, "not_found", "not found")                                   \
    X(METHOD, 405, "method_not_allowed", "method not allowed")                   \
    X(MEDIA_TYPE, 415, "unsupported_media_type", "unsupported content type")     \
    X(UNPROCESSABLE, 422, "unprocessable", "the request could not be processed") \
    X(CONFLICT, 409, "conflict", "conflict with the current state")              \
    X(UNAUTHORIZED, 401, "unauthorized", "authentication required")              \
    X(FORBIDDEN, 403, "forbidden", "not allowed")                                \
    X(UNAVAILABLE, 503, "unavailable", "service unavailable")                    \
    X(TIMEOUT, 504, "timeout", "timed out")                                      \
    X(STORE, 500, "internal", "database error")                                  \
    X(BUSY, 503, "unavailable", "database busy")                                 \
    X(CONSTRAINT, 409, "conflict", "constraint violated")                        \
    X(IO, 500, "internal", "input/output error")                                 \
    X(CONFIG, 500, "internal", "configuration error")                            \
    X(PENDING_MIGRATIONS, 503, "unavailable", "database has pending migrations") \
    X(UNSUPPORTED, 501, "not_implemented", "not supported")

/* Positions in the list, counted from 1 (internal). */
enum {
    ERR__POS_OK_ = 0,
#define ERR_POS_(name, status, code, msg) ERR__POS_##name,
    ERR_MAP(ERR_POS_)
#undef ERR_POS_
        ERR__COUNT
};

/* The codes: ERR_OK = 0, then ERR_NOMEM = -1, ERR_INTERNAL = -2, ... in list order. */
enum err_code {
    ERR_OK = 0,
#define ERR_ENUM_(name, status, code, msg) ERR_##name = -ERR__POS_##name,
    ERR_MAP(ERR_ENUM_)
#undef ERR_ENUM_
};

/* Upper-case symbolic name, e.g. "NOTFOUND"; "OK" for 0, "UNKNOWN" for codes not in the list. */
const char *err_name(int err);

/* Human message, e.g. "not found". Never NULL. */
const char *err_str(int err);

/* Stable lower-case code for JSON error bodies, e.g. "not_found". Never NULL. */
const char *err_code(int err);

/* HTTP status for the error: 200 for 0, 500 for codes not in the list. */
int err_http_status(int err);

#endif
