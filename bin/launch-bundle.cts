// Starting a bundled program of this repository from its V8 code cache: the launchers of `edgesh`
// (bin/edgesh-start.cts) and `wmopkg` (bin/wmopkg-start.cts).
//
// `scripts/bundle.ts` turns a program (dist/bin/NAME.js and everything it imports from this
// repository) into one CommonJS file, dist/bundle/NAME.cjs, and records the machine code V8 made for
// it while running a few commands (the code cache). Compiling the bundle from that cache instead of
// its forty-odd ES modules from source is what keeps a one-command run within twice the start of a
// bare `node` (docs/shell.md, "Startup"). Node 20 has no built-in compile cache (22.1 added one), and
// a cache can only be handed to V8 through `vm.Script`, i.e. for a script, not for an ES module: hence
// CommonJS. V8 refuses a cache made by another V8 version or with other flags, and this file never
// hands it one made for another bundle (its name carries the bundle's digest); a refused or missing
// cache only costs the compile. Code compiled from a cache cannot run `import()` on Node 20, so the
// bundle has none: it asks this file for it. Without a bundle, or with one older than tsc's last
// output (only `tsc` was run), the modules run unbundled. The cache itself: common/code-cache.cts.
import fs = require('node:fs');
import path = require('node:path');
import codeCache = require('../common/code-cache.cjs');

/**
 * Runs dist/bundle/`name`.cjs, compiled from its code cache where V8 takes it; without a bundle, or
 * with one older than tsc's output, calls `unbundled` (which imports the program's modules).
 */
function launchBundle(name: string, unbundled: () => void): void {
  const bundle = path.join(__dirname, `../bundle/${name}.cjs`);
  let source: string;
  try {
    if (stale(bundle)) throw new Error('tsc ran after the bundle was made');
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    if (process.env.EDGESH_CODE_CACHE === 'report') process.stderr.write(`${name}: unbundled\n`);
    unbundled();
    return;
  }
  // `import()` for the bundle (see shell/import-file.ts).
  const importFile = (url: string): Promise<unknown> => import(url);
  codeCache.runCached(bundle, source, `${name}:`, { __edgeshImport: importFile });
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

export = { launchBundle };
