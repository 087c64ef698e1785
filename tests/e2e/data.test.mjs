// The data API (GET /api/v1/datasets, /datasets/{name}, /datasets/{name}/data) over HTTP
// with the reference Hawk client, on both backends: the two orientations and their exact
// shapes, typed values of every column type, the catalog, public and private datasets,
// scopes, response signatures, ETag and Cache-Control, the errors, injection attempts in
// every parameter, the next URL behind a proxy, and openapi.json. Paging, filters and the
// CSV/NDJSON exports have their own files (data-paging, data-filters, data-export).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseOf, runFerry, startFerry } from './lib/ferry.mjs';
import { Hawk, legacy, prepare, reader, send, verifyResponse } from './lib/hawk.mjs';
import { readRows, showDataset } from './lib/datasets.mjs';
import { addClient, apiClient, assertError, enc, ferryDatasets, followAll, importRows, paramsOf, qs,
  typedValue, writer } from './lib/data.mjs';

const APIKEY = 'data-api-key-for-tests-0123';
let dir;
let f;
let api;

// demo: the README's example.
const DEMO_HEADER = ['city', 'amount', 'paid', 'ordered_at'];
const DEMO_TYPES = { id: 'integer', city: 'text', amount: 'decimal', paid: 'boolean', ordered_at: 'timestamp' };
const DEMO_ROWS = [
  ['Leeds', '12.5', 'true', '2026-01-01T09:00:00'],
  ['York', '3', 'false', null],
  ['Hull', '7.25', 'true', '2026-01-02T10:30:00'],
  ['Bath', null, null, '2026-01-03T00:00:00'],
  ['Ely', '0.5', 'false', '2026-01-04T23:59:59'],
];
const demoValues = DEMO_ROWS.map((r, i) => [i + 1, ...r.map((c, j) => typedValue(DEMO_TYPES[DEMO_HEADER[j]], c))]);
const demoRecords = demoValues.map((v) => Object.fromEntries(['id', ...DEMO_HEADER].map((c, j) => [c, v[j]])));

// typed: one column of every type (forced with --types), values at the edges, a NULL
// row, and integers beyond 2^53. "First Name" becomes the column first_name.
const TYPED_HEADER = ['flag', 'n', 'big', 'amount', 'day', 'at', 'atz', 'label', 'First Name'];
const TYPED_TYPES = { flag: 'boolean', n: 'integer', big: 'integer', amount: 'decimal', day: 'date',
  at: 'timestamp', atz: 'timestamptz', label: 'text', first_name: 'text' };
const TYPED_ROWS = [
  ['true', '42', '9007199254740993', '12.5', '2024-02-29', '2026-01-01 09:00', '2026-01-01T09:00:00+01:00', 'Leeds', 'Ann'],
  ['no', '-7', '-9007199254740993', '-0.001', '1999-12-31', '2026-01-01T09:00:00.123456', '2026-06-30T23:30:00-02:00', 'Zoë 🚀 "q", x', 'Bob'],
  ['f', '0', '9223372036854775807', '1e3', '0001-01-01', '2024-02-29T23:59:59', '2024-01-01T00:00:00Z', 'line\nbreak', 'Cy'],
  [null, null, null, null, null, null, null, null, 'Dee'],
  ['t', '9007199254740991', '-9223372036854775808', '0', '9999-12-31', '2000-01-01T00:00', '1999-12-31T23:59:59+00:00', 'x', 'Eve'],
];
const TYPED_COLS = ['id', 'flag', 'n', 'big', 'amount', 'day', 'at', 'atz', 'label', 'first_name'];
const typedValues = TYPED_ROWS.map((r, i) => [i + 1, ...r.map((c, j) => typedValue(TYPED_TYPES[TYPED_COLS[j + 1]], c))]);

