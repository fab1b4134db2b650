// The Packages index parser: opkg's and Debian's stanzas, streaming, gzip, limits, bad input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  FeedError,
  type PackagesIndex,
  parsePackagesIndex,
  safeFilename,
} from '../../firmware-sim/feeds/index.js';
import { packagesText, stanzaText } from '../helpers/feed-fixtures.js';

/** What `dpkg-scanpackages -t wmopkg .` wrote for a package of `wmopkg build` on this machine. */
const DPKG_SCANPACKAGES = `Package: a
Version: 1.0
Architecture: all
Maintainer: X <x@y>
Depends: b (>= 2.0), c | d
Filename: ./a_1.0_all.wmopkg
Size: 1198
MD5sum: 079fddddaa505e8b8358ca23fc74e9c6
SHA1: fc329686a27161ac8d04a7ee579f05a9a9f7bd69
SHA256: b5979a9538e636f3bc208b1e27b16fb97651975aa09e177724347a6f1e849655
Description: pkg a
 long text

`;

/** An opkg feed stanza as OpenWrt's index script writes it. */
const OPKG = `Package: luci-app-x
Version: 1:2.3-r4
Depends: libc, luci-base (>= 0.9), libubus20230605
Source: feeds/luci/applications/luci-app-x
SourceName: luci-app-x
License: Apache-2.0
Section: luci
Architecture: arm64
Installed-Size: 16384
Filename: luci-app-x_1:2.3-r4_arm64.ipk
Size: 4096
SHA256sum: 1111111111111111111111111111111111111111111111111111111111111111
Description:  LuCI support for X
 .
 Second paragraph.
`;

async function parse(text: string | Buffer, chunk = 1 << 20): Promise<PackagesIndex> {
  const bytes = Buffer.from(text);
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  }
  return parsePackagesIndex(chunks());
}

