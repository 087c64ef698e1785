/*
 * config: ferry's settings, layered. Later layers win:
 *
 *   built-in defaults  <  ferry.yml  <  .env  <  environment  <  command-line flags
 *
 * One key, four spellings, all derived from the key: the key `http.port` is
 * `http: {port: ...}` in ferry.yml, FERRY_HTTP_PORT in .env and the environment,
 * and --port on the command line (flags are listed per key below). The seeds'
 * variable names are accepted as aliases in .env and the environment:
 * DATABASE_URL, APIKEY, MAIN_SCHEMA, and DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASS,
 * which build a postgresql:// URL when no database URL is given in the same layer
 * or a later one.
 *
 * Every value remembers where it came from ("default", "ferry.yml:12",
 * ".env:3", "env FERRY_HTTP_PORT", "flag --port") for `ferry config show` and for
 * error messages. Values are validated when set: a bad value or an unknown key is
 * an error naming the key and its source, e.g.
 *
 *   ferry.yml:4: http.port: expected an integer from 0 to 65535, got "80a"
 *   ferry.yml:7: unknown key "http.prot"
 *   environment: unknown variable FERRY_HTTP_PROT
 *
 * Secrets (marked below) are masked by config_show(); database URLs are shown
 * with the password replaced by "***".
 *
 * A config is built single-threaded at start-up and then only read, from any
 * thread.
 */
#ifndef FERRY_CORE_CONFIG_H
#define FERRY_CORE_CONFIG_H

#include <stdint.h>

#include "core/buf.h"

/* X(ENUM, "key", "--flag" or NULL, type, "default", secret, "help")
 *   type:   CFG_T_STR, CFG_T_INT (with min, max in the next two columns), CFG_T_LEVEL
 *   secret: 0 = plain, 1 = mask entirely, 2 = URL (mask the password only) */
