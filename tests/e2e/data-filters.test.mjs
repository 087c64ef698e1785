// Filters of GET /api/v1/datasets/{name}/data on both backends: every operator on every
// column type it applies to (the expected rows come from the CSV the test wrote, read
// by a JS model of each operator), the JSON-array form of in/notin, isnull/notnull and
// their =0 inversion, literal contains/startswith/endswith (no wildcards, case
// sensitive), columns named like reserved parameters or SQL words, filters ANDed and
// paged, and bad values by type (400 naming the parameter).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFerry } from './lib/ferry.mjs';
import { prepare } from './lib/hawk.mjs';
import { apiClient, assertError, enc, followAll, importRows, qs, sortRows, typedValue } from './lib/data.mjs';

let dir;
let f;
let api;

const HEADER = ['flag', 'n', 'big', 'amount', 'day', 'at', 'atz', 'name', 'code', 'sort', 'format', 'order'];
const TYPES = { id: 'integer', flag: 'boolean', n: 'integer', big: 'integer', amount: 'decimal', day: 'date',
  at: 'timestamp', atz: 'timestamptz', name: 'text', code: 'text', sort: 'text', format: 'text', order: 'integer' };
const TYPES_ARG = ['--types', 'flag=boolean,n=integer,big=integer,amount=decimal,day=date,at=timestamp,' +
  'atz=timestamptz,name=text,code=text,sort=text,format=text,order=integer'];
const CELLS = [
  // flag    n     big                     amount   day           at                            atz                          name              code         sort  format  order
  ['true',  '1',  '9007199254740992',     '1.5',   '2024-01-01', '2024-01-01T00:00:00',        '2024-01-01T08:00:00Z',      'Ann',            'a,b',       'x',  'csv',  '3'],
  ['false', '2',  '9007199254740993',     '-1.25', '2024-02-29', '2024-01-01T12:00:00',        '2024-01-01T09:30:00+01:00', 'anna',           'c',         'y',  'json', '1'],
  ['yes',   '-3', '-9007199254740993',    '3',     '2024-03-01', '2024-01-02 06:30',           '2024-01-01T10:00:00Z',      'Zoë 🚀',         'a',         'x',  null,   '2'],
  [null,    null, null,                   null,    null,         null,                         null,                        '100%_done',      'x_y',       null, null,   '7'],
  ['f',     '10', '1',                    '0.1',   '2023-12-31', '2023-12-31T23:59:59.123456', '2023-12-31T23:00:00-02:00', 'Bob',            'b',         'z',  'csv',  '10'],
  ['true',  '5',  '9007199254740991',     '2.5',   '2024-03-01', '2024-01-01T12:00:01',        '2024-01-01T08:00:01Z',      "O'Brien",        '"quoted"',  'x',  'ndjson', null],
  ['no',    null, '-1',                   '0',     '2024-01-15', null,                         '2024-06-01T00:00:00Z',      '100 done',       'a,b,c',     'y',  null,   '4'],
  [null,    '7',  null,                   '-0.5',  null,         '2024-01-01T00:00:00',        null,                        'ann',            'c',         null, 'csv',  '0'],
  ['t',     '0',  '0',                    '1e2',   '2024-01-01', '2024-02-01T00:00:00',        '2024-01-01T07:59:59Z',      'ANN',            'A',         'x',  null,   '-1'],
  ['false', '-3', '9223372036854775807',  '1.50',  '2024-02-28', '2024-01-01T00:00:00.5',      '2024-01-01T08:00:00+00:00', null,             null,        'zz', 'csv',  '5'],
];

