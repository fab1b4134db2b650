// Package kinds from the control file (`Tags:`): table-driven, as the parsers' tests are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkKindFields,
  FormatError,
  hotfixFirmware,
  parseControl,
  removalOf,
  removalPackageName,
} from '../../../firmware-sim/format/index.js';

const control = (extra: string, arch = 'arm64') =>
  parseControl(`Package: p\nVersion: 1\nArchitecture: ${arch}\nMaintainer: M\n${extra}Description: d\n`);

const cases: ReadonlyArray<{ title: string; input: string; arch?: string; expected: string | RegExp }> = [
  { title: 'no Tags: an ordinary package', input: '', expected: 'package' },
  { title: 'other tags only', input: 'Tags: net, admin\n', expected: 'package' },
  { title: 'firmware, any case, among others', input: 'Tags: role::core, Firmware\n', expected: 'firmware' },
  {
    title: 'a firmware for all architectures',
    input: 'Tags: firmware\n',
    arch: 'all',
    expected: /not "all"/,
  },
  {
    title: 'a firmware depending on a package',
    input: 'Tags: firmware\nDepends: libc\n',
    expected: /earlier firmware only, not on "libc"/,
  },
  {
    title: 'a firmware with an upgrade path',
    input: 'Tags: firmware\nDepends: firmware (>= 5.0)\n',
    expected: 'firmware',
  },
  {
    title: 'a hotfix for one version',
    input: 'Tags: hotfix\nDepends: firmware (= 5.26.0), libc\n',
    expected: 'hotfix',
  },
  {
    title: 'a hotfix for a range',
    input: 'Tags: hotfix\nDepends: firmware (>= 5.26.0)\n',
    expected: /exactly one/,
  },
  {
    title: 'a hotfix with alternatives',
    input: 'Tags: hotfix\nDepends: firmware (= 5.26.0) | firmware (= 5.26.1)\n',
    expected: /exactly one/,
  },
  {
    title: 'a removal package',
    input: 'Tags: removal\nRemove-Package: hello\nRemove-Backup: yes\n',
    expected: 'removal',
  },
  {
    title: 'a removal package without a target',
    input: 'Tags: removal\n',
    expected: /needs Remove-Package: NAME/,
  },
  {
    title: 'a removal package with a bad target',
    input: 'Tags: removal\nRemove-Package: ../x\n',
    expected: /bad Remove-Package "\.\.\/x"/,
  },
  {
    title: 'Remove-Backup neither yes nor no',
    input: 'Tags: removal\nRemove-Package: x\nRemove-Backup: maybe\n',
    expected: /must be yes or no/,
  },
  { title: 'two kinds', input: 'Tags: removal firmware\n', expected: /at most one of/ },
];

for (const { title, input, arch, expected } of cases) {
  test(`kind: ${title}`, () => {
    const parsed = control(input, arch);
    if (typeof expected === 'string') assert.equal(checkKindFields(parsed), expected);
    else
      assert.throws(
        () => checkKindFields(parsed),
        (e) => e instanceof FormatError && e.code === 'WMOPKG_BAD_CONTROL' && expected.test(e.message),
      );
  });
}

test('the firmware of a hotfix, the target of a removal package, the name of a removal package', () => {
  assert.equal(hotfixFirmware(control('Tags: hotfix\nDepends: firmware (= 1:5.26.0-r1)\n')), '1:5.26.0-r1');
  assert.deepEqual(removalOf(control('Remove-Package: motd\n')), { target: 'motd', backup: false });
  assert.equal(removalPackageName('hello', false), 'hello-remove');
  assert.equal(removalPackageName('hello', true), 'hello-remove-backup');
  assert.throws(() => removalPackageName('a'.repeat(52), true), /at most 64 characters/);
});
