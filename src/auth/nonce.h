/*
 * nonce: the Hawk replay cache. Remembers each (id, nonce, ts) triple for ttl
 * seconds; a triple seen again within that time is a replay. nonce_cache_check
 * has the signature of hawk_nonce_fn (hawk.h), with the cache as its ctx, so it
 * plugs into hawk_authenticate directly.
 *
 * Two stores, chosen by the URL given to nonce_cache_open:
 *
 *   NULL or ""      in memory, for one process. A hash table of 128-bit keyed
 *                   digests (SipHash-2-4-128 under a random per-cache key, over
 *                   the length-prefixed triple) plus a FIFO ring in insertion
 *                   order, which is expiry order because the TTL is fixed and the
 *                   clock is monotonic. Bounded: at most max_entries live
 *                   triples. When it is full of unexpired triples a check fails
 *                   closed with ERR_UNAVAILABLE; a live entry is never evicted
 *                   (that would let its request be replayed). Large caches
 *                   (>= 65536 entries) are split into 16 lock stripes by digest;
 *                   the max_entries bound is still exact. Memory is allocated at
 *                   open: about 60 bytes per entry of max_entries (about 60 MB for
 *                   the default auth.nonce_max of 1,000,000; pages are touched as
 *                   the cache fills).
 *
 *   redis://...     shared by every process using that Redis:
 *                     SET ferry:nonce:<len(id)>:<id>:<len(nonce)>:<nonce>:<ts> 1 NX EX <ttl>
 *                   OK means fresh, nil means replay. URL forms:
 *                     redis://host[:port][/db]
 *                     redis://:password@host[:port][/db]
 *                     redis://user:password@host[:port][/db]   (Redis 6 ACL)
 *                   user and password may be percent-encoded; an IPv6 host is
 *                   written in brackets; port defaults to 6379, db to 0. AUTH and
 *                   SELECT are sent on each new connection. Connections come from
 *                   a small mutex-protected pool (one per concurrent caller, at
 *                   most NONCE_REDIS_POOL kept idle). Connect and command time
 *                   out after 1 s; a failed command is retried once on a fresh
 *                   connection; after a failed connect, checks fail at once for
 *                   0.5 s instead of waiting on a dead server again.
 *
 * Both are safe to call from many threads at once. Every failure of the store is
 * ERR_UNAVAILABLE (the caller fails closed); the reason, for logs, is kept on the
 * cache: nonce_cache_error(). Reasons never contain the Redis password.
 *
 * States: open (nonce_cache_open) -> closed (nonce_cache_close). If open failed
 * there is nothing to close.
 */
#ifndef FERRY_AUTH_NONCE_H
#define FERRY_AUTH_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define NONCE_REDIS_POOL 16 /* idle Redis connections kept */

typedef struct nonce_cache nonce_cache;

/* Open a cache remembering triples for ttl_sec seconds (>= 1). redis_url NULL or
 * "" gives the in-memory store holding at most max_entries (>= 1) triples; with a
 * Redis URL max_entries is ignored and the server is checked now (connect, AUTH,
 * SELECT, PING), so a Redis that is down at start-up is an error here while later
 * outages fail each check closed. Returns 0 and writes *out (the caller owns it:
 * nonce_cache_close), or ERR_INVAL (bad URL or argument) or ERR_UNAVAILABLE
 * (Redis unreachable or refused AUTH/SELECT) with a message, without the
 * password, in err (errlen bytes, may be 0). */
int nonce_cache_open(const char *redis_url, int ttl_sec, size_t max_entries, nonce_cache **out,
                     char *err, size_t errlen);

/* Close the cache and its connections. Accepts NULL. No check may be running. */
void nonce_cache_close(nonce_cache *c);

/* Record (id, nonce, ts) in cache (a nonce_cache *; void * to match
 * hawk_nonce_fn). Strings are borrowed for the call. Returns 0 when the triple
 * was not seen within the TTL (it is now recorded), ERR_CONFLICT for a replay,
 * ERR_UNAVAILABLE when the store cannot answer (Redis down or refusing; memory
 * store full), ERR_INVAL for NULL arguments. */
int nonce_cache_check(void *cache, const char *id, const char *nonce, const char *ts);

/* Copy the reason for the most recent ERR_UNAVAILABLE (from any thread) into out
 * (outlen bytes) and return out; "" when nothing has failed. */
char *nonce_cache_error(nonce_cache *c, char *out, size_t outlen);

/* Live triples in the memory store (expired ones are dropped lazily, so this may
 * count some); 0 for Redis. For tests and metrics. */
size_t nonce_cache_count(nonce_cache *c);

/* For tests: replace the memory store's monotonic clock (milliseconds) with
 * now_ms(ctx). Call before any check. No effect on Redis (it expires keys itself). */
void nonce_cache_set_clock(nonce_cache *c, int64_t (*now_ms)(void *ctx), void *ctx);

#endif
