// Load generator for bench/data.sh: autocannon against GET /api/v1/datasets/NAME/data, every
// request signed with @hapi/hawk (its own ts and a nonce used once: the servers check nonces).
//
//   node bench/data_load.mjs --url http://127.0.0.1:PORT --dataset NAME --rows N \
//       --id ID --key KEY [--duration S] [--connections C] [--page-size P] \
//       [--sign live|presign] [--presign COUNT] [--seed N]
//
// Each request asks for one keyset page, ?orientation=records&page_size=P&next-id=K, with K
// drawn uniformly from 1..rows-P+1 (a seeded generator: every server gets the same sequence),
// so pages come from anywhere in the table, as when many readers page through it.
//
// --sign live (the straightforward way): autocannon's setupRequest hook signs each request as
// it goes out (Hawk.client.header: URL parse, nonce, HMAC-SHA256), then autocannon rebuilds the
// request bytes.
// --sign presign (default): COUNT requests (default 10,000 + 50,000 per second of --duration)
// are signed before the run, each with its own nonce, and the hook hands out the next one; each
// is sent once, so the nonce check stays on and meaningful. A run that uses them all up signs
// the rest live (reported). Presigned timestamps age during the run, so --duration is at most
// 45 s (Hawk allows 60 s of skew). The generator shares the machine's cores with the servers;
// presigning takes Hawk's client-side cost out of the measured run.
//
// --probe K: one signed request for the page at next-id=K, checked, its rows printed as
// canonical JSON (below), to compare two servers' answers.
//
// Prints one JSON line: requests, seconds, rps, latency p50/p90/p99/max (ms, from autocannon's
// per-response times, recorded here at microsecond resolution; autocannon's own histogram keeps
// whole milliseconds), non2xx, errors, timeouts, MB/s, presigned/live counts, reconnects.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import Hawk from '@hapi/hawk';
import autocannon from 'autocannon';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    dataset: { type: 'string', default: 'bench' },
    rows: { type: 'string' },
    id: { type: 'string' },
    key: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    'page-size': { type: 'string', default: '100' },
    sign: { type: 'string', default: 'presign' },
    presign: { type: 'string' },
    seed: { type: 'string', default: '1' },
    probe: { type: 'string' },
  },
});
for (const need of ['url', 'rows', 'id', 'key']) {
  if (!opt[need]) {
    console.error(`data_load.mjs: --${need} is required`);
    process.exit(2);
  }
}
if (!['live', 'presign'].includes(opt.sign)) {
  console.error('data_load.mjs: --sign live|presign');
  process.exit(2);
}
const base = opt.url.replace(/\/$/, '');
const rows = Number(opt.rows);
const pageSize = Number(opt['page-size']);
const duration = Number(opt.duration);
const credentials = { id: opt.id, key: opt.key, algorithm: 'sha256' };
const prefix = `/api/v1/datasets/${opt.dataset}/data?orientation=records&page_size=${pageSize}&next-id=`;

// mulberry32: a small seeded generator, so both servers get the same pages in the same order.
let state = Number(opt.seed) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const span = Math.max(1, rows - pageSize + 1);
const nextPath = () => prefix + (1 + Math.floor(random() * span));

// Nonces: a random run prefix and a counter, so no two requests of a run share one
// (@hapi/hawk's own 6 random characters could collide within a second at these rates).
const runTag = randomBytes(4).toString('hex');
let seq = 0;
function sign(path) {
  const nonce = `${runTag}${(seq++).toString(36)}`;
  return Hawk.client.header(base + path, 'GET', { credentials, nonce }).header;
}

