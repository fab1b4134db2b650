// The kept catalog: every name and provided name found by its binary search as a full pass would find it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CatalogFile,
  type CatalogRow,
  formatCatalog,
} from '../../../firmware-sim/repository/catalog-file.js';

/** The rows of `name` and the providers of `provided` as a pass over all rows in index order gives them. */
function expected(rows: readonly CatalogRow[], name: string): CatalogRow[] {
  return rows.filter((r) => r[0] === name);
}

const NAME = fc
  .array(fc.constantFrom('a', 'b', 'z', '-', '.', '\t', '\\', 'é', '𝔸', '0'), { minLength: 1, maxLength: 4 })
  .map((chars) => chars.join(''));

test('rowsOf and providersOf agree with a full pass, whatever the names (tabs, backslashes, non-ASCII)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(NAME, fc.constantFrom('1.0', '2.0', '1\t0'), fc.array(NAME, { maxLength: 3 })), {
        maxLength: 40,
      }),
      fc.array(NAME, { maxLength: 10 }),
      (specs, probes) => {
        let at = 0;
        const rows: CatalogRow[] = specs.map(([name, version, provides]) => {
          const start = at;
          at += 10;
          const text = provides.filter((p) => !/[\s(,]/.test(p)).join(', ');
          return [name, version, start, at, text];
        });
        const file = new CatalogFile(formatCatalog(rows));
        for (const name of [...probes, ...rows.map((r) => r[0])]) {
          assert.deepEqual(file.rowsOf(name), expected(rows, name));
          const providers: string[] = [];
          for (const r of rows) {
            const names = r[4] === '' ? [] : r[4].split(',').map((p) => p.trim());
            if (names.includes(name) && !providers.includes(r[0])) providers.push(r[0]);
          }
          assert.deepEqual(file.providersOf(name), providers);
        }
        assert.equal(file.rows().length, rows.length);
      },
    ),
    { numRuns: 300 },
  );
});

test('a catalog of another version or a damaged header is refused', () => {
  assert.throws(() => new CatalogFile(Buffer.from('["edgesh-catalog",2]\n["a","1",0,1,""]\n')));
  assert.throws(() => new CatalogFile(Buffer.from('["edgesh-catalog",3,999]\na\t1\t0\t1\t\n')));
  assert.throws(() => new CatalogFile(Buffer.alloc(0)));
  assert.deepEqual(new CatalogFile(formatCatalog([])).rowsOf('a'), []);
});
