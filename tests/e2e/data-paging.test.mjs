// Paging through GET /api/v1/datasets/{name}/data on both backends: following `next` to
// the end returns every row exactly once and in order, compared with the CSV the test
// wrote, for many sorts (ties, NULLs, descending, several columns, big integers,
// timestamps) and page sizes, on datasets keyed by the row id, by a text key and by a
// composite key; the next URL keeps every parameter; the seeds' next-id; rows appended
// while a client pages; select with sort; counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseOf, sql, startFerry } from './lib/ferry.mjs';
import { prepare } from './lib/hawk.mjs';
import { showDataset } from './lib/datasets.mjs';
import { apiClient, assertError, followAll, importRows, paramsOf, qs, sameRows, sortRows, typedValue } from './lib/data.mjs';

let dir;
let f;
let api;

const data = (name, query = '') => `/api/v1/datasets/${name}/data${query ? `?${query}` : ''}`;

// p: keyed by the row id; ties and NULLs in every column.
const N = 150;
const P_HEADER = ['grp', 'score', 'name', 'day', 'flag', 'atz', 'big'];
const P_TYPES = { id: 'integer', grp: 'integer', score: 'decimal', name: 'text', day: 'date', flag: 'boolean',
  atz: 'timestamptz', big: 'integer' };
const NAMES = ['ant', 'bee', 'cat', 'dog', 'eel'];
function pCells(i) {
  return [
    i % 7 === 0 ? null : String(i % 4),
    i % 11 === 0 ? null : String(((i * 37) % 20) / 4),
    NAMES[i % 5] + (i % 3 ? '' : '-x'),
    i % 5 === 0 ? null : `2024-0${1 + (i % 3)}-${String(1 + (i % 28)).padStart(2, '0')}`,
    i % 13 === 0 ? null : (i % 2 === 0 ? 'true' : 'false'),
    i % 6 === 0 ? null : `2024-01-01T${String(i % 24).padStart(2, '0')}:00:00Z`,
    i % 9 === 0 ? null : String(9007199254740993n + BigInt(i % 10)),
  ];
}
const P_CELLS = Array.from({ length: N }, (_, k) => pCells(k + 1));
const toModel = (header, types, cells, extra = {}) =>
  Object.fromEntries([...Object.entries(extra), ...header.map((c, j) => [c, typedValue(types[c], cells[j])])]);
const P = P_CELLS.map((cells, k) => toModel(P_HEADER, P_TYPES, cells, { id: k + 1 }));
const P_COLS = ['id', ...P_HEADER];
const P_TYPES_ARG = ['--types', 'grp=integer,score=decimal,name=text,day=date,flag=boolean,atz=timestamptz,big=integer'];

// k: a declared text key, loaded out of key order. k2: a composite key (a, b).
const K_HEADER = ['code', 'v', 'w'];
const K_TYPES = { code: 'text', v: 'integer', w: 'text' };
const K_CELLS = Array.from({ length: 97 }, (_, k) => {
  const i = k + 1;
  return [`c${String((i * 53) % 97).padStart(3, '0')}`, i % 5 === 0 ? null : String(i % 4), NAMES[i % 3]];
});
const K = K_CELLS.map((c) => toModel(K_HEADER, K_TYPES, c));
const K2_HEADER = ['a', 'b', 'c'];
const K2_TYPES = { a: 'integer', b: 'text', c: 'integer' };
const K2_CELLS = Array.from({ length: 60 }, (_, k) => {
  const i = ((k + 1) * 37) % 61; // 1..60, shuffled
  return [String(i % 3), `x${Math.floor(i / 3)}`, i % 8 === 0 ? null : String(i % 4)];
});
const K2 = K2_CELLS.map((c) => toModel(K2_HEADER, K2_TYPES, c));

