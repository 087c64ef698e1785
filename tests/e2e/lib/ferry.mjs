// Helpers for the end-to-end tests: run the real ferry binary (the sanitized build
// unless FERRY_BIN says otherwise) in a temporary directory, on a free port, with a
// fresh database on the selected backend, and talk to it over HTTP or raw sockets.
//
// Backends: every test file runs once per backend (tests/run-all.sh runs the suites
// twice). FERRY_E2E_BACKEND=sqlite (the default) or postgresql; PostgreSQL needs
// FERRY_TEST_PG_ADMIN_URL, the URL of a throwaway cluster's `postgres` database
// (tests/pg.sh start DIR prints it). newDatabase(dir) gives each test its own
// database: a file in dir on SQLite, a uniquely named database on PostgreSQL.
// A test that only makes sense on one backend says so with sqliteOnly(reason) or
// pgOnly(reason) as its options; everything else runs on both.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';

export const BIN = resolve(process.env.FERRY_BIN || 'build/san/ferry');

export const BACKEND = process.env.FERRY_E2E_BACKEND || 'sqlite';
if (BACKEND !== 'sqlite' && BACKEND !== 'postgresql') {
  throw new Error(`FERRY_E2E_BACKEND must be sqlite or postgresql, not ${BACKEND}`);
}
export const isPg = BACKEND === 'postgresql';
export const PG_ADMIN_URL = process.env.FERRY_TEST_PG_ADMIN_URL || '';
if (isPg && !PG_ADMIN_URL) {
  throw new Error('FERRY_E2E_BACKEND=postgresql needs FERRY_TEST_PG_ADMIN_URL (eval "$(tests/pg.sh start DIR)")');
}

// Test options: test(name, sqliteOnly('why'), fn) runs only in the SQLite pass, and
// pgOnly the other way round; the skip message carries the reason.
export const sqliteOnly = (reason) => ({ skip: isPg ? `SQLite only: ${reason}` : false });
export const pgOnly = (reason) => ({ skip: isPg ? false : `PostgreSQL only: ${reason}` });

// Run SQL through psql (the client from postgresql-client); returns stdout (-At: bare
// values, | between columns), throws with psql's message on an error.
export function psql(url, query) {
  const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', query],
    { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`psql failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

// The URL of database `name` on the test cluster, as user (and password) given.
export function pgUrl(name, { user, password, port } = {}) {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  if (user) u.username = user;
  if (password !== undefined) u.password = encodeURIComponent(password);
  if (port) u.port = String(port);
  return u.toString();
}

let dbSeq = 0;
const databases = new Map(); // dir -> database URL

// A fresh, empty database for a test whose files live in dir; returns its URL (the
// value for --database). PostgreSQL databases are left to the cluster's removal.
export function newDatabase(dir) {
  let url;
  if (isPg) {
    const name = `ferry_e2e_${process.pid}_${++dbSeq}`;
    psql(PG_ADMIN_URL, `CREATE DATABASE ${name}`);
    url = pgUrl(name);
  } else {
    url = `sqlite:${join(dir, 'ferry.db')}`;
  }
  databases.set(dir, url);
  return url;
}

// The database of dir: the one newDatabase made for it, or a new one.
export function databaseOf(dir) {
  return databases.get(dir) || newDatabase(dir);
}

// Run SQL on a database URL of either backend (sqlite3 CLI or psql); returns stdout.
// PostgreSQL looks in the ferry schema first, so metadata tables need no prefix.
export function sql(url, query) {
  if (url.startsWith('sqlite:')) {
    const r = spawnSync('sqlite3', [url.slice('sqlite:'.length), query], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sqlite3 failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }
  return psql(url, `SET search_path TO ferry, public; ${query}`);
}

// The environment ferry sees: the test runner's, without any ferry settings, so a
// developer's FERRY_* or DATABASE_URL cannot change what a test means.
export function cleanEnv(extra = {}) {
  const env = {};
  const seeds = new Set(['DATABASE_URL', 'APIKEY', 'MAIN_SCHEMA', 'DB_HOST', 'DB_PORT',
    'DB_NAME', 'DB_USER', 'DB_PASS']);
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('FERRY_') && !seeds.has(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

// Every temporary directory of this test file, removed when its process exits
// (node --test runs each file in its own process).
const tempDirs = [];
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
  tempDirs.push(d);
  return d;
}

// Run a ferry command to completion: { status, stdout, stderr }.
export function runFerry(args, { cwd, env = {} } = {}) {
  const r = spawnSync(BIN, args, { cwd: cwd || tempDir(), env: cleanEnv(env), encoding: 'utf8',
    timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

// Parse the JSON log lines in text; lines that are not JSON are ignored.
export function logLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try { out.push(JSON.parse(line)); } catch { /* not a log line */ }
  }
  return out;
}

// Start `ferry serve` and wait for its "listening" line. Returns a handle with
// url, port, dir, the stderr so far (stderr()), and stop(signal) -> exit code.
// database: the URL to serve (default: the directory's database, databaseOf(dir)).
export async function startFerry({ args = [], env = {}, migrate = true, dir, database } = {}) {
  dir = dir || tempDir();
  const argv = ['serve', '--port', '0', '--database', database || databaseOf(dir),
    ...(migrate ? ['--migrate'] : []), ...args];
  const proc = spawn(BIN, argv, { cwd: dir, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  // 'close' (not 'exit'): resolves once stderr has been read to the end too.
  const exited = new Promise((res) => proc.on('close', (code, signal) => res({ code, signal })));
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`ferry did not start:\n${err}`)), 30_000);
    proc.stderr.on('data', (d) => {
      err += d;
      const hit = logLines(err).find((l) => l.msg === 'listening');
      if (hit) { clearTimeout(timer); res(hit.port); }
    });
    exited.then(({ code }) => { clearTimeout(timer); rej(new Error(`ferry exited ${code}:\n${err}`)); });
  });
  return {
    proc, dir, port,
    url: `http://127.0.0.1:${port}`,
    stderr: () => err,
    stdout: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const r = await exited;
      return r.code;
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

// Send raw bytes on a new connection; resolves with everything the server sent
// until it closed the connection or timeoutMs passed.
export function rawRequest(port, data, { timeoutMs = 5000 } = {}) {
  return new Promise((res, rej) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { sock.destroy(); res(got); }, timeoutMs);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('end', () => { clearTimeout(timer); res(got); });
    sock.on('error', (e) => { clearTimeout(timer); if (got) res(got); else rej(e); });
  });
}

// Open a connection and keep it: for requests sent in pieces.
export function openSocket(port) {
  return new Promise((res, rej) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const closed = new Promise((r) => sock.on('close', () => r(got)));
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('connect', () => res({ sock, received: () => got, closed }));
    sock.on('error', rej);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The status code of a raw HTTP response.
export function statusOf(raw) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

// Wait until a log line matching pred has arrived on h's stderr (the pipe can lag
// behind the HTTP response); resolves true when it did within timeoutMs.
export async function waitForLog(h, pred, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (logLines(h.stderr()).some(pred)) return true;
    if (Date.now() > end) return false;
    await sleep(10);
  }
}
