// Runs a CommonJS bundle compiled from its V8 code cache: the launcher's way, for the bundles loaded later (vorpal, undici).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import codeCache from '../common/code-cache.cjs';

/**
 * Runs the CommonJS file `file` and returns its exports, compiled from the code cache its last line
 * names when V8 takes it (common/code-cache.cts, as the launchers do: same cache format, same
 * `EDGESH_CODE_CACHE` modes). A refused or missing cache only costs the compile.
 */
export function requireCached(file: string): unknown {
  return codeCache.runCached(file, readFileSync(file, 'utf8'), `edgesh: ${basename(file)}`);
}
