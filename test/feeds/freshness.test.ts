// Taking a feed index: signatures, Release hashes, expiry, rollback, and what each refusal says.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  type FeedIndexFiles,
  type FreshnessOptions,
  formatRfc2822,
  verifyFeedIndex,
} from '../../firmware-sim/feeds/index.js';
import {
  formatSignature,
  generateKeyPair,
  keyNumberHex,
  type SecretKey,
  signMessage,
  type TrustStore,
  trustStoreOf,
} from '../../firmware-sim/format/index.js';
import { packagesText } from '../helpers/feed-fixtures.js';

const vendor = generateKeyPair('vendor');
const stranger = generateKeyPair('stranger');
const trust = trustStoreOf([{ publicKey: vendor.publicKey, source: 'etc/wmopkg/keys/vendor.pub' }]);
const vendorKey = keyNumberHex(vendor.publicKey.keyNumber);

const NOW = new Date('2026-12-05T12:00:00Z');
const DAY = 24 * 60 * 60 * 1000;
const PACKAGES = Buffer.from(packagesText([{ Package: 'a', Version: '1.0' }]));
const PACKAGES_GZ = gzipSync(PACKAGES);

function sign(message: Uint8Array, key: SecretKey = vendor.secretKey): Buffer {
  return Buffer.from(formatSignature(signMessage(message, key)));
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A Release as `apt-ftparchive release` writes it, for these files. */
function release(
  options: { date?: Date; validUntil?: Date | null; packages?: Uint8Array; gz?: Uint8Array } = {},
) {
  const date = options.date ?? new Date(NOW.getTime() - DAY);
  const validUntil =
    options.validUntil === undefined ? new Date(NOW.getTime() + 6 * DAY) : options.validUntil;
  const line = (bytes: Uint8Array, name: string) =>
    ` ${sha256(bytes)} ${String(bytes.length).padStart(16)} ${name}`;
  return Buffer.from(
    [
      `Date: ${formatRfc2822(date)}`,
      ...(validUntil === null ? [] : [`Valid-Until: ${formatRfc2822(validUntil)}`]),
      'SHA256:',
      line(options.packages ?? PACKAGES, 'Packages'),
      line(options.gz ?? PACKAGES_GZ, 'Packages.gz'),
      '',
    ].join('\n'),
  );
}

function feed(overrides: Partial<FeedIndexFiles> = {}): FeedIndexFiles {
  const rel = overrides.release ?? release();
  return {
    packages: PACKAGES,
    packagesSig: sign(PACKAGES),
    release: rel,
    releaseSig: sign(rel),
    ...overrides,
  };
}

function options(overrides: Partial<FreshnessOptions> = {}): FreshnessOptions {
  return { trust, now: NOW, ...overrides };
}

describe('verifyFeedIndex: accepted', () => {
  test('signed Packages and a signed, current Release: protected, with the date to keep', () => {
    const result = verifyFeedIndex(feed(), options({ last: { date: new Date(NOW.getTime() - 2 * DAY) } }));
    assert.equal(result.freshness.state, 'protected');
    assert.equal(result.packagesSignedBy.keyNumber, vendorKey);
    assert.equal(result.accepted?.date.getTime(), NOW.getTime() - DAY);
  });

  test('the same Release again (an unchanged feed) is accepted', () => {
    const last = { date: new Date(NOW.getTime() - DAY) };
    assert.equal(verifyFeedIndex(feed(), options({ last })).freshness.state, 'protected');
  });

  test('no Release: taken on its signature, freshness none', () => {
    const result = verifyFeedIndex({ packages: PACKAGES, packagesSig: sign(PACKAGES) }, options());
    assert.deepEqual(result.freshness, { state: 'none' });
    assert.equal(result.accepted, undefined);
  });

  test('a Release without Valid-Until: rollback still refused, but no expiry', () => {
    const rel = release({ validUntil: null });
    const result = verifyFeedIndex(feed({ release: rel, releaseSig: sign(rel) }), options());
    assert.equal(result.freshness.state, 'no-expiry');
  });

  test('fetched as Packages.gz: its hash is checked too', () => {
    const result = verifyFeedIndex(
      feed({ packagesGz: { sha256: sha256(PACKAGES_GZ), size: PACKAGES_GZ.length } }),
      options(),
    );
    assert.equal(result.freshness.state, 'protected');
  });
});

describe('verifyFeedIndex: refused, and why', () => {
  const tampered = Buffer.from(PACKAGES.toString().replace('Version: 1.0', 'Version: 6.6'));
  const revoked = trustStoreOf([{ publicKey: vendor.publicKey, source: 'vendor.pub' }], [vendorKey]);
  const unreadable: TrustStore = {
    ...trust,
    revocationProblems: [{ where: 'etc/wmopkg/revoked line 2', why: 'expected a key number' }],
  };
  const old = release({
    date: new Date(NOW.getTime() - 10 * DAY),
    validUntil: new Date(NOW.getTime() + DAY),
  });
  const expired = release({
    date: new Date(NOW.getTime() - 10 * DAY),
    validUntil: new Date(NOW.getTime() - DAY),
  });
  const future = release({
    date: new Date(NOW.getTime() + 3 * DAY),
    validUntil: new Date(NOW.getTime() + 9 * DAY),
  });
  const otherPackages = release({ packages: tampered });
  const table: Array<{
    title: string;
    files: FeedIndexFiles;
    options?: Partial<FreshnessOptions>;
    code: string;
    message: RegExp;
  }> = [
    {
      title: 'a tampered Packages',
      files: feed({ packages: tampered }),
      code: 'FEED_BAD_SIGNATURE',
      message: new RegExp(
        `^Packages\\.sig does not verify with key ${vendorKey}: Packages was changed after signing$`,
      ),
    },
    {
      title: 'no Packages.sig',
      files: { packages: PACKAGES },
      code: 'FEED_UNSIGNED',
      message: /^Packages\.sig is missing/,
    },
    {
      title: 'Packages.sig not a signature',
      files: feed({ packagesSig: Buffer.from('hello\n') }),
      code: 'FEED_BAD_SIGNATURE',
      message: /^Packages\.sig: signature: /,
    },
    {
      title: 'signed by an unknown key',
      files: feed({ packagesSig: sign(PACKAGES, stranger.secretKey) }),
      code: 'FEED_UNTRUSTED',
      message:
        /^Packages\.sig: signed by unknown key [0-9a-f]{16} \(add its public key to etc\/wmopkg\/keys\)$/,
    },
    {
      title: 'signed by a revoked key',
      files: feed(),
      options: { trust: revoked },
      code: 'FEED_UNTRUSTED',
      message: new RegExp(`^Packages\\.sig: signed by revoked key ${vendorKey}$`),
    },
    {
      title: 'the revocation list unreadable (fails closed)',
      files: feed(),
      options: { trust: unreadable },
      code: 'FEED_UNTRUSTED',
      message: /revocation list unreadable \(etc\/wmopkg\/revoked line 2\)/,
    },
    {
      title: 'Release not signed',
      files: feed({ releaseSig: undefined as unknown as Uint8Array }),
      code: 'FEED_UNSIGNED',
      message: /^Release\.sig is missing/,
    },
    {
      title: 'Release tampered',
      files: feed({ releaseSig: sign(release({ date: new Date(NOW.getTime() - 2 * DAY) })) }),
      code: 'FEED_BAD_SIGNATURE',
      message: /^Release\.sig does not verify/,
    },
    {
      title: 'an expired Release',
      files: feed({ release: expired, releaseSig: sign(expired) }),
      code: 'FEED_EXPIRED',
      message: /^Release expired on Fri, 04 Dec 2026 12:00:00 \+0000: the feed is stale \(or frozen\)/,
    },
    {
      title: 'a rolled-back Release (older than the last accepted)',
      files: feed({ release: old, releaseSig: sign(old) }),
      options: { last: { date: new Date(NOW.getTime() - DAY) } },
      code: 'FEED_ROLLBACK',
      message:
        /^Release dated Wed, 25 Nov 2026 12:00:00 \+0000 is older than the last accepted \(Fri, 04 Dec 2026 12:00:00 \+0000\): refused as a rollback$/,
    },
    {
      title: 'a Release that went away after one was accepted',
      files: { packages: PACKAGES, packagesSig: sign(PACKAGES) },
      options: { last: { date: new Date(NOW.getTime() - DAY) } },
      code: 'FEED_ROLLBACK',
      message: /^the feed has no Release any more/,
    },
    {
      title: 'a Release dated in the future',
      files: feed({ release: future, releaseSig: sign(future) }),
      code: 'FEED_NOT_YET_VALID',
      message: /in the future: check the device clock$/,
    },
    {
      title: 'Packages re-signed but not the one Release names',
      files: feed({ packages: tampered, packagesSig: sign(tampered) }),
      code: 'FEED_HASH_MISMATCH',
      message: /^Packages does not match Release/,
    },
    {
      title: 'a Release naming other Packages',
      files: feed({ release: otherPackages, releaseSig: sign(otherPackages) }),
      code: 'FEED_HASH_MISMATCH',
      message: /^Packages does not match Release/,
    },
    {
      title: 'a Packages.gz other than the one Release names',
      files: feed({ packagesGz: { sha256: '0'.repeat(64), size: PACKAGES_GZ.length } }),
      code: 'FEED_HASH_MISMATCH',
      message: /^Packages\.gz does not match Release/,
    },
  ];
  for (const { title, files, options: extra, code, message } of table) {
    test(title, () => {
      assert.throws(
        () => verifyFeedIndex(files, options(extra)),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, code, error.message);
          assert.match(error.message, message);
          assert.ok(!error.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }
});
