// undici from its bundle: fails if the build's bundle does not hold the installed undici, does not work, or is
// not compiled from its code cache (then measure the transports' start again).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { UNDICI_BUNDLE, VERSION_LINE } from '../../tuning/undici-bundle.js';
import { ROOT } from '../helpers/run-edgesh.js';

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
    'await agent.close();',
    'server.close();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, EDGESH_CODE_CACHE: 'report', NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'from the bundle');
  assert.match(r.stderr, /undici\.cjs code cache accepted/);
});
