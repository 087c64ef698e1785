// Helpers for the tests of the data API (GET /api/v1/datasets...): write CSV files and
// parse them back, a small client that signs every request with the reference Hawk
// client (or sends none), follow `next` to the end, the typed value a CSV cell must come
// back as, the order rows must come back in, and the checks every error shares.
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseOf, runFerry } from './ferry.mjs';
import { hawkSend, send, reader } from './hawk.mjs';

// ---- CSV -------------------------------------------------------------------------------

// One CSV field: null is an empty field; anything else is quoted when it needs to be.
export function csvField(v) {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvText(header, rows) {
  const parts = [header.map(csvField).join(',') + '\n'];
  for (const r of rows) parts.push(r.map(csvField).join(',') + '\n');
  return parts.join('');
}

// Write a CSV file into dir; returns its path.
export function writeCsv(dir, name, header, rows) {
  const p = join(dir, name);
  writeFileSync(p, csvText(header, rows));
  return p;
}

// Parse CSV text (RFC 4180, LF or CRLF) into rows of fields. An empty field that was
// not quoted is null; "" is the empty string.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field;
    if (text[i] === '"') {
      let j = i + 1;
      let s = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new Error(`unterminated quoted field at ${i}`);
        s += text.slice(j, q);
        if (text[q + 1] === '"') { s += '"'; j = q + 2; continue; }
        i = q + 1;
        break;
      }
      field = s;
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      field = j === i ? null : text.slice(i, j);
      if (field !== null && field.includes('"')) throw new Error(`quote inside an unquoted field at ${i}`);
      i = j;
    }
    row.push(field);
    if (text[i] === ',') { i++; continue; }
    if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else if (text[i] === '\n') i += 1;
    else if (i < n) throw new Error(`unexpected ${JSON.stringify(text[i])} after a field at ${i}`);
    rows.push(row);
    row = [];
  }
  if (row.length) rows.push(row);
  return rows;
}

// ---- datasets -------------------------------------------------------------------------

// `ferry import` a CSV made of header and rows into dataset name of dir's database.
export function importRows(dir, name, header, rows, args = [], file = `${name}-${Date.now()}-${Math.random()}.csv`) {
  const p = writeCsv(dir, file, header, rows);
  const r = runFerry(['import', p, '--dataset', name, '--database', databaseOf(dir), ...args], { cwd: dir });
  assert.equal(r.status, 0, `import ${name}: ${r.stderr}`);
  return r;
}