// The model: typed values, with timestamptz as epoch milliseconds for comparisons.
const MODEL = CELLS.map((cells, k) => {
  const r = { id: k + 1 };
  HEADER.forEach((c, j) => {
    r[c] = typedValue(TYPES[c] === 'timestamptz' ? 'text' : TYPES[c], cells[j]);
    if (c === 'big' && r[c] !== null) r[c] = BigInt(r[c]);
    if (c === 'atz' && r[c] !== null) r[c] = Date.parse(r[c]);
    if (c === 'at' && r[c] !== null) r[c] = r[c].replace(/(:\d\d)$/, '$1.000000').replace(/\.(\d+)$/, (m, d) => `.${d.padEnd(6, '0')}`);
  });
  return r;
});
const ts = (s) => s.replace(' ', 'T').replace(/T(\d\d:\d\d)$/, 'T$1:00').replace(/(:\d\d)$/, '$1.000000')
  .replace(/\.(\d+)$/, (m, d) => `.${d.padEnd(6, '0')}`);
const nn = (v) => v !== null;

// [query, predicate over a model row]
const CASES = [
  // boolean
  ['flag=true', (r) => r.flag === true],
  ['flag__exact=t', (r) => r.flag === true],
  ['flag=yes', (r) => r.flag === true],
  ['flag=1', (r) => r.flag === true],
  ['flag=false', (r) => r.flag === false],
  ['flag=f', (r) => r.flag === false],
  ['flag=no', (r) => r.flag === false],
  ['flag=0', (r) => r.flag === false],
  ['flag__not=true', (r) => r.flag === false],
  ['flag__in=true,false', (r) => nn(r.flag)],
  ['flag__isnull', (r) => r.flag === null],
  // integer
  ['n=2', (r) => r.n === 2],
  ['n__exact=-3', (r) => r.n === -3],
  ['n__not=2', (r) => nn(r.n) && r.n !== 2],
  ['n__gt=1', (r) => nn(r.n) && r.n > 1],
  ['n__gte=1', (r) => nn(r.n) && r.n >= 1],
  ['n__lt=2', (r) => nn(r.n) && r.n < 2],
  ['n__lte=-3', (r) => nn(r.n) && r.n <= -3],
  ['n__in=1,5,10', (r) => [1, 5, 10].includes(r.n)],
  ['n__in=["1","10"]', (r) => [1, 10].includes(r.n)],
  ['n__notin=1,5', (r) => nn(r.n) && ![1, 5].includes(r.n)],
  ['n__notin=["-3"]', (r) => nn(r.n) && r.n !== -3],
  ['big=9007199254740993', (r) => r.big === 9007199254740993n],
  ['big__gt=9007199254740992', (r) => nn(r.big) && r.big > 9007199254740992n],
  ['big__lt=-9007199254740992', (r) => nn(r.big) && r.big < -9007199254740992n],
  ['big__in=9007199254740992,9223372036854775807', (r) => [9007199254740992n, 9223372036854775807n].includes(r.big)],
  ['big__notin=9007199254740993', (r) => nn(r.big) && r.big !== 9007199254740993n],
  ['order__gt=2', (r) => nn(r.order) && r.order > 2],
  ['order=0', (r) => r.order === 0],
  // decimal
  ['amount__gt=1.5', (r) => nn(r.amount) && r.amount > 1.5],
  ['amount__gte=1.5', (r) => nn(r.amount) && r.amount >= 1.5],
  ['amount=3', (r) => r.amount === 3],
  ['amount=3.0', (r) => r.amount === 3],
  ['amount=100', (r) => r.amount === 100],
  ['amount__lt=0', (r) => nn(r.amount) && r.amount < 0],
  ['amount__lte=-1.25', (r) => nn(r.amount) && r.amount <= -1.25],
  ['amount__in=1.5,3', (r) => [1.5, 3].includes(r.amount)],
  ['amount__not=0.1', (r) => nn(r.amount) && r.amount !== 0.1],
  ['amount__gt=2e0', (r) => nn(r.amount) && r.amount > 2],
  ['amount__notin=0,1.5', (r) => nn(r.amount) && ![0, 1.5].includes(r.amount)],
  // date
  ['day=2024-02-29', (r) => r.day === '2024-02-29'],
  ['day__gt=2024-01-01', (r) => nn(r.day) && r.day > '2024-01-01'],
  ['day__lte=2024-01-01', (r) => nn(r.day) && r.day <= '2024-01-01'],
  ['day__in=2024-03-01,2023-12-31', (r) => ['2024-03-01', '2023-12-31'].includes(r.day)],
  ['day__not=2024-03-01', (r) => nn(r.day) && r.day !== '2024-03-01'],
  ['day__notnull', (r) => nn(r.day)],
  // timestamp
  ['at__gt=2024-01-01T00:00:00', (r) => nn(r.at) && r.at > ts('2024-01-01T00:00:00')],
  ['at__gte=2024-01-01 12:00:00', (r) => nn(r.at) && r.at >= ts('2024-01-01T12:00:00')],
  ['at=2024-01-01T12:00:00', (r) => r.at === ts('2024-01-01T12:00:00')],
  ['at=2024-01-02T06:30', (r) => r.at === ts('2024-01-02T06:30')],
  ['at__lt=2024-01-01T00:00:00', (r) => nn(r.at) && r.at < ts('2024-01-01T00:00:00')],
  ['at__gt=2023-12-31T23:59:59', (r) => nn(r.at) && r.at > ts('2023-12-31T23:59:59')],
  ['at__lte=2023-12-31T23:59:59.123456', (r) => nn(r.at) && r.at <= ts('2023-12-31T23:59:59.123456')],
  ['at__gt=2024-01-01T00:00:00.25', (r) => nn(r.at) && r.at > ts('2024-01-01T00:00:00.25')],
  ['at__in=2024-01-01T00:00:00,2024-02-01T00:00:00', (r) => [ts('2024-01-01T00:00:00'), ts('2024-02-01T00:00:00')].includes(r.at)],
  // timestamptz
  ['atz=2024-01-01T08:30:00Z', (r) => r.atz === Date.parse('2024-01-01T08:30:00Z')],
  ['atz=2024-01-01T09:30:00+01:00', (r) => r.atz === Date.parse('2024-01-01T08:30:00Z')],
  ['atz__gt=2024-01-01T08:00:00', (r) => nn(r.atz) && r.atz > Date.parse('2024-01-01T08:00:00Z')],
  ['atz__gte=2024-01-01T08:00:00Z', (r) => nn(r.atz) && r.atz >= Date.parse('2024-01-01T08:00:00Z')],
  ['atz__lt=2024-01-01T10:00:00+02:00', (r) => nn(r.atz) && r.atz < Date.parse('2024-01-01T08:00:00Z')],
  ['atz__lte=2024-01-01T03:00:00+02:00', (r) => nn(r.atz) && r.atz <= Date.parse('2024-01-01T01:00:00Z')],
  ['atz__not=2024-01-01T08:00:00Z', (r) => nn(r.atz) && r.atz !== Date.parse('2024-01-01T08:00:00Z')],
  ['atz__in=2024-01-01T10:00:00Z,2024-06-01T02:00:00+02:00', (r) =>
    [Date.parse('2024-01-01T10:00:00Z'), Date.parse('2024-06-01T00:00:00Z')].includes(r.atz)],
  // text: exact, comparisons in code-point order, literal and case-sensitive patterns
  ['name=Ann', (r) => r.name === 'Ann'],
  ['name__exact=Zoë 🚀', (r) => r.name === 'Zoë 🚀'],
  ["name=O'Brien", (r) => r.name === "O'Brien"],
  ['name__not=Ann', (r) => nn(r.name) && r.name !== 'Ann'],
  ['name__gt=a', (r) => nn(r.name) && r.name > 'a'],
  ['name__lte=ANN', (r) => nn(r.name) && r.name <= 'ANN'],
  ['name__contains=nn', (r) => nn(r.name) && r.name.includes('nn')],
  ['name__contains=NN', (r) => nn(r.name) && r.name.includes('NN')],
  ['name__startswith=A', (r) => nn(r.name) && r.name.startsWith('A')],
  ['name__startswith=a', (r) => nn(r.name) && r.name.startsWith('a')],
  ['name__endswith=a', (r) => nn(r.name) && r.name.endsWith('a')],
  ['name__endswith=🚀', (r) => nn(r.name) && r.name.endsWith('🚀')],
  ['name__contains=%', (r) => nn(r.name) && r.name.includes('%')],
  ['name__contains=_', (r) => nn(r.name) && r.name.includes('_')],
  ['name__startswith=100%', (r) => nn(r.name) && r.name.startsWith('100%')],
  ['name__endswith=_done', (r) => nn(r.name) && r.name.endsWith('_done')],
  ['name__contains=%_', (r) => nn(r.name) && r.name.includes('%_')],
  ['name__contains=\\', (r) => nn(r.name) && r.name.includes('\\')],
  ['name__contains=*', (r) => nn(r.name) && r.name.includes('*')],
  ['name__contains=[a-z]', (r) => nn(r.name) && r.name.includes('[a-z]')],
  ["name__contains='", (r) => nn(r.name) && r.name.includes("'")],
  ['name__in=Ann,Zoë 🚀', (r) => ['Ann', 'Zoë 🚀'].includes(r.name)],
  ['name__notin=Ann,ann', (r) => nn(r.name) && !['Ann', 'ann'].includes(r.name)],
  ['code__in=["a,b","c"]', (r) => ['a,b', 'c'].includes(r.code)],
  ['code__in=a,b', (r) => ['a', 'b'].includes(r.code)],
  ['code__notin=["a,b"]', (r) => nn(r.code) && r.code !== 'a,b'],
  ['code__in=["\\"quoted\\"","a,b,c"]', (r) => ['"quoted"', 'a,b,c'].includes(r.code)],
  ['code="quoted"', (r) => r.code === '"quoted"'],
  ['code__contains=,', (r) => nn(r.code) && r.code.includes(',')],
  // isnull / notnull, and =0 inverting them
  ['name__isnull', (r) => r.name === null],
  ['name__isnull=1', (r) => r.name === null],
  ['name__isnull=true', (r) => r.name === null],
  ['name__isnull=0', (r) => r.name !== null],
  ['name__notnull', (r) => r.name !== null],
  ['name__notnull=1', (r) => r.name !== null],
  ['name__notnull=0', (r) => r.name === null],
  ['n__isnull', (r) => r.n === null],
  ['atz__notnull', (r) => r.atz !== null],
  ['amount__isnull=0', (r) => r.amount !== null],
  ['flag__notnull=0', (r) => r.flag === null],
  // columns named like reserved parameters: COL__exact and the other operators
  ['sort__exact=x', (r) => r.sort === 'x'],
  ['sort__not=x', (r) => nn(r.sort) && r.sort !== 'x'],
  ['sort__in=y,zz', (r) => ['y', 'zz'].includes(r.sort)],
  ['sort__isnull', (r) => r.sort === null],
  ['format__exact=csv', (r) => r.format === 'csv'],
  ['format__startswith=n', (r) => nn(r.format) && r.format.startsWith('n')],
  // several filters: ANDed
  ['n__gte=1&n__lte=5&flag=true', (r) => nn(r.n) && r.n >= 1 && r.n <= 5 && r.flag === true],
  ['name__startswith=A&amount__gt=1', (r) => nn(r.name) && r.name.startsWith('A') && nn(r.amount) && r.amount > 1],
  ['n__gt=-5&n__gt=1', (r) => nn(r.n) && r.n > 1],
  ['sort__exact=x&format__exact=csv&order__gte=3', (r) => r.sort === 'x' && r.format === 'csv' && nn(r.order) && r.order >= 3],
  ['day__isnull=0&at__isnull', (r) => nn(r.day) && r.at === null],
];

