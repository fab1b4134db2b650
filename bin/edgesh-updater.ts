#!/usr/bin/env node
// `edgesh-updater`'s full run (bin/edgesh-updater, a shell script, starts it when the shortcut does not hold).
import { updaterMain } from '../shell/updater-main.js';

updaterMain(process.argv.slice(2)).then(
  // Let pending writes reach the pipe, then end even if a library left a handle open.
  (status) => process.stdout.write('', () => process.exit(status)),
  (e: unknown) => {
    process.stderr.write(`Error: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
