/*
 * nonce: the Hawk replay cache (see nonce.h). The memory store and the Redis
 * store share the handle; c->redis says which one is in use.
 *
 * Memory store, per stripe: slots is an open-addressing table (linear probing,
 * load at most 3/4, backward-shift deletion so no tombstones) of 128-bit digests,
 * (0, 0) meaning empty; ring is a FIFO of (digest, expiry) in insertion order.
 * Each check first drops the expired head of its stripe's ring, then looks the
 * digest up and inserts it.
 */
#include "auth/nonce.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/buf.h"
#include "core/err.h"

#define STRIPES          16    /* lock stripes of a large memory store */
#define STRIPE_MIN       4096  /* below this many entries per stripe, use one stripe */
#define REDIS_TIMEOUT_MS 1000  /* connect and command timeout */
#define REDIS_HOLDOFF_MS 500   /* after a failed connect, fail at once for this long */
#define REDIS_KEY_MAX    16384 /* longest key (Hawk caps each attribute at 4096) */
#define ERR_MSG_MAX      512

struct digest {
    uint64_t k0, k1;
};

struct ring_entry {
    struct digest d;
    int64_t exp_ms;
};

/* One lock stripe, on its own cache lines. */
struct stripe {
    _Alignas(64) pthread_mutex_t mu;
    struct digest *slots;
    size_t mask; /* slots - 1 (a power of two) */
    struct ring_entry *ring;
    size_t ring_cap; /* the most live entries this stripe holds */
    size_t head;     /* oldest entry */
    size_t count;
};

struct redis_conf {
    char host[256];
    int port;
    int db;
    char *user; /* owned; NULL when absent */
    char *pass; /* owned; NULL when absent */
};

struct nonce_cache {
    int ttl_sec;
    int redis; /* 1: Redis store */

    /* memory store */
    uint64_t key[2]; /* SipHash key */
    struct stripe *stripes;
    size_t nstripes;
    size_t max_entries;
    atomic_size_t live; /* entries in all stripes, at most max_entries */
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;

    /* Redis store */
    struct redis_conf rc;
    pthread_mutex_t pool_mu;
    redisContext *idle[NONCE_REDIS_POOL];
    size_t nidle;
    int64_t down_until_ms; /* under pool_mu */

    pthread_mutex_t err_mu;
    char err[ERR_MSG_MAX];
};

static int64_t mono_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(nonce_cache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(nonce_cache *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&c->err_mu);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    pthread_mutex_unlock(&c->err_mu);
    va_end(ap);
}

char *nonce_cache_error(nonce_cache *c, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return out;
    out[0] = '\0';
    if (!c)
        return out;
    pthread_mutex_lock(&c->err_mu);
    snprintf(out, outlen, "%s", c->err);
    pthread_mutex_unlock(&c->err_mu);
    return out;
}

/* ---- SipHash-2-4 with 128-bit output, streaming ------------------------------------- */

