// CSV uploads over HTTP with the reference Hawk client, on both backends: raw bodies and
// multipart forms, the modes, the same file twice, rejected files (the dataset is left as
// it was), large uploads loaded in the background (202, then polled), server memory
// during a 100 MB upload, and a kill -9 in the middle of a load (after the restart the
// dataset is either unchanged or fully loaded, never partial).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseOf, isPg, pgOnly, runFerry, sleep, sql, startFerry } from './lib/ferry.mjs';
import { admin, hawkSend, prepare, reader, verifyResponse } from './lib/hawk.mjs';
import { readRows, showDataset } from './lib/datasets.mjs';

let dir;
let f;

before(async () => {
  dir = prepare();
  f = await startFerry({ dir });
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
});

const url = (path, port = f.port) => `http://127.0.0.1:${port}${path}`;

function upload(dataset, body, { query = '', contentType = 'text/csv', credentials = admin, port } = {}) {
  return hawkSend({ port: port || f.port, url: url(`/api/v1/datasets/${dataset}/uploads${query}`, port),
    method: 'POST', credentials, body, contentType });
}

async function getUpload(id, port = f.port) {
  const r = await hawkSend({ port, url: url(`/api/v1/uploads/${id}`, port), credentials: admin,
    hashPayload: false });
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body);
}

// Poll an upload until it is no longer received/loading.
async function settle(id, port = f.port, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const u = await getUpload(id, port);
    if (u.state !== 'received' && u.state !== 'loading') return u;
    if (Date.now() > end) throw new Error(`upload ${id} still ${u.state}`);
    await sleep(50);
  }
}

function multipart(fields, file) {
  const boundary = '----ferry-test-boundary-7d1f';
  let body = '';
  for (const [k, v] of Object.entries(fields)) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  }
  body += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\n` +
    `Content-Type: text/csv\r\n\r\n${file.content}\r\n--${boundary}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

test('a small raw CSV body is loaded within the request: 201 with the upload and its run', async () => {
  const r = await upload('people', 'name,age\nAnn,34\nBob,41\n');
  assert.equal(r.status, 201, r.body);
  assert.ok(verifyResponse(r, admin, r.artifacts));
  const out = JSON.parse(r.body);
  assert.equal(out.upload.state, 'loaded');
  assert.equal(out.upload.progress, '100');
  assert.equal(out.upload.rows, 2);
  assert.equal(out.upload.source, 'upload');
  assert.equal(out.upload.mode, 'append');
  assert.match(out.upload.sha256, /^[0-9a-f]{64}$/);
  assert.match(out.upload.info, /loaded 2 rows into people/);
  assert.ok(out.run.id > 0);
  assert.equal(out.run.status_url, `/api/v1/uploads/${out.upload.id}`);
  assert.equal(r.headers.location, `/api/v1/uploads/${out.upload.id}`);
  const db = databaseOf(dir);
  assert.deepEqual(readRows(dir, db, 'people'), [{ id: 1, name: 'Ann', age: 34 }, { id: 2, name: 'Bob', age: 41 }]);
  assert.equal(showDataset(dir, db, 'people').source, 'upload');
  assert.equal(sql(db, `SELECT state FROM ferry_runs WHERE id = ${out.run.id}`).trim(), 'success');
  // The seed's progress fields, at the top level of GET /api/v1/uploads/{id}.
  const u = await getUpload(out.upload.id);
  assert.equal(u.state, 'loaded');
  assert.equal(u.progress, '100');
  assert.equal(typeof u.info, 'string');
});

test('a multipart form upload loads the file part; its filename is recorded', async () => {
  const { body, contentType } = multipart({ note: 'ignored' },
    { name: 'C:\\Users\\ann\\cities.csv', content: 'city,pop\nParis,2100000\n' });
  const r = await upload('cities', body, { contentType });
  assert.equal(r.status, 201, r.body);
  const out = JSON.parse(r.body);
  assert.equal(out.upload.name, 'cities.csv');
  assert.equal(out.upload.rows, 1);
  assert.deepEqual(readRows(dir, databaseOf(dir), 'cities'), [{ id: 1, city: 'Paris', pop: 2100000 }]);
});