async function rejects(text: string | Buffer, code: string, message: RegExp): Promise<void> {
  await assert.rejects(parse(text), (error: unknown) => {
    assert.ok(error instanceof FeedError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('Packages: what the tools write', () => {
  test("dpkg-scanpackages' stanza: SHA256, ./ in Filename, every field kept as given", async () => {
    const { packages, problems } = await parse(DPKG_SCANPACKAGES);
    assert.deepEqual(problems, []);
    const [a] = packages;
    assert.equal(a!.name, 'a');
    assert.equal(a!.filename, 'a_1.0_all.wmopkg');
    assert.equal(a!.size, 1198);
    assert.equal(a!.sha256, 'b5979a9538e636f3bc208b1e27b16fb97651975aa09e177724347a6f1e849655');
    assert.deepEqual(a!.depends, [
      [{ name: 'b', relation: '>=', version: '2.0' }],
      [{ name: 'c' }, { name: 'd' }],
    ]);
    assert.deepEqual(
      a!.control.fields.map(([name]) => name),
      [
        'Package',
        'Version',
        'Architecture',
        'Maintainer',
        'Depends',
        'Filename',
        'Size',
        'MD5sum',
        'SHA1',
        'SHA256',
        'Description',
      ],
    );
    assert.equal(a!.control.get('Filename'), './a_1.0_all.wmopkg', 'the field itself is kept as given');
    assert.equal(a!.control.get('Description'), 'pkg a\n long text');
  });

  test("opkg's stanza: SHA256sum, epoch, continuation lines with ' .'", async () => {
    const { packages, problems } = await parse(OPKG);
    assert.deepEqual(problems, []);
    const [x] = packages;
    assert.equal(x!.version, '1:2.3-r4');
    assert.equal(x!.architecture, 'arm64');
    assert.equal(x!.sha256, '1'.repeat(64));
    assert.equal(x!.control.get('Description'), 'LuCI support for X\n .\n Second paragraph.');
    assert.equal(x!.control.get('installed-size'), '16384', 'lookups ignore case');
  });

  test('several stanzas, blank lines between and around, no final newline', async () => {
    const text = `\n\n${DPKG_SCANPACKAGES}\n\n${OPKG.trimEnd()}`;
    const { packages } = await parse(text);
    assert.deepEqual(
      packages.map((p) => p.name),
      ['a', 'luci-app-x'],
    );
  });

  test('Pre-Depends joins Depends; Breaks joins Conflicts; Provides, Replaces, Recommends, Rollout', async () => {
    const { packages } = await parse(
      stanzaText({
        Package: 'p',
        Version: '1',
        'Pre-Depends': 'base',
        Depends: 'lib (>> 1)',
        Recommends: 'extra | other',
        Conflicts: 'old',
        Breaks: 'older (<< 2)',
        Provides: 'virt, api (= 3.1)',
        Replaces: 'old',
        Rollout: '10',
      }),
    );
    const [p] = packages;
    assert.deepEqual(p!.depends, [[{ name: 'base' }], [{ name: 'lib', relation: '>>', version: '1' }]]);
    assert.deepEqual(p!.recommends, [[{ name: 'extra' }, { name: 'other' }]]);
    assert.deepEqual(p!.conflicts, [{ name: 'old' }, { name: 'older', relation: '<<', version: '2' }]);
    assert.deepEqual(p!.provides, [{ name: 'virt' }, { name: 'api', relation: '=', version: '3.1' }]);
    assert.deepEqual(p!.replaces, [{ name: 'old' }]);
    assert.equal(p!.rollout, 10);
  });
});

describe('Packages: a stanza that cannot be used is left out, the rest is kept', () => {
  const table: Array<{ title: string; fields: Record<string, string>; reason: RegExp }> = [
    { title: 'no Package', fields: { Package: '', Version: '1' }, reason: /no Package field/ },
    { title: 'bad name', fields: { Package: 'Bad_Name', Version: '1' }, reason: /bad package name/ },
    { title: 'no Version', fields: { Package: 'p', Version: '' }, reason: /p: no Version/ },
    { title: 'bad Version', fields: { Package: 'p', Version: 'abc' }, reason: /p: bad version "abc"/ },
    { title: 'no Filename', fields: { Package: 'p', Version: '1', Filename: '' }, reason: /no Filename/ },
    {
      title: 'Filename leaving the feed',
      fields: { Package: 'p', Version: '1', Filename: '../etc/passwd' },
      reason: /unsafe Filename "\.\.\/etc\/passwd"/,
    },
    {
      title: 'absolute Filename',
      fields: { Package: 'p', Version: '1', Filename: '/p.wmopkg' },
      reason: /unsafe Filename/,
    },
    {
      title: 'Size not a number',
      fields: { Package: 'p', Version: '1', Size: '12k' },
      reason: /no Size field/,
    },
    {
      title: 'no SHA-256 (an MD5-only feed)',
      fields: { Package: 'p', Version: '1', SHA256sum: '', MD5sum: '0'.repeat(32) },
      reason: /no SHA256sum \(or SHA256\) field/,
    },
    {
      title: 'short SHA-256',
      fields: { Package: 'p', Version: '1', SHA256sum: 'abc' },
      reason: /not 64 hex digits/,
    },
    {
      title: 'bad relation',
      fields: { Package: 'p', Version: '1', Depends: 'b (=> 1)' },
      reason: /bad relation "b \(=> 1\)" in Depends/,
    },
    {
      title: 'alternatives in Conflicts',
      fields: { Package: 'p', Version: '1', Conflicts: 'a | b' },
      reason: /alternatives are not allowed here/,
    },
    {
      title: 'a relation other than = in Provides',
      fields: { Package: 'p', Version: '1', Provides: 'v (>= 1)' },
      reason: /only "=" is allowed in Provides/,
    },
    {
      title: 'Rollout over 100',
      fields: { Package: 'p', Version: '1', Rollout: '101' },
      reason: /Rollout is not a percentage/,
    },
    {
      title: 'bad Architecture',
      fields: { Package: 'p', Version: '1', Architecture: 'ARM 64' },
      reason: /bad Architecture/,
    },
  ];
  for (const { title, fields, reason } of table) {
    test(title, async () => {
      const text = packagesText([
        { Package: 'first', Version: '1' },
        fields,
        { Package: 'last', Version: '2' },
      ]);
      const { packages, problems } = await parse(text);
      assert.deepEqual(
        packages.map((p) => p.name),
        ['first', 'last'],
      );
      assert.equal(problems.length, 1);
      assert.match(problems[0]!.reason, reason);
      assert.ok(problems[0]!.line > 1, 'the problem names the line of its stanza');
    });
  }
});

describe('Packages: text that is not an index is refused whole, naming the line', () => {
  const ok = stanzaText({ Package: 'a', Version: '1' });
  const table: Array<{ title: string; text: string | Buffer; code: string; message: RegExp }> = [
    {
      title: 'carriage returns',
      text: ok.replace(/\n/g, '\r\n'),
      code: 'FEED_BAD_INDEX',
      message: /line 1: carriage return/,
    },
    {
      title: 'a control character',
      text: `${ok}\nPackage: b\u001b[2J\n`,
      code: 'FEED_BAD_INDEX',
      message: /line 8: control character/,
    },
    {
      title: 'invalid UTF-8',
      text: Buffer.concat([Buffer.from(ok), Buffer.from([0xff, 0xfe, 0x0a])]),
      code: 'FEED_BAD_INDEX',
      message: /not valid UTF-8/,
    },
    {
      title: 'a continuation line first',
      text: ` indented\n${ok}`,
      code: 'FEED_BAD_INDEX',
      message: /line 1: continuation line before any field/,
    },
    {
      title: 'a line without a colon',
      text: `${ok}garbage\n`,
      code: 'FEED_BAD_INDEX',
      message: /line 7: expected "Field: value", got "garbage"/,
    },
    {
      title: 'a field twice',
      text: `${ok}Version: 2\n`,
      code: 'FEED_BAD_INDEX',
      message: /line 7: field Version given twice/,
    },
    {
      title: 'a bad field name',
      text: `${ok}Bad Name: x\n`,
      code: 'FEED_BAD_INDEX',
      message: /bad field name "Bad Name"/,
    },
  ];
  for (const { title, text, code, message } of table) {
    test(title, () => rejects(text, code, message));
  }
});

describe('Packages: limits', () => {
  test('an index of 10 MB with one huge stanza stops at the stanza limit, naming it', async () => {
    const line = ` ${'x'.repeat(99)}\n`;
    const huge = `Package: huge\nVersion: 1\nDescription: big\n${line.repeat(100_000)}`;
    const text = `${stanzaText({ Package: 'small', Version: '1' })}\n${huge}`;
    assert.ok(text.length > 10_000_000);
    await rejects(text, 'FEED_TOO_LARGE', /^Packages line 8: stanza of huge larger than 1048576 bytes$/);
  });

  test('one line of 10 MB stops at the line limit, before it is held whole', async () => {
    const text = `Package: a\nDescription: ${'y'.repeat(10_000_000)}\n`;
    await rejects(text, 'FEED_TOO_LARGE', /^Packages line 2: line longer than 262144 bytes$/);
  });

  test('the whole index has a limit too, and the caller may set all three', async () => {
    const text = packagesText(Array.from({ length: 50 }, (_, i) => ({ Package: `p${i}`, Version: '1' })));
    await assert.rejects(parsePackagesIndex(Buffer.from(text), { limits: { maxTotalBytes: 1000 } }), {
      code: 'FEED_TOO_LARGE',
      message: 'Packages: larger than 1000 bytes',
    });
    const { packages } = await parsePackagesIndex(Buffer.from(text), { limits: { maxTotalBytes: 100_000 } });
    assert.equal(packages.length, 50);
  });
});

describe('Packages.gz', () => {
  test('gzip input parses like the plain text', async () => {
    const text = `${DPKG_SCANPACKAGES}${OPKG}`;
    const plain = await parse(text);
    const gz = await parsePackagesIndex(gzipSync(text), { gzip: true });
    assert.deepEqual(
      gz.packages.map((p) => [p.name, p.version, p.sha256]),
      plain.packages.map((p) => [p.name, p.version, p.sha256]),
    );
  });

  test('corrupt and truncated gzip are refused', async () => {
    const gz = gzipSync(DPKG_SCANPACKAGES);
    await assert.rejects(parsePackagesIndex(gz.subarray(0, gz.length - 9), { gzip: true }), {
      code: 'FEED_BAD_INDEX',
      message: /^Packages\.gz: not valid gzip data/,
    });
    const corrupt = Buffer.from(gz);
    corrupt[20] ^= 0xff;
    await assert.rejects(parsePackagesIndex(corrupt, { gzip: true }), { code: 'FEED_BAD_INDEX' });
  });

  test('a gzip bomb stops at the uncompressed limit', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x61));
    assert.ok(bomb.length < 1024 * 1024);
    await assert.rejects(parsePackagesIndex(bomb, { gzip: true }), { code: 'FEED_TOO_LARGE' });
  });
});

describe('Packages: properties', () => {
  const fieldName = fc.stringMatching(/^X-[A-Za-z][A-Za-z0-9-]{0,10}$/);
  const value = fc.stringMatching(/^[!-~][ -~]{0,40}$/).map((v) => v.trimEnd());
  const continuation = fc.array(fc.stringMatching(/^ [!-~][ -~]{0,30}$/), { maxLength: 3 });
  const extra = fc.uniqueArray(fc.tuple(fieldName, value, continuation), {
    selector: ([name]) => name.toLowerCase(),
    maxLength: 5,
  });

  test('every field comes back as given, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(extra, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 64 }),
        async (stanzas, chunk) => {
          const fields = stanzas.map((extras, i) => [
            ['Package', `p${i}`],
            ['Version', '1.0'],
            ...extras.map(([name, v, lines]) => [name, [v, ...lines].join('\n')]),
          ]);
          const text = fields
            .map(
              (list) =>
                `${stanzaText(Object.fromEntries(list.slice(0, 2)))}${list
                  .slice(2)
                  .map(([n, v]) => `${n}: ${v}\n`)
                  .join('')}`,
            )
            .join('\n');
          const { packages, problems } = await parse(text, chunk);
          assert.deepEqual(problems, []);
          assert.equal(packages.length, fields.length);
          for (const [i, pkg] of packages.entries()) {
            for (const [name, v] of fields[i]!.slice(2)) assert.equal(pkg.control.get(name!), v);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('safeFilename never lets a path leave the feed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '..', '.', '', 'b.wmopkg', '/', '\\'), { maxLength: 6 }),
        (parts) => {
          const result = safeFilename(parts.join('/'));
          if (result === undefined) return;
          assert.ok(!result.startsWith('/'));
          assert.ok(!result.split('/').some((s) => s === '..' || s === '.' || s === ''));
          assert.ok(!result.includes('\\'));
        },
      ),
    );
  });
});
