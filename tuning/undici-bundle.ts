// undici from one bundled file compiled from its V8 code cache: its modules from node_modules cost 220 ms of CPU.
//
// The http and https transports load undici at their first use; from node_modules that is some two
// hundred files to resolve, read and compile, measured here at 200-235 ms of CPU, the largest part of
// a feed update's start. scripts/bundle.ts writes undici into dist/bundle/undici.cjs with a code cache
// made by a run that loads it and makes a request: loaded from there, 75-100 ms. The bundle names the
// undici version it was made from; another version in node_modules (installed without a build) is
// loaded from node_modules, as is everything when there is no bundle (tests of dist/ without a build).
// test/tuning/undici-bundle.test.ts fails if the bundle does not work or is not taken from its cache.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCached } from './cached-script.js';

/** Where the build writes the bundle, relative to this module's file in dist/tuning/. */
export const UNDICI_BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '../bundle/undici.cjs');

/** The first line of the bundle: the undici version it holds. */
export const VERSION_LINE = /^\/\/ undici (\S+)\n/;

/** What the bundle holds of undici (scripts/bundle.ts, `UNDICI_ENTRY`): what the transports use. */
export type UndiciParts = Pick<typeof import('undici'), 'Agent' | 'request' | 'errors'>;

let loaded: UndiciParts | undefined;

/** undici's parts the transports use, from the bundle when it holds the installed version, else from node_modules. */
export function loadUndici(): UndiciParts {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  if (existsSync(UNDICI_BUNDLE)) {
    const installed = (require('undici/package.json') as { version: string }).version;
    if (VERSION_LINE.exec(firstBytes(UNDICI_BUNDLE, 80))?.[1] === installed) {
      loaded = requireCached(UNDICI_BUNDLE) as UndiciParts;
      return loaded;
    }
  }
  loaded = require('undici') as UndiciParts;
  return loaded;
}

function firstBytes(file: string, count: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(count);
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, count, 0));
  } finally {
    closeSync(fd);
  }
}
