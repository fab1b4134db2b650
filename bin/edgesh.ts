#!/usr/bin/env node
// The edgesh binary: thin on purpose, everything lives in shell/ and contexts/.
// No top-level await: the build bundles this file as CommonJS (scripts/bundle.ts, docs/shell.md).
import { main } from '../shell/main.js';

// A reader that goes away (`edgesh -c 'show log' | head -1`) is not an error of the shell.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`Error: cannot write the output: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? 0 : 1);
});

main(process.argv.slice(2)).then(
  // Let pending writes reach the pipe, then end even if a library left a handle open.
  (status) => process.stdout.write('', () => process.exit(status)),
  (e: unknown) => {
    process.stderr.write(`Error: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
