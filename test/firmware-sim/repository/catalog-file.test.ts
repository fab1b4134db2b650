// The kept catalog: every name and provided name found by its binary search as a full pass would find it.
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type CatalogEntry,
  CatalogFile,
  type CatalogRow,
  formatCatalog,
} from '../../../firmware-sim/repository/catalog-file.js';

/** The rows of `name` as a pass over all stanzas in index order gives them. */
function expected(entries: readonly CatalogEntry[], name: string): CatalogRow[] {
  return entries.filter((e) => e.name === name).map((e) => [e.name, e.start, e.end]);
}

const NAME = fc
  .array(fc.constantFrom('a', 'b', 'z', '-', '.', '\t', '\\', 'é', '𝔸', '0'), { minLength: 1, maxLength: 4 })
  .map((chars) => chars.join(''));

test('rowsOf and providersOf agree with a full pass, whatever the names (tabs, backslashes, non-ASCII)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(NAME, fc.array(NAME, { maxLength: 3 })), { maxLength: 40 }),
      fc.array(NAME, { maxLength: 10 }),
      (specs, probes) => {
        let at = 0;
        const entries: CatalogEntry[] = specs.map(([name, provides]) => {
          const start = at;
          at += 10;
          return { name, start, end: at, provides: provides.filter((p) => !/[\s(,]/.test(p)).join(', ') };
        });
        const { catalog, names } = formatCatalog(entries);
        const file = new CatalogFile(catalog);
        for (const name of [...probes, ...entries.map((e) => e.name)]) {
          assert.deepEqual(file.rowsOf(name), expected(entries, name));
          const providers: string[] = [];
          for (const e of entries) {
            const provided = e.provides === '' ? [] : e.provides.split(',').map((p) => p.trim());
            if (provided.includes(name) && !providers.includes(e.name)) providers.push(e.name);
          }
          assert.deepEqual(file.providersOf(name), providers);
        }
        assert.equal(file.rows().length, entries.length);
        // The names file: each name once, in the order of its UTF-8 bytes, an LF after each.
        const unique = [...new Set(entries.map((e) => e.name))]
          .map((n) => Buffer.from(n))
          .sort(Buffer.compare);
        assert.deepEqual(names, Buffer.concat(unique.map((n) => Buffer.concat([n, Buffer.from('\n')]))));
      },
    ),
    { numRuns: 300 },
  );
});

test('a catalog of another version, another byte order or a damaged header is refused', () => {
  assert.throws(() => new CatalogFile(Buffer.from('["edgesh-catalog",2]\n["a","1",0,1,""]\n')));
  assert.throws(() => new CatalogFile(Buffer.from('["edgesh-catalog",3,999]\na\t1\t0\t1\t\n')));
  assert.throws(() => new CatalogFile(Buffer.alloc(0)));
  const { catalog } = formatCatalog([{ name: 'a', start: 0, end: 10, provides: '' }]);
  assert.deepEqual(new CatalogFile(catalog).rowsOf('a'), [['a', 0, 10]]);
  const other = endianness() === 'LE' ? 'BE' : 'LE';
  const swapped = Buffer.from(
    catalog.toString('latin1').replace(`"${endianness()}"`, `"${other}"`),
    'latin1',
  );
  assert.throws(() => new CatalogFile(swapped), /not a catalog of this version/);
  // More rows than the file holds.
  const short = Buffer.from(catalog.toString('latin1').replace(',1,2]', ',9,2]'), 'latin1');
  assert.throws(() => new CatalogFile(short), /not a catalog of this version/);
  // A row that points outside the names.
  const damaged = Buffer.from(catalog);
  damaged.writeInt32LE(99, catalog.indexOf('\n') + 1 + 12);
  assert.throws(() => new CatalogFile(damaged).rowsOf('a'), /damaged/);
  assert.deepEqual(new CatalogFile(formatCatalog([]).catalog).rowsOf('a'), []);
});
