// Connection limits: idle and slow clients are dropped after http.timeout_sec, and
// connections beyond http.max_connections wait unserved, so neither can pin the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFerry, openSocket, sleep } from './lib/ferry.mjs';

test('a client that stops mid-request is disconnected after the idle timeout', async () => {
  const f = await startFerry({ env: { FERRY_HTTP_TIMEOUT_SEC: '1' } });
  try {
    const c = await openSocket(f.port);
    c.sock.write('GET /healthcheck HTTP/1.1\r\nHost: x\r\n'); // and nothing more
    const closedIn = await Promise.race([c.closed.then(() => 'closed'), sleep(5000).then(() => 'open')]);
    assert.equal(closedIn, 'closed');
    assert.equal((await fetch(`${f.url}/healthcheck`)).status, 200);
  } finally {
    assert.equal(await f.stop(), 0);
    f.cleanup();
  }
});

test('connections beyond http.max_connections wait until one is free', async () => {
  const f = await startFerry({ env: { FERRY_HTTP_MAX_CONNECTIONS: '2', FERRY_HTTP_THREADS: '1' } });
  try {
    const a = await openSocket(f.port);
    const b = await openSocket(f.port);
    await sleep(200);
    // The third is not accepted (it waits in the kernel's queue), so its request is not served...
    const c = await openSocket(f.port);
    c.sock.write('GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await sleep(1000);
    assert.equal(c.received(), '');
    // ...until one of the two is closed.
    a.sock.destroy();
    const raw = await Promise.race([c.closed, sleep(5000).then(() => 'timeout')]);
    assert.match(raw, /^HTTP\/1\.1 200 /);
    b.sock.destroy();
  } finally {
    assert.equal(await f.stop(), 0);
    f.cleanup();
  }
});