before(async () => {
  dir = prepare();
  importRows(dir, 'p', P_HEADER, P_CELLS, P_TYPES_ARG);
  importRows(dir, 'k', K_HEADER, K_CELLS, ['--primary-key', 'code', '--types', 'code=text,v=integer,w=text']);
  importRows(dir, 'k2', K2_HEADER, K2_CELLS, ['--primary-key', 'a,b', '--types', 'a=integer,b=text,c=integer']);
  f = await startFerry({ dir });
  api = apiClient(f.port);
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
});

const asArrays = (rows, cols) => rows.map((r) => cols.map((c) => r[c]));

// Page through a sort at several page sizes, in both orientations; every row once, in order.
async function checkSort(name, model, cols, types, key, sort, sizes) {
  const want = sortRows(model, sort, key, types);
  for (const [i, ps] of sizes.entries()) {
    const orientation = i % 2 === 0 ? 'records' : 'tabular';
    const q = qs([...(sort ? [['sort', sort]] : []), ['page_size', String(ps)], ['orientation', orientation]]);
    const { rows, pages } = await followAll(api, data(name, q));
    const label = `${name} sort=${sort || '(key)'} page_size=${ps} ${orientation}`;
    assert.equal(rows.length, model.length, `${label}: ${rows.length} rows, not ${model.length}`);
    sameRows(rows, orientation === 'records' ? want : asArrays(want, cols), label);
    assert.ok(pages.length >= Math.ceil(model.length / ps), label);
    for (const [j, p] of pages.slice(0, -1).entries()) {
      assert.equal((p.values ?? p.results).length, ps, `${label}: page ${j + 1} is not full`);
    }
  }
}

const P_SORTS = [
  ['', [7, 64, 10000]],
  ['grp', [7, 64, 1]],
  ['-grp', [7, 64]],
  ['score', [7, 64]],
  ['-score,name', [1, 7, 64]],
  ['grp,-day', [7, 64]],
  ['flag,-grp,score', [7, 64]],
  ['name,-id', [7, 64]],
  ['day', [7, 64]],
  ['-day', [7, 64]],
  ['-flag', [7, 64]],
  ['atz', [7, 64]],
  ['-atz,grp', [7, 64]],
  ['big', [7, 64]],
  ['-big,-score', [7, 64]],
  ['-id', [7, 64]],
];
for (const [sort, sizes] of P_SORTS) {
  test(`following next returns every row once, in order: sort=${sort || '(default)'}`, async () => {
    await checkSort('p', P, P_COLS, P_TYPES, ['id'], sort, sizes);
  });
}

test('a declared text key: rows in key order by default, ties broken by the key', async () => {
  for (const sort of ['', 'v', '-v', '-w,v', '-code']) {
    await checkSort('k', K, K_HEADER, K_TYPES, ['code'], sort, [6, 50]);
  }
  const first = await api.get(data('k', 'page_size=3'));
  assert.deepEqual(first.json.values.map((r) => r[0]), ['c000', 'c001', 'c002']);
});

test('a composite key (a, b): key order by default; the key ends every other order', async () => {
  for (const sort of ['', 'c', '-c,-a', '-b', 'b,a']) {
    await checkSort('k2', K2, K2_HEADER, K2_TYPES, ['a', 'b'], sort, [4, 25]);
  }
});

