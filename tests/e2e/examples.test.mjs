// The README's client example is a real file that runs against a real server, and the
// README shows it verbatim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cleanEnv, startFerry } from './lib/ferry.mjs';
import { prepare, reader } from './lib/hawk.mjs';

const run = promisify(execFile);

test('examples/hawk-client.mjs authenticates and verifies the response', async () => {
  const f = await startFerry({ dir: prepare() });
  try {
    const { stdout } = await run('node', ['examples/hawk-client.mjs'], {
      env: cleanEnv({ FERRY_URL: f.url, HAWK_ID: reader.id, HAWK_KEY: reader.key }),
    });
    assert.equal(stdout.trim(), '200 {"client":"reader","auth":"hawk","address":"127.0.0.1"}');
    const bad = await run('node', ['examples/hawk-client.mjs'], {
      env: cleanEnv({ FERRY_URL: f.url, HAWK_ID: reader.id, HAWK_KEY: 'wrong' }),
    });
    assert.match(bad.stdout, /^401 /);
  } finally {
    assert.equal(await f.stop(), 0);
    f.cleanup();
  }
});

test('the README shows the example exactly as it is', () => {
  const readme = readFileSync('README.md', 'utf8');
  const example = readFileSync('examples/hawk-client.mjs', 'utf8');
  assert.ok(readme.includes(example), 'README.md must include examples/hawk-client.mjs verbatim');
});
