// Streamed request bodies (ROUTE_STREAM) end to end through auth: the guard answers at
// the headers, the Hawk payload hash is verified as the body streams by, and the server
// signs the response. Written against the CSV upload route, POST
// /api/v1/datasets/{name}/uploads; until that route exists every test here is skipped
// with that reason (ferry has no test-only routes). The server side is also covered by
// tests/unit/test_server.c, with a route table of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { startFerry, waitForLog, openSocket, statusOf, sleep, logLines } from './lib/ferry.mjs';
import { send, hawkSend, verifyResponse, Hawk, prepare, admin } from './lib/hawk.mjs';

const UPLOADS = '/api/v1/datasets/stream_e2e/uploads';

let f;
let skip = false;

before(async () => {
  f = await startFerry({ dir: prepare() });
  const probe = await send({ port: f.port, method: 'POST', path: UPLOADS, body: '' });
  if (probe.status === 404 || probe.status === 405) {
    skip = `POST ${UPLOADS} does not exist yet (streamed bodies are tested in tests/unit/test_server.c until it does)`;
  }
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
  f.cleanup();
});

// Each test checks `skip` when it runs (it is only known once the probe has run).
function streamTest(name, fn) {
  test(name, async (t) => {
    if (skip) { t.skip(skip); return; }
    await fn(t);
  });
}

const url = (path) => `http://127.0.0.1:${f.port}${path}`;

// The Hawk payload hash of a body given in pieces, computed as it streams.
function payloadHash(contentType, pieces) {
  const h = crypto.createHash('sha256');
  h.update(`hawk.1.payload\n${Hawk.utils.parseContentType(contentType)}\n`);
  for (const p of pieces) h.update(p);
  h.update('\n');
  return h.digest('base64');
}

// POST pieces (Buffers) with a Hawk header carrying `hash`; resolves the response.
function streamPost({ path, contentType, pieces, hash, credentials = admin }) {
  const { header, artifacts } = Hawk.client.header(url(path), 'POST', { credentials, hash });
  const length = pieces.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: f.port, method: 'POST', path,
      headers: { authorization: header, 'content-type': contentType, 'content-length': length } },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, artifacts }));
    });
    req.on('error', reject);
    let i = 0;
    const go = () => {
      while (i < pieces.length) if (!req.write(pieces[i++])) { req.once('drain', go); return; }
      req.end();
    };
    go();
  });
}

const csv = 'id,name\n1,ferry\n2,hawk\n';

streamTest('no credentials: 401 at the headers, before the body is read', async () => {
  const s = await openSocket(f.port);
  s.sock.write(`POST ${UPLOADS} HTTP/1.1\r\nHost: 127.0.0.1:${f.port}\r\n` +
    'Content-Type: text/csv\r\nContent-Length: 500000000\r\n\r\n');
  const raw = await s.closed;
  assert.equal(statusOf(raw), 401, raw);
  assert.match(raw, /WWW-Authenticate: Hawk/i);
});

streamTest('a raw body signed with its payload hash is accepted and the response is signed', async () => {
  const pieces = [Buffer.from(csv.slice(0, 5)), Buffer.from(csv.slice(5))];
  const r = await streamPost({ path: UPLOADS, contentType: 'text/csv', pieces,
    hash: payloadHash('text/csv', pieces) });
  assert.notEqual(r.status, 401, r.body);
  assert.notEqual(r.status, 403, r.body);
  assert.ok(verifyResponse(r, admin, r.artifacts));
});

streamTest('a body that differs from the signed hash is refused like any bad payload', async () => {
  const before = await send({ port: f.port, path: '/metrics' });
  const count = (m) => Number((/ferry_auth_failures_total\{reason="payload"\} (\d+)/.exec(m.body) || [])[1]);
  const pieces = [Buffer.from(csv)];
  const r = await streamPost({ path: UPLOADS, contentType: 'text/csv', pieces,
    hash: payloadHash('text/csv', [Buffer.from(csv + 'tampered')]) });
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['www-authenticate'], 'Hawk error="Bad payload hash"');
  assert.deepEqual(JSON.parse(r.body), { error: { code: 'unauthorized', message: 'Bad payload hash' } });
  const afterM = await send({ port: f.port, path: '/metrics' });
  assert.equal(count(afterM), count(before) + 1);
});

streamTest('a body without a payload hash is refused at the headers', async () => {
  const r = await hawkSend({ port: f.port, url: url(UPLOADS), method: 'POST', credentials: admin,
    body: csv, contentType: 'text/csv', hashPayload: false });
  assert.equal(r.status, 401, r.body);
  assert.equal(JSON.parse(r.body).error.message, 'Missing required payload hash');
});

streamTest('a multipart form is hashed raw; its file part is the upload', async () => {
  const b = 'ferryE2eBoundary';
  const form = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="file"; filename="data.csv"\r\n` +
    `Content-Type: text/csv\r\n\r\n${csv}\r\n--${b}--\r\n`);
  const ct = `multipart/form-data; boundary=${b}`;
  const pieces = [form.subarray(0, 40), form.subarray(40)];
  const r = await streamPost({ path: UPLOADS, contentType: ct, pieces, hash: payloadHash(ct, pieces) });
  assert.notEqual(r.status, 401, r.body);
  assert.ok(verifyResponse(r, admin, r.artifacts));
  const bad = await streamPost({ path: UPLOADS, contentType: ct, pieces,
    hash: payloadHash(ct, [Buffer.from('other')]) });
  assert.equal(bad.status, 401, bad.body);
});

streamTest('a form without a file part: 400 "no file part in the form"', async () => {
  const b = 'ferryE2eBoundary';
  const form = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${b}--\r\n`);
  const ct = `multipart/form-data; boundary=${b}`;
  const r = await streamPost({ path: UPLOADS, contentType: ct, pieces: [form], hash: payloadHash(ct, [form]) });
  assert.equal(r.status, 400, r.body);
  assert.match(JSON.parse(r.body).error.message, /no file part/);
});

streamTest('a client leaving mid-upload: the request ends unfinished and ferry goes on', async () => {
  const piece = Buffer.alloc(1 << 20, 0x61);
  const { header } = Hawk.client.header(url(UPLOADS), 'POST',
    { credentials: admin, hash: payloadHash('text/csv', [piece]) });
  const s = await openSocket(f.port);
  s.sock.write(`POST ${UPLOADS} HTTP/1.1\r\nHost: 127.0.0.1:${f.port}\r\nAuthorization: ${header}\r\n` +
    'Content-Type: text/csv\r\nContent-Length: 100000000\r\n\r\n');
  s.sock.write(piece);
  await sleep(200);
  s.sock.destroy();
  assert.ok(await waitForLog(f, (l) => l.msg === 'request' && l.route && l.complete === false),
    logLines(f.stderr()).slice(-5).map((l) => JSON.stringify(l)).join('\n'));
  const h = await send({ port: f.port, path: '/healthcheck' });
  assert.equal(h.status, 200);
});
