// `npm run bench [FILTER]`: runs every bench module and prints ours against the reference, as ratios.
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv.slice(2).join(' ').toLowerCase();

const modules = (await readdir(here))
  .filter((f) => f.endsWith('.js') && !['run.js', 'types.js', 'util.js'].includes(f))
  .sort();
const results: BenchResult[] = [];
let failed = 0;
for (const file of modules) {
  const { benches } = (await import(`./${file}`)) as { benches?: Record<string, Bench> };
  for (const [name, bench] of Object.entries(benches ?? {})) {
    if (filter && !name.toLowerCase().includes(filter) && !file.includes(filter)) continue;
    process.stderr.write(`running: ${name}\n`);
    try {
      const rows = await bench();
      for (const row of rows) {
        results.push(row);
        console.log(formatRow(row));
        for (const line of row.details ?? []) console.log(`        ${line}`);
      }
    } catch (error) {
      failed++;
      console.log(`FAILED  ${name}: ${(error as Error).message}`);
    }
  }
}
const missed = results.filter((r) => !meets(r)).length;
console.log(
  `\n${results.length} results, ${results.length - missed} within target, ${missed} over, ${failed} benches failed to run`,
);
process.exitCode = failed > 0 ? 1 : 0;

function meets(r: BenchResult): boolean {
  return r.kind === 'ratio' ? r.ours / r.theirs <= r.target : r.ours <= r.target;
}

function formatRow(r: BenchResult): string {
  const verdict = meets(r) ? 'ok  ' : 'OVER';
  if (r.kind === 'ratio') {
    const ratio = (r.ours / r.theirs).toFixed(2);
    return `${verdict}  ${r.name}: ${ratio} (target ≤ ${r.target}) — ours ${r.ours.toFixed(3)} ${r.unit}, ${r.reference} ${r.theirs.toFixed(3)} ${r.unit}${r.note ? `; ${r.note}` : ''}`;
  }
  return `${verdict}  ${r.name}: ${r.ours.toFixed(1)} ${r.unit} (target ≤ ${r.target} ${r.unit})${r.note ? `; ${r.note}` : ''}`;
}