test('a form without a file part is a 400', async () => {
  const boundary = 'b0undary';
  const body = `--${boundary}\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--${boundary}--\r\n`;
  const r = await upload('nofile', body, { contentType: `multipart/form-data; boundary=${boundary}` });
  assert.equal(r.status, 400, r.body);
  assert.match(JSON.parse(r.body).error.message, /no file part/);
});

test('the same file twice: the second upload is skipped and says so', async () => {
  const body = 'k,v\nA,1\n';
  const a = await upload('twice', body);
  assert.equal(a.status, 201, a.body);
  const b = await upload('twice', body);
  assert.equal(b.status, 200, b.body);
  const out = JSON.parse(b.body);
  assert.equal(out.upload.state, 'skipped');
  assert.match(out.upload.info, /already loaded into twice/);
  assert.equal(showDataset(dir, databaseOf(dir), 'twice').row_count, 1);
  const c = await upload('twice', body, { query: '?force=true' });
  assert.equal(c.status, 201, c.body);
  assert.equal(showDataset(dir, databaseOf(dir), 'twice').row_count, 2);
});

test('upsert and replace through the query string', async () => {
  assert.equal((await upload('keyed', 'code,n\nA,1\nB,2\n', { query: '?primary_key=code' })).status, 201);
  const u = await upload('keyed', 'code,n\nB,20\nC,3\n', { query: '?mode=upsert&key=code' });
  assert.equal(u.status, 201, u.body);
  assert.deepEqual(readRows(dir, databaseOf(dir), 'keyed'),
    [{ code: 'A', n: 1 }, { code: 'B', n: 20 }, { code: 'C', n: 3 }]);
  const rep = await upload('keyed', 'code;label\nZ;zed\n', { query: '?mode=replace&primary_key=code&delimiter=%3B' });
  assert.equal(rep.status, 201, rep.body);
  assert.deepEqual(readRows(dir, databaseOf(dir), 'keyed'), [{ code: 'Z', label: 'zed' }]);
});

test('a rejected file: 422 with the problems (line, column, value, expected); nothing changes', async () => {
  assert.equal((await upload('strict', 'name,age\nAnn,34\n')).status, 201);
  const r = await upload('strict', 'name,age\nBob,forty\nCy,50\nDee,x\n');
  assert.equal(r.status, 422, r.body);
  const out = JSON.parse(r.body);
  assert.equal(out.upload.state, 'rejected');
  assert.match(out.upload.error, /2 problems in the file; the first: line 2, column age/);
  assert.deepEqual(out.upload.errors, { total: 2, items: [
    { line: 2, column: 'age', value: 'forty', expected: 'integer' },
    { line: 4, column: 'age', value: 'x', expected: 'integer' }] });
  assert.deepEqual(readRows(dir, databaseOf(dir), 'strict'), [{ id: 1, name: 'Ann', age: 34 }]);
  const ragged = await upload('strict', 'name,age\nBob\n');
  assert.equal(ragged.status, 422);
  assert.match(JSON.parse(ragged.body).upload.error,
    /row 2 has a different number of data points \(1\) than there are column headers \(2\)/);
});

test('bad options are refused before the body is stored', async () => {
  const bad = await upload('x', 'a\n1\n', { query: '?mode=merge' });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).error.message, /mode must be append, upsert or replace/);
  const name = await upload('Bad-Name', 'a\n1\n');
  assert.equal(name.status, 400);
  assert.match(JSON.parse(name.body).error.message, /invalid dataset name/);
});

