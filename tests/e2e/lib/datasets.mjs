// Helpers for tests about datasets: import a CSV with the CLI, read a dataset's catalog
// entry, and read its rows back from the database as typed JS values, the same on both
// backends (SQLite json_object / PostgreSQL row_to_json, normalised by column type).
import assert from 'node:assert/strict';
import { isPg, runFerry, sql } from './ferry.mjs';

// `ferry import FILE --dataset NAME ...args` against the database url, run in dir.
export function importCsv(dir, url, file, dataset, args = []) {
  return runFerry(['import', file, '--dataset', dataset, '--database', url, ...args], { cwd: dir });
}

// The catalog entry (`ferry datasets show`), parsed; null when there is none.
export function showDataset(dir, url, name) {
  const r = runFerry(['datasets', 'show', name, '--database', url], { cwd: dir });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout);
}

const quoteIdent = (s) => `"${s.replaceAll('"', '""')}"`;
const quoteLit = (s) => `'${s.replaceAll("'", "''")}'`;

function normalise(type, v) {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'boolean': return v === true || v === 1 || v === 't';
    case 'integer':
    case 'decimal': return typeof v === 'number' ? v : Number(v);
    case 'timestamptz': return new Date(v).toISOString();
    default: return v;
  }
}

// Every row of the dataset in key order, as objects of its columns (the row id
// included when ferry added one), values normalised by the catalog's types.
export function readRows(dir, url, name) {
  const d = showDataset(dir, url, name);
  assert.ok(d, `no dataset ${name}`);
  const order = d.key.map(quoteIdent).join(', ');
  let q;
  if (isPg) {
    q = `SELECT row_to_json(_r_) FROM public.${quoteIdent(name)} _r_ ORDER BY ${order}`;
  } else {
    const pairs = d.columns.map((c) => `${quoteLit(c.name)}, ${quoteIdent(c.name)}`).join(', ');
    q = `SELECT json_object(${pairs}) FROM main.${quoteIdent(name)} ORDER BY ${order}`;
  }
  const out = sql(url, q).trim();
  if (!out) return [];
  return out.split('\n').map((line) => {
    const raw = JSON.parse(line);
    const row = {};
    for (const c of d.columns) row[c.name] = normalise(c.type, raw[c.name]);
    return row;
  });
}

// The same normalisation for expected values written in a test.
export function expectRow(d, row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    const c = d.columns.find((x) => x.name === k);
    assert.ok(c, `expected column ${k} is not in the dataset`);
    out[k] = normalise(c.type, v);
  }
  return out;
}

// Only the given keys of an object.
export function pick(obj, keys) {
  const out = {};
  for (const k of keys) out[k] = obj[k];
  return out;
}
