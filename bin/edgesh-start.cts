#!/usr/bin/env node
// The installed `edgesh` (package.json `bin`): starts the bundled shell from its V8 code cache, quickly.
//
// The build puts two lines in place of the first, so that run as a program it starts node without
// NODE_EXTRA_CA_CERTS, which node would load at every start and edgesh never uses
// (`startWithoutExtraCas` in scripts/bundle.ts).
//
// `scripts/bundle.ts` turns the program (dist/bin/edgesh.js and everything it imports from this
// repository) into one CommonJS file, dist/bundle/edgesh.cjs, and records the machine code V8 made
// for it while running a few commands (the code cache). Compiling the bundle from that cache instead
// of from its source is what keeps a one-command run within twice the start of a bare `node`
// (docs/shell.md, "Startup"). Node 20 has no built-in compile cache (22.1 added one), and a cache
// can only be handed to V8 through `vm.Script`, i.e. for a script, not for an ES module: hence
// CommonJS. V8 refuses a cache made by another V8 version or with other flags, and this file never
// hands it one made for another bundle (its name carries the bundle's digest); a refused or missing
// cache only costs the compile. Code compiled from a cache cannot run `import()` on Node 20, so the
// bundle has none: it asks this file for it. Without a bundle, or with one older than tsc's last
// output (only `tsc` was run), the modules run unbundled.
// Before anything is loaded: a password on the command line leaves the process list (see below).
hideSecretsFromProcessList();

import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

/** The last line of a bundle names its code cache file: `//# edgesh-code-cache=edgesh.HEX.v8cache`. */
const CACHE_LINE = /\/\/# edgesh-code-cache=([\w.-]+)\n?$/;

function start(): void {
  const bundle = path.join(__dirname, '../bundle/edgesh.cjs');
  let source: string;
  try {
    if (stale(bundle)) throw new Error('tsc ran after the bundle was made');
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    if (process.env.EDGESH_CODE_CACHE === 'report') process.stderr.write('edgesh: unbundled\n');
    void import('./edgesh.js');
    return;
  }
  const name = CACHE_LINE.exec(source.slice(-200))?.[1];
  const cacheFile = name === undefined ? undefined : path.join(path.dirname(bundle), name);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile !== undefined) cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The wrapper of a CommonJS module, on the first line so that line numbers stay those of the file,
  // plus `import()` for the bundle (see shell/import-file.ts).
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, __edgeshImport) {${source}\n})`,
    { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) },
  );
  report(script, cachedData, cacheFile);
  const mod = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const importFile = (url: string): Promise<unknown> => import(url);
  run.call(
    mod.exports,
    mod.exports,
    nodeModule.createRequire(bundle),
    mod,
    bundle,
    path.dirname(bundle),
    importFile,
  );
}

/**
 * Whether `tsc` wrote dist/ after the bundle was made (`tsc` alone, or `tsc --watch`, while
 * developing): the bundle then holds older code than dist/, which runs instead.
 */
function stale(bundle: string): boolean {
  try {
    return fs.statSync(path.join(__dirname, '../.tsbuildinfo')).mtimeMs > fs.statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
}

/**
 * `EDGESH_CODE_CACHE=write` (the build) stores the cache when the process ends, with every function
 * compiled by then; `EDGESH_CODE_CACHE=report` (tests) says on stderr whether V8 took the cache.
 */
function report(script: vm.Script, cachedData: Buffer | undefined, cacheFile: string | undefined): void {
  const mode = process.env.EDGESH_CODE_CACHE;
  if (mode === 'report') {
    const state = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`edgesh: code cache ${state}\n`);
  } else if (mode === 'write' && cacheFile !== undefined) {
    process.on('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    });
  }
}

/**
 * `edgesh -c '… password X'` (what sshd runs for `ssh host '…'`) shows X to every local user in the
 * process list (/proc/PID/cmdline) until the process replaces its title. This runs first, before
 * any module is loaded, and masks the word after `password` (or an abbreviation down to `pa`) and
 * the password of `user:password@`, roughly and to the safe side; once the grammar is loaded,
 * shell/main.ts sets the exact title (`password ****`) by the one rule (contexts/secret-words.ts,
 * from the parameters declared secret). This copy of the rule cannot import it: it must run
 * before anything is loaded. The instant between the start of the
 * process and this statement cannot be closed from inside: docs/shell.md says so.
 */
function hideSecretsFromProcessList(): void {
  const args = process.argv.slice(2);
  const masked = args.map((a) =>
    a
      .replace(
        /((?:^|[\s;|])pa(?:s(?:s(?:w(?:o(?:r(?:d)?)?)?)?)?)?\s+)(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|\S+)/gi,
        '$1****',
      )
      .replace(/([^\s@/:;|]*):[^\s@]*@/g, '$1:****@'),
  );
  if (masked.some((m, i) => m !== args[i])) process.title = ['edgesh', ...masked].join(' ');
}

start();
