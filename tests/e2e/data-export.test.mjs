// format=csv and format=ndjson of GET /api/v1/datasets/{name}/data on both backends: the
// headers (Content-Type, Content-Disposition, chunked, Server-Authorization without a
// payload hash), NULL against the empty string, typed NDJSON, filters/select/sort applied
// to the whole result, and a 200k-row table exported in full, equal to the CSV it was
// loaded from, while the server's memory stays flat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { databaseOf, isPg, runFerry, sql, startFerry } from './lib/ferry.mjs';
import { Hawk, prepare, reader } from './lib/hawk.mjs';
import { apiClient, assertError, csvValue, importRows, parseCsv, sortRows, streamGet, typedValue,
  writeCsv } from './lib/data.mjs';

let dir;
let f;
let api;

const EX_HEADER = ['name', 'n', 'flag', 'day', 'amount', 'atz'];
const EX_TYPES = { id: 'integer', name: 'text', n: 'integer', flag: 'boolean', day: 'date', amount: 'decimal',
  atz: 'timestamptz' };
const EX_COLS = ['id', ...EX_HEADER];
const EX_ROWS = [
  ['Leeds', '1', 'true', '2024-01-01', '12.5', '2024-01-01T09:00:00+01:00'],
  ['a, b', '-2', 'false', '2024-02-29', '-0.25', '2024-06-30T23:30:00Z'],
  ['say "hi"', '9007199254740993', null, null, null, null],
  ['two\nlines', null, 'true', '1999-12-31', '3', '2000-01-01T00:00:00Z'],
  ['(empty)', '5', 'false', '2024-03-01', '0', '2024-01-01T00:00:00Z'], // name becomes '' below
  [null, '6', 'true', '2024-03-02', '1e3', '2024-01-01T00:00:01Z'],
  ['Zoë 🚀', '7', 'false', '2024-03-03', '7.75', '2024-01-01T00:00:02Z'],
];
const exModel = () => EX_ROWS.map((cells, k) => Object.fromEntries([['id', k + 1],
  ...EX_HEADER.map((c, j) => [c, k === 4 && c === 'name' ? '' : typedValue(EX_TYPES[c], cells[j])])]));