struct sip {
    uint64_t v0, v1, v2, v3;
    uint64_t tail; /* pending bytes, little-endian */
    size_t ntail;
    size_t total;
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = ROTL(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = ROTL(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = ROTL(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = ROTL(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = ROTL(s->v2, 32);
}

static inline void sip_word(struct sip *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

static void sip_init(struct sip *s, const uint64_t key[2])
{
    s->v0 = 0x736f6d6570736575ULL ^ key[0];
    s->v1 = 0x646f72616e646f6dULL ^ key[1] ^ 0xee;
    s->v2 = 0x6c7967656e657261ULL ^ key[0];
    s->v3 = 0x7465646279746573ULL ^ key[1];
    s->tail = 0;
    s->ntail = 0;
    s->total = 0;
}

static void sip_update(struct sip *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    while (n && s->ntail) {
        s->tail |= (uint64_t)*p++ << (8 * s->ntail);
        n--;
        if (++s->ntail == 8) {
            sip_word(s, s->tail);
            s->tail = 0;
            s->ntail = 0;
        }
    }
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t m = 0;
        for (int i = 7; i >= 0; i--)
            m = (m << 8) | p[i];
        sip_word(s, m);
    }
    for (; n; n--)
        s->tail |= (uint64_t)*p++ << (8 * s->ntail++);
}

static struct digest sip_final(struct sip *s)
{
    struct digest d;
    sip_word(s, s->tail | ((uint64_t)(s->total & 0xff) << 56));
    s->v2 ^= 0xee;
    for (int i = 0; i < 4; i++)
        sip_round(s);
    d.k0 = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
    s->v1 ^= 0xdd;
    for (int i = 0; i < 4; i++)
        sip_round(s);
    d.k1 = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
    return d;
}

static void put_len(unsigned char out[4], size_t n)
{
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(n >> (8 * i));
}

/* The digest of the triple: len(id) id len(nonce) nonce ts, lengths as 4 bytes,
 * so no two triples share an encoding. Never (0, 0): that marks an empty slot. */
static struct digest triple_digest(const nonce_cache *c, const char *id, const char *nonce,
                                   const char *ts)
{
    struct sip s;
    size_t idn = strlen(id), nn = strlen(nonce);
    unsigned char len[4];
    sip_init(&s, c->key);
    put_len(len, idn);
    sip_update(&s, len, sizeof len);
    sip_update(&s, id, idn);
    put_len(len, nn);
    sip_update(&s, len, sizeof len);
    sip_update(&s, nonce, nn);
    sip_update(&s, ts, strlen(ts));
    struct digest d = sip_final(&s);
    if (d.k0 == 0 && d.k1 == 0)
        d.k1 = 1;
    return d;
}

/* ---- memory store -------------------------------------------------------------------- */

static inline int slot_empty(const struct digest *d)
{
    return d->k0 == 0 && d->k1 == 0;
}

/* The slot holding d, or the empty slot where it would go. */
static size_t slot_find(const struct stripe *st, struct digest d)
{
    size_t i = (size_t)d.k0 & st->mask;
    while (!slot_empty(&st->slots[i]) && (st->slots[i].k0 != d.k0 || st->slots[i].k1 != d.k1))
        i = (i + 1) & st->mask;
    return i;
}

/* Remove d (present) and shift the following run back so probes stay unbroken. */
static void slot_delete(struct stripe *st, struct digest d)
{
    size_t i = slot_find(st, d);
    if (slot_empty(&st->slots[i]))
        return;
    size_t j = i;
    for (;;) {
        j = (j + 1) & st->mask;
        if (slot_empty(&st->slots[j]))
            break;
        size_t home = (size_t)st->slots[j].k0 & st->mask;
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            st->slots[i] = st->slots[j];
            i = j;
        }
    }
    st->slots[i].k0 = 0;
    st->slots[i].k1 = 0;
}

/* Drop the expired head of the ring; returns how many were dropped. */
static size_t stripe_expire(struct stripe *st, int64_t now)
{
    size_t n = 0;
    while (st->count && st->ring[st->head].exp_ms <= now) {
        slot_delete(st, st->ring[st->head].d);
        st->head = st->head + 1 == st->ring_cap ? 0 : st->head + 1;
        st->count--;
        n++;
    }
    return n;
}

/* Expire every stripe (the slow path when the cache looks full: stripes that are
 * not being used keep their expired entries until touched). */
static void expire_all(nonce_cache *c)
{
    for (size_t i = 0; i < c->nstripes; i++) {
        struct stripe *st = &c->stripes[i];
        pthread_mutex_lock(&st->mu);
        size_t n = stripe_expire(st, c->now_ms(c->clock_ctx));
        atomic_fetch_sub(&c->live, n);
        pthread_mutex_unlock(&st->mu);
    }
}

/* Take one of the max_entries places, or fail. */
static int reserve(nonce_cache *c)
{
    size_t n = atomic_load_explicit(&c->live, memory_order_relaxed);
    while (n < c->max_entries)
        if (atomic_compare_exchange_weak(&c->live, &n, n + 1))
            return 1;
    return 0;
}

static int memory_check(nonce_cache *c, const char *id, const char *nonce, const char *ts)
{
    struct digest d = triple_digest(c, id, nonce, ts);
    struct stripe *st = &c->stripes[c->nstripes == 1 ? 0 : (size_t)(d.k1 >> 58) % c->nstripes];
    /* The slot is most likely a cache miss: start the load before the lock. */
    __builtin_prefetch(&st->slots[(size_t)d.k0 & st->mask]);
    for (int pass = 0;; pass++) {
        pthread_mutex_lock(&st->mu);
        int64_t now = c->now_ms(c->clock_ctx);
        atomic_fetch_sub(&c->live, stripe_expire(st, now));
        size_t i = slot_find(st, d);
        if (!slot_empty(&st->slots[i])) {
            pthread_mutex_unlock(&st->mu);
            return ERR_CONFLICT;
        }
        if (st->count < st->ring_cap && reserve(c)) {
            st->slots[i] = d;
            size_t tail = st->head + st->count;
            if (tail >= st->ring_cap)
                tail -= st->ring_cap;
            st->ring[tail].d = d;
            st->ring[tail].exp_ms = now + (int64_t)c->ttl_sec * 1000;
            st->count++;
            pthread_mutex_unlock(&st->mu);
            return 0;
        }
        pthread_mutex_unlock(&st->mu);
        if (pass)
            break;
        expire_all(c);
    }
    set_err(c, "nonce cache full: %zu unexpired nonces (auth.nonce_max) in the last %d s",
            c->max_entries, c->ttl_sec);
    return ERR_UNAVAILABLE;
}

static int memory_open(nonce_cache *c, size_t max_entries, char *err, size_t errlen)
{
    /* Stripes get an eighth more than their share, so an uneven spread of keys
     * does not fill one early (that would need a 30-sigma deviation at the
     * smallest striped size); c->live holds the total to max_entries. Tables are
     * at most 3/4 full. */
    size_t n = max_entries / STRIPES >= STRIPE_MIN ? STRIPES : 1;
    size_t per = n == 1 ? max_entries : max_entries / n + max_entries / n / 8 + 64;
    size_t cap = 16;
    while (cap < per + per / 3 + 1) {
        if (cap > SIZE_MAX / 4 / sizeof(struct digest))
            goto nomem;
        cap *= 2;
    }
    if (per > SIZE_MAX / sizeof(struct ring_entry))
        goto nomem;
    c->max_entries = max_entries;
    c->stripes = aligned_alloc(64, n * sizeof *c->stripes);
    if (!c->stripes)
        goto nomem;
    memset(c->stripes, 0, n * sizeof *c->stripes);
    c->nstripes = n;
    for (size_t i = 0; i < n; i++)
        pthread_mutex_init(&c->stripes[i].mu, NULL);
    for (size_t i = 0; i < n; i++) {
        struct stripe *st = &c->stripes[i];
        st->ring_cap = per;
        st->mask = cap - 1;
        st->slots = calloc(cap, sizeof *st->slots);
        st->ring = calloc(st->ring_cap, sizeof *st->ring);
        if (!st->slots || !st->ring)
            goto nomem;
    }
    if (getrandom(c->key, sizeof c->key, 0) != (ssize_t)sizeof c->key) {
        snprintf(err, errlen, "nonce cache: getrandom failed: %s", strerror(errno));
        return ERR_INTERNAL;
    }
    c->now_ms = mono_ms;
    return 0;
nomem:
    snprintf(err, errlen, "nonce cache: cannot allocate %zu entries (auth.nonce_max)", max_entries);
    return ERR_NOMEM;
}

static void memory_close(nonce_cache *c)
{
    for (size_t i = 0; i < c->nstripes; i++) {
        pthread_mutex_destroy(&c->stripes[i].mu);
        free(c->stripes[i].slots);
        free(c->stripes[i].ring);
    }
    free(c->stripes);
}

/* ---- Redis store --------------------------------------------------------------------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A percent-decoded copy of p[0..n), or NULL for a bad escape or an embedded NUL. */
static char *pct_decode(const char *p, size_t n)
{
    char *out = malloc(n + 1);
    size_t k = 0;
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)p[i + 1]) : -1;
            int lo = hi < 0 ? -1 : hexval((unsigned char)p[i + 2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        out[k++] = p[i];
    }
    out[k] = '\0';
    return out;
}

/* Parse a decimal number in p[0..n) within [min, max]. */
static int parse_num(const char *p, size_t n, long min, long max, long *out)
{
    long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* redis://[[user]:password@]host[:port][/db]. Never quotes the URL in err (it
 * may hold the password). */
static int redis_parse_url(const char *url, struct redis_conf *rc, char *err, size_t errlen)
{
    static const char scheme[] = "redis://";
    long num;
    if (strncasecmp(url, scheme, sizeof scheme - 1) != 0) {
        snprintf(err, errlen, "cache.url: expected redis://[[user]:password@]host[:port][/db]%s",
                 strncasecmp(url, "rediss://", 9) == 0 ? " (TLS is not supported)" : "");
        return ERR_INVAL;
    }
    const char *p = url + sizeof scheme - 1;
    const char *end = p + strcspn(p, "/?#");
    const char *at = memrchr(p, '@', (size_t)(end - p));
    rc->port = 6379;
    rc->db = 0;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            snprintf(err, errlen, "cache.url: user without a password (use user:password@)");
            return ERR_INVAL;
        }
        if (colon > p && !(rc->user = pct_decode(p, (size_t)(colon - p)))) {
            snprintf(err, errlen, "cache.url: bad percent-escape in the user name");
            return ERR_INVAL;
        }
        rc->pass = pct_decode(colon + 1, (size_t)(at - colon - 1));
        if (!rc->pass || !rc->pass[0]) {
            snprintf(err, errlen, "cache.url: bad or empty password");
            return ERR_INVAL;
        }
        p = at + 1;
    }
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end) {
            snprintf(err, errlen, "cache.url: unclosed [ in the host");
            return ERR_INVAL;
        }
        if (host_end + 1 < end) {
            if (host_end[1] != ':') {
                snprintf(err, errlen, "cache.url: bad host");
                return ERR_INVAL;
            }
            port = host_end + 2;
        }
    } else {
        host_end = memchr(p, ':', (size_t)(end - p));
        if (host_end)
            port = host_end + 1;
        else
            host_end = end;
    }
    if (host_end == host || (size_t)(host_end - host) >= sizeof rc->host) {
        snprintf(err, errlen, "cache.url: missing or too long host");
        return ERR_INVAL;
    }
    memcpy(rc->host, host, (size_t)(host_end - host));
    rc->host[host_end - host] = '\0';
    if (port) {
        if (parse_num(port, (size_t)(end - port), 1, 65535, &num) < 0) {
            snprintf(err, errlen, "cache.url: bad port");
            return ERR_INVAL;
        }
        rc->port = (int)num;
    }
    if (*end == '/' && end[1] != '\0') {
        const char *db = end + 1;
        size_t dn = strcspn(db, "?#");
        if (parse_num(db, dn, 0, 1000000, &num) < 0) {
            snprintf(err, errlen, "cache.url: bad database number");
            return ERR_INVAL;
        }
        rc->db = (int)num;
        end = db + dn;
    } else if (*end == '/') {
        end++;
    }
    if (*end != '\0') {
        snprintf(err, errlen, "cache.url: unexpected query or fragment");
        return ERR_INVAL;
    }
    return 0;
}

