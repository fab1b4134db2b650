#!/usr/bin/env node
// The edgesh binary: thin on purpose, everything lives in shell/ and contexts/.
import { main } from '../shell/main.js';

// A reader that goes away (`edgesh -c 'show log' | head -1`) is not an error of the shell.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const status = await main(process.argv.slice(2));
// Let pending writes reach the pipe, then end even if a library left a handle open.
process.stdout.write('', () => process.exit(status));