before(async () => {
  dir = prepare();
  addClient(dir, writer, 'datasets:write');
  importRows(dir, 'demo', DEMO_HEADER, DEMO_ROWS, ['--types', 'amount=decimal,paid=boolean,ordered_at=timestamp']);
  importRows(dir, 'typed', TYPED_HEADER, TYPED_ROWS, ['--types',
    'flag=boolean,n=integer,big=integer,amount=decimal,day=date,at=timestamp,atz=timestamptz,label=text']);
  importRows(dir, 'pub', ['x'], [['1'], ['2'], ['3']]);
  importRows(dir, 'priv', ['x'], [['1']]);
  importRows(dir, 'changing', ['x'], [['1']]);
  f = await startFerry({ dir, env: { FERRY_API_KEY: APIKEY } });
  api = apiClient(f.port);
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
});

const data = (name, query = '') => `/api/v1/datasets/${name}/data${query ? `?${query}` : ''}`;

test('tabular (the default): exactly headers, values and next; column names as in the catalog', async () => {
  const r = await api.get(data('demo'));
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.deepEqual(r.json, { headers: ['id', ...DEMO_HEADER], values: demoValues, next: null });
  const explicit = await api.get(data('demo', 'orientation=tabular'));
  assert.deepEqual(explicit.json, r.json);
  const t = await api.get(data('typed'));
  assert.deepEqual(t.json.headers, showDataset(dir, databaseOf(dir), 'typed').columns.map((c) => c.name));
  assert.deepEqual(t.json.headers, TYPED_COLS, 'names are the dataset\'s own (first_name, not firstName)');
});

test('records: exactly results and next, one object per row keyed by column name', async () => {
  const r = await api.get(data('demo', 'orientation=records'));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { results: demoRecords, next: null });
  for (const row of r.json.results) assert.deepEqual(Object.keys(row), ['id', ...DEMO_HEADER]);
});

test('a page: next is an absolute URL of the same route; following it gives the rest', async () => {
  const r = await api.get(data('demo', 'page_size=2'));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(Object.keys(r.json).sort(), ['headers', 'next', 'values']);
  assert.deepEqual(r.json.values, demoValues.slice(0, 2));
  assert.equal(typeof r.json.next, 'string');
  assert.ok(r.json.next.startsWith(`${api.base}/api/v1/datasets/demo/data?`), r.json.next);
  const params = Object.fromEntries(paramsOf(r.json.next));
  assert.equal(params.page_size, '2');
  assert.match(params.cursor, /^[A-Za-z0-9_-]+$/, 'an opaque URL-safe cursor');
  const all = await followAll(api, data('demo', 'page_size=2'));
  assert.deepEqual(all.rows, demoValues);
  assert.ok(all.pages.length >= 3);
  for (const p of all.pages) assert.deepEqual(p.headers, ['id', ...DEMO_HEADER]);
  const rec = await followAll(api, data('demo', 'page_size=2&orientation=records'));
  assert.deepEqual(rec.rows, demoRecords);
});

test('one column: tabular values are a flat list of scalars; records stay objects', async () => {
  const r = await api.get(data('demo', 'select=city'));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { headers: ['city'], values: DEMO_ROWS.map((x) => x[0]), next: null });
  const amounts = await api.get(data('demo', 'select=amount'));
  assert.deepEqual(amounts.json.values, [12.5, 3, 7.25, null, 0.5]);
  const rec = await api.get(data('demo', 'select=city&orientation=records'));
  assert.deepEqual(rec.json, { results: DEMO_ROWS.map((x) => ({ city: x[0] })), next: null });
  const paged = await followAll(api, data('demo', 'select=id&page_size=2'));
  assert.deepEqual(paged.rows, [1, 2, 3, 4, 5]);
});

test('an empty result: an empty list and next null, in both orientations', async () => {
  const t = await api.get(data('demo', 'city=Nowhere'));
  assert.equal(t.status, 200, t.body);
  assert.deepEqual(t.json, { headers: ['id', ...DEMO_HEADER], values: [], next: null });
  const r = await api.get(data('demo', 'city=Nowhere&orientation=records'));
  assert.deepEqual(r.json, { results: [], next: null });
  const one = await api.get(data('demo', 'city=Nowhere&select=city'));
  assert.deepEqual(one.json, { headers: ['city'], values: [], next: null });
});