test('scopes: a datasets:read client cannot upload; a tampered body fails the payload hash', async () => {
  const r = await upload('people', 'name\nEve\n', { credentials: reader });
  assert.equal(r.status, 403, r.body);
  const good = 'name,age\nMallory,1\n';
  const { Hawk } = await import('./lib/hawk.mjs');
  const { header } = Hawk.client.header(url('/api/v1/datasets/people/uploads'), 'POST',
    { credentials: admin, payload: good, contentType: 'text/csv' });
  const { send } = await import('./lib/hawk.mjs');
  const evil = 'name,age\nMallory,9\n';
  const t = await send({ port: f.port, method: 'POST', path: '/api/v1/datasets/people/uploads',
    headers: { host: `127.0.0.1:${f.port}`, authorization: header, 'content-type': 'text/csv',
      'content-length': evil.length }, body: evil });
  assert.equal(t.status, 401, t.body);
  assert.equal(showDataset(dir, databaseOf(dir), 'people').row_count, 2);
});

// A CSV of n rows with some bulk per row.
function bigCsv(n, width = 40) {
  const pad = 'x'.repeat(width);
  const parts = ['n,label,score\n'];
  for (let i = 1; i <= n; i++) parts.push(`${i},"row ${i} ${pad}",${i % 97}.5\n`);
  return parts.join('');
}

test('a large upload is loaded in the background: 202, Location, then polled to loaded', async () => {
  const body = bigCsv(30000);
  assert.ok(body.length > 1 << 20);
  const r = await upload('big', body);
  assert.equal(r.status, 202, r.body);
  const out = JSON.parse(r.body);
  assert.ok(['received', 'loading'].includes(out.upload.state));
  assert.equal(r.headers.location, `/api/v1/uploads/${out.upload.id}`);
  const done = await settle(out.upload.id);
  assert.equal(done.state, 'loaded', JSON.stringify(done));
  assert.equal(done.rows, 30000);
  assert.equal(done.progress, '100');
  assert.equal(showDataset(dir, databaseOf(dir), 'big').row_count, 30000);
  assert.equal(sql(databaseOf(dir), `SELECT state, rows_in FROM ferry_runs WHERE id = ${done.run_id}`).trim(),
    'success|30000');
});

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

test('a 100 MB upload streams to disk: server memory stays flat', async () => {
  // Few, wide rows: the load is quick, the bytes are many.
  const row = `"${'y'.repeat(1000)}"\n`;
  const body = 't\n' + row.repeat(100 * 1024);
  assert.ok(body.length > 100 * 1000 * 1000);
  const before = rssKb(f.proc.pid);
  let peak = before;
  const timer = setInterval(() => { try { peak = Math.max(peak, rssKb(f.proc.pid)); } catch { /* gone */ } }, 20);
  const r = await upload('wide', body);
  clearInterval(timer);
  assert.ok(r.status === 202 || r.status === 201, r.body);
  const done = await settle(JSON.parse(r.body).upload.id);
  assert.equal(done.state, 'loaded', JSON.stringify(done));
  assert.equal(done.rows, 100 * 1024);
  // The body never sits in memory: growth is a small fraction of its 100 MB.
  assert.ok(peak - before < 40 * 1024, `RSS grew by ${peak - before} kB during a 100 MB upload`);
});

test('kill -9 in the middle of a load: after the restart the load is done once, never partial',
  async () => {
    const d = prepare();
    const env = { FERRY_INGEST_LEASE_SEC: '1', FERRY_INGEST_INLINE_BYTES: '0' };
    let g = await startFerry({ dir: d, env });
    const db = databaseOf(d);
    assert.equal((await upload('victim', 'n,label,score\n0,"seed",1.5\n', { port: g.port })).status, 202);
    await settle(1, g.port);
    const body = bigCsv(400000);
    const r = await upload('victim', body, { port: g.port });
    assert.equal(r.status, 202, r.body);
    const id = JSON.parse(r.body).upload.id;
    // Wait until the rows are going in (pass 2), then kill the server outright.
    const end = Date.now() + 60_000;
    for (;;) {
      const u = await getUpload(id, g.port);
      if (u.state === 'loading' && /^loading/.test(u.info)) break;
      assert.notEqual(u.state, 'loaded', 'the load finished before it could be interrupted');
      assert.ok(Date.now() < end, 'the load never started');
      await sleep(5);
    }
    g.proc.kill('SIGKILL');
    await g.exited;
    // Between the kill and the restart: the dataset is exactly as before.
    assert.equal(showDataset(d, db, 'victim').row_count, 1);
    assert.equal(readRows(d, db, 'victim').length, 1);
    g = await startFerry({ dir: d, env });
    const done = await settle(id, g.port);
    assert.equal(done.state, 'loaded', JSON.stringify(done));
    assert.equal(showDataset(d, db, 'victim').row_count, 400001);
    const table = isPg ? 'public.victim' : 'main.victim';
    assert.equal(sql(db, `SELECT count(*), count(DISTINCT n), min(n), max(n) FROM ${table}`).trim(),
      '400001|400001|0|400000', 'every row once');
    assert.equal(await g.stop(), 0);
    const r2 = runFerry(['datasets', 'show', 'victim', '--database', db], { cwd: d });
    assert.equal(r2.status, 0);
  });

