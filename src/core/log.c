/*
 * log: each line is built in a stack array of LOG_LINE_MAX bytes wrapped in a
 * fixed struct buf (buf_init_fixed), which never reallocates. No allocation
 * happens per line.
 *
 * Bounding a line: the two closing bytes "}\n" are always kept free. Before a
 * string is written, room is set aside for the smallest form of the fields that
 * follow it (a key plus "..." for a string, the widest number for a number),
 * so one huge string cannot push the later fields out; the string gets the rest
 * and, if it does not fit, is cut at a character boundary and ends in "...".
 * The message always keeps LOG_MSG_MIN bytes; with absurdly many fields, the
 * leading ones are kept and the rest dropped whole once room runs out.
 *
 * The level and fd are atomics read with relaxed ordering: they are meant to be
 * set before threads start, and the atomics make a later change harmless too.
 * The request id is a _Thread_local pointer owned by the caller.
 */
#include "core/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/clock.h"
#include "core/json.h"

static atomic_int log_level = LOG_INFO;
static atomic_int log_fd = 2;
static _Thread_local const char *log_request_id;

static const char *const log_level_names[] = {"debug", "info", "warn", "error", "off"};

/* The least room a field can take: ',"key":' and the shortest value it may get. */
#define LOG_NUM_MAX 24  /* "-9223372036854775808", or a double in %.17g */
#define LOG_MSG_MIN 256 /* room always left to the message, quotes included */