test('typed values for every column type; integers beyond 2^53 are strings', async () => {
  const r = await api.get(data('typed'));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.values, typedValues);
  // Spelled out, so the expectations do not rest on typedValue alone.
  assert.deepEqual(r.json.values[0], [1, true, 42, '9007199254740993', 12.5, '2024-02-29', '2026-01-01T09:00:00',
    '2026-01-01T08:00:00Z', 'Leeds', 'Ann']);
  assert.deepEqual(r.json.values[1], [2, false, -7, '-9007199254740993', -0.001, '1999-12-31',
    '2026-01-01T09:00:00.123456', '2026-07-01T01:30:00Z', 'Zoë 🚀 "q", x', 'Bob']);
  assert.deepEqual(r.json.values[2].slice(0, 6), [3, false, 0, '9223372036854775807', 1000, '0001-01-01']);
  assert.deepEqual(r.json.values[3], [4, null, null, null, null, null, null, null, null, 'Dee']);
  assert.deepEqual(r.json.values[4].slice(2, 4), [9007199254740991, '-9223372036854775808']);
  // On the wire: big integers quoted, the largest safe one a bare number, decimals bare.
  assert.ok(r.body.includes('"9007199254740993"'));
  assert.ok(r.body.includes('"9223372036854775807"'));
  assert.match(r.body, /[[,]\s*9007199254740991\s*[,\]]/);
  assert.match(r.body, /[[,]\s*12\.5\s*[,\]]/);
  for (const row of r.json.values) {
    for (const [j, v] of row.entries()) {
      const t = TYPED_TYPES[TYPED_COLS[j]] || 'integer';
      if (v === null) continue;
      if (t === 'boolean') assert.equal(typeof v, 'boolean');
      else if (t === 'decimal') assert.equal(typeof v, 'number');
      else if (t === 'integer') assert.ok(typeof v === 'number' || /^-?\d{16,}$/.test(v), `${v}`);
      else assert.equal(typeof v, 'string');
    }
  }
  const rec = await api.get(data('typed', 'orientation=records'));
  assert.deepEqual(rec.json.results,
    typedValues.map((v) => Object.fromEntries(TYPED_COLS.map((c, j) => [c, v[j]]))));
});

test('the catalog and one dataset: their fields, links that work', async () => {
  const r = await api.get('/api/v1/datasets');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(Object.keys(r.json), ['datasets']);
  const names = r.json.datasets.map((d) => d.name).sort();
  assert.deepEqual(names, ['changing', 'demo', 'priv', 'pub', 'typed']);
  const cat = showDataset(dir, databaseOf(dir), 'typed');
  const one = await api.get('/api/v1/datasets/typed');
  assert.equal(one.status, 200, one.body);
  for (const d of [r.json.datasets.find((x) => x.name === 'typed'), one.json]) {
    for (const k of ['name', 'kind', 'columns', 'key', 'row_count', 'source', 'public', 'created_at',
      'updated_at', 'links']) {
      assert.ok(k in d, `no ${k} in ${JSON.stringify(d)}`);
    }
    assert.equal(d.name, 'typed');
    assert.equal(d.kind, 'table');
    assert.deepEqual(d.columns.map((c) => ({ name: c.name, type: c.type, label: c.label, nullable: c.nullable })),
      cat.columns.map((c) => ({ name: c.name, type: c.type, label: c.label, nullable: c.nullable })));
    assert.deepEqual(d.columns.find((c) => c.name === 'first_name').label, 'First Name');
    assert.deepEqual(d.key, ['id']);
    assert.equal(d.row_count, 5);
    assert.equal(d.source, 'file');
    assert.equal(d.public, false);
    assert.match(d.created_at, /^\d{4}-\d\d-\d\dT/);
    assert.match(d.updated_at, /^\d{4}-\d\d-\d\dT/);
    const self = new URL(d.links.self, api.base);
    const dataUrl = new URL(d.links.data, api.base);
    assert.equal(self.pathname, '/api/v1/datasets/typed');
    assert.equal(dataUrl.pathname, '/api/v1/datasets/typed/data');
    const rows = await api.get(dataUrl.pathname + dataUrl.search);
    assert.equal(rows.status, 200);
    assert.equal(rows.json.values.length, 5);
  }
});