test('the next URL keeps every filter, select, sort, page_size and orientation', async () => {
  const pairs = [
    ['select', 'id,name,grp'],
    ['sort', '-grp,name'],
    ['page_size', '5'],
    ['orientation', 'records'],
    ['grp__gte', '1'],
    ['name__in', '["ant","bee-x","cat"]'],
    ['name__notin', 'dog'],
    ['day__notnull', ''],
    ['score__lt', '4.5'],
    ['name__not', 'Zoë & co=1?#'],
  ];
  const keep = (r) => r.grp !== null && r.grp >= 1 && ['ant', 'bee-x', 'cat'].includes(r.name) && r.day !== null &&
    r.score !== null && r.score < 4.5;
  const want = sortRows(P.filter(keep), '-grp,name', ['id'], P_TYPES).map((r) => ({ id: r.id, name: r.name, grp: r.grp }));
  assert.ok(want.length > 10, 'enough rows for several pages');
  const sortedPairs = (ps) => ps.map(([k, v]) => `${k}=${v}`).sort();
  const { rows, pages } = await followAll(api, data('p', qs(pairs)));
  assert.deepEqual(rows, want);
  for (const p of pages) {
    for (const r of p.results) assert.deepEqual(Object.keys(r), ['id', 'name', 'grp']);
    if (p.next === null) continue;
    assert.ok(p.next.startsWith(`${api.base}/api/v1/datasets/p/data?`), p.next);
    const got = paramsOf(p.next);
    assert.equal(got.filter(([k]) => k === 'cursor').length, 1, p.next);
    assert.deepEqual(sortedPairs(got.filter(([k]) => k !== 'cursor')), sortedPairs(pairs), p.next);
  }
  // Tabular with a filter repeated on one column (both apply).
  const t = await followAll(api, data('p', qs([['grp__gt', '0'], ['grp__gt', '1'], ['page_size', '4'], ['select', 'grp']])));
  assert.deepEqual(t.rows, P.filter((r) => r.grp !== null && r.grp > 1).map((r) => r.grp));
  for (const p of t.pages.slice(0, -1)) {
    assert.deepEqual(paramsOf(p.next).filter(([k]) => k === 'grp__gt').map(([, v]) => v).sort(), ['0', '1']);
  }
});

test('values with spaces, plus signs, percent signs and ampersands survive the next URL', async () => {
  const names = ['a b', 'a+b', 'a%20b', 'a&b', 'a=b', 'a,b', 'x'];
  importRows(dir, 'plus', ['name'], names.map((n) => [n]));
  const q = qs([['name__in', JSON.stringify(names.slice(0, 6))], ['page_size', '1'], ['select', 'name']]);
  const { rows, pages } = await followAll(api, data('plus', q));
  assert.deepEqual(rows, names.slice(0, 6));
  assert.equal(pages.length >= 6, true);
  for (const n of names.slice(0, 6)) {
    const one = await followAll(api, data('plus', qs([['name', n], ['page_size', '1']])));
    assert.deepEqual(one.rows.map((r) => r[1]), [n], `name=${n}`);
  }
});

test('sorting on long text values (2,000 bytes, a note or a description) pages like any other column', async () => {
  const cells = Array.from({ length: 9 }, (_, i) => [`${'note '.repeat(400)}${(i * 5) % 9}`, String(i)]);
  importRows(dir, 'notes', ['note', 'n'], cells);
  for (const sort of ['note', '-note', 'n,note']) {
    const r = await api.get(data('notes', qs([['sort', sort], ['page_size', '2'], ['select', 'n']])));
    assert.equal(r.status, 200, `sort=${sort}: ${r.body}`);
    const { rows } = await followAll(api, data('notes', qs([['sort', sort], ['page_size', '2'], ['select', 'n']])));
    const model = cells.map(([note, n], k) => ({ id: k + 1, note, n: Number(n) }));
    const want = sortRows(model, sort, ['id'], { id: 'integer', note: 'text', n: 'integer' }).map((x) => x.n);
    assert.deepEqual(rows, want, `sort=${sort}`);
  }
});

test('a cursor past a long sort value names its row by key: a deleted row is a 409, not wrong rows', async () => {
  const cells = Array.from({ length: 4 }, (_, i) => [`${'long '.repeat(300)}${i}`, String(i)]);
  importRows(dir, 'notes2', ['note', 'n'], cells);
  const first = await api.get(data('notes2', 'sort=note&page_size=1&select=n'));
  assert.equal(first.status, 200, first.body);
  assert.deepEqual(first.json.values, [0]);
  const next = new URL(first.json.next);
  assert.ok(next.searchParams.get('cursor').length < 200, 'the cursor carries the key, not the text');
  sql(databaseOf(dir), 'DELETE FROM notes2 WHERE id = 1');
  const gone = await api.get(`${next.pathname}${next.search}`);
  assertError(gone, 409, { mentions: ['start again'] });
});

