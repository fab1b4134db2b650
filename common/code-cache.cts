// A CommonJS file run from the V8 code cache its last line names: one way for the launchers of the
// bundled programs (bin/launch-bundle.cts) and for the bundles loaded later (tuning/cached-script.ts).
//
// CommonJS, so that a launcher can `require` it before anything else is loaded. V8 refuses a cache made
// by another V8 version, with other flags or for other source; a refused or missing cache only costs
// the compile. `EDGESH_CODE_CACHE=write` (the build) stores the cache when the process ends, with every
// function compiled by then; `EDGESH_CODE_CACHE=report` (tests) says on stderr whether V8 took it.
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

/** The last line of a bundle names its code cache file: `//# edgesh-code-cache=NAME.HEX.v8cache`. */
const CACHE_LINE = /\/\/# edgesh-code-cache=([\w.-]+)\n?$/;

/**
 * Runs `source` (the text of the CommonJS file `file`) wrapped as Node wraps a module, compiled from
 * its code cache where V8 takes it, and returns its exports. `extra` are further parameters of the
 * wrapper, after CommonJS's five, with their values. `reportAs` starts the line of
 * `EDGESH_CODE_CACHE=report`: `${reportAs} code cache accepted|rejected|none`.
 */
function runCached(
  file: string,
  source: string,
  reportAs: string,
  extra: Readonly<Record<string, unknown>> = {},
): unknown {
  const name = CACHE_LINE.exec(source.slice(-200))?.[1];
  const cacheFile = name === undefined ? undefined : path.join(path.dirname(file), name);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile !== undefined) cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const params = ['exports', 'require', 'module', '__filename', '__dirname', ...Object.keys(extra)];
  // On the first line, so that line numbers stay those of the file.
  const script = new vm.Script(`(function (${params.join(', ')}) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const mode = process.env.EDGESH_CODE_CACHE;
  if (mode === 'report') {
    const state = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`${reportAs} code cache ${state}\n`);
  } else if (mode === 'write' && cacheFile !== undefined) {
    process.on('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    });
  }
  const mod = { exports: {} as unknown };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(
    mod.exports,
    mod.exports,
    nodeModule.createRequire(file),
    mod,
    file,
    path.dirname(file),
    ...Object.values(extra),
  );
  return mod.exports;
}

export = { runCached };
