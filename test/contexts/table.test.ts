import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, renderFields, renderTable } from '../../contexts/table.js';

const COLUMNS = ['NAME', 'VERSION', 'PERSISTENT', 'VERIFICATION', 'DESCRIPTION'];

test('the package table of the manual, character for character', () => {
  const lines = renderTable(
    { title: 'Packages', columns: COLUMNS, rows: [['pkgname', '5.26.0-rev0', 'False', 'Signed', 'Example']] },
    { width: 80, ascii: false },
  );
  assert.deepEqual(lines, [
    '╒ Packages ═══════════════════════════════════════════════════════════╕',
    '│NAME     VERSION      PERSISTENT  VERIFICATION  DESCRIPTION          │',
    '│pkgname  5.26.0-rev0  False       Signed        Example              │',
    '└─────────────────────────────────────────────────────────────────────┘',
  ]);
});

test('ASCII fallback draws the same table with plain characters', () => {
  const lines = renderTable(
    {
      title: 'Packages',
      columns: COLUMNS,
      rows: [['pkgname', '5.26.0-rev0', 'False', 'Signed', 'Exämple…']],
    },
    { width: 80, ascii: true },
  );
  assert.equal(lines[0], `+ Packages ${'-'.repeat(59)}+`);
  assert.equal(lines[2], '|pkgname  5.26.0-rev0  False       Signed        Ex?mple...           |');
  assert.equal(lines[3], `+${'-'.repeat(69)}+`);
  for (const l of lines) assert.match(l, /^[\x20-\x7e]*$/);
});

test('width follows the content, and the terminal caps it by cutting the last column', () => {
  const long = 'A description that is much longer than the vendor layout of seventy-one columns';
  const wide = renderTable(
    { title: 'Packages', columns: COLUMNS, rows: [['p', '1', 'True', 'Unsigned', long]] },
    { width: 200, ascii: false },
  );
  assert.ok(wide.every((l) => [...l].length === [...wide[0]!].length));
  assert.ok(wide[2]!.includes(long));
  const narrow = renderTable(
    { title: 'Packages', columns: COLUMNS, rows: [['p', '1', 'True', 'Unsigned', long]] },
    { width: 60, ascii: false },
  );
  for (const l of narrow) assert.equal([...l].length, 60);
  assert.match(narrow[2]!, /…│$/);
});

test('fields are aligned, continuation lines indented', () => {
  assert.deepEqual(
    renderFields([
      ['Package', 'x'],
      ['Description', 'first\nsecond'],
    ]),
    ['Package:     x', 'Description: first', '             second'],
  );
});

test('uptime reads like uptime(1)', () => {
  assert.equal(duration(59_000), '00:00:59');
  assert.equal(duration(((2 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000), '2 days, 03:04:05');
  assert.equal(duration(-5), '00:00:00');
});

test('a wrapping table continues a long last cell on the next lines, at spaces, never past the width', () => {
  const reason = 'not activated: untrusted key 0123456789abcdef, allow-untrusted is off';
  const lines = renderTable(
    {
      title: 'Boot',
      columns: ['NAME', 'RESULT'],
      rows: [
        ['untrusted', reason],
        ['hello', 'activated'],
      ],
      wrap: true,
    },
    { width: 40, ascii: false },
  );
  assert.deepEqual(lines, [
    '╒ Boot ════════════════════════════════╕',
    '│NAME       RESULT                     │',
    '│untrusted  not activated: untrusted   │',
    '│           key 0123456789abcdef,      │',
    '│           allow-untrusted is off     │',
    '│hello      activated                  │',
    '└──────────────────────────────────────┘',
  ]);
  const unbroken = renderTable(
    { title: 'T', columns: ['A', 'B'], rows: [['x', 'y'.repeat(50)]], wrap: true },
    { width: 30, ascii: true },
  );
  assert.ok(unbroken.every((line) => line.length === 30));
  assert.equal(
    unbroken
      .slice(2, -1)
      .map((l) => l.slice(4, -1).trimEnd())
      .join(''),
    'y'.repeat(50),
  );
});
