// Tables, fields and pairs: the manual's layout, widths in terminal columns, wrapping, escaping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  duration,
  renderFields,
  renderPairs,
  renderTable,
  wrapLine,
  wrapPieces,
} from '../../contexts/table.js';
import { cutTo, textWidth, wrapTo } from '../../contexts/text-width.js';

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

const PACKAGE_ROWS = [
  ['pkgname*', '5.26.0-rev0', 'False', 'Signed', 'Example'],
  ['thirdparty!', '3.1.0', 'False', 'Untrusted', 'Third-party monitoring plugin, signed by its own vendor'],
];

test('a table never exceeds the terminal, at any width from 20 to 200, in both character sets', () => {
  for (const ascii of [false, true]) {
    for (let width = 20; width <= 200; width++) {
      for (const wrap of [false, true]) {
        const lines = renderTable(
          { title: 'Packages', columns: COLUMNS, rows: PACKAGE_ROWS, wrap },
          { width, ascii },
        );
        for (const l of lines) assert.ok([...l].length <= width, `${width}: ${l}`);
      }
    }
  }
});

test('too narrow for the columns: rows become Key: value records, nothing cut', () => {
  // The reported case: five columns at 50 used to draw 52 columns.
  const lines = renderTable(
    { title: 'Packages', columns: COLUMNS, rows: PACKAGE_ROWS },
    { width: 50, ascii: false },
  );
  assert.deepEqual(lines, [
    'Packages',
    '  NAME:         pkgname*',
    '  VERSION:      5.26.0-rev0',
    '  PERSISTENT:   False',
    '  VERIFICATION: Signed',
    '  DESCRIPTION:  Example',
    '',
    '  NAME:         thirdparty!',
    '  VERSION:      3.1.0',
    '  PERSISTENT:   False',
    '  VERIFICATION: Untrusted',
    '  DESCRIPTION:  Third-party monitoring plugin,',
    '                signed by its own vendor',
  ]);
  const empty = renderTable({ title: 'Packages', columns: COLUMNS, rows: [] }, { width: 40, ascii: true });
  assert.deepEqual(empty, ['Packages', '  (none)']);
});

test('the last column is never cut into slivers: at least 12 characters, or records', () => {
  // `show media` at 40 columns cut STATUS into pieces of 4.
  const media = {
    title: 'Media',
    columns: ['LABEL', 'MATCHES', 'STATUS'],
    rows: [['external', 'any external device, first partition', 'sim-usb0 on /tmp/dev/media/usb0']],
    wrap: true,
  };
  const records = renderTable(media, { width: 40, ascii: false });
  assert.equal(records[0], 'Media');
  assert.ok(records.every((l) => [...l].length <= 40));
  const table = renderTable(media, { width: 62, ascii: false });
  assert.match(table[0]!, /^╒ Media/);
  assert.equal([...table[2]!].length, 62);
  assert.match(table[2]!, / {2}sim-usb0 on │$/);
});

test('legends wrap at spaces with a hanging indent, within the width', () => {
  const legend = '* pending: installed or changed since the last boot, takes effect at the next reboot';
  assert.deepEqual(wrapLine(legend, 80), [
    '* pending: installed or changed since the last boot, takes effect at the next',
    '  reboot',
  ]);
  for (let width = 20; width <= 90; width++) {
    const lines = wrapLine(legend, width);
    assert.ok(
      lines.every((l) => l.length <= width),
      `${width}`,
    );
    assert.equal(lines.map((l) => l.trim()).join(' '), legend);
  }
  assert.deepEqual(wrapLine('short', 80), ['short']);
});

test('help pairs wrap their text under itself, or under the key when the terminal is too narrow', () => {
  const rows: Array<[string, string]> = [
    ['persistent', 'Survive a factory reset; only remove takes it away'],
    ['proto <ftp|tftp>', 'Protocol of the remote source'],
  ];
  assert.deepEqual(renderPairs(rows, 50, 2), [
    '  persistent        Survive a factory reset; only',
    '                    remove takes it away',
    '  proto <ftp|tftp>  Protocol of the remote source',
  ]);
  assert.deepEqual(renderPairs(rows, 36, 2), [
    '  persistent',
    '      Survive a factory reset; only',
    '      remove takes it away',
    '  proto <ftp|tftp>',
    '      Protocol of the remote source',
  ]);
  // Without a width, one line a pair, as before.
  assert.deepEqual(renderPairs(rows), [
    'persistent        Survive a factory reset; only remove takes it away',
    'proto <ftp|tftp>  Protocol of the remote source',
  ]);
});

test('a usage line breaks between its pieces, continuation lines indented', () => {
  const pieces = ['install', '[persistent]', '[media <label>]', '[proto <ftp|tftp>]', 'PKGNAME.wmopkg'];
  assert.deepEqual(wrapPieces(pieces, 40, 4), [
    'install [persistent] [media <label>]',
    '    [proto <ftp|tftp>] PKGNAME.wmopkg',
  ]);
  assert.deepEqual(wrapPieces(pieces, 80, 4), [pieces.join(' ')]);
  // A piece wider than a line is broken at its spaces.
  assert.deepEqual(wrapPieces(['x', '[proto <ftp|tftp|scp|sftp>]'], 24, 4), [
    'x',
    '    [proto',
    '    <ftp|tftp|scp|sftp>]',
  ]);
});

test('display width: CJK two columns, combining marks none, Latin one', () => {
  assert.equal(textWidth('abc'), 3);
  assert.equal(textWidth('中文'), 4);
  assert.equal(textWidth('e\u0301'), 1);
  assert.equal(textWidth('ｱ'), 1); // halfwidth katakana
  assert.equal(cutTo('中'.repeat(10), 7, '…'), '中中中…');
  assert.deepEqual(wrapTo('中文 中文中文', 6), ['中文', '中文中', '文']);
});

test('a table of CJK cells is as wide as its border in columns, never wider than the terminal', () => {
  const lines = renderTable(
    {
      title: 'Packages',
      columns: ['NAME', 'DESCRIPTION'],
      rows: [
        ['wide', '中'.repeat(60)],
        ['narrow', 'x'],
      ],
    },
    { width: 80, ascii: false },
  );
  assert.deepEqual(
    lines.map(textWidth),
    lines.map(() => 80),
  );
  assert.match(lines[2]!, /^│wide {4}中+… ?│$/);
});

test('TABs, escape sequences and bidi controls in cells and fields are escaped before they are measured', () => {
  const lines = renderTable(
    { title: 'T', columns: ['A', 'B'], rows: [['x\ty', 'a\u202eb\x1b[2J']] },
    { width: 80, ascii: false },
  );
  assert.match(lines[2]!, /^│x\\x09y {2}a\\u202eb\\x1b\[2J +│$/);
  assert.equal(textWidth(lines[2]!), textWidth(lines[0]!));
  assert.deepEqual(renderFields([['Ke\ty', 'one\ttwo\nthree\u2067']], 2), [
    '  Ke\\x09y: one\\x09two',
    '           three\\u2067',
  ]);
});