before(async () => {
  dir = prepare();
  importRows(dir, 'f', HEADER, CELLS, TYPES_ARG);
  f = await startFerry({ dir });
  api = apiClient(f.port);
});
after(async () => {
  assert.equal(await f.stop(), 0, f.stderr().slice(-3000));
});

// A query string written in the cases' plain form, percent-encoded for the wire.
const encode = (q) => q.split('&').map((p) => {
  const i = p.indexOf('=');
  return i < 0 ? enc(p) : `${enc(p.slice(0, i))}=${enc(p.slice(i + 1))}`;
}).join('&');

test('the model of the data is what the API serves', async () => {
  const r = await api.get('/api/v1/datasets/f/data?orientation=records');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.results.length, CELLS.length);
  assert.deepEqual(r.json.results.map((x) => x.name), MODEL.map((x) => x.name));
  assert.deepEqual(r.json.results.map((x) => x.big), CELLS.map((c) => typedValue('integer', c[2])));
});

for (const [query, pred] of CASES) {
  test(`filter ${query}`, async () => {
    const want = MODEL.filter(pred).map((r) => r.id);
    const r = await api.get(`/api/v1/datasets/f/data?${encode(query)}&select=id&page_size=1000`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.values, want, `${query}: got ids ${r.json.values}, want ${want}`);
    if (query === 'format__exact=csv') assert.match(r.headers['content-type'], /^application\/json/);
  });
}