test('an unknown upload is a 404; an upload over ingest.max_file_bytes is a 413', async () => {
  const r = await hawkSend({ port: f.port, url: url('/api/v1/uploads/999999'), credentials: admin,
    hashPayload: false });
  assert.equal(r.status, 404);
  const d = prepare();
  const g = await startFerry({ dir: d, env: { FERRY_INGEST_MAX_FILE_BYTES: '1000' } });
  try {
    const big = await upload('toobig', bigCsv(100), { port: g.port });
    assert.equal(big.status, 413, big.body);
    assert.match(JSON.parse(big.body).error.message, /larger than 1000 bytes \(ingest\.max_file_bytes\)/);
    assert.equal(sql(databaseOf(d), 'SELECT count(*) FROM ferry_datafiles').trim(), '0');
  } finally {
    assert.equal(await g.stop(), 0);
  }
});

test('uploads received while no worker runs are loaded after a restart with one', async () => {
  const d = prepare();
  let g = await startFerry({ dir: d, env: { FERRY_INGEST_WORKERS: '0', FERRY_INGEST_INLINE_BYTES: '0' } });
  const r = await upload('later', 'a,b\n1,2\n', { port: g.port });
  assert.equal(r.status, 202, r.body);
  const id = JSON.parse(r.body).upload.id;
  await sleep(300);
  assert.equal((await getUpload(id, g.port)).state, 'received');
  assert.equal(await g.stop(), 0);
  g = await startFerry({ dir: d });
  const done = await settle(id, g.port);
  assert.equal(done.state, 'loaded');
  assert.equal(done.rows, 1);
  assert.equal(await g.stop(), 0);
});

test('SIGTERM during a load rolls it back and puts the upload back in the queue', async () => {
  const d = prepare();
  const env = { FERRY_INGEST_INLINE_BYTES: '0' };
  let g = await startFerry({ dir: d, env });
  const r = await upload('calm', bigCsv(400000), { port: g.port });
  assert.equal(r.status, 202, r.body);
  const id = JSON.parse(r.body).upload.id;
  const end = Date.now() + 60_000;
  for (;;) {
    const u = await getUpload(id, g.port);
    if (u.state === 'loading' && u.progress !== '0') break;
    assert.notEqual(u.state, 'loaded', 'the load finished before it could be interrupted');
    assert.ok(Date.now() < end, 'the load never started');
    await sleep(5);
  }
  assert.equal(await g.stop('SIGTERM'), 0);
  const db = databaseOf(d);
  assert.equal(sql(db, `SELECT state FROM ferry_datafiles WHERE id = ${id}`).trim(), 'received');
  assert.equal(showDataset(d, db, 'calm'), null, 'nothing of the interrupted load is visible');
  g = await startFerry({ dir: d, env });
  const done = await settle(id, g.port);
  assert.equal(done.state, 'loaded');
  assert.equal(showDataset(d, db, 'calm').row_count, 400000);
  assert.equal(await g.stop(), 0);
});

