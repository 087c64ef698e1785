// `ferry request`: the Hawk-signing client, against a tiny Node server in this
// process that uses the reference server API (@hapi/hawk): it authenticates the
// request (payload hash included, always), checks nonces, and signs its response with
// server.header(). ferry runs with an async spawn: a synchronous one would block the
// server living in this same process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Hawk from '@hapi/hawk';
import { BIN, cleanEnv, tempDir } from './lib/ferry.mjs';

const creds = { id: 'dh37fgj492je', key: 'werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn', algorithm: 'sha256' };
const dir = tempDir();
let server;
let base;
let last; // what the server saw on the latest request
const nonces = new Set();

// The server's behaviour per path:
//   /ok, /echo   200 JSON, signed; /echo returns what was received
//   /skewed      the server's clock is one hour ahead (stale timestamp first)
//   /badtsm      a 401 stale-timestamp answer whose tsm is made with another key
//   /tampered    200 with a Server-Authorization whose mac is altered
//   /unsigned    200 without Server-Authorization
//   /notfound    404, signed
function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    const options = {
      payload: body, // always: ferry hashes every payload, the empty GET one too
      localtimeOffsetMsec: path === '/skewed' ? 3600_000 : 0,
      nonceFunc: async (key, nonce, ts) => {
        const k = `${key}\n${nonce}\n${ts}`;
        if (nonces.has(k)) throw new Error('Invalid nonce');
        nonces.add(k);
      },
    };
    last = { method: req.method, url: req.url, headers: req.headers, body };
    if (path === '/badtsm') {
      const tsm = Hawk.crypto.calculateTsMac(Math.floor(Date.now() / 1000) + 3600,
        { ...creds, key: 'not-the-key' });
      res.writeHead(401, {
        'www-authenticate': `Hawk ts="${Math.floor(Date.now() / 1000) + 3600}", tsm="${tsm}", error="Stale timestamp"`,
      });
      res.end();
      return;
    }
    let auth;
    try {
      auth = await Hawk.server.authenticate(req, (id) => (id === creds.id ? creds : null), options);
    } catch (err) {
      const out = err.output || { statusCode: 500, headers: {} };
      last.error = err.message;
      res.writeHead(out.statusCode, out.headers);
      res.end(JSON.stringify({ error: err.message }));
      return;
    }
    const status = path === '/notfound' ? 404 : 200;
    const payload = JSON.stringify(path === '/echo'
      ? { method: req.method, url: req.url, body, contentType: req.headers['content-type'] ?? null,
        one: req.headers['x-one'] ?? null, two: req.headers['x-two'] ?? null }
      : path === '/notfound' ? { error: 'no such thing' } : { ok: true, id: auth.credentials.id });
    const contentType = 'application/json; charset=utf-8';
    let sa = Hawk.server.header(auth.credentials, auth.artifacts, { payload, contentType });
    if (path === '/tampered') sa = sa.replace(/mac="([^"]{4})/, 'mac="AAAA');
    const headers = { 'content-type': contentType };
    if (path !== '/unsigned') headers['server-authorization'] = sa;
    res.writeHead(status, headers);
    res.end(payload);
  });
}

// Run ferry without blocking the event loop: { status, stdout, stderr }.
function ferry(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

const request = (path, extra = [], c = creds) =>
  ferry(['request', `${base}${path}`, '--client-id', c.id, '--client-key', c.key, ...extra]);

function firstLine(out) {
  return out.split('\n')[0];
}

before(async () => {
  server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('request: a signed GET gets 200, the response verifies, exit 0', async () => {
  const r = await request('/ok');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(firstLine(r.stdout), 'REQUEST RESPONSE 200');
  assert.deepEqual(JSON.parse(r.stdout.split('\n')[1]), { ok: true, id: creds.id });
  assert.equal(last.method, 'GET');
  assert.match(last.headers.authorization, /^Hawk id="dh37fgj492je", ts="\d+", nonce="[A-Za-z0-9_-]{8}", hash="[^"]+", mac="[^"]+"$/);
  assert.equal(last.headers['content-type'], undefined, 'no Content-Type on a bodiless GET');
});

test('request: the query string is signed as sent', async () => {
  const r = await request('/echo?b=2&a=%20x');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.split('\n')[1]).url, '/echo?b=2&a=%20x');
});

test('request: a wrong key gets 401 and exit 1', async () => {
  const r = await request('/ok', [], { ...creds, key: 'wrong-key' });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(firstLine(r.stdout), 'REQUEST RESPONSE 401');
  assert.equal(last.error, 'Bad mac');
  assert.match(r.stderr, /not signed/);
});

test('request: an unknown id gets 401 and exit 1', async () => {
  const r = await request('/ok', [], { ...creds, id: 'nobody' });
  assert.equal(r.status, 1);
  assert.equal(firstLine(r.stdout), 'REQUEST RESPONSE 401');
});

test('request: a tampered Server-Authorization is an error (exit 1, body not shown)', async () => {
  const r = await request('/tampered');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Server-Authorization does not verify/);
});

