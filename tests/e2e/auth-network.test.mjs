// Address checks (allowlist, X-Forwarded-For depth), trusted proxies, auth switched off,
// and the Redis nonce store shared by two ferry processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startFerry, tempDir, sleep } from './lib/ferry.mjs';
import { send, hawkSend, verifyResponse, Hawk, prepare, reader } from './lib/hawk.mjs';

async function withFerry(env, fn, dir = prepare()) {
  const f = await startFerry({ dir, env });
  try {
    await fn(f);
  } finally {
    assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
  }
}

test('IP allowlist: a peer outside it gets 401 before any credential is read', async () => {
  await withFerry({ FERRY_AUTH_IP_ALLOWLIST: '10.0.0.0/8' }, async (f) => {
    const r = await hawkSend({ port: f.port, url: `http://127.0.0.1:${f.port}/api/v1/whoami`, credentials: reader, hashPayload: false });
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error.message, 'this address is not allowed');
  });
});

test('X-Forwarded-For depth 2 (the seeds\' platform router): second from the right decides', async () => {
  await withFerry({ FERRY_AUTH_IP_ALLOWLIST: '203.0.113.7', FERRY_AUTH_XFF_DEPTH: '2' }, async (f) => {
    const go = (xff) => hawkSend({ port: f.port, url: `http://127.0.0.1:${f.port}/api/v1/whoami`, credentials: reader,
      hashPayload: false, headers: xff ? { 'x-forwarded-for': xff } : {} });
    const ok = await go('198.51.100.1, 203.0.113.7, 10.0.0.1');
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).address, '203.0.113.7');
    assert.equal((await go('203.0.113.7')).status, 401, 'one entry is too few');
    assert.equal((await go('203.0.113.8, 10.0.0.1')).status, 401);
    assert.equal((await go(null)).status, 401);
  });
});

test('behind a trusted proxy, the host and port the client signed come from X-Forwarded-*', async () => {
  const signedUrl = 'https://data.example.org/api/v1/whoami';
  const fwd = { 'x-forwarded-host': 'data.example.org', 'x-forwarded-proto': 'https' };
  await withFerry({ FERRY_HTTP_TRUSTED_PROXIES: '127.0.0.1' }, async (f) => {
    const r = await hawkSend({ port: f.port, url: signedUrl, credentials: reader, hashPayload: false,
      headers: { host: `127.0.0.1:${f.port}`, ...fwd } });
    assert.equal(r.status, 200, r.body);
    assert.ok(verifyResponse(r, reader, r.artifacts));
  });
  await withFerry({}, async (f) => {
    const r = await hawkSend({ port: f.port, url: signedUrl, credentials: reader, hashPayload: false,
      headers: { host: `127.0.0.1:${f.port}`, ...fwd } });
    assert.equal(r.status, 401, 'X-Forwarded-* from an untrusted peer are ignored');
  });
});

test('auth.enabled=0 opens every route (development)', async () => {
  await withFerry({ FERRY_AUTH_ENABLED: '0' }, async (f) => {
    const r = await send({ port: f.port, path: '/api/v1/whoami' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).auth, 'open');
  });
});

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = tempDir();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
      s.on('error', () => res(false));
    });
    if (up) break;
    await sleep(50);
  }
  return { port, stop: () => new Promise((res) => { proc.on('exit', res); proc.kill('SIGTERM'); }) };
}

test('Redis nonce store: a replay against a second ferry process is refused; Redis down fails closed', async () => {
  const redis = await startRedis();
  const dir = prepare();
  const env = { FERRY_CACHE_URL: `redis://127.0.0.1:${redis.port}` };
  const a = await startFerry({ dir, env });
  const b = await startFerry({ dir, env });
  try {
    const { header } = Hawk.client.header(`http://127.0.0.1:8080/api/v1/whoami`, 'GET', { credentials: reader });
    const h = { host: '127.0.0.1:8080', authorization: header };
    assert.equal((await send({ port: a.port, path: '/api/v1/whoami', headers: h })).status, 200);
    const replay = await send({ port: b.port, path: '/api/v1/whoami', headers: h });
    assert.equal(replay.status, 401);
    assert.equal(JSON.parse(replay.body).error.message, 'Invalid nonce');
    await redis.stop();
    const down = await hawkSend({ port: a.port, url: 'http://127.0.0.1:8080/api/v1/whoami', credentials: reader,
      hashPayload: false, headers: { host: '127.0.0.1:8080' } });
    assert.equal(down.status, 503, down.body);
  } finally {
    assert.equal(await a.stop(), 0, a.stderr().slice(-2000));
    assert.equal(await b.stop(), 0, b.stderr().slice(-2000));
  }
});
