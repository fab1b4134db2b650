// scripts/bootstrap.mjs (`npm start`, `npm test`, `npm run bench`): builds when the sources changed, and only then.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../../lab/paths.js';

const work = mkdtempSync(join(tmpdir(), 'edgesh-bootstrap-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * A project of the repository's shape around a copy of bootstrap.mjs, whose tsc and bundler only
 * count their runs (the decision to build is what is tested; the real ones take seconds).
 */
function project(): string {
  const dir = join(work, `p${Math.random().toString(36).slice(2)}`);
  for (const d of ['scripts', 'src', 'node_modules/typescript/bin'])
    mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(join(ROOT, 'scripts/bootstrap.mjs'), join(dir, 'scripts/bootstrap.mjs'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ include: ['src', 'scripts'] }));
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  writeFileSync(join(dir, 'node_modules/.package-lock.json'), '{}');
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'package-lock.json'), past, past);
  writeFileSync(join(dir, 'src/a.ts'), 'export const a = 1;\n');
  const counter = (name: string, makes: string) =>
    `const fs = require('node:fs'); const path = require('node:path');
fs.appendFileSync(${JSON.stringify(join(dir, 'runs.log'))}, ${JSON.stringify(`${name}\n`)});
fs.mkdirSync(path.dirname(${JSON.stringify(join(dir, makes))}), { recursive: true });
fs.writeFileSync(${JSON.stringify(join(dir, makes))}, '');`;
  // tsc makes dist/, the bundler among it (as the real one compiles scripts/bundle.ts).
  writeFileSync(join(dir, 'bundler.cjs'), counter('bundle', 'dist/bundle/edgesh.cjs'));
  writeFileSync(
    join(dir, 'node_modules/typescript/bin/tsc'),
    `${counter('tsc', 'dist/.tsbuildinfo')}
fs.mkdirSync(${JSON.stringify(join(dir, 'dist/scripts'))}, { recursive: true });
fs.copyFileSync(${JSON.stringify(join(dir, 'bundler.cjs'))}, ${JSON.stringify(join(dir, 'dist/scripts/bundle.js'))});`,
  );
  return dir;
}

function bootstrap(dir: string, ...args: string[]): string[] {
  const r = spawnSync(process.execPath, [join(dir, 'scripts/bootstrap.mjs'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  try {
    return readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

test('a built tree is not built again; a change, a new file or a removed one builds', () => {
  const dir = project();
  assert.deepEqual(bootstrap(dir), ['tsc', 'bundle']);
  assert.deepEqual(bootstrap(dir), ['tsc', 'bundle'], 'nothing changed: no build');
  writeFileSync(join(dir, 'src/a.ts'), 'export const a = 2;\n');
  assert.equal(bootstrap(dir).length, 4, 'an edited source builds');
  writeFileSync(join(dir, 'src/b.ts'), 'export const b = 1;\n');
  assert.equal(bootstrap(dir).length, 6, 'a new source builds');
  rmSync(join(dir, 'src/b.ts'));
  assert.equal(bootstrap(dir).length, 8, 'a removed source builds');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ include: ['src', 'scripts'], x: 1 }));
  assert.equal(bootstrap(dir).length, 10, 'a changed tsconfig.json builds');
  assert.equal(bootstrap(dir).length, 10);
});

test('a missing bundle builds, and --clean always builds', () => {
  const dir = project();
  bootstrap(dir);
  rmSync(join(dir, 'dist/bundle'), { recursive: true });
  assert.equal(bootstrap(dir).length, 4);
  assert.equal(bootstrap(dir).length, 4);
  assert.equal(bootstrap(dir, '--clean').length, 6);
  assert.equal(bootstrap(dir, '--clean').length, 8);
});