test('public datasets: anonymous callers read them and see only them; anything else is a 401', async () => {
  ferryDatasets(dir, 'publish', 'pub');
  try {
    const cat = await api.anon('/api/v1/datasets');
    assert.equal(cat.status, 200, cat.body);
    assert.deepEqual(cat.json.datasets.map((d) => d.name), ['pub']);
    assert.equal(cat.json.datasets[0].public, true);
    const meta = await api.anon('/api/v1/datasets/pub');
    assert.equal(meta.status, 200, meta.body);
    assert.equal(meta.json.public, true);
    const rows = await api.anon(data('pub'));
    assert.equal(rows.status, 200, rows.body);
    assert.deepEqual(rows.json, { headers: ['id', 'x'], values: [[1, 1], [2, 2], [3, 3]], next: null });
    assert.equal(rows.headers['server-authorization'], undefined);
    const paged = await followAll(api, data('pub', 'page_size=1&orientation=records'), { anon: true });
    assert.deepEqual(paged.rows.map((x) => x.id), [1, 2, 3]);
    const csv = await api.anon(data('pub', 'format=csv'));
    assert.equal(csv.status, 200);
    for (const path of ['/api/v1/datasets/priv', data('priv'), data('priv', 'format=csv'),
      '/api/v1/datasets/missing', data('missing')]) {
      assertError(await api.anon(path), 401);
    }
    // Credentials that are present are checked, public or not.
    const bad = await api.get(data('pub'), { credentials: { ...reader, key: 'not-the-key-0123456789' } });
    assertError(bad, 401);
    // Signed-in readers see every dataset, with its flag.
    const all = await api.get('/api/v1/datasets');
    const flags = Object.fromEntries(all.json.datasets.map((d) => [d.name, d.public]));
    assert.deepEqual(flags, { changing: false, demo: false, priv: false, pub: true, typed: false });
  } finally {
    ferryDatasets(dir, 'unpublish', 'pub');
  }
  assertError(await api.anon(data('pub')), 401);
  assertError(await api.anon('/api/v1/datasets/pub'), 401);
  const cat = await api.anon('/api/v1/datasets');
  assert.equal(cat.status, 200, cat.body);
  assert.deepEqual(cat.json.datasets, []);
});

test('scopes: without datasets:read every dataset route is a 403; a sha1 client with it reads', async () => {
  for (const path of ['/api/v1/datasets', '/api/v1/datasets/demo', data('demo'), data('demo', 'format=csv'),
    data('demo', 'format=ndjson'), data('missing')]) {
    assertError(await api.get(path, { credentials: writer }), 403);
  }
  const r = await api.get(data('demo'), { credentials: legacy });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.values, demoValues);
  assert.ok(verifyResponse(r, legacy, r.artifacts));
});

