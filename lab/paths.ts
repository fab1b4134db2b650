// Where the built program is: the repository root and the installed `edgesh` (package.json `bin`).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/lab/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The binary the tests and benches run: the installed `edgesh`, which starts the bundle. */
export const BIN = join(ROOT, 'dist/bin/edgesh-start.cjs');

/**
 * What the kernel runs for a script with a shebang: the interpreter, the rest of the line as one
 * argument (`#!/usr/bin/env -S node --flag` gives env `-S node --flag`; `#!/bin/sh` gives sh alone),
 * then the script. So a bench or a test starts a bin as an operator does, with what its shebang does
 * to the flags and the environment, even where the file is not executable (a build tree).
 */
export function shebangCommand(script: string): [string, ...string[]] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return [process.execPath, script];
  const line = first.slice(2).trim();
  const space = line.search(/\s/);
  if (space < 0) return [line, script];
  return [line.slice(0, space), line.slice(space).trim(), script];
}
