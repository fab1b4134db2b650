// Relation fields and their semantics (dpkg's, which opkg follows), table-driven.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { offers, parseRelationField, type RelationField } from '../../firmware-sim/feeds/index.js';
import type { Dependency } from '../../firmware-sim/format/index.js';

describe('parseRelationField', () => {
  const table: Array<{ field: RelationField; input: string; expected: Dependency[][] }> = [
    { field: 'Depends', input: '', expected: [] },
    { field: 'Depends', input: 'a', expected: [[{ name: 'a' }]] },
    {
      field: 'Depends',
      input: 'a (>= 1.0), b | c (<< 2:1.0-r1)',
      expected: [
        [{ name: 'a', relation: '>=', version: '1.0' }],
        [{ name: 'b' }, { name: 'c', relation: '<<', version: '2:1.0-r1' }],
      ],
    },
    // dpkg and opkg: the obsolete `<` and `>` mean `<=` and `>=`, not `<<` and `>>`.
    { field: 'Depends', input: 'a (< 2)', expected: [[{ name: 'a', relation: '<=', version: '2' }]] },
    { field: 'Depends', input: 'a (> 2)', expected: [[{ name: 'a', relation: '>=', version: '2' }]] },
    { field: 'Depends', input: 'a(=1)', expected: [[{ name: 'a', relation: '=', version: '1' }]] },
    { field: 'Depends', input: 'libc:any', expected: [[{ name: 'libc' }]] },
    { field: 'Pre-Depends', input: 'a,\n b', expected: [[{ name: 'a' }], [{ name: 'b' }]] },
    { field: 'Recommends', input: 'x | y', expected: [[{ name: 'x' }, { name: 'y' }]] },
    {
      field: 'Conflicts',
      input: 'a, b (<< 1)',
      expected: [[{ name: 'a' }], [{ name: 'b', relation: '<<', version: '1' }]],
    },
    {
      field: 'Provides',
      input: 'v, w (= 1.2)',
      expected: [[{ name: 'v' }], [{ name: 'w', relation: '=', version: '1.2' }]],
    },
    { field: 'Replaces', input: 'old (<< 2)', expected: [[{ name: 'old', relation: '<<', version: '2' }]] },
  ];
  for (const { field, input, expected } of table) {
    test(`${field}: ${JSON.stringify(input)}`, () =>
      assert.deepEqual(parseRelationField(field, input), expected));
  }

  const bad: Array<{ field: RelationField; input: string; message: RegExp }> = [
    { field: 'Depends', input: 'a, , b', message: /bad relation "" in Depends/ },
    { field: 'Depends', input: 'A', message: /bad relation "A" in Depends/ },
    { field: 'Depends', input: 'a (=> 1)', message: /bad relation "a \(=> 1\)"/ },
    { field: 'Depends', input: 'a (>= x)', message: /bad relation "a \(>= x\)"/ },
    { field: 'Conflicts', input: 'a | b', message: /in Conflicts \(alternatives are not allowed here\)/ },
    { field: 'Replaces', input: 'a | b', message: /in Replaces/ },
    { field: 'Provides', input: 'a (>= 1)', message: /only "=" is allowed in Provides/ },
  ];
  for (const { field, input, message } of bad) {
    test(`${field}: ${JSON.stringify(input)} is refused`, () =>
      assert.throws(() => parseRelationField(field, input), { code: 'WMOPKG_BAD_DEPENDS', message }));
  }
});

describe('offers (what meets a relation)', () => {
  const pkg = (name: string, version: string, provides: Dependency[] = []) => ({ name, version, provides });
  const table: Array<{ title: string; offer: ReturnType<typeof pkg>; dep: Dependency; expected: boolean }> = [
    { title: 'own name, no version', offer: pkg('a', '1'), dep: { name: 'a' }, expected: true },
    {
      title: 'own name, >= met',
      offer: pkg('a', '2.0'),
      dep: { name: 'a', relation: '>=', version: '2.0' },
      expected: true,
    },
    {
      title: '<< is strict',
      offer: pkg('a', '2.0'),
      dep: { name: 'a', relation: '<<', version: '2.0' },
      expected: false,
    },
    {
      title: '>> is strict',
      offer: pkg('a', '2.0'),
      dep: { name: 'a', relation: '>>', version: '2.0' },
      expected: false,
    },
    {
      title: '= with epoch 0',
      offer: pkg('a', '0:1.0'),
      dep: { name: 'a', relation: '=', version: '1.0' },
      expected: true,
    },
    {
      title: 'epoch wins',
      offer: pkg('a', '1:0.1'),
      dep: { name: 'a', relation: '>=', version: '9.9' },
      expected: true,
    },
    {
      title: 'tilde sorts first',
      offer: pkg('a', '1.0~rc1'),
      dep: { name: 'a', relation: '>=', version: '1.0' },
      expected: false,
    },
    { title: 'other name', offer: pkg('b', '1'), dep: { name: 'a' }, expected: false },
    {
      title: 'plain provides, plain dependency',
      offer: pkg('b', '1', [{ name: 'v' }]),
      dep: { name: 'v' },
      expected: true,
    },
    {
      title: 'plain provides does not meet a versioned dependency (dpkg)',
      offer: pkg('b', '9', [{ name: 'v' }]),
      dep: { name: 'v', relation: '>=', version: '1' },
      expected: false,
    },
    {
      title: 'versioned provides meets a versioned dependency',
      offer: pkg('b', '1', [{ name: 'v', relation: '=', version: '2.5' }]),
      dep: { name: 'v', relation: '>=', version: '2' },
      expected: true,
    },
    {
      title: "versioned provides: the provided version counts, not the package's",
      offer: pkg('b', '9', [{ name: 'v', relation: '=', version: '1.0' }]),
      dep: { name: 'v', relation: '>=', version: '2' },
      expected: false,
    },
  ];
  for (const { title, offer, dep, expected } of table) {
    test(title, () => assert.equal(offers(offer, dep), expected));
  }
});
