// dpkg/opkg version comparison and Depends, table-driven.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareVersions,
  FormatError,
  formatDependency,
  parseDepends,
  parseVersion,
  satisfies,
} from '../../../firmware-sim/format/index.js';

describe('compareVersions', () => {
  const table: Array<[string, '<' | '=' | '>', string]> = [
    ['1.0', '<', '1.1'],
    ['1.9', '<', '1.10'],
    ['1.001', '=', '1.1'],
    ['1.0', '<', '1.0.1'],
    ['1.0', '<', '1.0-1'],
    ['1.0-1', '<', '1.0-2'],
    ['1.0-1~bpo1', '<', '1.0-1'],
    ['1.0~rc1', '<', '1.0'],
    ['1.0~rc1', '<', '1.0~rc2'],
    ['1.0~~', '<', '1.0~'],
    ['1.0a', '>', '1.0'],
    ['1.0a', '<', '1.0+'],
    ['1.0+b1', '>', '1.0'],
    ['0:1.0', '=', '1.0'],
    ['1:0.1', '>', '9.9'],
    ['2:1.0', '>', '1:9.9'],
    ['5.26.0-rev0', '<', '5.26.0-rev1'],
    ['5.26.0-rev9', '<', '5.26.0-rev10'],
    ['2.0', '>', '1.0'],
    ['1.2.3-r1', '=', '1.2.3-r1'],
  ];
  for (const [a, relation, b] of table) {
    test(`${a} ${relation} ${b}`, () => {
      const sign = Math.sign(compareVersions(a, b));
      const reverse = Math.sign(compareVersions(b, a));
      assert.equal(sign, relation === '<' ? -1 : relation === '=' ? 0 : 1);
      assert.equal(reverse + sign, 0, 'antisymmetric');
    });
  }
});

describe('parseVersion', () => {
  test('splits epoch, upstream and revision', () => {
    assert.deepEqual(parseVersion('3:1.2-3-r4'), { epoch: 3, upstream: '1.2-3', revision: 'r4' });
    assert.deepEqual(parseVersion('1.0'), { epoch: 0, upstream: '1.0', revision: '' });
  });
  for (const bad of [
    '',
    'abc',
    '1.0 beta',
    'x:1.0',
    '1.0-',
    '1.0-r_1',
    `1.${'0'.repeat(300)}`,
    '1.0\u001b',
  ]) {
    test(`refuses ${JSON.stringify(bad.slice(0, 20))}`, () => {
      assert.throws(
        () => parseVersion(bad),
        (e: unknown) =>
          e instanceof FormatError && e.code === 'WMOPKG_BAD_VERSION' && !/\u001b/.test(e.message),
      );
    });
  }
});

describe('Depends', () => {
  test('parses groups, alternatives and relations', () => {
    const deps = parseDepends('firmware (>= 5.20), libc | musl (<< 2), busybox:any, old (> 1)');
    assert.deepEqual(deps, [
      [{ name: 'firmware', relation: '>=', version: '5.20' }],
      [{ name: 'libc' }, { name: 'musl', relation: '<<', version: '2' }],
      [{ name: 'busybox' }],
      [{ name: 'old', relation: '>=', version: '1' }],
    ]);
    assert.equal(formatDependency(deps[0]![0]!), 'firmware (>= 5.20)');
    assert.deepEqual(parseDepends('  '), []);
  });
  const checks: Array<[string, '<<' | '<=' | '=' | '>=' | '>>', string, boolean]> = [
    ['5.26.0', '>=', '5.20', true],
    ['5.19', '>=', '5.20', false],
    ['5.20', '>>', '5.20', false],
    ['5.20', '<=', '5.20', true],
    ['5.20', '=', '5.20.0', false],
    ['5.19', '<<', '5.20', true],
  ];
  for (const [version, relation, reference, expected] of checks) {
    test(`${version} ${relation} ${reference} is ${expected}`, () => {
      assert.equal(satisfies(version, relation, reference), expected);
    });
  }
  for (const bad of ['firmware (>= )', 'Firmware', 'a (~> 1)', 'a,,b', 'a (>= 1.0']) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parseDepends(bad),
        (e: unknown) => e instanceof FormatError && e.code !== undefined,
      );
    });
  }
});
