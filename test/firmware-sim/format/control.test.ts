// Control file parsing: continuation lines, unknown fields kept, strictness, required fields.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FormatError, parseControl, validateControl } from '../../../firmware-sim/format/index.js';

const VALID = `Package: hello
Version: 1.0-r1
Architecture: all
Maintainer: Example <dev@example.com>
Description: Says hello
 A longer text.
 .
 Second paragraph.
X-Custom-Field: kept
Depends: firmware (>= 5.20)
`;

describe('parseControl', () => {
  test('keeps every field in order, continuation lines joined', () => {
    const control = parseControl(VALID);
    assert.deepEqual(
      control.fields.map(([name]) => name),
      ['Package', 'Version', 'Architecture', 'Maintainer', 'Description', 'X-Custom-Field', 'Depends'],
    );
    assert.equal(control.get('description'), 'Says hello\n A longer text.\n .\n Second paragraph.');
    assert.equal(control.summary, 'Says hello');
    assert.equal(control.get('x-custom-field'), 'kept');
    assert.equal(control.toString(), VALID);
    validateControl(control);
  });

  test('trailing blank lines are fine', () => {
    assert.equal(parseControl(`${VALID}\n\n`).fields.length, 7);
  });

  const table: Array<{ title: string; input: string | Buffer; pattern: RegExp }> = [
    { title: 'empty', input: '', pattern: /empty/ },
    { title: 'CRLF line ends', input: VALID.replace(/\n/g, '\r\n'), pattern: /carriage return/ },
    { title: 'duplicate field', input: `${VALID}package: again\n`, pattern: /duplicate field package/ },
    { title: 'second paragraph', input: `${VALID}\nPackage: two\n`, pattern: /second paragraph/ },
    {
      title: 'continuation first',
      input: ` orphan\n${VALID}`,
      pattern: /continuation line before any field/,
    },
    { title: 'no colon', input: 'Package hello\n', pattern: /expected "Field: value"/ },
    { title: 'bad field name', input: '#Package: x\n', pattern: /bad field name/ },
    { title: 'NUL byte', input: 'Package: a\u0000b\n', pattern: /control character/ },
    { title: 'bad UTF-8', input: Buffer.from([0x50, 0x3a, 0x20, 0xc3, 0x28, 0x0a]), pattern: /UTF-8/ },
    { title: 'huge line', input: `Package: ${'x'.repeat(65 * 1024)}\n`, pattern: /longer than 65536/ },
  ];
  for (const { title, input, pattern } of table) {
    test(`refuses ${title}`, () => {
      assert.throws(
        () => parseControl(input),
        (e: unknown) =>
          e instanceof FormatError && e.code === 'WMOPKG_BAD_CONTROL' && pattern.test(e.message),
      );
    });
  }
});

describe('validateControl', () => {
  const table: Array<[string, string, RegExp]> = [
    ['missing Maintainer', VALID.replace(/^Maintainer:.*\n/m, ''), /missing required field Maintainer/],
    [
      'missing Description',
      VALID.replace(/^Description:.*\n( .*\n)*/m, ''),
      /missing required field Description/,
    ],
    ['upper-case name', VALID.replace('Package: hello', 'Package: Hello'), /bad Package/],
    ['underscore in name', VALID.replace('Package: hello', 'Package: he_llo'), /bad Package/],
    ['bad version', VALID.replace('Version: 1.0-r1', 'Version: one'), /bad version/],
    ['bad architecture', VALID.replace('Architecture: all', 'Architecture: x86 64'), /bad Architecture/],
  ];
  for (const [title, input, pattern] of table) {
    test(`refuses ${title}`, () => {
      assert.throws(
        () => validateControl(parseControl(input)),
        (e: unknown) => e instanceof FormatError && pattern.test(e.message),
      );
    });
  }
});