void log_set_level(enum log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

void log_set_fd(int fd)
{
    atomic_store_explicit(&log_fd, fd, memory_order_relaxed);
}

int log_level_parse(const char *name, enum log_level *out)
{
    if (!name)
        return ERR_INVAL;
    for (int i = LOG_DEBUG; i <= LOG_OFF; i++) {
        if (strcasecmp(name, log_level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return ERR_INVAL;
}

const char *log_level_name(enum log_level level)
{
    if ((int)level < LOG_DEBUG || (int)level > LOG_OFF)
        return "unknown";
    return log_level_names[level];
}

void log_set_request_id(const char *id)
{
    log_request_id = id;
}

int log_enabled(enum log_level level)
{
    return (int)level >= (int)log_get_level() && (int)level < LOG_OFF && (int)level >= LOG_DEBUG;
}

/* The least room field f can take in a line. */
static size_t log_field_min(const struct log_field *f)
{
    size_t key = f->key ? strlen(f->key) : 0;
    size_t val = 5; /* "..." or "***" */
    if (f->type == LOG_F_INT || f->type == LOG_F_UINT || f->type == LOG_F_DOUBLE)
        val = LOG_NUM_MAX;
    return 4 + key + val; /* , " " : */
}

/*
 * End (exclusive) of a piece of s[pos..n) at most want bytes long that does not
 * split a UTF-8 sequence, so escaping the pieces one by one gives the same text
 * as escaping s whole: a piece ends at the end of s or before a byte that is not
 * a continuation byte. If no such end lies within want bytes, the piece is the
 * sequence at pos (a lead byte and up to three continuation bytes).
 */
static size_t log_piece_end(const unsigned char *s, size_t n, size_t pos, size_t want)
{
    size_t e = want < n - pos ? pos + want : n;
    if (e == n)
        return n;
    while (e > pos && (s[e] & 0xC0) == 0x80)
        e--;
    if (e > pos)
        return e;
    e = pos + 1;
    while (e < n && e - pos < 4 && (s[e] & 0xC0) == 0x80)
        e++;
    return e;
}

/*
 * Append a JSON string for s[0..n) to b using at most budget bytes, quotes
 * included. If the escaped text does not fit it is cut and ends in "...".
 * Returns 0, or ERR_TOOBIG (b unchanged) if not even "\"...\"" fits.
 */
static int log_put_string(struct buf *b, const char *s, size_t n, size_t budget)
{
    size_t start = b->len, limit = b->limit;
    int rc = ERR_TOOBIG;

    if (budget > limit - start)
        budget = limit - start;
    if (budget < 5)
        goto out;
    b->limit = start + budget - 1; /* keep room for the closing quote */
    buf_putc(b, '"');
    if (json_escape(b, s, n) == 0) {
        b->limit = limit;
        rc = buf_putc(b, '"');
        goto out;
    }
    /* Too long: escape the longest prefix that leaves room for `..."`. Escaping
     * grows a byte to at most 6, so a piece of room/6 bytes always fits. */
    b->limit = start + budget - 4;
    const unsigned char *u = (const unsigned char *)s;
    size_t pos = 0;
    while (pos < n) {
        size_t want = (b->limit - b->len) / 6;
        size_t end = log_piece_end(u, n, pos, want ? want : 1);
        if (json_escape(b, s + pos, end - pos) < 0)
            break;
        pos = end;
    }
    b->limit = limit;
    rc = buf_append(b, "...\"", 4);
out:
    b->limit = limit;
    if (rc < 0)
        buf_truncate(b, start);
    return rc;
}

/* Append ,"key": — keys are escaped anyway, in case a caller breaks the rule. */
static int log_put_key(struct buf *b, const char *key)
{
    int rc;
    if ((rc = buf_append(b, ",\"", 2)) < 0 || (rc = json_escape(b, key, strlen(key))) < 0 ||
        (rc = buf_append(b, "\":", 2)) < 0)
        return rc;
    return 0;
}

/* Append one field using at most budget bytes. Returns 0 or ERR_TOOBIG (b unchanged). */
static int log_put_field(struct buf *b, const struct log_field *f, size_t budget)
{
    size_t start = b->len, limit = b->limit;
    int rc;

    if (budget < limit - start)
        b->limit = start + budget;
    if ((rc = log_put_key(b, f->key ? f->key : "")) < 0)
        goto out;
    switch (f->type) {
    case LOG_F_STR:
        if (f->v.s)
            rc = log_put_string(b, f->v.s, strlen(f->v.s), b->limit - b->len);
        else
            rc = buf_append(b, "null", 4);
        break;
    case LOG_F_INT:
        rc = buf_printf(b, "%lld", (long long)f->v.i);
        break;
    case LOG_F_UINT:
        rc = buf_printf(b, "%llu", (unsigned long long)f->v.u);
        break;
    case LOG_F_DOUBLE: {
        struct json_writer w; /* one top-level value, written straight into b */
        json_init(&w, b);
        json_double(&w, f->v.d);
        rc = json_error(&w);
        break;
    }
    case LOG_F_BOOL:
        rc = f->v.b ? buf_append(b, "true", 4) : buf_append(b, "false", 5);
        break;
    case LOG_F_SECRET:
    default:
        rc = buf_append(b, "\"***\"", 5);
        break;
    }
out:
    b->limit = limit;
    if (rc < 0)
        buf_truncate(b, start);
    return rc;
}

/* Append "ts":"YYYY-MM-DDTHH:MM:SS.mmmZ" for the current time. */
static void log_put_time(struct buf *b)
{
    char now[CLOCK_ISO_MAX];
    clock_now_iso(now);
    buf_puts(b, "{\"ts\":\"");
    buf_puts(b, now);
    buf_putc(b, '"');
}

/* write(2) the whole line, retrying on EINTR; a failure to log is ignored. */
static void log_write(const char *p, size_t n)
{
    int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Field i of a line: 0 is the request id, then the caller's fields. */
static const struct log_field *log_nth(const struct log_field *rid, const struct log_field *fields,
                                       size_t i)
{
    return i == 0 ? rid : &fields[i - 1];
}

void log_emit(enum log_level level, const char *msg, const struct log_field *fields, size_t n)
{
    if (!log_enabled(level))
        return;
    int saved_errno = errno; /* callers log right before reading errno */
    char line[LOG_LINE_MAX + 1];
    struct buf b;
    buf_init_fixed(&b, line, sizeof line);
    b.limit = LOG_LINE_MAX - 2; /* "}\n" is always kept free; restored below */
    struct log_field rid = LF_STR("request_id", log_request_id);
    /* The request id, if any, is written as field 0; the caller's fields follow. */
    size_t first = log_request_id ? 0 : 1, total = n + 1;

    log_put_time(&b);
    buf_puts(&b, ",\"level\":\"");
    buf_puts(&b, log_level_name(level));
    buf_puts(&b, "\",\"msg\":");

    /* Set room aside for the smallest form of as many leading fields as fit next
     * to LOG_MSG_MIN bytes of message; fields past those are written while room
     * lasts. rest is the room kept for the fields after the one being written. */
    size_t room = b.limit - b.len, rest = 0, nres = first;
    size_t avail = room > LOG_MSG_MIN ? room - LOG_MSG_MIN : 0;
    for (; nres < total; nres++) {
        size_t m = log_field_min(log_nth(&rid, fields, nres));
        if (m > avail - rest)
            break;
        rest += m;
    }

    if (!msg)
        msg = "";
    log_put_string(&b, msg, strlen(msg), room - rest);

    for (size_t i = first; i < total; i++) {
        if (i < nres)
            rest -= log_field_min(log_nth(&rid, fields, i));
        room = b.limit - b.len;
        log_put_field(&b, log_nth(&rid, fields, i), room > rest ? room - rest : 0);
    }

    b.limit = LOG_LINE_MAX;
    buf_append(&b, "}\n", 2);
    log_write(b.data, b.len);
    errno = saved_errno;
}
