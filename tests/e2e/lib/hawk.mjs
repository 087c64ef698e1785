// Hawk helpers for the end-to-end tests: sign with the reference client (@hapi/hawk),
// send with node:http (so the Host header is ours to set), and verify responses.
import http from 'node:http';
import assert from 'node:assert/strict';
import Hawk from '@hapi/hawk';
import { databaseOf, newDatabase, runFerry, tempDir } from './ferry.mjs';

// Send a request; resolves { status, headers, body }.
export function send({ port, method = 'GET', path, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Sign and send. `url` is what the client signs (host and port included); the request
// goes to 127.0.0.1:port with Host taken from url unless headers.host says otherwise.
export async function hawkSend({ port, url, method = 'GET', credentials, body, contentType,
  hashPayload = body !== undefined, headers = {}, options = {} }) {
  const opts = { credentials, ...options };
  if (hashPayload) {
    opts.payload = body ?? '';
    opts.contentType = contentType ?? '';
  }
  const { header, artifacts } = Hawk.client.header(url, method, opts);
  const u = new URL(url);
  const h = { host: u.host, authorization: header, ...headers };
  if (contentType) h['content-type'] = contentType;
  if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
  const res = await send({ port, method, path: u.pathname + u.search, headers: h, body });
  return { ...res, header, artifacts };
}

// Does the response carry a Server-Authorization the reference client accepts for
// this body? Returns true, or throws the client's error.
export function verifyResponse(res, credentials, artifacts) {
  Hawk.client.authenticate({ headers: res.headers, statusCode: res.status }, credentials,
    artifacts, { payload: res.body, required: true });
  return true;
}

export { Hawk };

// Clients the tests use.
export const reader = { id: 'reader', key: 'werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn', algorithm: 'sha256' };
export const admin = { id: 'admin-1', key: 'Zq8k1X0pLr7mN3vB5cT9wE2yU4iO6aSd', algorithm: 'sha256' };
export const legacy = { id: 'legacy', key: 'sha1-client-key-0123456789', algorithm: 'sha1' };

function addClient(dir, c, scopes) {
  const r = runFerry(['client', 'add', '--id', c.id, '--key', c.key, '--algorithm', c.algorithm,
    '--scope', scopes, '--database', databaseOf(dir)], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
}

// A directory with an initialised database (a fresh one on the selected backend) and
// the three clients above (their keys encrypted with the directory's data/secret.key);
// start ferry in it with cwd = dir (startFerry({ dir }) finds the same database).
export function prepare() {
  const dir = tempDir();
  const init = runFerry(['db', 'init', '--database', newDatabase(dir)], { cwd: dir });
  assert.equal(init.status, 0, init.stderr);
  addClient(dir, reader, 'datasets:read');
  addClient(dir, admin, '*');
  addClient(dir, legacy, 'datasets:read');
  return dir;
}
