// First contact: `ferry serve --demo` (what `make run` starts) loads the demo
// dataset and client, prints a ready-to-paste `ferry request` command, and that
// command works as printed. A second start reuses both (same key, no reload).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { databaseOf, runFerry, sleep, startFerry, tempDir } from './lib/ferry.mjs';

// The printed command, split into ferry's arguments (the URL is single-quoted).
function printedCommand(stdout) {
  const m = stdout.match(/\.\/build\/ferry request '([^']+)' --client-id (\S+) --client-key (\S+)/);
  assert.ok(m, `no ferry request command in:\n${stdout}`);
  return { url: m[1], id: m[2], key: m[3] };
}

async function waitForCommand(h) {
  for (let i = 0; i < 100 && !/--client-key/.test(h.stdout()); i++) await sleep(50);
  return printedCommand(h.stdout());
}

test('serve --demo prints a command that fetches the first page of the demo', async () => {
  const dir = tempDir();
  const h = await startFerry({ dir, args: ['--demo'] });
  try {
    const cmd = await waitForCommand(h);
    assert.equal(cmd.url, `http://127.0.0.1:${h.port}/api/v1/datasets/demo/data?page_size=3`);
    assert.equal(cmd.id, 'demo');
    const r = runFerry(['request', cmd.url, '--client-id', cmd.id, '--client-key', cmd.key],
      { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^REQUEST RESPONSE 200\n/);
    const page = JSON.parse(r.stdout.split('\n').slice(1).join('\n'));
    assert.deepEqual(page.headers, ['id', 'order_ref', 'city', 'amount', 'quantity', 'paid',
      'ordered_on', 'ordered_at', 'note']);
    assert.equal(page.values.length, 3);
    assert.deepEqual(page.values.map((v) => v[0]), [1, 2, 3]);
    assert.equal(typeof page.values[0][3], 'number');
    assert.equal(typeof page.values[0][5], 'boolean');
    assert.match(page.next, /[?&]cursor=/);

    // the demo client may read, not write
    const up = runFerry(['request', '--method', 'POST', '--data', 'a\n1\n', '--content-type',
      'text/csv', `${h.url}/api/v1/datasets/demo/uploads`, '--client-id', 'demo',
      '--client-key', cmd.key], { cwd: dir });
    assert.equal(up.status, 1);
    assert.match(up.stdout, /REQUEST RESPONSE 403/);
  } finally {
    await h.stop();
  }

  // a second start: the same client key, the dataset not loaded again
  const h2 = await startFerry({ dir, args: ['--demo'] });
  try {
    const again = await waitForCommand(h2);
    const first = printedCommand(h.stdout());
    assert.equal(again.key, first.key);
    const r = runFerry(['request', `${h2.url}/api/v1/datasets/demo`, '--client-id', 'demo',
      '--client-key', again.key], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const d = JSON.parse(r.stdout.split('\n').slice(1).join('\n'));
    assert.equal(d.row_count, 5000);
  } finally {
    await h2.stop();
  }
});

test('serve without --demo prints no command and loads nothing', async () => {
  const dir = tempDir();
  const h = await startFerry({ dir });
  try {
    await sleep(200);
    assert.doesNotMatch(h.stdout(), /client-key/);
    const r = runFerry(['datasets', 'list', '--database', databaseOf(dir)], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\bdemo\b/);
  } finally {
    await h.stop();
  }
});