/* A reply that is a status or error: its text for a message ("" otherwise). */
static const char *reply_text(const redisReply *r)
{
    if (r && (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS) && r->str)
        return r->str;
    return "";
}

/* Send cmd (hiredis format) on a new connection setup step; 0 or -1 with why. */
static int redis_expect_ok(redisContext *ctx, const struct redis_conf *rc, const char *what,
                           char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    if (!r) {
        snprintf(why, whylen, "Redis at %s:%d: %s failed: %s", rc->host, rc->port, what,
                 ctx->errstr[0] ? ctx->errstr : "no reply");
        return -1;
    }
    int ok = r->type == REDIS_REPLY_STATUS;
    if (!ok)
        snprintf(why, whylen, "Redis at %s:%d refused %s: %s", rc->host, rc->port, what,
                 reply_text(r));
    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* A new, authenticated connection on the right database, or NULL with why. */
static redisContext *redis_connect(const struct redis_conf *rc, char *why, size_t whylen)
{
    struct timeval tv = {REDIS_TIMEOUT_MS / 1000, (REDIS_TIMEOUT_MS % 1000) * 1000};
    redisContext *ctx = redisConnectWithTimeout(rc->host, rc->port, tv);
    if (!ctx) {
        snprintf(why, whylen, "Redis at %s:%d: cannot allocate a connection", rc->host, rc->port);
        return NULL;
    }
    if (ctx->err) {
        snprintf(why, whylen, "cannot connect to Redis at %s:%d: %s", rc->host, rc->port,
                 ctx->errstr);
        goto fail;
    }
    if (redisSetTimeout(ctx, tv) != REDIS_OK) {
        snprintf(why, whylen, "Redis at %s:%d: cannot set the timeout", rc->host, rc->port);
        goto fail;
    }
    if (rc->pass) {
        int r = rc->user ? redis_expect_ok(ctx, rc, "AUTH", why, whylen, "AUTH %s %s", rc->user,
                                           rc->pass)
                         : redis_expect_ok(ctx, rc, "AUTH", why, whylen, "AUTH %s", rc->pass);
        if (r < 0)
            goto fail;
    }
    if (rc->db && redis_expect_ok(ctx, rc, "SELECT", why, whylen, "SELECT %d", rc->db) < 0)
        goto fail;
    return ctx;
fail:
    redisFree(ctx);
    return NULL;
}

static redisContext *pool_take(nonce_cache *c)
{
    redisContext *ctx = NULL;
    pthread_mutex_lock(&c->pool_mu);
    if (c->nidle)
        ctx = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->pool_mu);
    return ctx;
}