// --probe K: one signed request for the page at next-id=K; checks the status and the response's
// Server-Authorization (mac and payload hash, @hapi/hawk), prints the page's rows as canonical
// JSON (so two servers' pages can be compared byte for byte) and exits.
if (opt.probe) {
  const url = base + prefix + opt.probe;
  const nonce = `${runTag}p`;
  const { header, artifacts } = Hawk.client.header(url, 'GET', { credentials, nonce });
  const res = await fetch(url, { headers: { Authorization: header } });
  const body = await res.text();
  if (res.status !== 200) {
    console.error(`data_load.mjs: ${url}: HTTP ${res.status} ${body.slice(0, 300)}`);
    process.exit(1);
  }
  const headers = Object.fromEntries(res.headers.entries());
  try {
    Hawk.client.authenticate({ headers }, credentials, artifacts, { payload: body, required: true });
  } catch (err) {
    console.error(`data_load.mjs: ${url}: Server-Authorization: ${err.message}`);
    process.exit(1);
  }
  const page = JSON.parse(body);
  if (!Array.isArray(page.results) || page.results.length !== pageSize || typeof page.next !== 'string') {
    console.error(`data_load.mjs: ${url}: not a full records page with a next link`);
    process.exit(1);
  }
  // Python's isoformat() writes microseconds in full (.600000) where ferry writes .6: compare
  // fractions of a second without trailing zeros.
  const frac = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d*?)0*$/;
  const canon = (v) => (typeof v === 'string' ? v.replace(frac, (m, t, f) => (f ? `${t}.${f}` : t)) : v);
  console.log(JSON.stringify(page.results.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, canon(v)])))));
  process.exit(0);
}

let presigned = [];
let next = 0;
let live = 0;
let presignSec = 0;
if (opt.sign === 'presign' && !opt.probe) {
  if (duration > 45) {
    console.error('data_load.mjs: --sign presign needs --duration <= 45 (Hawk allows 60 s of skew)');
    process.exit(2);
  }
  const n = Number(opt.presign ?? 10000 + 50000 * duration);
  const t0 = process.hrtime.bigint();
  presigned = new Array(n);
  for (let i = 0; i < n; i++) {
    const path = nextPath();
    presigned[i] = [path, sign(path)];
  }
  presignSec = Number(process.hrtime.bigint() - t0) / 1e9;
}

function setupRequest(req) {
  let path, auth;
  if (next < presigned.length) {
    [path, auth] = presigned[next];
    presigned[next++] = null;
  } else {
    path = nextPath();
    auth = sign(path);
    live++;
  }
  req.path = path;
  req.headers = { Authorization: auth };
  return req;
}

// A server that closes the connection after each response (gunicorn's sync workers answer
// `Connection: close`): autocannon 9.0.0 would write the next request on the closing socket and
// queue it behind a reconnect (inflated latencies, errors), and its reconnectRate option drops
// the responses it resets after. So each client honours Connection: close itself: when the
// last response said so, the next request goes out on a new connection (its latency includes
// the TCP connect, as for any client of such a server). Uses the client's internals
// (_doRequest, _destroyConnection, _connect): autocannon is pinned at 9.0.0.
let reconnects = 0;
function setupClient(client) {
  let closing = false;
  client.on('headers', (info) => {
    closing = !info.shouldKeepAlive;
  });
  const doRequest = client._doRequest;
  client._doRequest = function () {
    if (closing) {
      closing = false;
      reconnects++;
      this._destroyConnection();
      this._connect(); // sends the next request once connected
      return;
    }
    doRequest.call(this);
  };
}

// Per-response times in ms (floats), kept for exact percentiles.
let lat = new Float64Array(1 << 20);
let nlat = 0;
const instance = autocannon({
  url: base,
  connections: Number(opt.connections),
  duration,
  requests: [{ method: 'GET', setupRequest }],
  setupClient,
});
instance.on('response', (client, status, bytes, ms) => {
  if (status < 200 || status > 299) return;
  if (nlat === lat.length) {
    const bigger = new Float64Array(lat.length * 2);
    bigger.set(lat);
    lat = bigger;
  }
  lat[nlat++] = ms;
});
const result = await instance;

const sorted = lat.subarray(0, nlat).sort();
const pct = (p) => (nlat ? sorted[Math.min(nlat - 1, Math.ceil((p / 100) * nlat) - 1)] : NaN);
const total = result['2xx'] + result.non2xx;
const secs = result.duration;
console.log(
  JSON.stringify({
    url: base + prefix + 'K',
    sign: opt.sign,
    connections: Number(opt.connections),
    requests: total,
    seconds: Number(secs.toFixed(3)),
    rps: Math.round(result['2xx'] / secs),
    p50_ms: Number(pct(50).toFixed(3)),
    p90_ms: Number(pct(90).toFixed(3)),
    p99_ms: Number(pct(99).toFixed(3)),
    max_ms: Number(pct(100).toFixed(3)),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mb_per_s: Number((result.throughput.average / 1e6).toFixed(1)),
    presign_count: presigned.length,
    presigned: next,
    presign_sec: Number(presignSec.toFixed(2)),
    signed_live: live,
    reconnects,
  }),
);