test('every filter case at least once selects some rows and leaves out others', () => {
  // The cases are worth something only if they tell rows apart.
  const weak = [];
  for (const [query, pred] of CASES) {
    const n = MODEL.filter(pred).length;
    const none = ['name__contains=\\', 'name__contains=*', 'name__contains=[a-z]'].includes(query);
    if (none ? n !== 0 : !(n > 0 && n < MODEL.length)) weak.push(`${query} selects ${n} of ${MODEL.length}`);
  }
  assert.deepEqual(weak, []);
});

test('sort on a column named sort, order, format; filters with sort, select and paging', async () => {
  const types = TYPES;
  for (const sort of ['sort', '-sort', 'order', '-format,-order']) {
    const { rows } = await followAll(api, `/api/v1/datasets/f/data?${qs([['sort', sort], ['page_size', '3'],
      ['select', 'id']])}`);
    const want = sortRows(CELLS.map((c, k) => Object.fromEntries([['id', k + 1],
      ...HEADER.map((h, j) => [h, typedValue(types[h], c[j])])])), sort, ['id'], types).map((r) => r.id);
    assert.deepEqual(rows, want, `sort=${sort}`);
  }
  const q = qs([['sort__exact', 'x'], ['sort', '-n'], ['select', 'name,n'], ['page_size', '2'],
    ['orientation', 'records']]);
  const { rows, pages } = await followAll(api, `/api/v1/datasets/f/data?${q}`);
  const want = sortRows(MODEL.filter((r) => r.sort === 'x'), '-n', ['id'], { id: 'integer', n: 'integer' })
    .map((r) => ({ name: r.name, n: r.n }));
  assert.deepEqual(rows, want);
  assert.ok(pages.length >= 2);
});

