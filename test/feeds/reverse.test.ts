// Reverse dependencies of installed packages: whatdepends, removal with dependents, autoremove.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  autoremovable,
  formatPlan,
  planAutoremove,
  planRemoval,
  whatDepends,
} from '../../firmware-sim/feeds/index.js';
import { installedPackage as inst } from '../helpers/feed-fixtures.js';

const installed = [
  inst('libc 1.0'),
  inst('libssl 3.0', { Depends: 'libc' }, { auto: true }),
  inst('curl 8.0', { Depends: 'libssl (>= 3), libc' }),
  inst('wget 1.2', { Depends: 'libssl | gnutls' }),
  inst('postfix 3.0', { Provides: 'mta' }, { auto: true }),
  inst('mailer 1.0', { Depends: 'mta' }),
  inst('docs 1.0', {}, { auto: true }),
  inst('extras 1.0', {}, { auto: true }),
  inst('tool 1.0', { Recommends: 'extras' }),
  inst('orphan-lib 1.0', { Depends: 'orphan-dep' }, { auto: true }),
  inst('orphan-dep 1.0', {}, { auto: true }),
];

describe('whatDepends', () => {
  const table: Array<{ name: string; recursive?: boolean; expected: string[] }> = [
    { name: 'libssl', expected: ['curl', 'wget'] },
    { name: 'libc', expected: ['curl', 'libssl'] },
    { name: 'libc', recursive: true, expected: ['curl', 'libssl', 'wget'] },
    { name: 'postfix', expected: ['mailer'] },
    { name: 'docs', expected: [] },
    { name: 'nothing', expected: [] },
  ];
  for (const { name, recursive, expected } of table) {
    test(`${name}${recursive ? ' (recursive)' : ''}`, () =>
      assert.deepEqual(
        whatDepends(installed, name, { recursive: recursive === true }).map((p) => p.name),
        expected,
      ));
  }
});

describe('planRemoval', () => {
  test('removing a library takes what needs it, and only that', () => {
    assert.equal(
      formatPlan(planRemoval(installed, ['libssl'])),
      'Remove: curl 8.0 (needs libssl (>= 3), which is removed), wget 1.2 (needs libssl | gnutls, which is removed), libssl 3.0 (uninstall requested)',
    );
  });
  test('removing a provider of a virtual package takes its users', () => {
    assert.equal(
      formatPlan(planRemoval(installed, ['postfix'])),
      'Remove: mailer 1.0 (needs mta, which is removed), postfix 3.0 (uninstall requested)',
    );
  });
  test('removing something nobody needs removes just it', () => {
    assert.equal(formatPlan(planRemoval(installed, ['docs'])), 'Remove: docs 1.0 (uninstall requested)');
  });
  test('the named packages are removed last, after their dependents', () => {
    const plan = planRemoval(installed, ['libc']);
    assert.equal(plan.steps.at(-1)!.name, 'libc');
    assert.deepEqual(plan.steps.map((s) => s.name).sort(), ['curl', 'libc', 'libssl', 'wget']);
  });
});

describe('autoremove', () => {
  test('dependencies nothing installed on purpose needs any more', () => {
    assert.deepEqual(
      autoremovable(installed).map((p) => p.name),
      ['docs', 'orphan-dep', 'orphan-lib'],
    );
  });
  test('recommended packages stay unless recommends do not count', () => {
    assert.ok(!autoremovable(installed).some((p) => p.name === 'extras'));
    assert.ok(autoremovable(installed, { recommends: false }).some((p) => p.name === 'extras'));
  });
  test('the plan says why', () => {
    assert.equal(
      formatPlan(planAutoremove(installed)),
      'Remove: docs 1.0 (no longer needed), orphan-dep 1.0 (no longer needed), orphan-lib 1.0 (no longer needed)',
    );
  });
});
