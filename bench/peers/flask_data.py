# The peer for bench/data.sh: the seeds' stack (Flask under gunicorn, sync workers) serving a
# dataset's rows the way the seeds' Python services do, from the same database as ferry:
#
#   GET /api/v1/datasets/<name>/data?orientation=records|tabular&page_size=100[&next-id=N]
#
# A keyset page ordered by id (rows with id >= next-id, one extra row fetched to find the next
# page's first id), returned as {"results": [{col: value}, ...], "next": url|null} (or
# {"headers": [...], "values": [[...]], "next": ...}), next being
# {scheme}://{host}{path}?orientation=O&page_size=P&next-id=ID as in the seeds.
#
# Hawk as the seeds' data-engineering-common does it with mohawk (not packaged in Debian, so
# written out here with hmac/hashlib/base64, following /work/shared/hawk/PROTOCOL.md): parse the
# header, look up the client, check its MAC, the payload hash when one is sent (of the empty body),
# the nonce (an in-process dict of (id, nonce, ts), entries kept 300 s, like the seeds' Redis
# keys), the timestamp skew (60 s), the scope, then sign the response with Server-Authorization
# (mac and payload hash of the body). 401 with an empty body on any failure.
#
# Configuration, from the environment:
#   PEER_DB       sqlite file path, or a postgresql:// URL (psycopg2)
#   PEER_CLIENTS  JSON {"id": {"key": "...", "scopes": ["datasets:read"]}, ...}
#   PEER_COLUMNS  optional "col:type,..." (ferry's column types); on SQLite, boolean columns
#                 (stored as 0/1) are returned as true/false, as ferry and PostgreSQL do
#   PEER_SCHEMA   PostgreSQL schema of the datasets (default public)
#
# Each worker keeps one database connection (as the seeds' SQLAlchemy pool would), opened on
# its first request, after gunicorn forks.
import base64
import datetime
import decimal
import hashlib
import hmac
import json
import os
import re
import time

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider

DB = os.environ.get("PEER_DB", "")
CLIENTS = json.loads(os.environ.get("PEER_CLIENTS", "{}"))
SCHEMA = os.environ.get("PEER_SCHEMA", "public")
BOOLEANS = {
    c.split(":", 1)[0]
    for c in os.environ.get("PEER_COLUMNS", "").split(",")
    if c.endswith(":boolean")
}
PG = DB.startswith(("postgres://", "postgresql://"))
SCOPE = "datasets:read"
SKEW_SEC = 60
NONCE_TTL_SEC = 300
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class JSONProvider(DefaultJSONProvider):
    # The seeds' encoder: decimals as numbers, dates and datetimes in ISO-8601.
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, decimal.Decimal):
            return float(o)
        if isinstance(o, (datetime.date, datetime.datetime)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


app = Flask(__name__)
app.json = JSONProvider(app)
app.config["JSON_SORT_KEYS"] = False


# ---- database --------------------------------------------------------------------------------

_conn = None


def connection():
    global _conn
    if _conn is None:
        if PG:
            import psycopg2

            _conn = psycopg2.connect(DB)
            _conn.autocommit = True
        else:
            import sqlite3

            _conn = sqlite3.connect(DB, check_same_thread=False)
    return _conn


def keyset_page(table, next_id, limit):
    """Column names and up to limit rows with id >= next_id, in id order."""
    con = connection()
    if PG:
        sql = f'SELECT * FROM "{SCHEMA}"."{table}" WHERE id >= %s ORDER BY id LIMIT %s'
        with con.cursor() as cur:
            cur.execute(sql, (next_id, limit))
            cols = [d[0] for d in cur.description]
            return cols, cur.fetchall()
    cur = con.execute(f'SELECT * FROM "{table}" WHERE id >= ? ORDER BY id LIMIT ?', (next_id, limit))
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if BOOLEANS:
        idx = [i for i, c in enumerate(cols) if c in BOOLEANS]
        fixed = []
        for row in rows:
            row = list(row)
            for i in idx:
                if row[i] is not None:
                    row[i] = bool(row[i])
            fixed.append(row)
        rows = fixed
    return cols, rows


# ---- Hawk ------------------------------------------------------------------------------------

ATTR_RE = re.compile(r'(\w+)="([^"\\]*)"\s*(?:,\s*|$)')
HAWK_NAMES = {"id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"}
_nonces = {}
_nonce_prune_at = 0.0


class HawkError(Exception):
    pass


def parse_header(value):
    if not value or not value[:5].lower() == "hawk ":
        raise HawkError("no hawk header")
    attrs = {}
    rest = value[5:].strip()
    pos = 0
    for m in ATTR_RE.finditer(rest):
        if m.start() != pos:
            raise HawkError("bad header format")
        name, val = m.group(1), m.group(2)
        if name not in HAWK_NAMES or name in attrs or not val:
            raise HawkError("bad attribute")
        attrs[name] = val
        pos = m.end()
    if pos != len(rest):
        raise HawkError("bad header format")
    for need in ("id", "ts", "nonce", "mac"):
        if need not in attrs:
            raise HawkError("missing attributes")
    return attrs


def b64_hmac(key, text):
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()


def payload_hash(content_type, body):
    ct = content_type.split(";", 1)[0].strip().lower()
    h = hashlib.sha256(b"hawk.1.payload\n" + ct.encode() + b"\n" + body + b"\n")
    return base64.b64encode(h.digest()).decode()


def normalized(kind, a, method, resource, host, port, hash_, ext):
    s = f"hawk.1.{kind}\n{a['ts']}\n{a['nonce']}\n{method}\n{resource}\n{host}\n{port}\n{hash_}\n{ext}\n"
    if a.get("app"):
        s += f"{a['app']}\n{a.get('dlg', '')}\n"
    return s


def seen_nonce(client_id, nonce, ts, now):
    global _nonce_prune_at
    if now >= _nonce_prune_at:
        for k in [k for k, exp in _nonces.items() if exp <= now]:
            del _nonces[k]
        _nonce_prune_at = now + 10
    k = (client_id, nonce, ts)
    if _nonces.get(k, 0) > now:
        return True
    _nonces[k] = now + NONCE_TTL_SEC
    return False


def authenticate():
    """The client's id, key and the request's Hawk artifacts; raises HawkError."""
    now = time.time()
    attrs = parse_header(request.headers.get("Authorization"))
    client = CLIENTS.get(attrs["id"])
    if client is None:
        raise HawkError("unknown credentials")
    key = client["key"].encode()
    host_hdr = request.headers.get("Host", "")
    host, _, port = host_hdr.rpartition(":")
    if not host or not port.isdigit():
        host, port = host_hdr, "443" if request.scheme == "https" else "80"
    env = request.environ
    resource = env.get("RAW_URI") or env.get("REQUEST_URI")
    if not resource:
        q = env.get("QUERY_STRING", "")
        resource = env.get("PATH_INFO", "/") + ("?" + q if q else "")
    art = {
        "method": request.method.upper(),
        "resource": resource,
        "host": host.lower(),
        "port": port,
    }
    want = b64_hmac(
        key,
        normalized("header", attrs, art["method"], resource, art["host"], port,
                   attrs.get("hash", ""), attrs.get("ext", "")),
    )
    if not hmac.compare_digest(want, attrs["mac"]):
        raise HawkError("bad mac")
    if "hash" in attrs:
        got = payload_hash(request.headers.get("Content-Type", ""), request.get_data())
        if not hmac.compare_digest(got, attrs["hash"]):
            raise HawkError("bad payload hash")
    if seen_nonce(attrs["id"], attrs["nonce"], attrs["ts"], now):
        raise HawkError("invalid nonce")
    if not attrs["ts"].isdigit() or abs(int(attrs["ts"]) - now) > SKEW_SEC:
        raise HawkError("stale timestamp")
    scopes = client.get("scopes", [])
    if "*" not in scopes and SCOPE not in scopes:
        raise HawkError("scope")
    return key, attrs, art


@app.before_request
def hawk_check():
    if not request.path.startswith("/api/"):
        return None
    try:
        g.hawk = authenticate()
    except HawkError:
        return Response(b"", status=401, headers={"WWW-Authenticate": "Hawk"})
    return None


@app.after_request
def hawk_sign(resp):
    hawk = g.get("hawk")
    if hawk is None:
        return resp
    key, attrs, art = hawk
    h = payload_hash(resp.headers.get("Content-Type", ""), resp.get_data())
    mac = b64_hmac(key, normalized("response", attrs, art["method"], art["resource"], art["host"],
                                   art["port"], h, ""))
    resp.headers["Server-Authorization"] = f'Hawk mac="{mac}", hash="{h}"'
    return resp


# ---- routes ----------------------------------------------------------------------------------

@app.route("/healthcheck")
def healthcheck():
    return {"status": "OK"}


@app.route("/api/v1/datasets/<name>/data")
def data(name):
    orientation = request.args.get("orientation", "tabular")
    if orientation not in ("tabular", "records"):
        return {"error": "orientation must be tabular or records"}, 400
    try:
        page_size = int(request.args.get("page_size", "100"))
        next_id = int(request.args.get("next-id", "1"))
    except ValueError:
        return {"error": "bad page_size or next-id"}, 400
    if not 1 <= page_size <= 10000:
        return {"error": "page_size must be from 1 to 10000"}, 400
    if not NAME_RE.match(name):
        return {}, 404
    try:
        cols, rows = keyset_page(name, next_id, page_size + 1)
    except Exception:
        if PG:
            connection().rollback()
        return {}, 404
    nxt = None
    if len(rows) > page_size:
        first = rows[page_size][cols.index("id")]
        rows = rows[:page_size]
        nxt = (f"{request.scheme}://{request.host}{request.path}"
               f"?orientation={orientation}&page_size={page_size}&next-id={first}")
    if orientation == "records":
        return {"results": [dict(zip(cols, r)) for r in rows], "next": nxt}
    return {"headers": cols, "values": [list(r) for r in rows], "next": nxt}
