// PostgreSQL-only behaviour, against the real server of the test cluster (tests/pg.sh):
// connection errors (wrong password, missing database, no server), the seeds' DB_*
// variables, the start-up wait, healthcheck while the server is away, pool exhaustion,
// a server restart under a running ferry, and two migrators racing. Skipped in the
// SQLite pass; everything that applies to both backends lives in the other files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import {
  BIN, cleanEnv, databaseOf, isPg, newDatabase, pgOnly, pgUrl, psql, runFerry, sleep, startFerry, tempDir,
  waitForLog,
} from './lib/ferry.mjs';
import { hawkSend, prepare, reader } from './lib/hawk.mjs';

const PG = pgOnly('talks to a PostgreSQL server');
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function newDir() {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

const dbName = (url) => new URL(url).pathname.slice(1);
const oneLine = (text) => text.trim().split('\n').length === 1;

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

// Run ferry without blocking the event loop (the TCP proxy below lives in this process).
function ferryAsync(args, { cwd, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { cwd: cwd || newDir(), env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

// A TCP proxy in front of the test cluster: down() closes the listener and cuts every
// connection through it (to ferry, the server is gone: refused connects, broken
// sockets), up() listens on the same port again.
function pgProxy(port) {
  const target = Number(new URL(pgUrl('postgres')).port);
  const socks = new Set();
  let server = null;
  const up = () => new Promise((res, rej) => {
    server = net.createServer((c) => {
      const u = net.connect(target, '127.0.0.1');
      socks.add(c);
      socks.add(u);
      const cut = () => { c.destroy(); u.destroy(); socks.delete(c); socks.delete(u); };
      c.on('error', cut); u.on('error', cut); c.on('close', cut); u.on('close', cut);
      c.pipe(u);
      u.pipe(c);
    });
    server.on('error', rej);
    server.listen(port, '127.0.0.1', res);
  });
  const down = () => new Promise((res) => {
    for (const s of socks) s.destroy();
    socks.clear();
    if (!server) { res(); return; }
    server.close(() => res());
    server = null;
  });
  return { port, up, down };
}

test('db init and status on PostgreSQL: migrations, the ferry and backup schemas', PG, () => {
  const dir = newDir();
  const url = newDatabase(dir);
  const st0 = runFerry(['db', 'status', '--database', url]);
  assert.equal(st0.status, 3, st0.stderr);
  assert.match(st0.stdout, /^schema version: 0 /m);
  assert.match(st0.stdout, /^pending: 0001_init/m);
  const init = runFerry(['db', 'init', '--database', url]);
  assert.equal(init.status, 0, init.stderr);
  assert.match(init.stdout, /^applied 0001_init$/m);
  const st = runFerry(['db', 'status', '--database', url]);
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /^backend: postgresql$/m);
  assert.match(st.stdout, /^schema version: (\d+) \(latest \1\)$/m);
  assert.match(st.stdout, /^pending: none$/m);
  const schemas = psql(url, "SELECT nspname FROM pg_namespace WHERE nspname IN ('ferry', 'backup', 'public') ORDER BY 1");
  assert.equal(schemas, 'backup\nferry\npublic\n');
  // The metadata lives in the ferry schema, not in the main one.
  const inPublic = psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  assert.equal(inPublic.trim(), '0');
});

test('a wrong password is a clear one-line error without the password', PG, () => {
  const url = pgUrl('ferry_test', { user: 'ferry_pw', password: 'not-the-password' });
  const r = runFerry(['db', 'status', '--database', url]);
  assert.notEqual(r.status, 0);
  assert.ok([1, 3].includes(r.status), `exit ${r.status}`);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /^ferry: /);
  assert.match(r.stderr, /authentication failed for user "?ferry_pw"?/);
  assert.doesNotMatch(r.stderr, /not-the-password/);
  const s = runFerry(['serve', '--port', '0', '--database', url], { env: { FERRY_DATABASE_WAIT_SEC: '0' } });
  assert.equal(s.status, r.status);
  assert.ok(oneLine(s.stderr), s.stderr);
  assert.doesNotMatch(s.stderr, /not-the-password/);
});

test('the right password in the URL works, and is masked by config show', PG, () => {
  const dir = newDir();
  const name = dbName(newDatabase(dir));
  const url = pgUrl(name, { user: 'ferry_pw', password: 'ferry-test-pw' });
  const init = runFerry(['db', 'init'], { env: { FERRY_DATABASE_URL: url } });
  assert.equal(init.status, 0, init.stderr);
  const show = runFerry(['config', 'show'], { env: { FERRY_DATABASE_URL: url } });
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^database\.url = postgresql:\/\/ferry_pw:\*\*\*@127\.0\.0\.1:\d+\//m);
  assert.doesNotMatch(show.stdout, /ferry-test-pw/);
});

test('a missing database is a clear error (exit 3)', PG, () => {
  const url = pgUrl('ferry_no_such_database');
  for (const args of [['db', 'status'], ['db', 'init'], ['serve', '--port', '0']]) {
    const r = runFerry([...args, '--database', url], { env: { FERRY_DATABASE_WAIT_SEC: '0' } });
    const what = `${args.join(' ')}: exit ${r.status}: ${r.stderr}`;
    assert.equal(r.status, 3, what);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length <= 2 && lines.every((l) => l.startsWith('ferry: ')), what);
    assert.match(lines[0], /database "?ferry_no_such_database"? does not exist/);
  }
});

// ferry does not create PostgreSQL databases, so `db init` cannot be the way out.
test('db init on a missing PostgreSQL database says to create the database first', PG, () => {
  const r = runFerry(['db', 'init', '--database', pgUrl('ferry_no_such_database')]);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /database "?ferry_no_such_database"? does not exist/);
  assert.match(r.stderr, /create it \(createdb, or CREATE DATABASE\)/);
  assert.doesNotMatch(r.stderr, /run `ferry db init` to create it/);
});

