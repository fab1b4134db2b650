// Runs a CommonJS bundle compiled from its V8 code cache: the launcher's way, for the bundles loaded later (vorpal, undici).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The last line of a bundle names its code cache file: `//# edgesh-code-cache=NAME.HEX.v8cache`. */
const CACHE_LINE = /\/\/# edgesh-code-cache=([\w.-]+)\n?$/;

/**
 * Runs the CommonJS file `file` and returns its exports, compiled from the code cache its last line
 * names when V8 takes it (see bin/launch-bundle.cts: same cache format, same `EDGESH_CODE_CACHE`
 * modes: `write` stores the cache at exit, `report` says on stderr whether V8 took it). A refused or
 * missing cache only costs the compile.
 */
export function requireCached(file: string): unknown {
  const source = readFileSync(file, 'utf8');
  const name = CACHE_LINE.exec(source.slice(-200))?.[1];
  const cacheFile = name === undefined ? undefined : join(dirname(file), name);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile !== undefined) cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const mode = process.env.EDGESH_CODE_CACHE;
  if (mode === 'report') {
    const state = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`edgesh: ${basename(file)} code cache ${state}\n`);
  } else if (mode === 'write' && cacheFile !== undefined) {
    process.on('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    });
  }
  const mod = { exports: {} as unknown };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  return mod.exports;
}