#define CONFIG_KEYS(X)                                                                             \
    X(DATABASE_URL, "database.url", "--database", CFG_T_STR, 0, 0, "sqlite:data/ferry.db", 2,      \
      "database: sqlite:PATH or postgresql://user:pass@host:port/db")                              \
    X(DATABASE_MAIN_SCHEMA, "database.main_schema", NULL, CFG_T_STR, 0, 0, "public", 0,            \
      "schema for user datasets (PostgreSQL; SQLite uses main)")                                   \
    X(DATABASE_POOL_SIZE, "database.pool_size", NULL, CFG_T_INT, 0, 1024, "0", 0,                  \
      "connections per process; 0 = http.threads + 2")                                             \
    X(DATABASE_BUSY_TIMEOUT_MS, "database.busy_timeout_ms", NULL, CFG_T_INT, 0, 600000, "5000", 0, \
      "how long to wait for a locked database")                                                    \
    X(DATABASE_WAIT_SEC, "database.wait_sec", NULL, CFG_T_INT, 0, 3600, "30", 0,                   \
      "at start-up, how long to wait for the database server to accept connections")               \
    X(HTTP_HOST, "http.host", "--host", CFG_T_STR, 0, 0, "127.0.0.1", 0, "address to listen on")   \
    X(HTTP_PORT, "http.port", "--port", CFG_T_INT, 0, 65535, "8080", 0,                            \
      "port to listen on; 0 picks a free port")                                                    \
    X(HTTP_THREADS, "http.threads", "--threads", CFG_T_INT, 0, 1024, "0", 0,                       \
      "HTTP worker threads; 0 = number of cores")                                                  \
    X(HTTP_MAX_CONNECTIONS, "http.max_connections", NULL, CFG_T_INT, 1, 1000000, "1024", 0,        \
      "concurrent connections; more are refused")                                                  \
    X(HTTP_TIMEOUT_SEC, "http.timeout_sec", NULL, CFG_T_INT, 1, 3600, "30", 0,                     \
      "idle connection timeout (slow clients are dropped)")                                        \
    X(HTTP_MAX_HEADER_BYTES, "http.max_header_bytes", NULL, CFG_T_INT, 1024, 1048576, "16384", 0,  \
      "largest request line plus headers")                                                         \
    X(HTTP_MAX_BODY_BYTES, "http.max_body_bytes", NULL, CFG_T_INT, 0, INT64_MAX, "1048576", 0,     \
      "largest request body for routes without their own limit")                                   \
    X(HTTP_SHUTDOWN_TIMEOUT_SEC, "http.shutdown_timeout_sec", NULL, CFG_T_INT, 0, 3600, "10", 0,   \
      "on SIGTERM, how long in-flight requests may take to finish")                                \
    X(LOG_LEVEL, "log.level", "--log-level", CFG_T_LEVEL, 0, 0, "info", 0,                         \
      "debug, info, warn, error or off")                                                           \
    X(API_KEY, "api.key", NULL, CFG_T_STR, 0, 0, "", 1,                                            \
      "APIKEY header value for API-key auth; empty = off")                                         \
    X(API_KEY_SCOPES, "api.key_scopes", NULL, CFG_T_STR, 0, 0, "*", 0,                             \
      "scopes granted to API-key requests, comma-separated (* = all)")                             \
    X(API_PAGE_SIZE, "api.page_size", NULL, CFG_T_INT, 1, 1000000, "100", 0,                       \
      "rows per page of the data API when the request gives no page_size")                         \
    X(API_MAX_PAGE_SIZE, "api.max_page_size", NULL, CFG_T_INT, 1, 1000000, "10000", 0,             \
      "largest page_size a data API request may ask for")                                          \
    X(AUTH_ENABLED, "auth.enabled", NULL, CFG_T_INT, 0, 1, "1", 0,                                 \
      "1 = routes need authentication; 0 = every route is open (development only)")                \
    X(AUTH_SECRET, "auth.secret", NULL, CFG_T_STR, 0, 0, "", 1,                                    \
      "server secret encrypting client keys at rest (base64 of 32 bytes); empty = the key file")   \
    X(AUTH_SECRET_FILE, "auth.secret_file", NULL, CFG_T_STR, 0, 0, "data/secret.key", 0,           \
      "file holding the server secret, created (mode 0600) on first start")                        \
    X(AUTH_HAWK_SKEW_SEC, "auth.hawk_skew_sec", NULL, CFG_T_INT, 1, 3600, "60", 0,                 \
      "allowed clock difference for Hawk timestamps")                                              \
    X(AUTH_NONCE_CHECK, "auth.nonce_check", NULL, CFG_T_INT, 0, 1, "1", 0,                         \
      "1 = reject replayed Hawk nonces")                                                           \
    X(AUTH_NONCE_TTL_SEC, "auth.nonce_ttl_sec", NULL, CFG_T_INT, 1, 86400, "300", 0,               \
      "how long a Hawk nonce is remembered")                                                       \
    X(AUTH_NONCE_MAX, "auth.nonce_max", NULL, CFG_T_INT, 1000, 100000000, "1000000", 0,            \
      "most nonces kept in memory (when full, requests fail closed)")                              \
    X(AUTH_SIGN_RESPONSES, "auth.sign_responses", NULL, CFG_T_INT, 0, 1, "1", 0,                   \
      "1 = Server-Authorization on responses to Hawk requests")                                    \
    X(AUTH_HAWK_HOST, "auth.hawk_host", NULL, CFG_T_STR, 0, 0, "", 0,                              \
      "host clients sign (behind a proxy); empty = the Host header")                               \
    X(AUTH_HAWK_PORT, "auth.hawk_port", NULL, CFG_T_INT, 0, 65535, "0", 0,                         \
      "port clients sign (behind a proxy); 0 = from the Host header")                              \
    X(AUTH_IP_ALLOWLIST, "auth.ip_allowlist", NULL, CFG_T_STR, 0, 0, "", 0,                        \
      "client addresses or CIDRs allowed, comma-separated; empty = any")                           \
    X(AUTH_XFF_DEPTH, "auth.xff_depth", NULL, CFG_T_INT, 0, 16, "0", 0,                            \
      "client address = N-th X-Forwarded-For entry from the right; 0 = the socket peer")           \
    X(HTTP_TRUSTED_PROXIES, "http.trusted_proxies", NULL, CFG_T_STR, 0, 0, "", 0,                  \
      "proxy addresses/CIDRs whose X-Forwarded-Host/-Proto/-Port are believed")                    \
    X(INGEST_FILES_DIR, "ingest.files_dir", NULL, CFG_T_STR, 0, 0, "data/files", 0,                \
      "the raw file store: uploaded files kept by sha256 until loaded")                            \
    X(INGEST_MAX_FILE_BYTES, "ingest.max_file_bytes", NULL, CFG_T_INT, 0, INT64_MAX,               \
      "10737418240", 0, "largest CSV upload (bytes; default 10 GiB)")                              \
    X(INGEST_MAX_FIELD_BYTES, "ingest.max_field_bytes", NULL, CFG_T_INT, 1, 1073741824, "1048576", \
      0, "largest CSV field (bytes)")                                                              \
    X(INGEST_MAX_COLUMNS, "ingest.max_columns", NULL, CFG_T_INT, 1, 100000, "1000", 0,             \
      "most columns in a CSV file")                                                                \
    X(INGEST_MAX_LINE_BYTES, "ingest.max_line_bytes", NULL, CFG_T_INT, 1, 1073741824, "16777216",  \
      0, "largest CSV record (bytes, all its fields)")                                             \
    X(INGEST_INLINE_BYTES, "ingest.inline_bytes", NULL, CFG_T_INT, 0, INT64_MAX, "1048576", 0,     \
      "uploads up to this size are loaded within their request (201); larger ones in the "         \
      "background (202)")                                                                          \
    X(INGEST_LEASE_SEC, "ingest.lease_sec", NULL, CFG_T_INT, 1, 86400, "60", 0,                    \
      "a loading upload whose worker is silent this long is taken over by another")                \
    X(INGEST_WORKERS, "ingest.workers", NULL, CFG_T_INT, 0, 64, "1", 0,                            \
      "background threads loading uploads (0: serve loads none)")                                  \
    X(CACHE_URL, "cache.url", NULL, CFG_T_STR, 0, 0, "", 2,                                        \
      "redis://[:password@]host:port[/db] for shared Hawk nonces; empty = in memory")