test('no server: start-up waits database.wait_sec, then a one-line error', PG, async () => {
  const port = await freePort();
  const url = pgUrl('ferry_test', { port });
  const t0 = Date.now();
  const r = await ferryAsync(['serve', '--port', '0', '--database', url],
    { env: { FERRY_DATABASE_WAIT_SEC: '2' } });
  const took = Date.now() - t0;
  assert.notEqual(r.status, 0);
  assert.ok(took >= 1500, `gave up after ${took} ms, before wait_sec`);
  assert.ok(took < 20_000, `took ${took} ms`);
  assert.match(r.stderr, /127\.0\.0\.1/);
  assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('ferry: ')).length, 1, r.stderr);
});

test('start-up waits for a server that comes up within database.wait_sec', PG, async () => {
  const dir = newDir();
  const name = dbName(newDatabase(dir));
  assert.equal(runFerry(['db', 'init', '--database', pgUrl(name)]).status, 0);
  const proxy = pgProxy(await freePort());
  const starting = startFerry({ dir, database: pgUrl(name, { port: proxy.port }), migrate: false,
    env: { FERRY_DATABASE_WAIT_SEC: '30' } });
  starting.catch(() => {}); // awaited below, after the proxy is up
  await sleep(1500);
  await proxy.up();
  const f = await starting;
  try {
    assert.equal((await fetch(`${f.url}/healthcheck`)).status, 200);
  } finally {
    assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
    await proxy.down();
  }
});

test('healthcheck: 503 while the server is unreachable, 200 again when it is back', PG, async () => {
  const dir = newDir();
  const name = dbName(newDatabase(dir));
  assert.equal(runFerry(['db', 'init', '--database', pgUrl(name)]).status, 0);
  const proxy = pgProxy(await freePort());
  await proxy.up();
  const f = await startFerry({ dir, database: pgUrl(name, { port: proxy.port }), migrate: false });
  try {
    assert.equal((await fetch(`${f.url}/healthcheck`)).status, 200);
    await proxy.down();
    const r = await fetch(`${f.url}/healthcheck`);
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.status, 'FAIL');
    assert.equal(body.database, 'unavailable');
    assert.equal(body.backend, 'postgresql');
    assert.ok(await waitForLog(f, (l) => l.level === 'warn' && /^healthcheck: /.test(l.msg)),
      f.stderr().slice(-2000));
    assert.doesNotMatch(f.stderr(), /ferry-test-pw/);
    await proxy.up();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await fetch(`${f.url}/healthcheck`)).status;
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200, 'ferry did not reconnect');
  } finally {
    assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
    await proxy.down();
  }
});

