// Makes `npm start` and `npm test` work on a fresh clone with only Node and npm: installs the
// dependencies when node_modules is missing or older than the lock file, then builds (tsc, then the
// bundle of the shell that the installed `edgesh` runs: scripts/bundle.ts) unless nothing the build
// reads has changed since the last build (`--clean`, for the tests, always builds from scratch).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clean = process.argv.includes('--clean');
/** What the last build was made from (see `buildInputs`); the build is skipped while it matches. */
const stampFile = join(root, 'dist/.build-inputs');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    console.error(`Error: ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

/**
 * A digest of everything the build reads: the name, size and modification time of every file in
 * tsconfig's folders, tsconfig.json, package.json, the lock file and the installed packages' record,
 * and the Node version (the bundle's code cache is V8's). A file added, removed, edited or touched
 * changes it; stat calls only, a few milliseconds for the whole tree.
 */
function buildInputs() {
  const hash = createHash('sha256').update(`${process.version}\n`);
  const add = (path) => {
    const s = statSync(path, { throwIfNoEntry: false });
    hash.update(`${relative(root, path)}\0${s?.size ?? '-'}\0${s?.mtimeMs ?? '-'}\n`);
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else add(path);
    }
  };
  for (const file of [
    'tsconfig.json',
    'package.json',
    'package-lock.json',
    'node_modules/.package-lock.json',
  ])
    add(join(root, file));
  const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  for (const dir of include) if (existsSync(join(root, dir))) walk(join(root, dir));
  return hash.digest('hex');
}

const installed = join(root, 'node_modules/.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error('Installing dependencies (npm ci)…');
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', [
    'ci',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ]);
}
// A clean build for the tests, so that a deleted source file leaves no compiled test behind.
if (clean) rmSync(join(root, 'dist'), { recursive: true, force: true });
const inputs = buildInputs();
const built =
  existsSync(join(root, 'dist/bundle/edgesh.cjs')) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8') === inputs;
if (!built) {
  rmSync(stampFile, { force: true });
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root]);
  run(process.execPath, [join(root, 'dist/scripts/bundle.js')]);
  writeFileSync(stampFile, inputs);
}
