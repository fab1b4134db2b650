// The one rule per value of common/: bytes, hosts, package names, media labels, text escaping (table-driven).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBytes } from '../../common/bytes.js';
import { bracketHost, formatHostPort } from '../../common/host.js';
import { isLabelName, mediaLabelProblem } from '../../common/media-label.js';
import { isPackageName } from '../../common/package-name.js';
import { clip, oneLine, printable, shown } from '../../common/text.js';

describe('formatBytes', () => {
  const cases: ReadonlyArray<[number, string]> = [
    [0, '0 bytes'],
    [512, '512 bytes'],
    [1023, '1023 bytes'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024 + 123, '5.0 MiB'],
    [2 ** 31, '2.0 GiB'],
    [2 ** 50, '1024.0 TiB'],
  ];
  for (const [n, expected] of cases) test(`${n} → ${expected}`, () => assert.equal(formatBytes(n), expected));
});

describe('hosts next to a port', () => {
  const cases: ReadonlyArray<[string, number | undefined, string]> = [
    ['192.0.2.1', 21, '192.0.2.1:21'],
    ['ftp.example.com', undefined, 'ftp.example.com'],
    ['2001:db8::1', 21, '[2001:db8::1]:21'],
    ['fe80::1%eth0', undefined, '[fe80::1%eth0]'],
  ];
  for (const [host, port, expected] of cases) {
    test(`${host} ${port ?? ''} → ${expected}`, () => assert.equal(formatHostPort(host, port), expected));
  }
  test('bracketHost alone', () => assert.equal(bracketHost('::1'), '[::1]'));
});

describe('package names', () => {
  const cases: ReadonlyArray<[string, boolean]> = [
    ['hello', true],
    ['lib.x+y-1', true],
    ['0day', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['Hello', false],
    ['he_llo', false],
    ['.hidden', false],
    ['-x', false],
    ['', false],
    ['a/b', false],
    ['a b', false],
  ];
  for (const [name, ok] of cases)
    test(`${JSON.stringify(name)}: ${ok}`, () => assert.equal(isPackageName(name), ok));
});

describe('media labels', () => {
  const names: ReadonlyArray<[string, boolean]> = [
    ['external', true],
    ['my.usb_2-x', true],
    ['a'.repeat(32), true],
    ['a'.repeat(33), false],
    ['usb', false],
    ['fs-label', false],
    ['-x', false],
    ['my usb', false],
  ];
  for (const [name, ok] of names)
    test(`name ${JSON.stringify(name)}: ${ok}`, () => assert.equal(isLabelName(name), ok));
  const labels = [
    { label: { name: 'x', bus: 'usb' as const, fsLabel: 'a"b\\c' }, problem: undefined },
    { label: { name: 'x', bus: 'usb' as const, fsLabel: 'F'.repeat(255) }, problem: undefined },
    { label: { name: 'x', bus: 'usb' as const, fsLabel: 'F'.repeat(256) }, problem: /bad fs-label/ },
    { label: { name: 'x', bus: 'usb' as const, fsLabel: 'a\u0007' }, problem: /bad fs-label "a\\x07"/ },
    { label: { name: 'x', bus: 'floppy' as 'usb' }, problem: /bus must be usb, sd or any, not "floppy"/ },
    { label: { name: 'x', bus: 'sd' as const, uuid: '1234-ABCD' }, problem: undefined },
    { label: { name: 'x', bus: 'sd' as const, uuid: '----' }, problem: /bad uuid "----"/ },
    { label: { name: 'x', bus: 'any' as const, partition: 128 }, problem: undefined },
    { label: { name: 'x', bus: 'any' as const, partition: 0 }, problem: /bad partition "0"/ },
    { label: { name: 'x', bus: 'any' as const, partition: 1.5 }, problem: /bad partition "1.5"/ },
  ];
  for (const { label, problem } of labels) {
    test(`label ${JSON.stringify(label)}`, () => {
      const got = mediaLabelProblem(label);
      if (problem === undefined) assert.equal(got, undefined);
      else assert.match(got ?? '', problem);
    });
  }
});

describe('text made safe for one line', () => {
  test('printable escapes C0, DEL and C1, nothing else', () => {
    assert.equal(printable('a\x1b[2Jb\x7f\x9bé\t'), 'a\\x1b[2Jb\\x7f\\x9bé\\x09');
  });
  test('clip cuts at characters, not UTF-16 units', () => {
    assert.equal(clip('x'.repeat(80)), 'x'.repeat(80));
    assert.equal(clip('x'.repeat(81)), `${'x'.repeat(79)}…`);
    assert.equal(clip('😀'.repeat(50)), '😀'.repeat(50));
  });
  test('shown escapes, then cuts', () =>
    assert.equal(shown('\x07'.repeat(30), 10), `${'\\x07'.repeat(2)}\\…`));
  test('oneLine joins lines, escapes the rest, cuts at max', () => {
    assert.equal(oneLine('  first\r\n   second \n\nthird\x1b  '), 'first second third\\x1b');
    assert.equal(oneLine('a b', 100), 'a b');
    assert.equal(oneLine('abcdef', 4), 'abc…');
  });
});