static void pool_put(nonce_cache *c, redisContext *ctx)
{
    pthread_mutex_lock(&c->pool_mu);
    if (c->nidle < NONCE_REDIS_POOL) {
        c->idle[c->nidle++] = ctx;
        ctx = NULL;
    }
    pthread_mutex_unlock(&c->pool_mu);
    if (ctx)
        redisFree(ctx);
}

/* Is the hold-off after a failed connect still running? Sets (until > 0) or
 * checks (until == 0) it. */
static int pool_holdoff(nonce_cache *c, int64_t until)
{
    int active;
    pthread_mutex_lock(&c->pool_mu);
    if (until)
        c->down_until_ms = until;
    active = mono_ms(NULL) < c->down_until_ms;
    pthread_mutex_unlock(&c->pool_mu);
    return active;
}

static int redis_check(nonce_cache *c, const char *id, const char *nonce, const char *ts)
{
    char why[ERR_MSG_MAX];
    struct buf key;
    int rc = ERR_UNAVAILABLE;
    redisContext *ctx = NULL;
    buf_init(&key, REDIS_KEY_MAX);
    if (buf_printf(&key, "ferry:nonce:%zu:%s:%zu:%s:%s", strlen(id), id, strlen(nonce), nonce, ts) <
        0) {
        rc = ERR_INVAL;
        goto out;
    }
    why[0] = '\0';
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!ctx)
            ctx = attempt == 0 ? pool_take(c) : NULL;
        if (!ctx) {
            if (pool_holdoff(c, 0))
                goto out; /* keep the reason of the failed connect */
            ctx = redis_connect(&c->rc, why, sizeof why);
            if (!ctx) {
                pool_holdoff(c, mono_ms(NULL) + REDIS_HOLDOFF_MS);
                set_err(c, "%s", why);
                goto out;
            }
        }
        redisReply *r = redisCommand(ctx, "SET %b 1 NX EX %d", key.data, key.len, c->ttl_sec);
        if (!r) {
            snprintf(why, sizeof why, "Redis at %s:%d: %s", c->rc.host, c->rc.port,
                     ctx->errstr[0] ? ctx->errstr : "no reply");
        } else if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0) {
            rc = 0;
        } else if (r->type == REDIS_REPLY_NIL) {
            rc = ERR_CONFLICT;
        } else {
            snprintf(why, sizeof why, "Redis at %s:%d refused SET: %s", c->rc.host, c->rc.port,
                     r->type == REDIS_REPLY_ERROR ? reply_text(r) : "unexpected reply");
        }
        freeReplyObject(r);
        if (rc != ERR_UNAVAILABLE)
            goto out;
        /* The connection may be stale (server restarted) or on a demoted
         * primary: drop it and try once more on a fresh one. */
        redisFree(ctx);
        ctx = NULL;
    }
    set_err(c, "%s", why);