test('a PostgreSQL restart under a running ferry: it reconnects', PG, async () => {
  // Its own small cluster: the shared one serves the other test files meanwhile.
  const own = tempDir(); // pg.sh hands it to the postgres user
  const started = await new Promise((res) => {
    const p = spawn('tests/pg.sh', ['start', own], { env: { ...process.env, PGPORT_BASE: '56432' },
      stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => res({ code, out, err }));
  });
  try {
    assert.equal(started.code, 0, started.err);
    const url = /FERRY_TEST_PG_URL=(\S+)/.exec(started.out)[1];
    const f = await startFerry({ database: url, migrate: true });
    try {
      assert.equal((await fetch(`${f.url}/healthcheck`)).status, 200);
      const r = await new Promise((res) => {
        const p = spawn('tests/pg.sh', ['restart', own], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => { err += d; });
        p.on('close', (code) => res({ code, err }));
      });
      assert.equal(r.code, 0, r.err);
      // The pooled connections are dead; each is noticed and replaced, within a few requests.
      const seen = [];
      for (let i = 0; i < 50 && seen.at(-1) !== 200; i++) {
        seen.push((await fetch(`${f.url}/healthcheck`)).status);
        if (seen.at(-1) !== 200) await sleep(100);
      }
      assert.equal(seen.at(-1), 200, `statuses after the restart: ${seen.join(' ')}`);
      // And every pooled connection works again, not just one.
      const all = await Promise.all(Array.from({ length: 8 }, () => fetch(`${f.url}/healthcheck`)));
      assert.deepEqual(all.map((x) => x.status), Array(8).fill(200));
      assert.equal(f.proc.exitCode, null);
    } finally {
      assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
      f.cleanup();
    }
  } finally {
    spawn('tests/pg.sh', ['stop', own], { stdio: 'ignore' });
    await new Promise((res) => setTimeout(res, 0));
  }
});

test('pool exhaustion: a request waits for a connection, gets 503, and the pool recovers', PG, async () => {
  const dir = prepare();
  dirs.push(dir);
  const url = databaseOf(dir);
  const f = await startFerry({ dir, migrate: false,
    env: { FERRY_DATABASE_POOL_SIZE: '1', FERRY_HTTP_THREADS: '4' } });
  // Hold a lock on the clients table: the Hawk lookup of the next request blocks on it
  // while holding the only pooled connection.
  const locker = spawn('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let lockOut = '';
  locker.stdout.on('data', (d) => { lockOut += d; });
  locker.stderr.on('data', (d) => { lockOut += d; });
  const lockerDone = new Promise((res) => locker.on('close', res));
  try {
    locker.stdin.write('BEGIN; SET search_path TO ferry, public; LOCK TABLE ferry_clients IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n');
    for (let i = 0; i < 100 && !lockOut.includes('locked'); i++) await sleep(50);
    assert.match(lockOut, /locked/);
    const blocked = hawkSend({ port: f.port, url: `http://127.0.0.1:${f.port}/api/v1/whoami`,
      credentials: reader, hashPayload: false });
    await sleep(300);
    const t0 = Date.now();
    const h = await fetch(`${f.url}/healthcheck`);
    assert.equal(h.status, 503, 'the only connection is taken');
    assert.ok(Date.now() - t0 >= 1000, 'it waited for a connection first');
    assert.equal((await h.json()).database, 'unavailable');
    locker.stdin.write('COMMIT;\n');
    locker.stdin.end();
    const b = await blocked;
    assert.equal(b.status, 200, b.body);
    assert.equal((await fetch(`${f.url}/healthcheck`)).status, 200, 'the connection came back to the pool');
  } finally {
    if (locker.exitCode === null) { locker.stdin.end(); locker.kill(); }
    await lockerDone;
    assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
  }
});

test('two `ferry db migrate` started together: both succeed, each migration applied once', PG, async () => {
  const dir = newDir();
  const url = newDatabase(dir);
  const [a, b] = await Promise.all([
    ferryAsync(['db', 'migrate', '--database', url]),
    ferryAsync(['db', 'migrate', '--database', url]),
  ]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const st = runFerry(['db', 'status', '--database', url]);
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /^schema version: (\d+) \(latest \1\)$/m);
  // Each migration was applied by exactly one of them.
  const applied = (a.stdout.match(/^applied \S+$/gm) || []).concat(b.stdout.match(/^applied \S+$/gm) || []);
  const latest = Number(/^schema version: (\d+)/m.exec(st.stdout)[1]);
  assert.equal(applied.length, latest, `applied lines:\n${applied.join('\n')}`);
  assert.equal(new Set(applied).size, latest);
});

test('the seeds\' DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASS and MAIN_SCHEMA reach the server', PG, () => {
  const dir = newDir();
  const name = dbName(newDatabase(dir));
  const port = new URL(pgUrl(name)).port;
  const env = { DB_HOST: '127.0.0.1', DB_PORT: port, DB_NAME: name, DB_USER: 'ferry_pw',
    DB_PASS: 'ferry-test-pw', MAIN_SCHEMA: 'datasets' };
  const init = runFerry(['db', 'init'], { env });
  assert.equal(init.status, 0, init.stderr);
  const st = runFerry(['db', 'status'], { env });
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /^backend: postgresql$/m);
  assert.doesNotMatch(st.stdout + st.stderr, /ferry-test-pw/);
  const schemas = psql(pgUrl(name), "SELECT nspname FROM pg_namespace WHERE nspname IN ('ferry', 'datasets', 'backup') ORDER BY 1");
  assert.equal(schemas, 'backup\ndatasets\nferry\n');
});
