// Where the built program is: the repository root and the installed `edgesh` (package.json `bin`).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/lab/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The binary the tests and benches run: the installed `edgesh`, which starts the bundle. */
export const BIN = join(ROOT, 'dist/bin/edgesh-start.cjs');
