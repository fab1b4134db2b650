// Text a package writes, shown by the shell on the real device: control fields that pose as the
// device's, East Asian wide characters, TABs, escape sequences and bidi controls.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writePackage } from '../../firmware-sim/format/index.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-text-'));
/** The packages of these tests, by path, served at 192.0.2.50. */
let files: Record<string, string> = {};

/** Columns a line takes on a terminal: the CJK ideographs of these tests take two. */
function columns(line: string): number {
  return [...line].reduce((n, c) => n + (/\p{Script=Han}/u.test(c) ? 2 : 1), 0);
}

async function unsigned(name: string, fields: ReadonlyArray<readonly [string, string]>): Promise<string> {
  const path = join(temp, 'srv', `${name}.wmopkg`);
  mkdirSync(join(temp, 'srv'), { recursive: true });
  await writePackage(
    {
      control: [
        ['Package', name],
        ['Version', '1.0'],
        ['Architecture', 'all'],
        ['Maintainer', 'Someone <someone@example.com>'],
        ...fields,
      ],
      data: [{ name: './opt/x', type: 'file', content: 'x' }],
      mtime: 1_700_000_000,
    },
    path,
  );
  return path;
}

before(async () => {
  files = {
    'spoof.wmopkg': await unsigned('spoof', [
      ['Description', 'Looks signed'],
      ['State', 'active'],
      ['Verification', 'Signed'],
      ['Signing-key', '5e8c1a3b9d0f2e47'],
    ]),
    'wide.wmopkg': await unsigned('wide', [['Description', '中'.repeat(60)]]),
    'tricky.wmopkg': await unsigned('tricky', [
      ['Description', 'tab\there \u202eexe.gpj \u009b31m c1 end'],
      ['X-Note', 'right\u2067to\u2069left'],
    ]),
  };
});

after(() => rmSync(temp, { recursive: true, force: true }));

function edgesh(lines: readonly string[]) {
  return runEdgesh({
    stdin: `${lines.join('\n')}\n`,
    world: { servers: { '192.0.2.50': { protos: ['ftp'], files } } },
  });
}

test('show PKGNAME: the device speaks at the start of a line; control fields named like its facts cannot pose as them', () => {
  const r = edgesh(['package', 'install 192.0.2.50 spoof.wmopkg', 'show spoof']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  // One line of each fact starts a line, the device's, whatever the package says.
  assert.deepEqual(
    lines.filter((l) => /^(State|Verification|Signing[ -]key)\b/i.test(l)),
    [
      'State:        pending, will not be activated: unsigned, allow-untrusted is off',
      'Verification: Unsigned (no signature)',
      'Signing key:  none',
    ],
  );
  const heading = lines.indexOf('Control fields, as the package states them:');
  assert.ok(heading > 0, r.stdout);
  assert.ok(lines.indexOf('Verification: Unsigned (no signature)') < heading);
  // The package's own words, indented below the heading.
  assert.match(r.stdout, /^ {2}Verification: +Signed$/m);
  assert.match(r.stdout, /^ {2}State: +active$/m);
  assert.match(r.stdout, /^ {2}Signing-key: +5e8c1a3b9d0f2e47$/m);
  for (const l of lines.slice(heading + 1).filter((l) => l !== '')) assert.match(l, /^ {2}\S/);
});

test('tables measure East Asian wide characters: a row of CJK stays within 80 columns', () => {
  const r = edgesh(['package', 'install 192.0.2.50 wide.wmopkg', 'show', 'do reboot', 'y']);
  assert.equal(r.status, 0, r.stderr);
  const table = r.stdout.split('\n').filter((l) => /^[╒│└]/.test(l));
  assert.ok(table.length >= 6, r.stdout);
  for (const l of table) assert.ok(columns(l) <= 80, `${columns(l)}: ${l}`);
  // The box closes in one column: every row as wide as its border.
  const packages = table.slice(0, 4);
  assert.deepEqual(
    packages.map(columns),
    packages.map(() => columns(packages[0]!)),
  );
  // Cut with … where the next ideograph would not fit: one blank may be left.
  assert.match(r.stdout, /│wide\* +1\.0 +False +Unsigned +中+… ?│/);
});

test('TAB, C1, escape and bidi controls from a package are escaped in tables, fields and errors', () => {
  const r = edgesh([
    'package',
    'install 192.0.2.50 tricky.wmopkg',
    'show',
    'show tricky',
    'install 192.0.2.1 "ab\u202ecd.wmopkg"',
    'install 192.0.2.1 "x\ty.wmopkg"',
  ]);
  const out = r.stdout + r.stderr;
  assert.doesNotMatch(out, /[\t\u009b\u202e\u2067\u2069]/);
  assert.match(r.stdout, /│tricky\* +1\.0 +False +Unsigned +tab\\x09here \\u202eexe\.gpj/);
  assert.match(r.stdout, /^ {2}Description: +tab\\x09here \\u202eexe\.gpj \\x9b31m c1 end$/m);
  assert.match(r.stdout, /^ {2}X-Note: +right\\u2067to\\u2069left$/m);
  assert.match(r.stderr, /^Error: line 5: invalid PKGNAME\.wmopkg "ab\\u202ecd\.wmopkg": /m);
  assert.match(r.stderr, /^Error: line 6: invalid PKGNAME\.wmopkg "x\\x09y\.wmopkg": /m);
});
