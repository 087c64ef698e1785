// Graceful shutdown: SIGTERM/SIGINT stop accepting at once, let the requests in
// flight finish (bounded by http.shutdown_timeout_sec), and exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFerry, openSocket, logLines, sleep, statusOf } from './lib/ferry.mjs';

function connectRefused(port) {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); res(false); });
    s.on('error', (e) => res(e.code === 'ECONNREFUSED'));
  });
}

test('SIGTERM drains an in-flight request, refuses new connections, then exits 0', async () => {
  const f = await startFerry();
  const c = await openSocket(f.port);
  // Half a request: the request line and one header, not yet the blank line.
  c.sock.write('GET /healthcheck HTTP/1.1\r\nHost: x\r\n');
  await sleep(300);
  f.proc.kill('SIGTERM');
  await sleep(500);
  assert.equal(f.proc.exitCode, null, 'ferry must wait for the request in flight');
  assert.ok(await connectRefused(f.port), 'new connections must be refused while draining');
  c.sock.write('Connection: close\r\n\r\n');
  const raw = await c.closed;
  assert.equal(statusOf(raw), 200, raw);
  assert.match(raw, /"status":"OK"|"status": "OK"/);
  const { code } = await f.exited;
  assert.equal(code, 0, f.stderr());
  const msgs = logLines(f.stderr()).map((l) => l.msg);
  assert.ok(msgs.includes('shutting down'));
  assert.ok(msgs.includes('stopped'));
  f.cleanup();
});

test('a request that never finishes is abandoned after the shutdown timeout', async () => {
  const f = await startFerry({ env: { FERRY_HTTP_SHUTDOWN_TIMEOUT_SEC: '1' } });
  const c = await openSocket(f.port);
  c.sock.write('GET /healthcheck HTTP/1.1\r\nHost: x\r\n');
  await sleep(300);
  f.proc.kill('SIGTERM');
  const { code } = await f.exited;
  assert.equal(code, 0, f.stderr());
  assert.ok(logLines(f.stderr()).some((l) => l.msg === 'shutdown timeout: abandoning requests'));
  c.sock.destroy();
  f.cleanup();
});

test('SIGINT on an idle server exits 0 at once', async () => {
  const f = await startFerry();
  assert.equal((await fetch(`${f.url}/api`)).status, 200);
  assert.equal(await f.stop('SIGINT'), 0, f.stderr());
  f.cleanup();
});