test('request: a 200 without Server-Authorization is an error unless --no-verify', async () => {
  const r = await request('/unsigned');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no Server-Authorization/);
  const n = await request('/unsigned', ['--no-verify']);
  assert.equal(n.status, 0, n.stderr);
  assert.equal(firstLine(n.stdout), 'REQUEST RESPONSE 200');
});

test('request: a signed 404 verifies and exits 1', async () => {
  const r = await request('/notfound');
  assert.equal(r.status, 1, r.stderr);
  assert.equal(firstLine(r.stdout), 'REQUEST RESPONSE 404');
  assert.match(r.stdout, /no such thing/);
  assert.equal(r.stderr, '');
});

test('request: a stale timestamp is re-synced with the verified server time, once', async () => {
  const r = await request('/skewed');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(firstLine(r.stdout), 'REQUEST RESPONSE 200');
  assert.match(r.stderr, /stale timestamp: this clock is 3[56]\d\d s behind the server's; retrying/);
  const ts = Number(/ts="(\d+)"/.exec(last.headers.authorization)[1]);
  assert.ok(Math.abs(ts - (Date.now() / 1000 + 3600)) < 60, `retried with ts ${ts}`);
});

test('request: a tsm made with another key is not trusted (no retry, exit 1)', async () => {
  const r = await request('/badtsm');
  assert.equal(r.status, 1);
  assert.equal(firstLine(r.stdout), 'REQUEST RESPONSE 401');
  assert.match(r.stderr, /does not verify with this key/);
  assert.doesNotMatch(r.stderr, /retrying/);
});

test('request: POST --data @file is sent and hashed with its content type', async () => {
  const file = join(dir, 'body.json');
  const body = JSON.stringify({ name: 'ferry', list: [1, 2, 3], text: 'caf\u00e9 \u2603' });
  writeFileSync(file, body);
  const r = await request('/echo', ['--data', `@${file}`, '--content-type', 'application/json; charset=utf-8']);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.split('\n').slice(1).join('\n'));
  assert.equal(got.method, 'POST');
  assert.equal(got.body, body);
  assert.equal(got.contentType, 'application/json; charset=utf-8');
  assert.match(last.headers.authorization, /hash="/);
});

test('request: --method PUT with inline --data, default JSON content type, repeated --header', async () => {
  const r = await request('/echo', ['--method', 'PUT', '--data', '{"a":1}', '--header', 'X-One: 1',
    '--header=X-Two: two']);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.split('\n')[1]);
  assert.deepEqual(got, { method: 'PUT', url: '/echo', body: '{"a":1}', contentType: 'application/json',
    one: '1', two: 'two' });
});

test('request: POST with an empty body still hashes the empty payload', async () => {
  const r = await request('/echo', ['--method', 'POST']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.split('\n')[1]).body, '');
});

test('request: usage errors exit 2', async () => {
  const noKey = await ferry(['request', `${base}/ok`, '--client-id', 'x']);
  assert.equal(noKey.status, 2);
  assert.match(noKey.stderr, /^ferry: usage: ferry request/);
  const badUrl = await ferry(['request', 'ftp://example/x', '--client-id', 'x', '--client-key', 'k']);
  assert.equal(badUrl.status, 2);
  assert.match(badUrl.stderr, /bad URL/);
  const badAlg = await request('/ok', ['--algorithm', 'md5']);
  assert.equal(badAlg.status, 2);
  const badHeader = await request('/ok', ['--header', 'no colon']);
  assert.equal(badHeader.status, 2);
  const help = await ferry(['request', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /REQUEST RESPONSE <status>/);
});

test('request: a refused connection is exit 1 with a clear message', async () => {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  const r = await ferry(['request', `http://127.0.0.1:${port}/`, '--client-id', 'x', '--client-key', 'k']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /request to .* failed/);
  assert.equal(r.stdout, '');
});
