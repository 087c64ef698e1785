// Hawk, API-key and address checks of `ferry serve`, driven by the reference Hawk client
// (@hapi/hawk) against the real binary: every accepted response's Server-Authorization is
// verified by that client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFerry, waitForLog } from './lib/ferry.mjs';
import { send, hawkSend, verifyResponse, Hawk, prepare, reader, admin, legacy } from './lib/hawk.mjs';

const APIKEY = 'api-key-for-tests-0123';

let dir;
let f;

before(async () => {
  dir = prepare();
  f = await startFerry({ dir, env: { FERRY_API_KEY: APIKEY } });
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
  f.cleanup();
});

const url = (path) => `http://127.0.0.1:${f.port}${path}`;

test('no credentials: 401 with a bare Hawk challenge and a JSON error', async () => {
  const r = await send({ port: f.port, path: '/api/v1/whoami' });
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Hawk');
  assert.equal(JSON.parse(r.body).error.code, 'unauthorized');
});

test('a signed GET is served and its Server-Authorization verifies', async () => {
  const r = await hawkSend({ port: f.port, url: url('/api/v1/whoami?x=1&y=%20z'), credentials: reader, hashPayload: false });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { client: 'reader', auth: 'hawk', address: '127.0.0.1' });
  assert.ok(verifyResponse(r, reader, r.artifacts));
});

test('a GET signed with the hash of an empty body (mohawk\'s default) is served', async () => {
  const r = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), credentials: reader, hashPayload: true });
  assert.equal(r.status, 200, r.body);
  assert.ok(verifyResponse(r, reader, r.artifacts));
});

test('sha1 credentials work', async () => {
  const r = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), credentials: legacy, hashPayload: false });
  assert.equal(r.status, 200, r.body);
  assert.ok(verifyResponse(r, legacy, r.artifacts));
});

test('a POST with a payload hash has its body verified', async () => {
  const body = JSON.stringify({ hello: 'wörld', n: [1, 2, 3] });
  const r = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), method: 'POST', credentials: reader,
    body, contentType: 'application/json; charset=utf-8' });
  assert.equal(r.status, 200, r.body);
  const out = JSON.parse(r.body);
  assert.equal(out.payload.bytes, Buffer.byteLength(body));
  assert.ok(verifyResponse(r, reader, r.artifacts));
});

test('a POST whose body differs from the signed hash is refused', async () => {
  const { header } = Hawk.client.header(url('/api/v1/whoami'), 'POST',
    { credentials: reader, payload: 'signed body', contentType: 'text/plain' });
  const r = await send({ port: f.port, method: 'POST', path: '/api/v1/whoami',
    headers: { host: `127.0.0.1:${f.port}`, authorization: header, 'content-type': 'text/plain' },
    body: 'another body' });
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.body).error.message, 'Bad payload hash');
});

test('a POST with a body but no payload hash is refused', async () => {
  const r = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), method: 'POST', credentials: reader,
    body: 'unsigned', contentType: 'text/plain', hashPayload: false });
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.body).error.message, 'Missing required payload hash');
});

test('replaying the same Authorization header is refused', async () => {
  const first = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), credentials: reader, hashPayload: false });
  assert.equal(first.status, 200);
  const again = await send({ port: f.port, path: '/api/v1/whoami',
    headers: { host: `127.0.0.1:${f.port}`, authorization: first.header } });
  assert.equal(again.status, 401);
  assert.equal(JSON.parse(again.body).error.message, 'Invalid nonce');
});

test('a stale timestamp gets ts/tsm the client verifies and re-syncs with', async () => {
  const stale = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), credentials: reader,
    hashPayload: false, options: { localtimeOffsetMsec: -5 * 60 * 1000 } });
  assert.equal(stale.status, 401);
  assert.match(stale.headers['www-authenticate'], /^Hawk ts="\d+", tsm="[^"]+", error="Stale timestamp"$/);
  const seen = Hawk.client.authenticate({ headers: stale.headers, statusCode: 401 }, reader, stale.artifacts);
  const serverTs = Number(seen.headers['www-authenticate'].ts);
  const offset = serverTs * 1000 - Date.now();
  const retry = await hawkSend({ port: f.port, url: url('/api/v1/whoami'), credentials: reader,
    hashPayload: false, options: { localtimeOffsetMsec: offset } });
  assert.equal(retry.status, 200, retry.body);
});