test('bad values by type, unknown operators and text operators on other types: 400 naming the parameter', async () => {
  const bad = [
    ['n__gt', 'abc'], ['n', '1.5'], ['n', '99999999999999999999'], ['n__in', '1,x'], ['n__in', '["1",'],
    ['big', '9223372036854775808'], ['amount__gt', 'abc'], ['amount', '1,5'], ['amount__lt', 'NaN'],
    ['amount__gte', 'inf'], ['flag', 'maybe'], ['flag__not', '2'], ['day', '2024-02-30'], ['day__gt', '2024/01/01'],
    ['day__lt', '20240101'], ['at__gt', 'yesterday'], ['at', '2024-01-01T25:00:00'], ['atz', '2024-13-01T00:00:00Z'],
    ['atz__lt', 'now'], ['order__gt', 'x'], ['n__contains', '1'], ['amount__startswith', '1'],
    ['day__endswith', '01'], ['flag__contains', 't'], ['name__regex', 'a'], ['name__like', 'A%'], ['name__', 'x'],
    ['name__isnull', 'maybe'],
  ];
  for (const [param, value] of bad) {
    const r = await api.get(`/api/v1/datasets/f/data?${qs([[param, value]])}`);
    assertError(r, 400, { mentions: [param], echoed: [value] });
  }
});
