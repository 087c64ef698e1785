// The HTTP server of `ferry serve`: the foundation routes, errors, limits and the
// per-request plumbing (request ids, access log, metrics), against the real binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND, startFerry, rawRequest, statusOf, logLines, sqliteOnly, waitForLog } from './lib/ferry.mjs';

let f;
before(async () => { f = await startFerry({ args: ['--log-level', 'debug'] }); });
after(async () => {
  const code = await f.stop();
  f.cleanup();
  assert.equal(code, 0, `ferry exited ${code}:\n${f.stderr().slice(-4000)}`);
});

test('GET /healthcheck answers OK after asking the database', async () => {
  const r = await fetch(`${f.url}/healthcheck`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  const body = await r.json();
  assert.equal(body.status, 'OK');
  assert.equal(body.database, 'ok');
  assert.equal(body.backend, BACKEND);
});

test('GET /healthcheck/ (trailing slash, as the seeds\' load balancers call it)', async () => {
  const r = await fetch(`${f.url}/healthcheck/`);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).status, 'OK');
});

test('HEAD /healthcheck answers without a body', async () => {
  const r = await fetch(`${f.url}/healthcheck`, { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), '');
});

test('GET /api is the seeds\' liveness message', async () => {
  const r = await fetch(`${f.url}/api`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { message: 'Success: Application was running ...' });
});

test('every response carries a generated X-Request-Id', async () => {
  const a = (await fetch(`${f.url}/api`)).headers.get('x-request-id');
  const b = (await fetch(`${f.url}/nope`)).headers.get('x-request-id');
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.match(b, /^[0-9a-f]{32}$/);
  assert.notEqual(a, b);
});

