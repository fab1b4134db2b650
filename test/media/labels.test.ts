import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_MEDIA_LABELS,
  describeLabel,
  formatMediaLabel,
  formatMediaLabelArgs,
  MediaError,
  type MediaLabel,
  parseMediaLabelArgs,
  validateMediaLabel,
} from '../../media/index.js';

describe('parseMediaLabelArgs', () => {
  const good: Array<{ title: string; input: string[]; expected: MediaLabel }> = [
    { title: 'name only: any bus', input: ['external'], expected: { name: 'external', bus: 'any' } },
    { title: 'usb', input: ['my-usb', 'usb'], expected: { name: 'my-usb', bus: 'usb' } },
    {
      title: 'every option',
      input: ['fw', 'sd', 'fs-label', 'FIRMWARE', 'uuid', '1234-ABCD', 'partition', '2'],
      expected: { name: 'fw', bus: 'sd', fsLabel: 'FIRMWARE', uuid: '1234-ABCD', partition: 2 },
    },
    {
      title: 'options in any order',
      input: ['fw', 'partition', '3', 'usb', 'uuid', '0a1b2c3d-0000-4000-8000-000000000001'],
      expected: { name: 'fw', bus: 'usb', uuid: '0a1b2c3d-0000-4000-8000-000000000001', partition: 3 },
    },
    {
      title: 'keywords abbreviated to a unique prefix, any case',
      input: ['fw', 'US', 'fs', 'X', 'part', '1', 'uu', 'abcd'],
      expected: { name: 'fw', bus: 'usb', fsLabel: 'X', uuid: 'abcd', partition: 1 },
    },
    {
      title: 'fs-label with blanks (one token from the tokenizer)',
      input: ['stick', 'fs-label', 'NO NAME'],
      expected: { name: 'stick', bus: 'any', fsLabel: 'NO NAME' },
    },
    {
      title: 'a keyword as an fs-label value',
      input: ['stick', 'fs-label', 'usb'],
      expected: { name: 'stick', bus: 'any', fsLabel: 'usb' },
    },
    {
      title: 'partition 128',
      input: ['p', 'partition', '128'],
      expected: { name: 'p', bus: 'any', partition: 128 },
    },
  ];
  for (const { title, input, expected } of good) {
    test(title, () => {
      assert.deepEqual(parseMediaLabelArgs(input), expected);
    });
  }

  const bad: Array<{ title: string; input: string[]; message: string }> = [
    { title: 'nothing', input: [], message: 'media: expected a label name' },
    {
      title: 'a name with a blank',
      input: ['my usb'],
      message:
        "media: bad label name \"my usb\": use 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit, not a keyword",
    },
    { title: 'a keyword as the name', input: ['usb'], message: 'media: bad label name "usb"' },
    { title: 'a name starting with -', input: ['-x'], message: 'media: bad label name "-x"' },
    { title: 'a name of 33 characters', input: ['a'.repeat(33)], message: 'media: bad label name' },
    { title: 'a control character', input: ['a\nb'], message: 'media: bad label name "a\\x0ab"' },
    {
      title: 'an unknown keyword',
      input: ['fw', 'usb3'],
      message: 'media fw: unknown keyword "usb3", expected usb, sd, any, fs-label, uuid or partition',
    },
    {
      title: 'an ambiguous prefix',
      input: ['fw', 'u'],
      message: 'media fw: ambiguous keyword "u": usb, uuid',
    },
    { title: 'two buses', input: ['fw', 'usb', 'sd'], message: 'media fw: bus given twice: usb and sd' },
    {
      title: 'fs-label without a value',
      input: ['fw', 'fs-label'],
      message: 'media fw: fs-label needs a value',
    },
    {
      title: 'fs-label twice',
      input: ['fw', 'fs-label', 'A', 'fs-label', 'B'],
      message: 'media fw: fs-label given twice',
    },
    {
      title: 'an empty fs-label',
      input: ['fw', 'fs-label', ''],
      message: 'media fw: bad fs-label "": expected 1-255 printable characters',
    },
    {
      title: 'a uuid that is not hex',
      input: ['fw', 'uuid', 'xyz'],
      message: 'media fw: bad uuid "xyz": expected hex digits and \'-\', as lsblk shows it',
    },
    { title: 'a uuid of dashes only', input: ['fw', 'uuid', '----'], message: 'media fw: bad uuid "----"' },
    {
      title: 'partition 0',
      input: ['fw', 'partition', '0'],
      message: 'media fw: bad partition "0": expected a number from 1 to 128',
    },
    { title: 'partition 129', input: ['fw', 'partition', '129'], message: 'media fw: bad partition "129"' },
    { title: 'partition -1', input: ['fw', 'partition', '-1'], message: 'media fw: bad partition "-1"' },
    { title: 'partition 1.5', input: ['fw', 'partition', '1.5'], message: 'media fw: bad partition "1.5"' },
    {
      title: 'partition twice',
      input: ['fw', 'part', '1', 'part', '2'],
      message: 'media fw: partition given twice',
    },
    { title: 'uuid without a value', input: ['fw', 'uuid'], message: 'media fw: uuid needs a value' },
  ];
  for (const { title, input, message } of bad) {
    test(`refused: ${title}`, () => {
      assert.throws(
        () => parseMediaLabelArgs(input),
        (error: unknown) => {
          assert.ok(error instanceof MediaError);
          assert.equal(error.code, 'MEDIA_BAD_LABEL');
          assert.equal(error.name, 'MediaError');
          assert.ok(error.message.startsWith(message), `${error.message} starts with ${message}`);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
      );
    });
  }
});

describe('describeLabel: the "matches" column of show media', () => {
  const cases: Array<{ input: MediaLabel; expected: string }> = [
    { input: { name: 'external', bus: 'any' }, expected: 'any external device, first partition' },
    { input: { name: 'u', bus: 'usb', partition: 2 }, expected: 'usb device, partition 2' },
    { input: { name: 's', bus: 'sd' }, expected: 'sd card, first partition' },
    { input: { name: 'f', bus: 'usb', fsLabel: 'FIRMWARE' }, expected: 'usb device, fs-label FIRMWARE' },
    {
      input: { name: 'f', bus: 'any', fsLabel: 'FW', uuid: '1234-ABCD', partition: 1 },
      expected: 'any external device, fs-label FW, uuid 1234-ABCD, partition 1',
    },
  ];
  for (const { input, expected } of cases) {
    test(expected, () => {
      assert.equal(describeLabel(input), expected);
    });
  }
});

describe('formatting labels', () => {
  test('the default label is external, any bus, first partition', () => {
    assert.deepEqual(DEFAULT_MEDIA_LABELS, [{ name: 'external', bus: 'any' }]);
    assert.equal(formatMediaLabel(DEFAULT_MEDIA_LABELS[0]!), 'media external any');
    assert.equal(describeLabel(DEFAULT_MEDIA_LABELS[0]!), 'any external device, first partition');
  });

  const lines: Array<{ input: MediaLabel; expected: string }> = [
    {
      input: { name: 'fw', bus: 'usb', fsLabel: 'FIRMWARE', uuid: '1234-ABCD', partition: 2 },
      expected: 'media fw usb fs-label FIRMWARE uuid 1234-ABCD partition 2',
    },
    { input: { name: 'n', bus: 'any', fsLabel: 'NO NAME' }, expected: 'media n any fs-label "NO NAME"' },
    { input: { name: 'q', bus: 'sd', fsLabel: 'a"b\\c' }, expected: 'media q sd fs-label "a\\"b\\\\c"' },
    { input: { name: 'r', bus: 'sd', fsLabel: 'x;y|z#' }, expected: 'media r sd fs-label "x;y|z#"' },
  ];
  for (const { input, expected } of lines) {
    test(`formatMediaLabel: ${expected}`, () => {
      assert.equal(formatMediaLabel(input), expected);
    });
  }

  test('parse(formatArgs(label)) gives the label back, for any valid label', () => {
    const label = fc.record(
      {
        name: fc
          .stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/)
          .filter((n) => !['usb', 'sd', 'any', 'fs-label', 'uuid', 'partition'].includes(n)),
        bus: fc.constantFrom('usb' as const, 'sd' as const, 'any' as const),
        fsLabel: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s)),
        uuid: fc.stringMatching(/^[0-9A-Fa-f][0-9A-Fa-f-]{3,35}$/),
        partition: fc.integer({ min: 1, max: 128 }),
      },
      { requiredKeys: ['name', 'bus'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(label, (l) => {
        assert.deepEqual(parseMediaLabelArgs(formatMediaLabelArgs(l)), l);
        assert.deepEqual(validateMediaLabel(l), l);
      }),
    );
  });

  test('validateMediaLabel refuses a stored label that the grammar would refuse', () => {
    assert.throws(() => validateMediaLabel({ name: 'x', bus: 'usb', partition: 0 }), /bad partition "0"/);
    assert.throws(
      () => validateMediaLabel({ name: 'x', bus: 'floppy' as 'usb' }),
      /unknown keyword "floppy"/,
    );
  });
});