test('next-id=N (the seeds\' paging): rows with id >= N, then on to the end', async () => {
  const first = await api.get(data('p', 'next-id=50&page_size=10'));
  assert.equal(first.status, 200, first.body);
  assert.deepEqual(first.json.values.map((r) => r[0]), Array.from({ length: 10 }, (_, i) => 50 + i));
  const all = await followAll(api, data('p', 'next-id=50&page_size=10'));
  assert.deepEqual(all.rows.map((r) => r[0]), Array.from({ length: N - 49 }, (_, i) => 50 + i));
  const rec = await followAll(api, data('p', 'next-id=140&orientation=records'));
  assert.deepEqual(rec.rows, P.slice(139));
  const filtered = await followAll(api, data('p', 'next-id=100&grp=1&page_size=3&select=id'));
  assert.deepEqual(filtered.rows, P.filter((r) => r.id >= 100 && r.grp === 1).map((r) => r.id));
  const past = await api.get(data('p', `next-id=${N + 1}`));
  assert.deepEqual(past.json.values, []);
  assert.equal(past.json.next, null);
  const all1 = await followAll(api, data('p', 'next-id=1&page_size=100&select=id'));
  assert.deepEqual(all1.rows, P.map((r) => r.id));
});

// A dataset of n rows whose score has ties, for the append tests.
function growCells(from, n) {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return [String(i), String((i * 13) % 17), `row ${i}`];
  });
}

async function pageWhileAppending(name, query, appendAfter) {
  let batch = 0;
  const { rows } = await followAll(api, data(name, query), {
    between: async (page) => {
      if (appendAfter.includes(page)) {
        batch += 1;
        importRows(dir, name, ['n', 'score', 'label'], growCells(1000 * batch, 25));
      }
    },
  });
  return rows;
}

test('rows appended while a client pages: no row twice, every original row seen', async () => {
  importRows(dir, 'grow', ['n', 'score', 'label'], growCells(1, 60), ['--types', 'n=integer,score=decimal']);
  const rows = await pageWhileAppending('grow', 'page_size=10&orientation=records', [2, 4]);
  const ids = rows.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, `a row came twice: ${ids}`);
  for (let i = 1; i <= 60; i++) assert.ok(ids.includes(i), `row ${i} was never seen`);
  assert.deepEqual(rows.filter((r) => r.id <= 60).map((r) => r.label), growCells(1, 60).map((c) => c[2]));
  // In key order, appended rows come after every page already read: all of them are seen.
  assert.equal(showDataset(dir, databaseOf(dir), 'grow').row_count, 110, 'both appends happened');
  assert.deepEqual(ids, Array.from({ length: 110 }, (_, i) => i + 1));

  // Sorted on a column with ties: appended rows land between pages already read.
  importRows(dir, 'grow2', ['n', 'score', 'label'], growCells(1, 60), ['--types', 'n=integer,score=decimal']);
  const sorted = await pageWhileAppending('grow2', 'page_size=7&sort=-score,label&orientation=records', [1, 3, 5]);
  const ids2 = sorted.map((r) => r.id);
  assert.equal(new Set(ids2).size, ids2.length, 'a row came twice');
  for (let i = 1; i <= 60; i++) assert.ok(ids2.includes(i), `row ${i} was never seen`);
  assert.equal(showDataset(dir, databaseOf(dir), 'grow2').row_count, 135, 'the three appends happened');
  assert.ok(ids2.some((i) => i > 60), 'some appended rows came after the cursor');
  const types = { id: 'integer', score: 'decimal', label: 'text' };
  assert.deepEqual(sorted, sortRows(sorted, '-score,label', ['id'], types), 'still in order');
});

