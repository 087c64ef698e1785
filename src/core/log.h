/*
 * log: structured logging, one JSON object per line on stderr (or a chosen fd).
 *
 *   {"ts":"2026-11-23T11:30:00.123Z","level":"info","msg":"listening",
 *    "request_id":"...","host":"127.0.0.1","port":8080}
 *
 * ts is UTC with milliseconds. request_id appears when the calling thread has
 * one set (log_set_request_id, done by the HTTP server around each request).
 * Fields are typed so the output is always valid JSON; strings are escaped by
 * the json module. A field made with LF_SECRET is written as "***": secrets are
 * never logged, even by mistake of the caller at debug level.
 *
 * Lines below the configured level are dropped before any formatting. Each line
 * is written with one write(2) so lines from threads never interleave. Lines are
 * bounded (LOG_LINE_MAX bytes, newline included); a longer one has its string
 * fields truncated with "..." and stays valid JSON. Each field keeps room for its
 * smallest form, so one huge string does not push later fields out; only with
 * absurdly many fields are the trailing ones dropped. Formatting allocates nothing.
 *
 * Usage:
 *   log_info("listening", LF_STR("host", host), LF_INT("port", port));
 *   log_error("store open failed", LF_STR("error", store_errmsg(s)));
 *   log_warn("shutting down");
 */
#ifndef FERRY_CORE_LOG_H
#define FERRY_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 8192

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

enum log_field_type { LOG_F_STR, LOG_F_INT, LOG_F_UINT, LOG_F_DOUBLE, LOG_F_BOOL, LOG_F_SECRET };

struct log_field {
    const char *key; /* borrowed; a plain ASCII identifier */
    enum log_field_type type;
    union {
        const char *s; /* borrowed; NULL is written as null */
        int64_t i;
        uint64_t u;
        double d;
        int b;
    } v;
};

#define LF_STR(k, x)    ((struct log_field){.key = (k), .type = LOG_F_STR, .v.s = (x)})
#define LF_INT(k, x)    ((struct log_field){.key = (k), .type = LOG_F_INT, .v.i = (int64_t)(x)})
#define LF_UINT(k, x)   ((struct log_field){.key = (k), .type = LOG_F_UINT, .v.u = (uint64_t)(x)})
#define LF_DOUBLE(k, x) ((struct log_field){.key = (k), .type = LOG_F_DOUBLE, .v.d = (double)(x)})
#define LF_BOOL(k, x)   ((struct log_field){.key = (k), .type = LOG_F_BOOL, .v.b = !!(x)})
#define LF_SECRET(k)    ((struct log_field){.key = (k), .type = LOG_F_SECRET})

/* Global settings; call before starting threads (they are atomics, so a later
 * change is safe but not ordered with other threads' lines). Defaults: LOG_INFO,
 * fd 2. The fd is borrowed: the logger never closes it. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_fd(int fd);

/* Parse "debug" | "info" | "warn" | "error" | "off", ignoring case. Returns 0 or
 * ERR_INVAL (*out untouched). log_level_name gives "unknown" for a bad level. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* The calling thread's request id (borrowed; must stay valid until cleared with
 * NULL). */
void log_set_request_id(const char *id);

/* 1 if a line at this level would be written. */
int log_enabled(enum log_level level);

/* Write one line (borrows everything; errno is preserved). fields may be NULL
 * when n is 0; msg NULL is written as "". */
void log_emit(enum log_level level, const char *msg, const struct log_field *fields, size_t n);

#define LOG_FIELDS_(...)                                                    \
    ((const struct log_field[]){LF_BOOL("", 0), ##__VA_ARGS__}) + 1,        \
        sizeof((const struct log_field[]){LF_BOOL("", 0), ##__VA_ARGS__}) / \
                sizeof(struct log_field) -                                  \
            1
#define log_debug(msg, ...) log_emit(LOG_DEBUG, (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_info(msg, ...)  log_emit(LOG_INFO, (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_warn(msg, ...)  log_emit(LOG_WARN, (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_error(msg, ...) log_emit(LOG_ERROR, (msg), LOG_FIELDS_(__VA_ARGS__))

#endif
