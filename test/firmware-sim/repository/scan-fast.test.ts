// The regular-expression pass over an index: the byte loop's answer whenever it gives one, and one for indexes as tools write them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { scanIndexChecked } from '../../../firmware-sim/repository/scan.js';
import { scanIndexFast } from '../../../firmware-sim/repository/scan-fast.js';
import { generateIndex } from '../../../lab/feed-generator.js';

const MAX_LINE = 256 * 1024;

/** The byte loop's summary, or the error it refuses the index with. */
function reference(bytes: Buffer): ReturnType<typeof scanIndexChecked> | Error {
  try {
    return scanIndexChecked(bytes);
  } catch (error) {
    return error as Error;
  }
}

const VALUE = fc.string({
  unit: fc.constantFrom('a', 'b', '1', '-', '.', '+', ' ', '\t', '"', '\\', 'é', '\u00a0', '(', ',', ':'),
  maxLength: 6,
});
const FIELD = fc.constantFrom(
  'Package',
  'package',
  'PACKAGE',
  'Version',
  'vErsion',
  'Provides',
  'Depends',
  'Description',
  'Packages',
  'X-Package',
);
/** Any line an index might hold, good or bad. */
const LINE = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(FIELD, VALUE).map(([f, v]) => `${f}:${v}`) },
  { weight: 3, arbitrary: VALUE.map((v) => ` ${v}`) },
  { weight: 3, arbitrary: fc.constantFrom('', ' ', '\t ', '') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'not a field',
      ':x',
      'Pack age: x',
      'é: x',
      'Package : a',
      'a\rb: c',
      'Depends: \u0001',
    ),
  },
);

test('whenever the fast pass answers, it is the byte loop answer, whatever the lines (pieces of any size)', () => {
  fc.assert(
    fc.property(
      fc.array(LINE, { maxLength: 30 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 8, max: MAX_LINE }),
      (lines, newline, piece, maxLine) => {
        const bytes = Buffer.from(lines.join('\n') + (newline ? '\n' : ''));
        const fast = scanIndexFast(bytes, maxLine, piece);
        const checked = reference(bytes);
        if (fast === undefined) return;
        assert.ok(!(checked instanceof Error), `the byte loop refuses what the fast pass took: ${checked}`);
        if (maxLine >= MAX_LINE) assert.deepEqual(fast, checked);
      },
    ),
    { numRuns: 3000 },
  );
});

/** Stanzas as tools write them: Package then Version first or not, names sorted, blank runs of any kind. */
const STANZAS = fc
  .array(
    fc.record({
      name: fc.stringMatching(/^[a-z0-9][a-z0-9+.-]{0,12}$/),
      version: VALUE,
      provides: fc.option(VALUE.map((v) => `virtual${v.replace(/[^a-z0-9 ,]/g, '')}`)),
      first: fc.boolean(),
      more: fc.array(fc.tuple(fc.constantFrom('Depends', 'Description', 'Filename'), VALUE), {
        maxLength: 3,
      }),
      continued: fc.array(
        VALUE.map((v) => ` x${v}`),
        { maxLength: 3 },
      ),
      after: fc.constantFrom('\n\n', '\n\n', '\n \t\n', '\n\n\n', '\n'),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((stanzas) => [...stanzas].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));

test('indexes as tools write them take the fast pass, with the byte loop answer', () => {
  fc.assert(
    fc.property(STANZAS, fc.integer({ min: 1, max: 300 }), (stanzas, piece) => {
      const text = stanzas
        .map((s, i) => {
          const head = s.first
            ? [`Package: ${s.name}`, `Version: ${s.version}`]
            : [`Description: x`, `Version: ${s.version}`, `Package: ${s.name}`];
          const provides = s.provides === null ? [] : [`Provides: ${s.provides}`];
          const more = s.more.map(([f, v]) => `${f}: x${v}`);
          return (
            [...head, ...provides, ...more, ...s.continued].join('\n') +
            (i < stanzas.length - 1 ? s.after : s.after.slice(0, 1))
          );
        })
        .join('');
      const bytes = Buffer.from(text);
      const checked = reference(bytes);
      assert.ok(!(checked instanceof Error), String(checked));
      // Versions with a byte beyond ASCII at an edge are left to the byte loop (JavaScript's trim decides).
      const odd = stanzas.some((s) =>
        /^[^\x00-\x7f]|[^\x00-\x7f]$/.test(s.version.replace(/^[ \t]+|[ \t]+$/g, '')),
      );
      const fast = scanIndexFast(bytes, MAX_LINE, piece);
      if (!odd) assert.ok(fast !== undefined, 'the fast pass gave up');
      if (fast !== undefined) assert.deepEqual(fast, checked);
    }),
    { numRuns: 500 },
  );
});

test('the generated feeds of the benchmarks take the fast pass, with the byte loop answer', () => {
  for (const [count, seed] of [
    [300, 1],
    [2000, 7],
  ] as const) {
    const bytes = Buffer.from(generateIndex(count, seed).text);
    const fast = scanIndexFast(bytes, MAX_LINE);
    assert.ok(fast !== undefined);
    assert.deepEqual(fast, scanIndexChecked(bytes));
  }
});

test('a stanza longer than the line limit is left to the byte loop, which takes it or refuses its line', () => {
  const long = Buffer.from(`Package: a\nVersion: 1\nDescription: ${'x'.repeat(100)}\n`);
  assert.equal(scanIndexFast(long, 64), undefined);
  assert.ok(scanIndexFast(long, 1024) !== undefined);
});