test('select with sort: columns in the order asked, sorted by columns not selected', async () => {
  const a = await followAll(api, data('p', 'select=name,grp&sort=-grp&page_size=9'));
  assert.deepEqual(a.pages[0].headers, ['name', 'grp']);
  assert.deepEqual(a.rows, sortRows(P, '-grp', ['id'], P_TYPES).map((r) => [r.name, r.grp]));
  const b = await followAll(api, data('p', 'select=name&sort=score,-day&page_size=13'));
  assert.deepEqual(b.pages[0].headers, ['name']);
  assert.deepEqual(b.rows, sortRows(P, 'score,-day', ['id'], P_TYPES).map((r) => r.name));
  const c = await followAll(api, data('p', 'select=score,id,name&sort=-id&orientation=records&page_size=40'));
  assert.deepEqual(c.rows, [...P].reverse().map((r) => ({ score: r.score, id: r.id, name: r.name })));
  for (const r of c.rows) assert.deepEqual(Object.keys(r), ['score', 'id', 'name']);
  const d = await followAll(api, data('p', 'select=big,id&sort=-big&page_size=16'));
  assert.deepEqual(d.rows, sortRows(P, '-big', ['id'], P_TYPES).map((r) => [r.big, r.id]));
  const e = await followAll(api, data('k', 'select=w&sort=-v&page_size=8'));
  assert.deepEqual(e.rows, sortRows(K, '-v', ['code'], K_TYPES).map((r) => r.w));
});

test('count: exact over all pages and filters, estimated from the catalog, none by default', async () => {
  const plain = await api.get(data('p', 'page_size=3'));
  assert.ok(!('count' in plain.json), 'no count unless asked');
  const none = await api.get(data('p', 'page_size=3&count=none'));
  assert.ok(!('count' in none.json));
  const exact = await api.get(data('p', 'page_size=3&count=exact'));
  assert.equal(exact.json.count, N);
  assert.equal(exact.json.values.length, 3);
  const grp1 = P.filter((r) => r.grp === 1).length;
  const f1 = await api.get(data('p', 'page_size=3&count=exact&grp=1&orientation=records'));
  assert.equal(f1.json.count, grp1);
  assert.deepEqual(Object.keys(f1.json).sort(), ['count', 'next', 'results']);
  const empty = await api.get(data('p', 'count=exact&name=nobody'));
  assert.equal(empty.json.count, 0);
  const est = await api.get(data('p', 'page_size=3&count=estimated'));
  assert.equal(est.json.count, N);

  importRows(dir, 'cnt', ['x'], Array.from({ length: 10 }, (_, i) => [String(i)]));
  // The catalog's row count, made to differ from the table: estimated reads it.
  sql(databaseOf(dir), "UPDATE ferry_datasets SET row_count = 1234 WHERE name = 'cnt'");
  assert.equal((await api.get(data('cnt', 'count=estimated'))).json.count, 1234);
  assert.equal((await api.get(data('cnt', 'count=exact'))).json.count, 10);
  assert.equal((await api.get(data('cnt', 'count=estimated&x__gte=4'))).json.count, 6, 'with filters: exact');
});

test('page size: api.page_size by default, api.max_page_size the most a request may ask', async () => {
  const r = await api.get(data('p'));
  assert.equal(r.json.values.length, 100, 'default api.page_size is 100');
  assert.ok(r.json.next);
  const d = prepare();
  importRows(d, 'p', P_HEADER, P_CELLS.slice(0, 30), P_TYPES_ARG);
  const g = await startFerry({ dir: d, env: { FERRY_API_PAGE_SIZE: '7', FERRY_API_MAX_PAGE_SIZE: '20' } });
  try {
    const gapi = apiClient(g.port);
    const first = await gapi.get(data('p'));
    assert.equal(first.status, 200, first.body);
    assert.equal(first.json.values.length, 7);
    const all = await followAll(gapi, data('p', 'select=id'));
    assert.deepEqual(all.rows, Array.from({ length: 30 }, (_, i) => i + 1));
    assert.equal((await gapi.get(data('p', 'page_size=20'))).json.values.length, 20);
    assertError(await gapi.get(data('p', 'page_size=21')), 400, { mentions: ['page_size'] });
  } finally {
    assert.equal(await g.stop(), 0, g.stderr().slice(-3000));
  }
});