test('a well-formed X-Request-Id from the client is kept; a bad one is replaced', async () => {
  const kept = await fetch(`${f.url}/api`, { headers: { 'X-Request-Id': 'abc-123.x:y_z' } });
  assert.equal(kept.headers.get('x-request-id'), 'abc-123.x:y_z');
  const bad = await fetch(`${f.url}/api`, { headers: { 'X-Request-Id': 'no spaces<>' } });
  assert.match(bad.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  const long = await fetch(`${f.url}/api`, { headers: { 'X-Request-Id': 'a'.repeat(129) } });
  assert.match(long.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
});

test('unknown routes get a JSON 404', async () => {
  const r = await fetch(`${f.url}/no/such/route`);
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  const body = await r.json();
  assert.equal(body.error.code, 'not_found');
  assert.equal(typeof body.error.message, 'string');
});

test('a known path with the wrong method gets 405 with Allow', async () => {
  const r = await fetch(`${f.url}/healthcheck`, { method: 'POST' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, HEAD');
  assert.equal((await r.json()).error.code, 'method_not_allowed');
  const d = await fetch(`${f.url}/metrics`, { method: 'DELETE' });
  assert.equal(d.status, 405);
});

test('a body sent to a route that takes none is refused with 413 before it is read', async () => {
  const raw = await rawRequest(f.port,
    'GET /healthcheck HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n');
  assert.equal(statusOf(raw), 413);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  assert.equal(body.error.code, 'too_large');
});

test('a chunked body on a route that takes none is refused with 413', async () => {
  const raw = await rawRequest(f.port,
    'GET /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
    '5\r\nhello\r\n0\r\n\r\n');
  assert.equal(statusOf(raw), 413);
});

test('oversize headers get a JSON 431', async () => {
  const r = await fetch(`${f.url}/api`, { headers: { 'X-Big': 'x'.repeat(20000) } });
  assert.equal(r.status, 431);
  assert.equal((await r.json()).error.code, 'headers_too_large');
});

test('an absolute-form request target is served by its path', async () => {
  const raw = await rawRequest(f.port,
    'GET http://example.test/api HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n');
  assert.equal(statusOf(raw), 200);
  assert.match(raw, /Application was running/);
});

test('malformed requests get a 4xx or a closed connection, and the server goes on', async () => {
  // Request lines libmicrohttpd cannot parse at all are closed without an answer;
  // the others get its 4xx/505. Either way: no crash, no hang, the next request works.
  const cases = {
    'GARBAGE\r\n\r\n': [0],
    '\x00\x01\x02\r\n\r\n': [0],
    'GET /api HTTP/9.9\r\n\r\n': [505],
    'GET /api HTTP/1.1\r\nNo-Colon-Here\r\n\r\n': [400],
    'GET /api HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n': [400],
    'GET /api HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n': [400, 413],
  };
  for (const [junk, expected] of Object.entries(cases)) {
    const status = statusOf(await rawRequest(f.port, junk));
    assert.ok(expected.includes(status), `${JSON.stringify(junk)} gave ${status}`);
  }
  const r = await fetch(`${f.url}/healthcheck`);
  assert.equal(r.status, 200);
});

test('an encoded slash or NUL in the path does not match a route', async () => {
  assert.equal((await fetch(`${f.url}/health%63heck`)).status, 404);
  assert.equal((await fetch(`${f.url}/api%00`)).status, 404);
});

test('GET /metrics is Prometheus text with request counts, latency and process figures', async () => {
  for (let i = 0; i < 3; i++) await fetch(`${f.url}/healthcheck`);
  await fetch(`${f.url}/definitely-missing`);
  const r = await fetch(`${f.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  const count = (re) => Number((re.exec(text) || [])[1]);
  assert.ok(count(/^ferry_http_requests_total\{route="healthcheck",method="GET",status="200"\} (\d+)$/m) >= 3);
  assert.ok(count(/^ferry_http_requests_total\{route="none",method="GET",status="404"\} (\d+)$/m) >= 1);
  assert.ok(count(/^ferry_http_request_duration_seconds_count\{route="healthcheck"\} (\d+)$/m) >= 3);
  assert.match(text, /^ferry_http_request_duration_seconds_bucket\{route="healthcheck",le="\+Inf"\} \d+$/m);
  assert.match(text, /^ferry_http_requests_in_flight 1$/m); // this very request
  assert.match(text, new RegExp(String.raw`^ferry_build_info\{version="[^"]+",revision="[^"]+",backend="${BACKEND}"\} 1$`, 'm'));
  assert.ok(count(/^process_resident_memory_bytes (\d+)$/m) > 1_000_000);
  assert.match(text, /^process_cpu_seconds_total [0-9.]+$/m);
  assert.match(text, /^process_open_fds \d+$/m);
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    assert.match(line, /^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/, `not exposition format: ${line}`);
  }
});

test('each request writes one JSON access-log line with its id, status, bytes and time', async () => {
  const r = await fetch(`${f.url}/api`, { headers: { 'X-Request-Id': 'log-check-1' } });
  await r.text();
  const isIt = (l) => l.msg === 'request' && l.request_id === 'log-check-1';
  assert.ok(await waitForLog(f, isIt), 'no access-log line for the request');
  const line = logLines(f.stderr()).find(isIt);
  assert.ok(line, 'no access-log line for the request');
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/api');
  assert.equal(line.route, 'liveness');
  assert.equal(line.status, 200);
  assert.ok(line.bytes > 0);
  assert.ok(line.usec >= 0);
  assert.match(line.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(line.level, 'info');
});

test('keep-alive: many requests over one connection', async () => {
  const req = 'GET /api HTTP/1.1\r\nHost: x\r\n\r\n';
  const raw = await rawRequest(f.port, req.repeat(5) + 'GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(raw.match(/HTTP\/1\.1 200/g).length, 6);
});

test('healthcheck says 503 when the database no longer answers',
  sqliteOnly('overwrites the database file; PostgreSQL: postgresql.test.mjs'), async () => {
  const g = await startFerry();
  try {
    assert.equal((await fetch(`${g.url}/healthcheck`)).status, 200);
    // Overwrite the database file (and its WAL index) in place, under the open connections.
    for (const f of ['ferry.db', 'ferry.db-shm']) {
      const fd = openSync(join(g.dir, f), 'r+');
      writeSync(fd, Buffer.alloc(4096, 'garbage!'), 0, 4096, 0);
      closeSync(fd);
    }
    const r = await fetch(`${g.url}/healthcheck`);
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.status, 'FAIL');
    assert.equal(body.database, 'unavailable');
    assert.ok(await waitForLog(g, (l) => l.msg === 'healthcheck: database does not answer'));
  } finally {
    assert.equal(await g.stop(), 0);
    g.cleanup();
  }
});