test('an API key reads too; its responses are not Hawk-signed', async () => {
  const r = await api.anon(data('demo', 'orientation=records'), { headers: { APIKEY } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.results, demoRecords);
  assert.equal(r.headers['server-authorization'], undefined);
  assert.equal(r.headers['cache-control'], 'no-store');
  assertError(await api.anon(data('demo'), { headers: { APIKEY: 'wrong-key' } }), 401);
});

test('Hawk: each JSON response carries a valid Server-Authorization with the payload hash; no-store', async () => {
  for (const path of [data('demo'), data('demo', 'orientation=records&page_size=2'), data('demo', 'city=None'),
    data('typed'), '/api/v1/datasets', '/api/v1/datasets/typed']) {
    const r = await api.get(path);
    assert.equal(r.status, 200, r.body);
    const sa = r.headers['server-authorization'];
    assert.ok(sa, `no Server-Authorization on ${path}`);
    assert.match(sa, /hash="/, `no payload hash on ${path}`);
    assert.ok(verifyResponse(r, reader, r.artifacts));
    // The hash covers this body: any other body fails.
    assert.throws(() => Hawk.client.authenticate({ headers: r.headers, statusCode: r.status }, reader,
      r.artifacts, { payload: `${r.body} `, required: true }));
    if (path.includes('/data')) assert.equal(r.headers['cache-control'], 'no-store', path);
  }
  // Errors answer Hawk requests too: signed, with their payload.
  for (const path of [data('demo', 'page_size=0'), data('nope'), data('demo', 'format=csv&nmae=1')]) {
    const r = await api.get(path);
    assert.ok(r.status >= 400, path);
    assert.ok(verifyResponse(r, reader, r.artifacts), path);
  }
});

test('ETag: the same page, the same tag; If-None-Match gives a 304; other data, another tag', async () => {
  const q = data('demo', 'page_size=2');
  const a = await api.get(q);
  const etag = a.headers.etag;
  assert.ok(etag, 'no ETag');
  assert.match(etag, /^(W\/)?"[^"]+"$/);
  const b = await api.get(q);
  assert.equal(b.headers.etag, etag);
  const c = await api.get(q, { headers: { 'if-none-match': etag } });
  assert.equal(c.status, 304, c.body);
  assert.equal(c.body, '');
  const d = await api.get(data('demo', 'page_size=3'));
  assert.notEqual(d.headers.etag, etag);
  assert.equal((await api.get(q, { headers: { 'if-none-match': '"something-else"' } })).status, 200);
  for (const list of [`"other", ${etag}`, `${etag}, "other"`, '*']) {
    assert.equal((await api.get(q, { headers: { 'if-none-match': list } })).status, 304, `If-None-Match: ${list}`);
  }
  const recs = await api.get(data('demo', 'page_size=2&orientation=records'));
  assert.notEqual(recs.headers.etag, etag, 'another body, another tag');
  // The data changes: the old tag no longer matches.
  const before = await api.get(data('changing'));
  importRows(dir, 'changing', ['x'], [['2']]);
  const after = await api.get(data('changing'), { headers: { 'if-none-match': before.headers.etag } });
  assert.equal(after.status, 200, 'a stale ETag must not give a 304');
  assert.deepEqual(after.json.values, [[1, 1], [2, 2]]);
  assert.notEqual(after.headers.etag, before.headers.etag);
});

test('an unknown dataset is a 404 on every route', async () => {
  for (const path of ['/api/v1/datasets/nope', data('nope'), data('nope', 'format=csv'),
    data('nope', 'page_size=2&select=x')]) {
    assertError(await api.get(path), 404);
  }
});

test('an unknown column in select, sort or a filter is a 400 naming it', async () => {
  const cases = [
    ['select=city,nmae', ['select', 'nmae']],
    ['select=nmae&orientation=records', ['select', 'nmae']],
    ['sort=nmae', ['sort', 'nmae']],
    ['sort=city,-nmae', ['sort', 'nmae']],
    ['nmae=1', ['nmae']],
    ['nmae__gt=1', ['nmae']],
    ['nmae__isnull', ['nmae']],
    ['format=csv&select=nmae', ['select', 'nmae']],
  ];
  for (const [q, mentions] of cases) assertError(await api.get(data('demo', q)), 400, { mentions });
});

test('bad page_size, orientation, format, count and next-id are 400s naming the parameter', async () => {
  for (const v of ['0', '10001', 'x', '-1', '1.5', '', '1e3', '99999999999999999999']) {
    assertError(await api.get(data('demo', qs([['page_size', v]]))), 400, { mentions: ['page_size'] });
  }
  for (const v of ['1', '10000']) assert.equal((await api.get(data('demo', `page_size=${v}`))).status, 200);
  for (const [k, v] of [['orientation', 'foo'], ['orientation', ''], ['format', 'xml'], ['count', 'maybe'],
    ['next-id', 'abc']]) {
    assertError(await api.get(data('demo', qs([[k, v]]))), 400, { mentions: [k] });
  }
});

test('cursors: altered, truncated, made for another sort or dataset are 400s', async () => {
  const first = await api.get(data('demo', 'page_size=2'));
  const cursor = new URL(first.json.next).searchParams.get('cursor');
  assert.ok(cursor.length > 8);
  const ok = await api.get(data('demo', qs([['page_size', '2'], ['cursor', cursor]])));
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(ok.json.values, demoValues.slice(2, 4));
  const mid = Math.floor(cursor.length / 2);
  const flipped = cursor.slice(0, mid) + (cursor[mid] === 'A' ? 'B' : 'A') + cursor.slice(mid + 1);
  for (const bad of [flipped, cursor.slice(0, -4), `${cursor}AAAA`, 'abc', '!!!!', cursor.toUpperCase()]) {
    assertError(await api.get(data('demo', qs([['page_size', '2'], ['cursor', bad]]))), 400,
      { mentions: ['cursor'], echoed: [bad] });
  }
  assertError(await api.get(data('demo', qs([['page_size', '2'], ['sort', '-amount'], ['cursor', cursor]]))), 400,
    { mentions: ['cursor'] });
  assertError(await api.get(data('demo', qs([['page_size', '2'], ['sort', 'city'], ['cursor', cursor]]))), 400,
    { mentions: ['cursor'] });
  assertError(await api.get(data('typed', qs([['page_size', '2'], ['cursor', cursor]]))), 400,
    { mentions: ['cursor'] });
  // And the other way: a cursor of a sorted query is refused without the sort.
  const sorted = await api.get(data('demo', 'page_size=2&sort=-amount'));
  const c2 = new URL(sorted.json.next).searchParams.get('cursor');
  assertError(await api.get(data('demo', qs([['page_size', '2'], ['cursor', c2]]))), 400, { mentions: ['cursor'] });
});

test('injection attempts in every parameter are a clean 400 or a literal value; tables intact', async () => {
  const db = databaseOf(dir);
  const rowsBefore = readRows(dir, db, 'demo');
  const listBefore = runFerry(['datasets', 'list', '--database', db], { cwd: dir }).stdout;
  const attempts = [
    "'; DROP TABLE demo; --",
    '") OR 1=1 --',
    "' OR '1'='1",
    '1; DROP TABLE demo',
    'city" FROM demo; --',
    '`city`',
    '[city]',
    'Zoë 🚀 ‮',
    'x\u0000y',
    '%',
    'x'.repeat(5000),
  ];
  const clean = (r, v) => {
    assert.ok(r.status === 200 || r.status === 400, `${r.status} for ${JSON.stringify(v.slice(0, 40))}: ${r.body.slice(0, 300)}`);
    if (r.status === 400) assertError(r, 400, { echoed: [v] });
    return r;
  };
  for (const v of attempts) {
    // As a value of a text filter: a literal that matches no city.
    for (const op of ['city', 'city__exact', 'city__contains', 'city__startswith', 'city__in', 'city__notin',
      'city__not', 'city__gt']) {
      const r = clean(await api.get(data('demo', qs([[op, v]]))), v);
      if (r.status === 200) {
        const want = { city: [], city__exact: [], city__contains: [], city__startswith: [], city__in: [],
          city__notin: null, city__not: null, city__gt: null }[op];
        if (want) assert.deepEqual(r.json.values, want, `${op}=${v.slice(0, 40)}`);
      }
    }
    // As a value of typed filters and of every other parameter: a 400.
    for (const k of ['amount__gt', 'paid', 'ordered_at__gte', 'id', 'select', 'sort', 'page_size', 'orientation',
      'format', 'count', 'cursor', 'next-id']) {
      const r = await api.get(data('demo', qs([[k, v]])));
      assertError(r, 400, { echoed: [v] });
    }
    // As a parameter name, a column name or an operator: a 400.
    for (const k of [v, `${v}__exact`, `city__${v}`]) {
      const r = await api.get(data('demo', qs([[k, '1']])));
      assertError(r, 400, { echoed: [v] });
    }
    // As a dataset name: not found, or not a name at all.
    const p = await api.get(`/api/v1/datasets/${enc(v)}/data`);
    assert.ok(p.status === 404 || p.status === 400, `${p.status}: ${p.body.slice(0, 200)}`);
    assertError(p, p.status, { echoed: [v] });
  }
  // A literal value with quotes is found as such.
  importRows(dir, 'quotes', ['name'], [["O'Brien"], ['say "hi"; DROP TABLE quotes; --'], ['plain']]);
  for (const name of ["O'Brien", 'say "hi"; DROP TABLE quotes; --']) {
    const r = await api.get(data('quotes', qs([['name', name]])));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.values.map((x) => x[1]), [name]);
  }
  assert.deepEqual(readRows(dir, db, 'demo'), rowsBefore);
  assert.equal(readRows(dir, db, 'quotes').length, 3);
  const listAfter = runFerry(['datasets', 'list', '--database', db], { cwd: dir }).stdout;
  assert.equal(listAfter.split('\n').filter((l) => !/^quotes /.test(l)).join('\n'), listBefore);
  const again = await api.get(data('demo'));
  assert.deepEqual(again.json.values, demoValues);
});

test('next behind a proxy: X-Forwarded-Proto/Host only from trusted proxies, else the Host header', async () => {
  const fwd = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' };
  // Not trusted (the default): the forwarded headers are ignored.
  const r = await api.get(data('demo', 'page_size=2'), { headers: fwd });
  assert.equal(r.status, 200, r.body);
  assert.ok(r.json.next.startsWith(`${api.base}/api/v1/datasets/demo/data?`), r.json.next);
  // Anonymous on a public dataset: the Host header as sent.
  ferryDatasets(dir, 'publish', 'pub');
  try {
    const a = await api.anon(data('pub', 'page_size=1'), { headers: { host: 'ferry.internal:9000', ...fwd } });
    assert.equal(a.status, 200, a.body);
    assert.ok(a.json.next.startsWith('http://ferry.internal:9000/api/v1/datasets/pub/data?'), a.json.next);
  } finally {
    ferryDatasets(dir, 'unpublish', 'pub');
  }
  // Trusted: the client signed the public URL; next is on it too.
  const d = prepare();
  importRows(d, 'demo', DEMO_HEADER, DEMO_ROWS, ['--types', 'amount=decimal,paid=boolean,ordered_at=timestamp']);
  const g = await startFerry({ dir: d, env: { FERRY_HTTP_TRUSTED_PROXIES: '127.0.0.1' } });
  try {
    const gapi = apiClient(g.port);
    for (const [host, proto] of [['data.example.org', 'https'], ['data.example.org:8443', 'https'], ['alt.example', 'http']]) {
      const signed = `${proto}://${host}/api/v1/datasets/demo/data?page_size=2&sort=-amount`;
      const t = await gapi.get(signed, { headers: { host: `127.0.0.1:${g.port}`, 'x-forwarded-proto': proto,
        'x-forwarded-host': host } });
      assert.equal(t.status, 200, t.body);
      assert.ok(verifyResponse(t, reader, t.artifacts));
      assert.ok(t.json.next.startsWith(`${proto}://${host}/api/v1/datasets/demo/data?`), t.json.next);
      assert.equal(new URL(t.json.next).searchParams.get('sort'), '-amount');
    }
    // Without forwarded headers, behind the trusted proxy: the Host header.
    const plain = await gapi.get(data('demo', 'page_size=2'));
    assert.ok(plain.json.next.startsWith(`${gapi.base}/api/v1/`), plain.json.next);
  } finally {
    assert.equal(await g.stop(), 0, g.stderr().slice(-3000));
  }
});

test('openapi.json: served without credentials, OpenAPI 3.1, with the three dataset routes', async () => {
  const r = await send({ port: f.port, path: '/api/v1/openapi.json', headers: { host: `127.0.0.1:${f.port}` } });
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /json/);
  const doc = JSON.parse(r.body);
  assert.equal(typeof doc.openapi, 'string');
  assert.ok(doc.openapi.startsWith('3.1'), doc.openapi);
  for (const p of ['/api/v1/datasets', '/api/v1/datasets/{name}', '/api/v1/datasets/{name}/data']) {
    assert.ok(doc.paths && doc.paths[p] && doc.paths[p].get, `no GET ${p} in openapi.json`);
  }
});
