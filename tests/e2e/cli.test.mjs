// The command line: help, version, the database life cycle, configuration layers and
// errors, and the start-up failures of `ferry serve` (each a one-line error and a
// documented exit code: 1 failure, 2 usage/config, 3 database not ready).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND, databaseOf, isPg, newDatabase, runFerry, sql, sqliteOnly, startFerry, tempDir }
  from './lib/ferry.mjs';

const db = (dir) => databaseOf(dir);

test('--help lists every command, one line each', () => {
  const r = runFerry(['--help']);
  assert.equal(r.status, 0);
  for (const cmd of ['serve', 'db', 'config', 'version', 'help']) {
    assert.match(r.stdout, new RegExp(`^  ${cmd} +\\S`, 'm'), `no line for ${cmd}`);
  }
  assert.match(r.stdout, /--database VALUE/);
  assert.match(r.stdout, /--port VALUE/);
});

test('version prints the version', () => {
  const r = runFerry(['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ferry \d+\.\d+\.\d+ \(\S+\)\n$/);
});

test('an unknown command or option is a usage error (exit 2)', () => {
  const a = runFerry(['frobnicate']);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /^ferry: unknown command 'frobnicate'/);
  const b = runFerry(['serve', '--no-such-option']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown option --no-such-option/);
  const c = runFerry(['serve', '--port']);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /option --port needs a value/);
});

test('db status on a missing database says how to create it (exit 3)',
  sqliteOnly('a missing database file; PostgreSQL: postgresql.test.mjs'), () => {
  const dir = tempDir();
  const r = runFerry(['db', 'status', '--database', db(dir)]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /does not exist/);
  assert.match(r.stderr, /ferry db init/);
});

test('db init creates the database and applies the migrations; status reports it', () => {
  const dir = tempDir();
  // SQLite: the file's missing parent directories are created too.
  const url = isPg ? newDatabase(dir) : `sqlite:${join(dir, 'sub', 'dir', 'f.db')}`;
  const init = runFerry(['db', 'init', '--database', url]);
  assert.equal(init.status, 0, init.stderr);
  assert.match(init.stdout, /^applied 0001_init$/m);
  assert.match(init.stdout, /at schema version \d+\n$/);
  const again = runFerry(['db', 'init', '--database', url]);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /already up to date/);
  const st = runFerry(['db', 'status', '--database', url]);
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, new RegExp(`^backend: ${BACKEND}$`, 'm'));
  assert.match(st.stdout, /^schema version: (\d+) \(latest \1\)$/m);
  assert.match(st.stdout, /^pending: none$/m);
});

test('db migrate on a database that predates ferry applies everything; status shows pending first', () => {
  const dir = tempDir();
  sql(db(dir), 'CREATE TABLE existing(a integer); INSERT INTO existing VALUES (1);');
  const st = runFerry(['db', 'status', '--database', db(dir)]);
  assert.equal(st.status, 3);
  assert.match(st.stdout, /^schema version: 0 /m);
  assert.match(st.stdout, /^pending: 0001_init/m);
  const m = runFerry(['db', 'migrate', '--database', db(dir)]);
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /applied 0001_init/);
  const rows = sql(db(dir), 'SELECT count(*) FROM existing;');
  assert.equal(rows.trim(), '1', 'migrating must not touch existing tables');
});

test('serve refuses a database with pending migrations unless --migrate (exit 3)', async () => {
  const dir = tempDir();
  sql(db(dir), 'CREATE TABLE existing(a integer);');
  const r = runFerry(['serve', '--port', '0', '--database', db(dir)]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /\d+ pending migrations?/);
  assert.match(r.stderr, /ferry serve --migrate/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  const f = await startFerry({ dir, migrate: true });
  assert.equal((await fetch(`${f.url}/healthcheck`)).status, 200);
  assert.equal(await f.stop(), 0);
});

test('serve on a missing database without --migrate says how to create it (exit 3)',
  sqliteOnly('a missing database file; PostgreSQL: postgresql.test.mjs'), () => {
  const dir = tempDir();
  const r = runFerry(['serve', '--port', '0', '--database', db(dir)]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /does not exist/);
});

test('an unusable database path is a one-line error (exit 1)', sqliteOnly('a file path'), () => {
  const r = runFerry(['db', 'init', '--database', 'sqlite:/proc/ferry-cannot/x.db']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ferry: cannot open database sqlite:\/proc\/ferry-cannot\/x\.db: /);
});

test('a port in use is a one-line error (exit 1)', async () => {
  const f = await startFerry();
  try {
    const r = runFerry(['serve', '--port', String(f.port), '--database', db(f.dir)], { cwd: f.dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${f.port}: Address already in use`));
  } finally {
    assert.equal(await f.stop(), 0);
  }
});

test('a bad value in ferry.yml names the file, line and key (exit 2)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'ferry.yml'), 'http:\n  host: 127.0.0.1\n  port: 80a\n');
  const r = runFerry(['config', 'show'], { cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ferry\.yml:3: http\.port: expected an integer from 0 to 65535, got "80a"/);
});

test('an unknown key in ferry.yml or the environment is an error (exit 2)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'ferry.yml'), 'http:\n  prot: 8080\n');
  const a = runFerry(['serve'], { cwd: dir });
  assert.equal(a.status, 2);
  assert.match(a.stderr, /ferry\.yml:2: unknown key "http\.prot"/);
  const b = runFerry(['config', 'show'], { env: { FERRY_HTTP_PROT: '1' } });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /FERRY_HTTP_PROT/);
});

test('config show: layers, sources, aliases and masked secrets', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'ferry.yml'), 'http:\n  port: 9001\n  threads: 3\nlog:\n  level: warn\n');
  writeFileSync(join(dir, '.env'), 'FERRY_HTTP_THREADS=5\nAPIKEY=s3cret-key\n');
  const r = runFerry(['config', 'show', '--port', '9003'], {
    cwd: dir,
    env: { FERRY_LOG_LEVEL: 'error', DB_HOST: 'db.internal', DB_USER: 'ferry', DB_PASS: 'hunter2', DB_NAME: 'data' },
  });
  assert.equal(r.status, 0, r.stderr);
  const line = (key) => r.stdout.split('\n').find((l) => l.startsWith(`${key} `)) || '';
  assert.match(line('http.port'), /= 9003 .*# flag --port/);
  assert.match(line('http.threads'), /= 5 .*# \.env:1/);
  assert.match(line('log.level'), /= error .*# env FERRY_LOG_LEVEL/);
  assert.match(line('http.host'), /= 127\.0\.0\.1 .*# default/);
  assert.match(line('database.url'), /postgresql:\/\/ferry:\*\*\*@db\.internal:5432\/data/);
  assert.match(line('api.key'), /= \*+ .*# \.env:2/);
  assert.doesNotMatch(r.stdout, /s3cret-key|hunter2/);
});

test('--config FILE and FERRY_CONFIG choose the yaml file', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'other.yml'), 'http:\n  port: 7007\n');
  const a = runFerry(['config', 'show', '--config', join(dir, 'other.yml')]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /^http\.port = 7007/m);
  const b = runFerry(['config', 'show'], { env: { FERRY_CONFIG: join(dir, 'other.yml') } });
  assert.match(b.stdout, /^http\.port = 7007/m);
  const c = runFerry(['config', 'show', '--config', join(dir, 'missing.yml')]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /missing\.yml/);
});