test('an upload whose stored file is gone fails (it is not retried for ever); CLI imports are not uploads', async () => {
  const d = prepare();
  let g = await startFerry({ dir: d, env: { FERRY_INGEST_WORKERS: '0', FERRY_INGEST_INLINE_BYTES: '0' } });
  const r = await upload('gone', 'a,b\n1,2\n', { port: g.port });
  assert.equal(r.status, 202, r.body);
  const { id, sha256 } = JSON.parse(r.body).upload;
  assert.equal(await g.stop(), 0);
  rmSync(join(d, 'data', 'files', sha256));
  g = await startFerry({ dir: d, env: { FERRY_INGEST_LEASE_SEC: '1' } });
  const done = await settle(id, g.port);
  assert.equal(done.state, 'failed', JSON.stringify(done));
  assert.match(done.error, /cannot open/);
  // A CLI import's registry row is not an upload.
  const f = join(d, 'cli.csv');
  writeFileSync(f, 'x\n1\n');
  assert.equal(runFerry(['import', f, '--dataset', 'cli', '--database', databaseOf(d)], { cwd: d }).status, 0);
  const cliId = sql(databaseOf(d), "SELECT id FROM ferry_datafiles WHERE source = 'file'").trim();
  const nf = await hawkSend({ port: g.port, url: url(`/api/v1/uploads/${cliId}`, g.port), credentials: admin,
    hashPayload: false });
  assert.equal(nf.status, 404);
  assert.equal(await g.stop(), 0);
});

test("an upload's status is shown to the client that sent it, not to another writer", async () => {
  const writer2 = { id: 'writer-2', key: 'second-writer-key-0123456789abcdef', algorithm: 'sha256' };
  const add = runFerry(['client', 'add', '--id', writer2.id, '--key', writer2.key, '--scope',
    'datasets:write', '--database', databaseOf(dir)], { cwd: dir });
  assert.equal(add.status, 0, add.stderr);
  const r = await upload('mine', 'a\n1\n');
  assert.equal(r.status, 201, r.body);
  const out = JSON.parse(r.body).upload;
  assert.equal(out.uploaded_by, `hawk:${admin.id}`);
  const other = await hawkSend({ port: f.port, url: url(`/api/v1/uploads/${out.id}`), credentials: writer2,
    hashPayload: false });
  assert.equal(other.status, 404, other.body);
  const own = await getUpload(out.id);
  assert.equal(own.uploaded_by, `hawk:${admin.id}`);
});

test('PostgreSQL: an idle worker does not queue behind a running load whose lease ran out',
  pgOnly('on SQLite one load writes at a time by design'), async () => {
    const d = prepare();
    const env = { FERRY_INGEST_WORKERS: '2', FERRY_INGEST_LEASE_SEC: '1', FERRY_INGEST_INLINE_BYTES: '0' };
    const g = await startFerry({ dir: d, env });
    try {
      const big = await upload('slowone', bigCsv(2000000), { port: g.port });
      assert.equal(big.status, 202, big.body);
      const bigId = JSON.parse(big.body).upload.id;
      for (;;) { // its rows are going in, and its lease (1 s) runs out while they do
        const u = await getUpload(bigId, g.port);
        if (u.state === 'loading' && /^loading/.test(u.info)) break;
        assert.notEqual(u.state, 'loaded', 'the big load finished too early to test this');
        await sleep(5);
      }
      await sleep(1100);
      const small = await upload('quick', 'a\n1\n', { port: g.port });
      assert.equal(small.status, 202, small.body);
      const smallId = JSON.parse(small.body).upload.id;
      const doneSmall = await settle(smallId, g.port);
      assert.equal(doneSmall.state, 'loaded');
      assert.equal((await getUpload(bigId, g.port)).state, 'loading',
        'the small upload was loaded while the big one still ran');
      const doneBig = await settle(bigId, g.port);
      assert.equal(doneBig.state, 'loaded');
      assert.equal(doneBig.rows, 2000000);
    } finally {
      assert.equal(await g.stop(), 0);
    }
  });
