// `ferry client`: the Hawk client registry through the real binary — keys shown once,
// never listed, stored sealed with the server secret (data/secret.key, created 0600 on
// first use), and a lost or replaced secret as a clear error. Exit codes: 0 ok,
// 1 failure (an existing id, an unknown id), 2 usage or configuration (missing
// options, bad values, secret missing/malformed/mismatched), 3 database not ready.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync }
  from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isPg, newDatabase, runFerry, sql as runSql, tempDir } from './lib/ferry.mjs';

const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

// The database of each directory: on SQLite the default URL, data/ferry.db under the
// directory (ferry runs with cwd = dir); on PostgreSQL a fresh database given through
// FERRY_DATABASE_URL, as a deployment would.
const urls = new Map();

function newDir() {
  const dir = tempDir();
  dirs.push(dir);
  urls.set(dir, isPg ? newDatabase(dir) : `sqlite:${join(dir, 'data', 'ferry.db')}`);
  return dir;
}

const dbEnv = (dir) => (isPg ? { FERRY_DATABASE_URL: urls.get(dir) } : {});

// A directory with an initialised database.
function initDir() {
  const dir = newDir();
  const r = runFerry(['db', 'init'], { cwd: dir, env: dbEnv(dir) });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const client = (dir, ...args) => runFerry(['client', ...args], { cwd: dir, env: dbEnv(dir) });

function keyOf(stdout) {
  const m = /^key: (\S+)$/m.exec(stdout);
  assert.ok(m, `no key line in:\n${stdout}`);
  return m[1];
}

function sql(dir, query) {
  return runSql(urls.get(dir), query);
}

// An SQL expression for a blob column as upper-case hex.
const hex = (col) => (isPg ? `upper(encode(${col}, 'hex'))` : `hex(${col})`);

test('client add generates a key, prints it once, and creates the secret file 0600', () => {
  const dir = initDir();
  assert.equal(existsSync(join(dir, 'data', 'secret.key')), false);
  const r = client(dir, 'add', '--id', 'client_id1', '--scope', '*', '--description', 'user1');
  assert.equal(r.status, 0, r.stderr);
  const key = keyOf(r.stdout);
  assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  assert.match(r.stdout, /added client client_id1/);
  assert.match(r.stdout, /shown only once/);
  const st = statSync(join(dir, 'data', 'secret.key'));
  assert.equal(st.mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, 'data', 'secret.key'), 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
  // The key is not in the database in the clear.
  const raw = sql(dir, `SELECT ${hex('key_enc')} FROM ferry_clients WHERE id = 'client_id1'`).trim();
  assert.equal(raw.includes(Buffer.from(key).toString('hex').toUpperCase()), false);
  assert.equal(raw.length, (key.length + 29) * 2);
});

test('client list shows the table and never a key', () => {
  const dir = initDir();
  const a = client(dir, 'add', '--id', 'alpha', '--scope', 'datasets:read', '--scope',
    'runs.read,metrics', '--description', 'the first one');
  assert.equal(a.status, 0, a.stderr);
  const keyA = keyOf(a.stdout);
  const b = client(dir, 'add', '--id', 'beta', '--key', 'given-key-b', '--scope=*',
    '--algorithm', 'sha1');
  assert.equal(b.status, 0, b.stderr);
  assert.doesNotMatch(b.stdout, /key:/, 'a given key is not echoed');
  assert.doesNotMatch(b.stdout, /given-key-b/);
  const l = client(dir, 'list');
  assert.equal(l.status, 0, l.stderr);
  const lines = l.stdout.trim().split('\n');
  assert.match(lines[0], /^ID\s+ALGORITHM\s+SCOPES\s+ENABLED\s+DESCRIPTION\s+CREATED$/);
  assert.match(lines[1], /^alpha\s+sha256\s+datasets:read,runs\.read,metrics\s+yes\s+the first one\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(lines[2], /^beta\s+sha1\s+\*\s+yes\s+\d{4}-/);
  assert.equal(lines.length, 3);
  assert.equal(l.stdout.includes(keyA), false);
  assert.equal(l.stdout.includes('given-key-b'), false);
});

test('an empty registry lists as "no clients"', () => {
  const dir = initDir();
  const l = client(dir, 'list');
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /^no clients/);
  assert.equal(existsSync(join(dir, 'data', 'secret.key')), false, 'list creates no secret');
});

test('adding an existing id changes nothing (exit 1)', () => {
  const dir = initDir();
  assert.equal(client(dir, 'add', '--id', 'c1', '--key', 'k1', '--scope', 'a').status, 0);
  const before = sql(dir, `SELECT ${hex('key_enc')}, scopes FROM ferry_clients`);
  const r = client(dir, 'add', '--id', 'c1', '--scope', '*');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /client 'c1' already exists and was left unchanged/);
  assert.doesNotMatch(r.stdout, /key:/);
  assert.equal(sql(dir, `SELECT ${hex('key_enc')}, scopes FROM ferry_clients`), before);
});

test('rotate prints a new key once; remove, disable and enable', () => {
  const dir = initDir();
  const a = client(dir, 'add', '--id', 'c1', '--scope', 'a');
  const first = keyOf(a.stdout);
  const r = client(dir, 'rotate', 'c1');
  assert.equal(r.status, 0, r.stderr);
  const second = keyOf(r.stdout);
  assert.notEqual(first, second);
  assert.match(r.stdout, /shown only once/);

  const d = client(dir, 'disable', 'c1');
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /disabled client c1/);
  assert.match(client(dir, 'list').stdout, /^c1\s+sha256\s+a\s+no\s/m);
  assert.equal(client(dir, 'enable', 'c1').status, 0);
  assert.match(client(dir, 'list').stdout, /^c1\s+sha256\s+a\s+yes\s/m);

  const rm = client(dir, 'remove', 'c1');
  assert.equal(rm.status, 0, rm.stderr);
  assert.match(rm.stdout, /removed client c1/);
  for (const sub of ['remove', 'rotate', 'disable', 'enable']) {
    const again = client(dir, sub, 'c1');
    assert.equal(again.status, 1, sub);
    assert.match(again.stderr, /no client 'c1'/);
  }
  assert.match(client(dir, 'list').stdout, /^no clients/);
});

