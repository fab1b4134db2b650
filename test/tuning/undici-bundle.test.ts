// undici from its bundle: fails if the build's bundle does not hold the installed undici, does not work, or is
// not compiled from its code cache (then measure the transports' start again).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../lab/paths.js';
import { HTTP2_CONSTANTS } from '../../scripts/http2-constants.js';
import { UNDICI_BUNDLE, VERSION_LINE } from '../../tuning/undici-bundle.js';

test('the build bundles the installed undici, and the transports load it from its code cache', () => {
  assert.ok(
    existsSync(UNDICI_BUNDLE),
    `${UNDICI_BUNDLE} is missing: the build (scripts/bundle.ts) writes it`,
  );
  const installed = (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;
  assert.equal(VERSION_LINE.exec(readFileSync(UNDICI_BUNDLE, 'utf8').slice(0, 80))?.[1], installed);
  const script = [
    `const { loadUndici } = await import(${JSON.stringify(join(ROOT, 'dist/tuning/undici-bundle.js'))});`,
    "const { createServer } = await import('node:http');",
    'const { Agent, request } = loadUndici();',
    "const server = createServer((_req, res) => res.end('from the bundle'));",
    "await new Promise((r) => server.listen(0, '127.0.0.1', r));",
    'const agent = new Agent();',
    "const res = await request('http://127.0.0.1:' + server.address().port + '/', { dispatcher: agent });",
    'console.log(await res.body.text());',
    // node:http2 stays unloaded (HTTP2_CONSTANTS).
    "console.log(process.moduleLoadList.filter((m) => m.includes('http2')).join(',') || 'no http2');",
    'await agent.close();',
    'server.close();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, EDGESH_CODE_CACHE: 'report', NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'from the bundle\nno http2');
  assert.match(r.stderr, /undici\.cjs code cache accepted/);
});

test("the constants the bundle gives undici's HTTP/2 client are node:http2's", () => {
  const { constants } = createRequire(import.meta.url)('node:http2') as typeof import('node:http2');
  for (const [name, value] of Object.entries(HTTP2_CONSTANTS))
    assert.equal((constants as Record<string, unknown>)[name], value, name);
  // Every constant undici's client destructures from node:http2 is given.
  const client = readFileSync(
    createRequire(import.meta.url).resolve('undici/lib/dispatcher/client-h2.js'),
    'utf8',
  );
  const read = /const \{\s*constants: \{([^}]*)\}\s*\} = http2/.exec(client)?.[1];
  assert.ok(read, 'client-h2.js destructures node:http2 constants');
  assert.deepEqual(
    read
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .sort(),
    Object.keys(HTTP2_CONSTANTS).sort(),
  );
});