enum config_type { CFG_T_STR, CFG_T_INT, CFG_T_LEVEL };

enum config_key {
#define CONFIG_ENUM_(name, key, flag, type, min, max, def, secret, help) CFG_##name,
    CONFIG_KEYS(CONFIG_ENUM_)
#undef CONFIG_ENUM_
        CFG__COUNT
};

typedef struct config config;

/* A config holding the built-in defaults. Never NULL. */
config *config_new(void);
void config_free(config *c); /* accepts NULL */

/* Load ferry.yml. path NULL means "ferry.yml" in the working directory, which may
 * be absent; an explicit path must exist. Nested mappings flatten to dotted keys;
 * leaves must be single values; unknown and duplicate keys are errors. Returns 0
 * or ERR_CONFIG (see config_error).
 *
 * All loaders below read and check their whole input first: on error c is left
 * exactly as it was. */
int config_load_yaml(config *c, const char *path);

/* Load a .env file (KEY=VALUE lines; `export ` prefix, # comments, single or
 * double quotes allowed). path NULL means ".env", which may be absent. Keys that
 * are neither FERRY_* nor a seed alias are ignored (the file is shared with other
 * tools); unknown FERRY_* keys are errors. */
int config_load_dotenv(config *c, const char *path);

/* Apply environment variables from envp (NULL-terminated "K=V" strings; NULL
 * means none), with the same rules as .env. FERRY_CONFIG is not a key: the CLI
 * reads it to find the yaml file. Returns 0 or ERR_CONFIG. */
int config_load_env(config *c, char *const *envp);

/* Set a key from the command-line flag (e.g. "--port"). Returns 0, ERR_NOTFOUND
 * if no key has that flag, or ERR_CONFIG for a bad value (config_error() is set
 * for both). */
int config_set_flag(config *c, const char *flag, const char *value);

/* Set a key directly (tests, internal defaults). value and source are copied.
 * Returns 0, ERR_CONFIG for a bad value ("SOURCE: key: problem"), or ERR_INVAL
 * for a key out of range. */
int config_set(config *c, enum config_key key, const char *value, const char *source);

/* The message of the last error ("" if none has happened yet); a later success
 * does not clear it. Borrowed. */
const char *config_error(const config *c);

/* Current values. Borrowed; valid until the key is set again or c is freed.
 * Integers read back in canonical decimal; a level reads back as its lower-case
 * name (levels are accepted in any case) and config_int() gives enum log_level. */
const char *config_str(const config *c, enum config_key key);
int64_t config_int(const config *c, enum config_key key); /* for CFG_T_INT and CFG_T_LEVEL */
const char *config_source(const config *c, enum config_key key);

/* Key metadata. */
const char *config_key_name(enum config_key key); /* "http.port" */
const char *config_key_flag(enum config_key key); /* "--port" or NULL */
const char *config_key_help(enum config_key key);

/* Find a key by name ("http.port"). Returns 0 and writes *out, or ERR_NOTFOUND. */
int config_key_lookup(const char *name, enum config_key *out);

/* Append the effective config, one key per line in table order with its source,
 * the # column aligned, secrets masked (also a password= URL query parameter):
 *   database.url = sqlite:data/ferry.db   # default
 * Returns 0 or ERR_TOOBIG if out's limit is reached (out then holds whole lines
 * only up to the one that did not fit). */
int config_show(const config *c, struct buf *out);

#endif