test('missing or bad options are usage errors (exit 2) naming the option', () => {
  const dir = initDir();
  const noId = client(dir, 'add', '--scope', '*');
  assert.equal(noId.status, 2);
  assert.match(noId.stderr, /missing required option --id/);
  const noScope = client(dir, 'add', '--id', 'c1');
  assert.equal(noScope.status, 2);
  assert.match(noScope.stderr, /missing required option --scope/);
  const badId = client(dir, 'add', '--id', 'bad id', '--scope', 'a');
  assert.equal(badId.status, 2);
  assert.match(badId.stderr, /--id: 'bad id' is not a client id/);
  const badScope = client(dir, 'add', '--id', 'c1', '--scope', 'Datasets');
  assert.equal(badScope.status, 2);
  assert.match(badScope.stderr, /--scope: 'Datasets' is not a scope/);
  const badAlg = client(dir, 'add', '--id', 'c1', '--scope', 'a', '--algorithm', 'md5');
  assert.equal(badAlg.status, 2);
  assert.match(badAlg.stderr, /--algorithm: expected sha256 or sha1/);
  const noTarget = client(dir, 'remove');
  assert.equal(noTarget.status, 2);
  assert.match(noTarget.stderr, /missing the client id/);
  const unknown = client(dir, 'frob');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown client command 'frob'/);
  const stray = client(dir, 'list', '--key', 'x');
  assert.equal(stray.status, 2);
  // Nothing was created by any of them.
  assert.equal(sql(dir, 'SELECT count(*) FROM ferry_clients').trim(), '0');
  assert.equal(existsSync(join(dir, 'data', 'secret.key')), false);
});

test('client commands need an initialised database (exit 3)', () => {
  const dir = newDir();
  const r = client(dir, 'add', '--id', 'c1', '--scope', 'a');
  assert.equal(r.status, 3);
  // SQLite: no file yet; PostgreSQL: an empty database, not migrated yet.
  assert.match(r.stderr, isPg ? /ferry db (init|migrate)/ : /ferry db init/);
  assert.equal(existsSync(join(dir, 'data', 'secret.key')), false);
});

test('a lost secret file is a clear error, and no new secret replaces it (exit 2)', () => {
  const dir = initDir();
  const secret = join(dir, 'data', 'secret.key');
  assert.equal(client(dir, 'add', '--id', 'c1', '--scope', 'a').status, 0);
  renameSync(secret, join(dir, 'secret.key.bak'));
  for (const args of [['list'], ['add', '--id', 'c2', '--scope', 'a'], ['rotate', 'c1']]) {
    const r = client(dir, ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /server secret file data\/secret\.key is missing, but this database has client keys/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(existsSync(secret), false, 'no fresh secret was generated');
  }
  // Restored, everything works again.
  renameSync(join(dir, 'secret.key.bak'), secret);
  assert.equal(client(dir, 'list').status, 0);
});

test('a replaced secret is a clear mismatch error (exit 2)', () => {
  const dir = initDir();
  const secret = join(dir, 'data', 'secret.key');
  assert.equal(client(dir, 'add', '--id', 'c1', '--scope', 'a').status, 0);
  writeFileSync(secret, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  const r = client(dir, 'list');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^ferry: the server secret does not match this database \(was data\/secret\.key lost or replaced\? client keys cannot be decrypted\)\n$/);
  // The same through the environment (auth.secret wins over the file).
  const env = runFerry(['client', 'list'], { cwd: dir,
    env: { ...dbEnv(dir), FERRY_AUTH_SECRET: randomBytes(32).toString('base64') } });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /was auth\.secret lost or replaced/);
});

test('a group-readable or malformed secret file is refused (exit 2)', () => {
  const dir = initDir();
  const secret = join(dir, 'data', 'secret.key');
  mkdirSync(join(dir, 'data'), { recursive: true }); // on SQLite the database made it already
  writeFileSync(secret, randomBytes(32).toString('base64') + '\n');
  chmodSync(secret, 0o644);
  const r = client(dir, 'add', '--id', 'c1', '--scope', 'a');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /has mode 0644: group and others must have no access \(chmod 600/);
  writeFileSync(secret, 'not base64 at all\n');
  chmodSync(secret, 0o600);
  const bad = client(dir, 'add', '--id', 'c1', '--scope', 'a');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /data\/secret\.key: the server secret is not valid base64/);
  assert.equal(sql(dir, 'SELECT count(*) FROM ferry_clients').trim(), '0');
});

test('pending migrations stop client commands (exit 3)', () => {
  const dir = initDir();
  sql(dir, 'DROP TABLE ferry_settings; DELETE FROM ferry_migrations WHERE version = 2;');
  const r = client(dir, 'list');
  assert.equal(r.status, 3);
  assert.match(r.stderr, /pending migration/);
  assert.match(r.stderr, /ferry db migrate/);
});

test('help lists the client command', () => {
  const r = runFerry(['--help']);
  assert.match(r.stdout, /^  client +client add \| list \| remove \| rotate \| disable \| enable/m);
  const h = runFerry(['client', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /usage: ferry client add --id ID --scope SCOPE/);
});
