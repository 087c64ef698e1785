// `ferry import` and `ferry datasets`, on both backends: the data-driven cases of
// tests/data/import (each NAME.csv with NAME.json: the expected types, columns, rows,
// or error and problems), then the modes (append, upsert, replace), validation against
// an existing dataset, the datafile registry (the same file twice), and the guarantee
// that a rejected file leaves the dataset exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BIN, cleanEnv, isPg, newDatabase, runFerry, sql, sqliteOnly, tempDir } from './lib/ferry.mjs';
import { expectRow, importCsv, pick, readRows, showDataset } from './lib/datasets.mjs';

const CASES = resolve('tests/data/import');

// A fresh directory with an initialised database: { dir, url }.
function freshDb() {
  const dir = tempDir();
  const url = newDatabase(dir);
  const r = runFerry(['db', 'init', '--database', url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return { dir, url };
}

function csv(dir, name, text) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const names = readdirSync(CASES).filter((f) => f.endsWith('.csv')).map((f) => f.slice(0, -4)).sort();

for (const name of names) {
  test(`import case ${name}`, () => {
    const spec = JSON.parse(readFileSync(join(CASES, `${name}.json`), 'utf8'));
    const { dir, url } = freshDb();
    const r = importCsv(dir, url, join(CASES, `${name}.csv`), 'ds', spec.args || []);
    if (spec.error) {
      assert.equal(r.status, 1, `expected a rejection, got: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(spec.error));
      assert.match(r.stderr, /nothing was loaded/);
      for (const [line, column] of spec.problems || []) {
        assert.match(r.stderr, new RegExp(`^${line} +${column} `, 'm'), r.stderr);
      }
      assert.equal(showDataset(dir, url, 'ds'), null, 'a rejected file creates no dataset');
      const state = sql(url, "SELECT state FROM ferry_datafiles").trim();
      assert.equal(state, 'rejected');
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    const d = showDataset(dir, url, 'ds');
    for (const [col, type] of Object.entries(spec.types || {})) {
      const c = d.columns.find((x) => x.name === col);
      assert.ok(c, `no column ${col} in ${JSON.stringify(d.columns.map((x) => x.name))}`);
      assert.equal(c.type, type, `type of ${col}`);
    }
    if (spec.columns) {
      assert.deepEqual(d.columns.filter((c) => !c.generated).map((c) => c.name), spec.columns);
    }
    for (const [col, label] of Object.entries(spec.labels || {})) {
      assert.equal(d.columns.find((c) => c.name === col).label, label);
    }
    assert.deepEqual(d.key, spec.key || ['id']);
    const rows = readRows(dir, url, 'ds');
    assert.equal(rows.length, spec.rows.length);
    assert.equal(d.row_count, spec.rows.length);
    spec.rows.forEach((want, i) => {
      assert.deepEqual(pick(rows[i], Object.keys(want)), expectRow(d, want), `row ${i + 1}`);
    });
    if (!spec.key) assert.deepEqual(rows.map((x) => x.id), rows.map((_, i) => i + 1));
  });
}

test('import without a database, a file or --dataset is a clear error', () => {
  const dir = tempDir();
  const a = runFerry(['import', 'x.csv'], { cwd: dir });
  assert.equal(a.status, 2);
  assert.match(a.stderr, /needs a FILE and --dataset/);
  const b = runFerry(['import', 'x.csv', '--dataset', 'Bad Name'], { cwd: dir });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /invalid dataset name/);
  const { url } = freshDb();
  const c = runFerry(['import', join(dir, 'missing.csv'), '--dataset', 'ds', '--database', url],
    { cwd: dir });
  assert.equal(c.status, 1);
  assert.match(c.stderr, /cannot open .*missing\.csv/);
});

test('append validates every value against the dataset and rejects the file as a whole', () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 'a.csv', 'name,age,born\nAnn,34,1990-01-02\n'), 'people').status, 0);
  const before = readRows(dir, url, 'people');
  const bad = 'name,age,born\nBob,41,1983-05-06\nCy,abc,1990-01-01\nDee,7,2001-02-30\n' +
    Array.from({ length: 120 }, (_, i) => `E${i},x${i},2000-01-01`).join('\n') + '\n';
  const r = importCsv(dir, url, csv(dir, 'b.csv', bad), 'people');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /122 problems in the file; the first: line 3, column age: “abc” is not a valid integer/);
  assert.match(r.stderr, /^3 +age +abc +integer$/m);
  assert.match(r.stderr, /^4 +born +2001-02-30 +date$/m);
  assert.match(r.stderr, /and 22 more \(122 problems in all\)/);
  assert.deepEqual(readRows(dir, url, 'people'), before, 'the dataset is unchanged');
  const errors = JSON.parse(sql(url, "SELECT errors FROM ferry_datafiles WHERE state = 'rejected'"));
  assert.equal(errors.total, 122);
  assert.equal(errors.items.length, 100);
  assert.deepEqual(errors.items[0], { line: 3, column: 'age', value: 'abc', expected: 'integer' });
});

test('append checks the columns: unknown ones are refused, missing nullable ones are NULL', () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 'a.csv', 'name,age\nAnn,34\n'), 'p').status, 0);
  const r = importCsv(dir, url, csv(dir, 'b.csv', 'name,shoe\nBob,44\n'), 'p');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /column “shoe” is not in dataset p/);
  const ok = importCsv(dir, url, csv(dir, 'c.csv', 'age\n50\n'), 'p');
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readRows(dir, url, 'p'), [{ id: 1, name: 'Ann', age: 34 }, { id: 2, name: null, age: 50 }]);
  const gen = importCsv(dir, url, csv(dir, 'd.csv', 'id,name\n9,x\n'), 'p');
  assert.equal(gen.status, 1);
  assert.match(gen.stderr, /column “id” is the row id ferry generates/);
});

test('the same file twice is a no-op that says so, unless --force', () => {
  const { dir, url } = freshDb();
  const f = csv(dir, 'a.csv', 'name\nAnn\nBob\n');
  const first = importCsv(dir, url, f, 'p');
  assert.equal(first.status, 0);
  assert.match(first.stdout, /^loaded 2 rows into p \(append, created; 2 rows in the dataset\)/);
  const again = importCsv(dir, url, f, 'p');
  assert.equal(again.status, 0);
  assert.match(again.stdout, /already loaded into p \(datafile 1\); nothing to do/);
  assert.equal(showDataset(dir, url, 'p').row_count, 2);
  const forced = importCsv(dir, url, f, 'p', ['--force']);
  assert.equal(forced.status, 0);
  assert.match(forced.stdout, /4 rows in the dataset/);
  const reg = sql(url, 'SELECT id, name, size, state, rows, mode, source FROM ferry_datafiles ORDER BY id');
  assert.equal(reg.trim().split('\n').length, 3, 'every attempt is a row, the skipped one too');
  assert.match(reg, /^1\|a\.csv\|13\|loaded\|2\|append\|file$/m);
  assert.match(reg, /^2\|a\.csv\|13\|skipped\|0\|append\|file$/m);
  const sha = sql(url, 'SELECT DISTINCT sha256 FROM ferry_datafiles').trim();
  assert.match(sha, /^[0-9a-f]{64}$/);
  // A different file of the same size is not the same file.
  const twin = importCsv(dir, url, csv(dir, 'b.csv', 'name\nAnn\nBox\n'), 'p');
  assert.equal(twin.status, 0, twin.stderr);
  assert.match(twin.stdout, /^loaded 2 rows into p/);
  const shas = sql(url, "SELECT sha256 FROM ferry_datafiles WHERE state = 'loaded' ORDER BY id").trim().split('\n');
  assert.equal(shas.length, 3);
  assert.equal(shas[0], sha);
  assert.notEqual(shas[2], sha);
  // Another dataset is another registry: the file loads there.
  assert.match(importCsv(dir, url, f, 'q').stdout, /^loaded 2 rows into q/);
});

test('upsert inserts and updates by the key; replace makes a new generation', () => {
  const { dir, url } = freshDb();
  const r1 = importCsv(dir, url, csv(dir, 'a.csv', 'code,name,n\nA,x,1\nB,y,2\n'), 'k',
    ['--primary-key', 'code']);
  assert.equal(r1.status, 0, r1.stderr);
  const r2 = importCsv(dir, url, csv(dir, 'b.csv', 'code,n\nB,20\nC,3\n'), 'k',
    ['--mode', 'upsert', '--key', 'code']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /loaded 2 rows into k \(upsert; 3 rows in the dataset\)/);
  assert.deepEqual(readRows(dir, url, 'k'), [
    { code: 'A', name: 'x', n: 1 }, { code: 'B', name: 'y', n: 20 }, { code: 'C', name: null, n: 3 }]);
  const wrongKey = importCsv(dir, url, csv(dir, 'c.csv', 'code,name\nA,z\n'), 'k',
    ['--mode', 'upsert', '--key', 'name']);
  assert.equal(wrongKey.status, 1);
  assert.match(wrongKey.stderr, /upsert key “name” is not the primary key of k \(code\)/);

  const r3 = importCsv(dir, url, csv(dir, 'd.csv', 'code,total\nZ,1.5\n'), 'k', ['--mode', 'replace',
    '--primary-key', 'code']);
  assert.equal(r3.status, 0, r3.stderr);
  const d = showDataset(dir, url, 'k');
  assert.deepEqual(d.columns.map((c) => [c.name, c.type]), [['code', 'text'], ['total', 'decimal']]);
  assert.deepEqual(readRows(dir, url, 'k'), [{ code: 'Z', total: 1.5 }]);
  // The previous generation is kept in the backup schema.
  const backup = isPg ? 'SELECT count(*) FROM backup.k' : 'SELECT count(*) FROM main.ferry_backup__k';
  assert.equal(sql(url, backup).trim(), '3');
});

test('upsert into a dataset without a declared key is refused', () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 'a.csv', 'name\nAnn\n'), 'p').status, 0);
  const r = importCsv(dir, url, csv(dir, 'b.csv', 'name\nBob\n'), 'p', ['--mode', 'upsert']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /upsert needs a primary key; dataset p has none/);
  const n = importCsv(dir, url, csv(dir, 'c.csv', 'name\nBob\n'), 'newone', ['--mode', 'upsert']);
  assert.equal(n.status, 1);
  assert.match(n.stderr, /upsert needs a key/);
});

test('datasets list and show read the catalog', () => {
  const { dir, url } = freshDb();
  const empty = runFerry(['datasets', 'list', '--database', url], { cwd: dir });
  assert.equal(empty.status, 0);
  assert.match(empty.stdout, /no datasets yet/);
  importCsv(dir, url, csv(dir, 'a.csv', 'Full Name,Age\nAnn,34\n'), 'people');
  const list = runFerry(['datasets', 'list', '--database', url], { cwd: dir });
  assert.match(list.stdout, /^people +1 +3 +id +file +\d{4}-/m);
  const d = showDataset(dir, url, 'people');
  assert.deepEqual(d.columns, [
    { name: 'id', type: 'integer', label: 'id', nullable: false, generated: true },
    { name: 'full_name', type: 'text', label: 'Full Name', nullable: true, generated: false },
    { name: 'age', type: 'integer', label: 'Age', nullable: true, generated: false }]);
  assert.equal(d.source, 'file');
  const missing = runFerry(['datasets', 'show', 'nope', '--database', url], { cwd: dir });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no dataset nope/);
});

test('limits from the configuration are enforced with a clear error', () => {
  const { dir, url } = freshDb();
  const f = csv(dir, 'a.csv', `a,b,c\n1,${'x'.repeat(200)},3\n`);
  const r = runFerry(['import', f, '--dataset', 'p', '--database', url],
    { cwd: dir, env: { FERRY_INGEST_MAX_FIELD_BYTES: '100' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /field/i);
  assert.match(r.stderr, /100/);
  const cols = runFerry(['import', f, '--dataset', 'p', '--database', url],
    { cwd: dir, env: { FERRY_INGEST_MAX_COLUMNS: '2' } });
  assert.equal(cols.status, 1);
  assert.match(cols.stderr, /column/i);
});

// Files bigger than the sample ferry reads first (4 MiB): a load starts with the sample's
// types and must end exactly as if every value had been checked first.
function bigFile(dir, name, rows, lastRows) {
  const parts = ['n,label,maybe\n'];
  for (let i = 1; i <= rows; i++) parts.push(`${i},"label ${i} ${'z'.repeat(40)}",\n`);
  parts.push(...lastRows);
  return csv(dir, name, parts.join(''));
}
const SAMPLE_PLUS = 100000; // rows of ~60 bytes: about 6 MB, past the sample

test('past the sample: a value that does not fit the sampled type widens the column', () => {
  const { dir, url } = freshDb();
  const f = bigFile(dir, 'a.csv', SAMPLE_PLUS, ['x12,"late",2024-01-01\n']);
  const r = importCsv(dir, url, f, 'wide');
  assert.equal(r.status, 0, r.stderr);
  const d = showDataset(dir, url, 'wide');
  assert.deepEqual(d.columns.map((c) => [c.name, c.type]),
    [['id', 'integer'], ['n', 'text'], ['label', 'text'], ['maybe', 'date']]);
  assert.equal(d.row_count, SAMPLE_PLUS + 1);
  const last = sql(url, `SELECT n, maybe FROM ${isPg ? 'public' : 'main'}.wide WHERE id = ${SAMPLE_PLUS + 1}`);
  assert.equal(last.trim(), 'x12|2024-01-01');
});

test('past the sample: a bad value in an append rejects the file with the full report', () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 's.csv', 'n,label,maybe\n0,seed,2024-01-01\n'), 'strict').status, 0);
  const f = bigFile(dir, 'b.csv', SAMPLE_PLUS, ['oops,"bad",\n', `${SAMPLE_PLUS + 2},"ok",not-a-date\n`]);
  const r = importCsv(dir, url, f, 'strict');
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`2 problems in the file; the first: line ${SAMPLE_PLUS + 2}, column n`));
  assert.match(r.stderr, new RegExp(`^${SAMPLE_PLUS + 3} +maybe +not-a-date +date$`, 'm'));
  assert.equal(showDataset(dir, url, 'strict').row_count, 1);
  assert.equal(sql(url, `SELECT count(*) FROM ${isPg ? 'public' : 'main'}.strict`).trim(), '1');
});

test('past the sample: a ragged row rejects the file; a NULL key is found', () => {
  const { dir, url } = freshDb();
  const r = importCsv(dir, url, bigFile(dir, 'r.csv', SAMPLE_PLUS, ['1,2\n']), 'ragged');
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`row ${SAMPLE_PLUS + 2} has a different number of data points \\(2\\) than there are column headers \\(3\\)`));
  assert.equal(showDataset(dir, url, 'ragged'), null);
  const k = importCsv(dir, url, bigFile(dir, 'k.csv', SAMPLE_PLUS, [',"no key",\n']), 'keyed',
    ['--primary-key', 'n']);
  assert.equal(k.status, 1);
  assert.match(k.stderr, new RegExp(`line ${SAMPLE_PLUS + 2}, column n: empty, but the column is a key`));
  assert.equal(showDataset(dir, url, 'keyed'), null);
});

// Two imports at once (separate processes): one load per dataset at a time, the catalog
// read under the load's lock, the repeat check inside the transaction.
function importAsync(dir, url, file, dataset, args = []) {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['import', file, '--dataset', dataset, '--database', url, ...args],
      { cwd: dir, env: cleanEnv() });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (status) => resolve({ status, stdout: out, stderr: err }));
  });
}

test('the same file imported twice at the same time is loaded once', async () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 's.csv', 'n,label,maybe\n0,seed,\n'), 'race').status, 0);
  const f = bigFile(dir, 'same.csv', 20000, []);
  const [a, b] = await Promise.all([importAsync(dir, url, f, 'race'), importAsync(dir, url, f, 'race')]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const outs = [a.stdout, b.stdout].sort();
  assert.match(outs[0], /already loaded into race/);
  assert.match(outs[1], /^loaded 20000 rows into race/);
  assert.equal(showDataset(dir, url, 'race').row_count, 20001);
  assert.equal(sql(url, `SELECT count(*) FROM ${isPg ? 'public' : 'main'}.race`).trim(), '20001');
});

test('two different files appended at the same time: both rows and the count are right', async () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 's.csv', 'n,label,maybe\n0,seed,\n'), 'both').status, 0);
  const f1 = bigFile(dir, 'one.csv', 20000, []);
  const f2 = bigFile(dir, 'two.csv', 20001, []);
  const [a, b] = await Promise.all([importAsync(dir, url, f1, 'both'), importAsync(dir, url, f2, 'both')]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(sql(url, `SELECT count(*) FROM ${isPg ? 'public' : 'main'}.both`).trim(), '40002');
  assert.equal(showDataset(dir, url, 'both').row_count, 40002);
});

test('upsert with the same key twice in the file is refused on both backends', () => {
  const { dir, url } = freshDb();
  assert.equal(importCsv(dir, url, csv(dir, 'a.csv', 'k,v\n1,a\n'), 'up', ['--primary-key', 'k']).status, 0);
  const r = importCsv(dir, url, csv(dir, 'b.csv', 'k,v\n1,b\n1,c\n'), 'up', ['--mode', 'upsert', '--key', 'k']);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /duplicate or empty key value in the file/);
  assert.deepEqual(readRows(dir, url, 'up'), [{ k: 1, v: 'a' }]);
});

test('SQLite: an import waits for another writer holding the database instead of failing busy',
  sqliteOnly('PostgreSQL loads of different datasets do not block each other'), async () => {
    const { dir, url } = freshDb();
    const small = csv(dir, 'small.csv', 'x\n1\n');
    // Another writer holds the database's write lock for 1.5 s (as a long load does).
    const holder = spawn('sqlite3', [url.slice('sqlite:'.length)], { stdio: ['pipe', 'ignore', 'ignore'] });
    holder.stdin.end('BEGIN IMMEDIATE;\n.shell sleep 1.5\nCOMMIT;\n');
    await new Promise((r) => setTimeout(r, 300));
    const r = runFerry(['import', small, '--dataset', 'quick', '--database', url],
      { cwd: dir, env: { FERRY_DATABASE_BUSY_TIMEOUT_MS: '50' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^loaded 1 row into quick/);
    assert.match(r.stderr, /the database is busy with another load; waiting/);
    await new Promise((res) => holder.on('close', res));
  });
