// The feed indexer: what it writes, that a device takes it, rollout, stale files, and failures.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  indexFeed,
  parsePackagesIndex,
  parseRelease,
  verifyFeedIndex,
} from '../../firmware-sim/feeds/index.js';
import { writePackage } from '../../firmware-sim/format/index.js';
import { controlFields, smallData, vendor, vendorTrust } from '../helpers/format-fixtures.js';

let dir: string;

async function build(path: string, fields: Record<string, string>): Promise<void> {
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writePackage(
    { control: controlFields(fields), data: smallData(), mtime: 1_700_000_000, sign: vendor.secretKey },
    join(dir, path),
  );
}

async function read(name: string): Promise<Buffer> {
  return readFile(join(dir, name));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'feed-index-'));
  await build('b_2.1_all.wmopkg', { Package: 'b', Version: '2.1' });
  await build('a_1.0_all.wmopkg', { Package: 'a', Version: '1.0', Depends: 'b (>= 2.0)' });
  await build('sub/b_1.4_all.wmopkg', { Package: 'b', Version: '1.4' });
  await build('.hidden/x_1.0_all.wmopkg', { Package: 'x', Version: '1.0' });
  await writeFile(join(dir, 'README'), 'not a package\n');
});

after(() => rm(dir, { recursive: true, force: true }));

describe('indexFeed', () => {
  const now = new Date('2026-12-05T12:00:00Z');

  test('writes Packages, Packages.gz, Packages.sig, Release, Release.sig that a device takes', async () => {
    const result = await indexFeed(dir, { sign: vendor.secretKey, validForDays: 7, now, concurrency: 2 });
    assert.equal(result.packages, 3);
    assert.deepEqual(result.written, ['Packages', 'Packages.gz', 'Packages.sig', 'Release', 'Release.sig']);
    const packages = await read('Packages');
    const verified = verifyFeedIndex(
      {
        packages,
        packagesSig: await read('Packages.sig'),
        release: await read('Release'),
        releaseSig: await read('Release.sig'),
      },
      { trust: vendorTrust, now },
    );
    assert.equal(verified.freshness.state, 'protected');
    const release = parseRelease(await read('Release'));
    assert.equal(release.control.get('Valid-Until'), 'Sat, 12 Dec 2026 12:00:00 +0000');
    assert.deepEqual(gunzipSync(await read('Packages.gz')), packages);
  });

  test('one stanza per package, sorted, control fields as given (in their order), Filename relative to the feed', async () => {
    const { packages, problems } = await parsePackagesIndex(await read('Packages'));
    assert.deepEqual(problems, []);
    assert.deepEqual(
      packages.map((p) => [p.name, p.version, p.filename]),
      [
        ['a', '1.0', 'a_1.0_all.wmopkg'],
        ['b', '1.4', 'sub/b_1.4_all.wmopkg'],
        ['b', '2.1', 'b_2.1_all.wmopkg'],
      ],
    );
    const a = packages[0]!;
    const bytes = await read('a_1.0_all.wmopkg');
    assert.equal(a.size, bytes.length);
    assert.equal(a.sha256, (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
    assert.equal(a.control.get('Maintainer'), 'Example <dev@example.com>');
    assert.equal(a.control.get('Description'), 'Says hello\n A longer description.');
    assert.deepEqual(
      a.control.fields.map(([name]) => name),
      [
        'Package',
        'Version',
        'Architecture',
        'Maintainer',
        'Filename',
        'Size',
        'SHA256sum',
        'Description',
        'Depends',
      ],
    );
  });

  test('--rollout sets Rollout on the newest version of the package only', async () => {
    await indexFeed(dir, { sign: vendor.secretKey, rollout: new Map([['b', 10]]) });
    const { packages } = await parsePackagesIndex(await read('Packages'));
    assert.deepEqual(
      packages.map((p) => [p.name, p.version, p.rollout]),
      [
        ['a', '1.0', undefined],
        ['b', '1.4', undefined],
        ['b', '2.1', 10],
      ],
    );
  });

  test('without --valid-for an earlier Release is removed (it would not match), without --sign the signature', async () => {
    await indexFeed(dir, { sign: vendor.secretKey, validForDays: 1 });
    const signedOnly = await indexFeed(dir, { sign: vendor.secretKey });
    assert.deepEqual(signedOnly.removed, ['Release', 'Release.sig']);
    const unsigned = await indexFeed(dir);
    assert.deepEqual(unsigned.removed, ['Packages.sig']);
    const names = await readdir(dir);
    assert.ok(!names.some((name) => name.startsWith('.tmp-')), 'no temporary file is left');
    assert.ok(names.includes('Packages') && names.includes('Packages.gz'));
  });

  const failures: Array<{
    title: string;
    setup?: () => Promise<void>;
    options: Parameters<typeof indexFeed>[1];
    message: RegExp;
  }> = [
    {
      title: 'an unknown package in --rollout',
      options: { rollout: new Map([['zz', 5]]) },
      message: /^--rollout zz: no package zz in the feed$/,
    },
    {
      title: 'a rollout over 100 %',
      options: { rollout: new Map([['a', 150]]) },
      message: /expected a percentage from 0 to 100/,
    },
    {
      title: 'a zero validity',
      options: { validForDays: 0 },
      message: /^--valid-for 0: expected a number of days above 0$/,
    },
  ];
  for (const { title, options, message } of failures) {
    test(`refused: ${title}, and the index in place is untouched`, async () => {
      const before = await read('Packages');
      await assert.rejects(indexFeed(dir, options), { code: 'FEED_INDEX_BUILD', message });
      assert.deepEqual(await read('Packages'), before);
    });
  }

  test('a package that does not read stops the index, naming it; nothing is changed', async () => {
    const before = await read('Packages');
    const good = await read('a_1.0_all.wmopkg');
    await writeFile(join(dir, 'broken.wmopkg'), good.subarray(0, good.length - 10));
    try {
      await assert.rejects(indexFeed(dir), { code: 'FEED_INDEX_BUILD', message: /^broken\.wmopkg: / });
      assert.deepEqual(await read('Packages'), before);
      assert.ok(!(await readdir(dir)).some((name) => name.startsWith('.tmp-')));
    } finally {
      await rm(join(dir, 'broken.wmopkg'));
    }
  });

  test('a directory that does not exist', async () => {
    await assert.rejects(indexFeed(join(dir, 'nope')), {
      code: 'FEED_INDEX_BUILD',
      message: /^cannot read /,
    });
  });
});