out:
    if (ctx)
        pool_put(c, ctx);
    buf_free(&key);
    return rc;
}

static int redis_open(nonce_cache *c, const char *url, char *err, size_t errlen)
{
    int rc = redis_parse_url(url, &c->rc, err, errlen);
    if (rc < 0)
        return rc;
    redisContext *ctx = redis_connect(&c->rc, err, errlen);
    if (!ctx)
        return ERR_UNAVAILABLE;
    redisReply *r = redisCommand(ctx, "PING");
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok)
        snprintf(err, errlen, "Redis at %s:%d did not answer PING: %s", c->rc.host, c->rc.port,
                 r ? reply_text(r) : ctx->errstr);
    freeReplyObject(r);
    if (!ok) {
        redisFree(ctx);
        return ERR_UNAVAILABLE;
    }
    pool_put(c, ctx);
    return 0;
}

/* ---- the handle ---------------------------------------------------------------------- */

int nonce_cache_open(const char *redis_url, int ttl_sec, size_t max_entries, nonce_cache **out,
                     char *err, size_t errlen)
{
    char dummy[1];
    int rc;
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!out)
        return ERR_INVAL;
    *out = NULL;
    int redis = redis_url && redis_url[0];
    if (ttl_sec < 1 || (!redis && max_entries < 1)) {
        snprintf(err, errlen, "nonce cache: ttl and size must be at least 1");
        return ERR_INVAL;
    }
    nonce_cache *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->ttl_sec = ttl_sec;
    c->redis = redis;
    pthread_mutex_init(&c->err_mu, NULL);
    pthread_mutex_init(&c->pool_mu, NULL);
    rc = redis ? redis_open(c, redis_url, err, errlen) : memory_open(c, max_entries, err, errlen);
    if (rc < 0) {
        nonce_cache_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void nonce_cache_close(nonce_cache *c)
{
    if (!c)
        return;
    memory_close(c);
    for (size_t i = 0; i < c->nidle; i++)
        redisFree(c->idle[i]);
    free(c->rc.user);
    if (c->rc.pass) {
        explicit_bzero(c->rc.pass, strlen(c->rc.pass));
        free(c->rc.pass);
    }
    pthread_mutex_destroy(&c->pool_mu);
    pthread_mutex_destroy(&c->err_mu);
    free(c);
}

int nonce_cache_check(void *cache, const char *id, const char *nonce, const char *ts)
{
    nonce_cache *c = cache;
    if (!c || !id || !nonce || !ts)
        return ERR_INVAL;
    return c->redis ? redis_check(c, id, nonce, ts) : memory_check(c, id, nonce, ts);
}

size_t nonce_cache_count(nonce_cache *c)
{
    return c ? atomic_load(&c->live) : 0;
}

void nonce_cache_set_clock(nonce_cache *c, int64_t (*now_ms)(void *ctx), void *ctx)
{
    if (!c || c->redis || !now_ms)
        return;
    c->now_ms = now_ms;
    c->clock_ctx = ctx;
}