test('wrong key, unknown id and tampered requests are refused with 401', async () => {
  const wrong = await hawkSend({ port: f.port, url: url('/api/v1/whoami'),
    credentials: { ...reader, key: 'not-the-key' }, hashPayload: false });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['www-authenticate'], 'Hawk error="Bad mac"');
  const unknown = await hawkSend({ port: f.port, url: url('/api/v1/whoami'),
    credentials: { ...reader, id: 'nobody' }, hashPayload: false });
  assert.equal(unknown.status, 401);
  assert.equal(JSON.parse(unknown.body).error.message, 'Unknown credentials');
  // Signed for one request, sent as another: path, query, port and host each change the MAC.
  for (const [signed, path, host] of [
    ['/api/v1/whoami', '/api/v1/whoami?x=1', null],
    ['/api/v1/whoami?a=1', '/api/v1/whoami?a=2', null],
    ['/api/v1/whoami', '/api/v1/whoami', `127.0.0.1:${f.port + 1}`],
    ['/api/v1/whoami', '/api/v1/whoami', `localhost:${f.port}`],
  ]) {
    const { header } = Hawk.client.header(url(signed), 'GET', { credentials: reader });
    const r = await send({ port: f.port, path, headers: { host: host || `127.0.0.1:${f.port}`, authorization: header } });
    assert.equal(r.status, 401, `${signed} -> ${path} @ ${host}`);
  }
});

test('a malformed Authorization header is a 400 with the reference\'s message', async () => {
  const r = await send({ port: f.port, path: '/api/v1/whoami',
    headers: { authorization: 'Hawk id="a", id="b", ts="1", nonce="x", mac="y"' } });
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body).error.message, 'Duplicate attribute: id');
  assert.equal(r.headers['www-authenticate'], undefined);
});

test('a bewit URL works until it expires', async () => {
  const ok = Hawk.uri.getBewit(url('/api/v1/whoami?a=1'), { credentials: reader, ttlSec: 60 });
  const r = await send({ port: f.port, path: `/api/v1/whoami?a=1&bewit=${ok}`, headers: { host: `127.0.0.1:${f.port}` } });
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).auth, 'bewit');
  const old = Hawk.uri.getBewit(url('/api/v1/whoami'), { credentials: reader, ttlSec: 1, localtimeOffsetMsec: -10_000 });
  const e = await send({ port: f.port, path: `/api/v1/whoami?bewit=${old}`, headers: { host: `127.0.0.1:${f.port}` } });
  assert.equal(e.status, 401);
  assert.equal(JSON.parse(e.body).error.message, 'Access expired');
});

test('a client without the route\'s scope gets 403; "*" may call it', async () => {
  const no = await hawkSend({ port: f.port, url: url('/api/v1/clients'), credentials: reader, hashPayload: false });
  assert.equal(no.status, 403, no.body);
  assert.equal(JSON.parse(no.body).error.code, 'forbidden');
  const yes = await hawkSend({ port: f.port, url: url('/api/v1/clients'), credentials: admin, hashPayload: false });
  assert.equal(yes.status, 200, yes.body);
  const ids = JSON.parse(yes.body).clients.map((c) => c.id).sort();
  assert.deepEqual(ids, ['admin-1', 'legacy', 'reader']);
  assert.doesNotMatch(yes.body, new RegExp(reader.key));
  assert.ok(verifyResponse(yes, admin, yes.artifacts));
});

test('APIKEY: the seeds\' /apikey route and messages, and API-key access to routes', async () => {
  const ok = await send({ port: f.port, path: '/apikey', headers: { APIKEY } });
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { message: 'Success: Connect with the apikey, the application was running ...' });
  for (const headers of [{ APIKEY: 'wrong' }, {}]) {
    const no = await send({ port: f.port, path: '/apikey', headers });
    assert.equal(no.status, 401);
    assert.deepEqual(JSON.parse(no.body), { message: "Error: Unauthorised with 'APIKEY'" });
  }
  const who = await send({ port: f.port, path: '/api/v1/whoami', headers: { APIKEY } });
  assert.equal(who.status, 200);
  assert.equal(JSON.parse(who.body).auth, 'apikey');
  const bad = await send({ port: f.port, path: '/api/v1/whoami', headers: { APIKEY: 'nope' } });
  assert.equal(bad.status, 401);
});

test('refusals are logged with reason and client id (never the key) and counted', async () => {
  await hawkSend({ port: f.port, url: url('/api/v1/whoami'), credentials: { ...reader, key: 'bad' }, hashPayload: false });
  assert.ok(await waitForLog(f, (l) => l.msg === 'authentication refused' && l.reason === 'bad_mac' && l.client === 'reader'));
  assert.doesNotMatch(f.stderr(), new RegExp(reader.key));
  const m = await (await fetch(`${f.url}/metrics`)).text();
  assert.ok(Number(/^ferry_auth_failures_total\{reason="bad_mac"\} (\d+)$/m.exec(m)[1]) >= 1);
});