// The large table: 200k rows, about 40 MB of CSV.
const BIG_N = 200000;
const PAD = 'p'.repeat(150);
const BIG_HEADER = ['n', 'label', 'score', 'flag', 'day'];
const BIG_TYPES = { id: 'integer', n: 'integer', label: 'text', score: 'decimal', flag: 'boolean', day: 'date' };
function bigCells(i) {
  return [
    String(i * 7),
    i % 1000 === 0 ? `say "hi", ${i}\n${PAD}` : `row ${i} ${PAD}`,
    i % 997 === 0 ? null : String((i % 4000) / 8),
    i % 3 === 0 ? 'true' : 'false',
    `2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
  ];
}

before(async () => {
  dir = prepare();
  importRows(dir, 'ex', EX_HEADER, EX_ROWS, ['--types', 'name=text,n=integer,flag=boolean,day=date,amount=decimal,atz=timestamptz']);
  // An empty string cannot come from a CSV cell (an empty cell is NULL): set one directly.
  sql(databaseOf(dir), `UPDATE ${isPg ? 'public' : 'main'}."ex" SET name = '' WHERE id = 5`);
  const rows = [];
  for (let i = 1; i <= BIG_N; i++) rows.push(bigCells(i));
  const p = writeCsv(dir, 'big.csv', BIG_HEADER, rows);
  const r = runFerry(['import', p, '--dataset', 'big', '--database', databaseOf(dir), '--types',
    'n=integer,label=text,score=decimal,flag=boolean,day=date'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  // The memory test measures ferry, not AddressSanitizer's quarantine of freed memory
  // (256 MB by default), which would fill up with any freed buffer: keep it small.
  const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : '';
  f = await startFerry({ dir, env: { ASAN_OPTIONS: `${asan}quarantine_size_mb=4` } });
  api = apiClient(f.port);
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
});

const data = (name, query = '') => `/api/v1/datasets/${name}/data${query ? `?${query}` : ''}`;

// A signed GET streamed with node:http; the Hawk artifacts come back for verification.
async function signedStream(path, onChunk) {
  const url = api.url(path);
  const { header, artifacts } = Hawk.client.header(url, 'GET', { credentials: reader });
  const r = await streamGet({ port: f.port, path, headers: { host: `127.0.0.1:${f.port}`, authorization: header },
    onChunk });
  return { ...r, artifacts };
}

// A stream's Server-Authorization: present, valid, and without a payload hash.
function assertStreamSigned(r) {
  const sa = r.headers['server-authorization'];
  assert.ok(sa, 'no Server-Authorization on a stream');
  assert.doesNotMatch(sa, /hash=/, 'a stream cannot carry a payload hash');
  Hawk.client.authenticate({ headers: r.headers, statusCode: r.status }, reader, r.artifacts, {});
}

function assertStreamHeaders(r) {
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.headers['content-length'], undefined);
}

test('CSV: headers, a header row of column names, NULL as an empty field, "" as the empty string', async () => {
  const r = await signedStream(data('ex', 'format=csv'));
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^text\/csv/);
  assert.equal(r.headers['content-disposition'], 'attachment; filename="ex.csv"');
  assertStreamHeaders(r);
  assertStreamSigned(r);
  const rows = parseCsv(r.body);
  assert.deepEqual(rows[0], EX_COLS);
  assert.equal(rows.length, EX_ROWS.length + 1);
  const want = exModel();
  rows.slice(1).forEach((fields, k) => {
    const got = Object.fromEntries(EX_COLS.map((c, j) => [c, csvValue(EX_TYPES[c], fields[j])]));
    assert.deepEqual(got, want[k], `row ${k + 1}: ${JSON.stringify(fields)}`);
  });
  assert.equal(rows[5][1], '', 'the empty string is ""');
  assert.equal(rows[6][1], null, 'NULL is an empty field');
  assert.match(r.body, /(^|\n)5,"",5,/, 'the empty string is written as ""');
  assert.match(r.body, /(^|\n)6,,6,/, 'NULL is written as nothing');
  assert.ok(r.body.includes('"say ""hi"""'), 'quotes are doubled inside a quoted field');
  assert.ok(r.body.includes('"two\nlines"') || r.body.includes('"two\r\nlines"'));
  assert.ok(r.body.includes('9007199254740993'));
});

test('CSV and NDJSON stream the whole filtered, sorted, selected result; never one page of it', async () => {
  const r = await signedStream(data('ex', 'format=csv&select=name,n&sort=-n&flag=false'));
  assert.equal(r.status, 200, r.body);
  const rows = parseCsv(r.body);
  const want = sortRows(exModel().filter((x) => x.flag === false), '-n', ['id'], EX_TYPES);
  assert.deepEqual(rows, [['name', 'n'], ...want.map((x) => [x.name, String(x.n)])]);
  const nd = await signedStream(data('ex', 'format=ndjson&select=name,n&sort=-n&flag=false'));
  assert.equal(nd.status, 200, nd.body);
  assert.deepEqual(nd.body.split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    want.map((x) => ({ name: x.name, n: x.n })));
  // page_size and count do not apply: refused, or without effect; never a partial export.
  for (const [format, extra, param] of [['csv', 'page_size=1', 'page_size'], ['ndjson', 'page_size=2', 'page_size'],
    ['csv', 'count=exact', 'count']]) {
    const p = await signedStream(data('ex', `format=${format}&${extra}`));
    if (p.status === 200) {
      const n = format === 'csv' ? parseCsv(p.body).length - 1 : p.body.split('\n').filter(Boolean).length;
      assert.equal(n, EX_ROWS.length, `format=${format}&${extra} must export every row`);
    } else {
      assertError({ ...p, body: p.body }, 400, { mentions: [param] });
    }
  }
  const empty = await signedStream(data('ex', 'format=csv&name=nobody&select=id,name'));
  assert.equal(empty.status, 200);
  assert.deepEqual(parseCsv(empty.body), [['id', 'name']]);
  const emptyNd = await signedStream(data('ex', 'format=ndjson&name=nobody'));
  assert.equal(emptyNd.status, 200);
  assert.equal(emptyNd.body.trim(), '');
});

test('NDJSON: one JSON object per line, values typed as on JSON pages', async () => {
  const r = await signedStream(data('ex', 'format=ndjson'));
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/(x-)?ndjson/);
  assertStreamHeaders(r);
  assertStreamSigned(r);
  assert.ok(r.body.endsWith('\n'));
  const lines = r.body.slice(0, -1).split('\n');
  assert.equal(lines.length, EX_ROWS.length, 'one line per row (newlines in values are escaped)');
  assert.deepEqual(lines.map((l) => JSON.parse(l)), exModel());
  assert.match(r.body, /"n":\s*"9007199254740993"/, 'a big integer is a string');
  const page = await api.get(data('ex', 'orientation=records'));
  assert.deepEqual(lines.map((l) => JSON.parse(l)), page.json.results, 'the same values as the JSON pages');
});

test('export errors are JSON errors before anything streams', async () => {
  assertError(await api.get(data('ex', 'format=csv&select=nope')), 400, { mentions: ['nope'] });
  assertError(await api.get(data('ex', 'format=ndjson&n__gt=abc')), 400, { mentions: ['n__gt'] });
  assertError(await api.get(data('nope', 'format=csv')), 404);
});

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

// Export the big table, sampling the server's RSS all along; returns { r, grewKb }.
async function exportBig(format) {
  // Warm up: the first export of a kind allocates what every later one reuses.
  const warm = await signedStream(data('big', `format=${format}&n__lte=7000`));
  assert.equal(warm.status, 200);
  const base = rssKb(f.proc.pid);
  let peak = base;
  const sample = () => { try { peak = Math.max(peak, rssKb(f.proc.pid)); } catch { /* gone */ } };
  const timer = setInterval(sample, 5);
  let chunks = 0;
  const r = await signedStream(data('big', `format=${format}`), () => { if (++chunks % 64 === 0) sample(); });
  clearInterval(timer);
  sample();
  return { r, grewKb: peak - base };
}

// A bound well under the export's size: a server that buffered the export would pass it.
const MAX_GROWTH_KB = 16 * 1024;

test('CSV export of a 200k-row table: equal to the source, in constant memory', async (t) => {
  const { r, grewKb } = await exportBig('csv');
  assert.equal(r.status, 200);
  assertStreamHeaders(r);
  assert.equal(r.headers['content-disposition'], 'attachment; filename="big.csv"');
  assert.ok(r.body.length > 2 * MAX_GROWTH_KB * 1024, `the export (${r.body.length} bytes) is much bigger than the bound`);
  assert.ok(grewKb < MAX_GROWTH_KB, `server RSS grew by ${grewKb} kB during a ${r.body.length >> 20} MB export`);
  t.diagnostic(`server RSS grew by ${grewKb} kB during a ${r.body.length >> 20} MB export`);
  const rows = parseCsv(r.body);
  assert.deepEqual(rows[0], ['id', ...BIG_HEADER]);
  assert.equal(rows.length, BIG_N + 1);
  const cols = ['id', ...BIG_HEADER];
  for (let i = 1; i <= BIG_N; i++) {
    const cells = [String(i), ...bigCells(i)];
    const got = rows[i];
    for (let j = 0; j < cols.length; j++) {
      const t = BIG_TYPES[cols[j]];
      const g = csvValue(t, got[j]);
      const w = typedValue(t, cells[j]);
      if (g !== w) assert.fail(`row ${i}, ${cols[j]}: got ${JSON.stringify(got[j])}, want ${JSON.stringify(w)}`);
    }
  }
});

test('NDJSON export of a 200k-row table: equal to the source, in constant memory', async (t) => {
  const { r, grewKb } = await exportBig('ndjson');
  assert.equal(r.status, 200);
  assertStreamHeaders(r);
  assert.ok(grewKb < MAX_GROWTH_KB, `server RSS grew by ${grewKb} kB during a ${r.body.length >> 20} MB export`);
  t.diagnostic(`server RSS grew by ${grewKb} kB during a ${r.body.length >> 20} MB export`);
  const lines = r.body.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, BIG_N);
  for (let i = 1; i <= BIG_N; i++) {
    const cells = bigCells(i);
    const got = JSON.parse(lines[i - 1]);
    const want = { id: i };
    BIG_HEADER.forEach((c, j) => { want[c] = typedValue(BIG_TYPES[c], cells[j]); });
    if (got.id !== i || got.n !== want.n || got.label !== want.label || got.score !== want.score ||
      got.flag !== want.flag || got.day !== want.day) {
      assert.deepEqual(got, want, `line ${i}`);
    }
  }
});