export function ferryDatasets(dir, ...args) {
  const r = runFerry(['datasets', ...args, '--database', databaseOf(dir)], { cwd: dir });
  assert.equal(r.status, 0, `ferry datasets ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

// Add a Hawk client with the given scopes to dir's database.
export function addClient(dir, c, scopes) {
  const r = runFerry(['client', 'add', '--id', c.id, '--key', c.key, '--algorithm', c.algorithm,
    '--scope', scopes, '--database', databaseOf(dir)], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
}

// A client that may do anything but read datasets.
export const writer = { id: 'writer-only', key: 'writer-only-key-0123456789abcdefgh', algorithm: 'sha256' };

// ---- typed values ----------------------------------------------------------------------

const MAX_SAFE = 9007199254740991n;

// The JSON value the API must send for a CSV cell of a column of this type (cells are
// written by the tests in one canonical form per type: see each case).
export function typedValue(type, cell) {
  if (cell === null || cell === undefined || cell === '') return null;
  switch (type) {
    case 'boolean': return /^(true|t|yes|y|1)$/i.test(cell);
    case 'integer': {
      const b = BigInt(cell);
      return b > MAX_SAFE || b < -MAX_SAFE ? b.toString() : Number(b);
    }
    case 'decimal': return Number(cell);
    case 'timestamp': {
      let s = cell.replace(' ', 'T');
      if (/T\d\d:\d\d$/.test(s)) s += ':00';
      return s;
    }
    case 'timestamptz': {
      // Whole seconds only in the tests' cells: the API sends UTC with a Z, no fraction.
      const d = new Date(cell.replace(' ', 'T'));
      assert.ok(!Number.isNaN(d.getTime()), `bad timestamptz cell ${cell}`);
      assert.equal(d.getUTCMilliseconds(), 0, 'tests write whole seconds only');
      return d.toISOString().replace('.000Z', 'Z');
    }
    default: return cell;
  }
}

// The value of a CSV export field, read back for comparison with typedValue (the CSV
// form of numbers and booleans is not fixed to one spelling; NULL is an empty field).
export function csvValue(type, field) {
  if (field === null) return null;
  switch (type) {
    case 'boolean':
      assert.match(field, /^(true|false)$/, `a boolean in CSV: ${field}`);
      return field === 'true';
    case 'integer': return typedValue('integer', field);
    case 'decimal': return Number(field);
    default: return field;
  }
}

// Compare two typed values in the API's order (NULL larger than every value: last
// ascending, first descending, as PostgreSQL). Integers may be strings (beyond 2^53):
// compared as BigInt.
export function compareValues(type, a, b) {
  if (a === null || b === null) return a === b ? 0 : (a === null ? 1 : -1);
  switch (type) {
    case 'integer': {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'decimal': return a < b ? -1 : a > b ? 1 : 0;
    case 'boolean': return Number(a) - Number(b);
    default: return a < b ? -1 : a > b ? 1 : 0; // code-unit order; tests sort ASCII text only
  }
}

// Sort objects (typed values) as the API does for `sort=a,-b`: the given columns, then
// the key columns ascending. types: column -> type.
export function sortRows(rows, sort, key, types) {
  const spec = sort ? sort.split(',').map((s) => (s.startsWith('-') ? [s.slice(1), -1] : [s, 1])) : [];
  for (const k of key) if (!spec.some(([c]) => c === k)) spec.push([k, 1]);
  return [...rows].sort((x, y) => {
    for (const [c, dir] of spec) {
      const d = compareValues(types[c], x[c], y[c]);
      if (d) return d * dir;
    }
    return 0;
  });
}

// Assert two lists of rows are equal, reporting the first row that differs.
export function sameRows(got, want, label = '') {
  const n = Math.min(got.length, want.length);
  for (let i = 0; i < n; i++) {
    try {
      assert.deepEqual(got[i], want[i]);
    } catch {
      assert.fail(`${label}: row ${i} (of ${want.length}) is ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`);
    }
  }
  assert.equal(got.length, want.length, `${label}: ${got.length} rows, want ${want.length}`);
}

// ---- requests ---------------------------------------------------------------------------

// A client of one server: get(path) signs as reader (or credentials), anon(path) sends
// no credentials. Each resolves { status, headers, body, json, artifacts }.
export function apiClient(port) {
  const base = `http://127.0.0.1:${port}`;
  const parse = (r) => {
    let json;
    if (/^application\/json/.test(r.headers['content-type'] || '')) {
      try { json = JSON.parse(r.body); } catch { json = undefined; }
    }
    return { ...r, json };
  };
  return {
    base,
    port,
    url: (path) => (path.startsWith('http') ? path : base + path),
    async get(path, { credentials = reader, headers = {} } = {}) {
      const url = path.startsWith('http') ? path : base + path;
      return parse(await hawkSend({ port, url, credentials, hashPayload: false, headers }));
    },
    async anon(path, { headers = {} } = {}) {
      const u = new URL(path.startsWith('http') ? path : base + path);
      return parse(await send({ port, path: u.pathname + u.search, headers: { host: u.host, ...headers } }));
    },
  };
}

// Follow `next` from the first page to the end (next: null). Returns the pages' rows in
// order (values of tabular pages, results of records pages), the pages and their next
// URLs. between(pageIndex) runs after each page (for appends during paging).
export async function followAll(api, path, { credentials, maxPages = 10000, between, anon = false } = {}) {
  const rows = [];
  const pages = [];
  let next = path;
  while (next) {
    assert.ok(pages.length < maxPages, `more than ${maxPages} pages for ${path}`);
    const r = anon ? await api.anon(next) : await api.get(next, { credentials });
    assert.equal(r.status, 200, `${next}: ${r.body}`);
    const body = r.json;
    assert.ok(body, `not JSON: ${r.body.slice(0, 200)}`);
    const list = body.values ?? body.results;
    assert.ok(Array.isArray(list), `no values/results in ${r.body.slice(0, 200)}`);
    rows.push(...list);
    pages.push(body);
    if (between) await between(pages.length);
    assert.ok(body.next === null || typeof body.next === 'string', `next is ${JSON.stringify(body.next)}`);
    if (body.next !== null) assert.ok(list.length > 0, `an empty page with a next URL: ${next}`);
    next = body.next;
  }
  return { rows, pages };
}

// Stream a response, calling onChunk for each piece (for memory sampling); resolves
// { status, headers, body } with the whole body as a string.
export function streamGet({ port, path, headers = {}, onChunk }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => { chunks.push(d); if (onChunk) onChunk(d); });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// ---- errors -----------------------------------------------------------------------------

// Words that only a database's own message would hold.
// ("select" alone is a parameter's name: only SELECT ... FROM counts, and SQL keywords
// in capitals.)
const SQL_WORDS = /\bselect\b.*\bfrom\b|\blimit\s+\d|\boffset\s+\d|order by|\bwhere\b.*[=<>]|\bsqlite|syntax error|postgres|libpq|relation "|\bSQL\b|near "|\bpq[A-Z_]|\bstatement\b|\bbind\b/i;
const SQL_KEYWORDS = /\b(SELECT|FROM|WHERE|LIKE|ESCAPE|LIMIT|OFFSET|COLLATE|CAST)\b/;

// The response is the error JSON shape with this status; its message mentions each
// string of `mentions`, and holds no SQL (the parts of it that echo `echoed`, the
// request's own text, are left out of that check).
export function assertError(r, status, { mentions = [], echoed = [] } = {}) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body}`);
  assert.match(r.headers['content-type'] || '', /^application\/json/, `content-type of a ${status}`);
  let body;
  try { body = JSON.parse(r.body); } catch { assert.fail(`error body is not JSON: ${r.body}`); }
  assert.deepEqual(Object.keys(body), ['error'], r.body);
  assert.equal(typeof body.error.code, 'string', r.body);
  assert.ok(body.error.code.length > 0, r.body);
  assert.equal(typeof body.error.message, 'string', r.body);
  assert.ok(body.error.message.length > 0, r.body);
  for (const m of mentions) {
    assert.ok(body.error.message.includes(m), `message ${JSON.stringify(body.error.message)} does not name ${m}`);
  }
  let msg = body.error.message;
  for (const e of echoed) {
    for (const piece of [e, e.slice(0, 64), JSON.stringify(e).slice(1, -1), JSON.stringify(e.slice(0, 64)).slice(1, -1)]) {
      if (piece) msg = msg.split(piece).join(' ');
    }
  }
  assert.doesNotMatch(msg, SQL_WORDS, `SQL in an error message: ${body.error.message}`);
  assert.doesNotMatch(msg, SQL_KEYWORDS, `SQL in an error message: ${body.error.message}`);
  return body.error;
}

// Percent-encode a path segment or query part. Also ' and the other characters
// encodeURIComponent leaves: @hapi/hawk signs the URL as the legacy url.parse escapes it
// (' becomes %27), node:http sends it as given, so the two must agree.
export const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// Build a query string from pairs (so a name may repeat, and order is kept).
export function qs(pairs) {
  return pairs.map(([k, v]) => (v === undefined ? enc(k) : `${enc(k)}=${enc(v)}`)).join('&');
}

// The parameters of a URL as [name, value] pairs, in order.
export function paramsOf(url) {
  return [...new URL(url, 'http://x').searchParams.entries()];
}
