// The updater's files on table-driven cases: the request file, the settings file, which request
// counts for a name, and the shortcut file of edgesh-updater (what a shell script may be handed).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeviceError } from '../../../firmware-sim/errors.js';
import { formatCurrent } from '../../../firmware-sim/updater/fast-path.js';
import {
  effectiveRequests,
  formatRequests,
  parseRequests,
  type StoredRequest,
} from '../../../firmware-sim/updater/requests.js';
import { formatSettings, parseSettings } from '../../../firmware-sim/updater/settings.js';

const corrupt = (match: RegExp) => (e: unknown) =>
  e instanceof DeviceError && e.code === 'DEVICE_CORRUPT_STATE' && match.test(e.message);

describe('etc/updater/requests', () => {
  const good: Array<{ title: string; input: string; expected: StoredRequest[] }> = [
    { title: 'empty, comments and blank lines', input: '# comment\n\n   \n', expected: [] },
    {
      title: 'an install with a version and a priority',
      input: 'install a version >= 2.0 priority 60\n',
      expected: [
        {
          kind: 'install',
          name: 'a',
          constraint: { relation: '>=', version: '2.0' },
          priority: 60,
          source: 'explicit',
        },
      ],
    },
    {
      title: 'priority before version, epoch and revision in the version',
      input: 'install a priority 0 version << 1:2.0-r3',
      expected: [
        {
          kind: 'install',
          name: 'a',
          constraint: { relation: '<<', version: '1:2.0-r3' },
          priority: 0,
          source: 'explicit',
        },
      ],
    },
    {
      title: 'an uninstall, default priority',
      input: 'uninstall telnetd',
      expected: [{ kind: 'uninstall', name: 'telnetd', priority: 50, source: 'explicit' }],
    },
    {
      title: 'a recorded request',
      input: 'recorded install netdiag',
      expected: [{ kind: 'install', name: 'netdiag', priority: 50, source: 'package' }],
    },
  ];
  for (const c of good) {
    test(c.title, () => {
      const parsed = parseRequests(c.input);
      assert.deepEqual(parsed, c.expected);
      assert.deepEqual(parseRequests(formatRequests(parsed)), parsed, 'format then parse gives the same');
    });
  }

  const bad: Array<{ title: string; input: string; match: RegExp }> = [
    {
      title: 'an unknown word',
      input: 'install a\nfrobnicate b',
      match: /line 2: unknown request "frobnicate"/,
    },
    { title: 'a name alone', input: 'install', match: /line 1: expected "install NAME"/ },
    { title: 'a bad name', input: 'install ../x', match: /line 1: bad package name "\.\.\/x"/ },
    { title: 'a priority over 100', input: 'install a priority 101', match: /bad priority 101/ },
    {
      title: 'a version on an uninstall',
      input: 'uninstall a version >= 1',
      match: /only an install request takes a version/,
    },
    { title: 'a bad relation', input: 'install a version ~ 1', match: /bad version relation "~"/ },
    { title: 'a bad version', input: 'install a version >= 1_2', match: /line 1: bad version "1_2"/ },
    { title: 'a word left over', input: 'install a priority 5 extra', match: /unexpected "extra"/ },
    { title: 'a control character', input: 'install a\u001b[2J', match: /bad package name "a\\x1b\[2J"/ },
  ];
  for (const c of bad) {
    test(`refused, and the updater stops: ${c.title}`, () => {
      assert.throws(() => parseRequests(c.input), corrupt(c.match));
      assert.throws(
        () => parseRequests(c.input),
        corrupt(/the updater does nothing until the line is fixed or removed/),
      );
    });
  }

  test('which request counts: explicit over recorded over local, by name', () => {
    const stored: StoredRequest[] = [
      { kind: 'install', name: 'b', priority: 50, source: 'package' },
      { kind: 'uninstall', name: 'b', priority: 70, source: 'explicit' },
      { kind: 'install', name: 'c', priority: 50, source: 'package' },
    ];
    const effective = effectiveRequests(stored, [
      { name: 'a', version: '1.0' },
      { name: 'c', version: '2.0' },
    ]);
    assert.deepEqual(
      effective.map((r) => `${r.source} ${r.kind} ${r.name}${r.shadowed ? ' (overridden)' : ''}`),
      [
        'local install a',
        'explicit uninstall b',
        'package install b (overridden)',
        'package install c',
        'local install c (overridden)',
      ],
    );
    assert.deepEqual(effective[0]!.constraint, { relation: '=', version: '1.0' });
  });
});

describe('etc/updater/config', () => {
  test('defaults when empty; every setting read; format then parse gives the same', () => {
    assert.deepEqual(parseSettings(''), { approval: false, delayHours: 0, reboot: 'manual' });
    const s = parseSettings('approval on\ndelay 24\nreboot auto\n');
    assert.deepEqual(s, { approval: true, delayHours: 24, reboot: 'auto' });
    assert.deepEqual(parseSettings(formatSettings(s)), s);
  });
  for (const [title, input] of [
    ['an unknown value', 'approval maybe'],
    ['a delay over a year', 'delay 9000'],
    ['a negative delay', 'delay -1'],
    ['a word left over', 'reboot auto now'],
    ['an unknown setting', 'frobnicate'],
  ] as const) {
    test(`refused, and the updater stops: ${title}`, () => {
      assert.throws(() => parseSettings(input), corrupt(/etc\/updater\/config line 1: cannot read/));
    });
  }
});

describe('var/lib/updater/current (read by a shell script)', () => {
  const result = { kind: 'nothing-to-do', planId: 'e3b0c44298fc' } as const;
  const probe = {
    feed: 'main',
    url: 'http://192.0.2.10/feed/Release',
    etag: '"5e8c1a3b-1f4"',
    lastModified: 'Sat, 05 Dec 2026 21:50:01 GMT',
  };
  test('one probe line per feed, the expiry in seconds', () => {
    const until = Date.UTC(2026, 11, 12, 21, 50, 1);
    assert.equal(
      formatCurrent([probe], until + 999, result),
      `edgesh-updater-current 1\nuntil ${until / 1000}\nresult nothing-to-do e3b0c44298fc\nprobe http://192.0.2.10/feed/Release "5e8c1a3b-1f4" Sat, 05 Dec 2026 21:50:01 GMT\n`,
    );
  });
  const refused: Array<
    [string, { url?: string; etag?: string | undefined; lastModified?: string | undefined }]
  > = [
    ['no validator at all', { etag: undefined, lastModified: undefined }],
    ['a URL with a space', { url: 'http://192.0.2.10/a feed/Release', lastModified: undefined }],
    ['a URL that is not http', { url: 'ftp://192.0.2.10/feed/Release' }],
  ];
  for (const [title, change] of refused) {
    test(`no file (every run a full one): ${title}`, () => {
      const { etag, lastModified, ...rest } = { ...probe, ...change };
      const changed = { ...rest, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
      assert.equal(formatCurrent([changed], undefined, result), undefined);
    });
  }
  test('a validator a header could not carry as it is is left out', () => {
    const text = formatCurrent([{ ...probe, etag: '"a"\r\nX-Evil: 1' }], undefined, result);
    assert.match(
      text ?? '',
      /^probe http:\/\/192\.0\.2\.10\/feed\/Release - Sat, 05 Dec 2026 21:50:01 GMT$/m,
    );
    assert.equal(formatCurrent([probe], undefined, { ...result, planId: 'not-an-id' }), undefined);
    assert.equal(formatCurrent([], undefined, result), undefined);
  });
});
