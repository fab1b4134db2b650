// The revocation list is a security control: the obvious spellings are read, anything else fails
// closed (no signature counts as trusted while a line cannot be read); a bad key file only means
// that key is not trusted.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  formatPublicKey,
  keyNumberHex,
  loadTrustStore,
  type PackageReading,
  parseRevocationList,
  verifyPackage,
} from '../../../firmware-sim/format/index.js';
import { packageBytes, readBytes, vendor } from '../../helpers/format-fixtures.js';

const key = keyNumberHex(vendor.publicKey.keyNumber);

describe('parseRevocationList', () => {
  test('reads 16 hex digits with 0x, in any case, with blanks and comments', () => {
    const upper = key.toUpperCase();
    const list = parseRevocationList(
      `# revoked\n${key}\n0x${key}\n  0X${upper}  \n\t${upper} # old vendor key\n\n   \n# ${'x'.repeat(20)}\n`,
      'revoked',
    );
    assert.deepEqual(list.revoked, [key, key, key, key]);
    assert.deepEqual(list.unreadable, []);
    assert.deepEqual(list.problems, []);
  });

  test('any other line is unreadable, named by its line number', () => {
    const list = parseRevocationList(
      `${key}\ngarbage\n${key.slice(1)}\n${key}0\n0x 9ec5d22e98051ada\n9ec5d22e98051adz\n0x0x${key}\n`,
      'etc/wmopkg/revoked',
    );
    assert.deepEqual(list.revoked, [key]);
    assert.deepEqual(
      list.unreadable.map((p) => p.where),
      [2, 3, 4, 5, 6, 7].map((n) => `etc/wmopkg/revoked line ${n}`),
    );
    assert.equal(list.problems[0], 'etc/wmopkg/revoked line 2: expected a key number of 16 hex digits');
  });
});

describe('loadTrustStore and the verdict', () => {
  let dir: string;
  let reading: PackageReading;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wmopkg-revoked-'));
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'vendor.pub'), formatPublicKey(vendor.publicKey));
    reading = await readBytes(await packageBytes());
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = async (revoked: string | undefined) => {
    const file = join(dir, 'revoked');
    await rm(file, { recursive: true, force: true });
    if (revoked !== undefined) await writeFile(file, revoked);
    return loadTrustStore(join(dir, 'keys'), file, 'etc/wmopkg/revoked');
  };

  test('a readable list: Signed, or Untrusted for a revoked key', async () => {
    assert.equal(verifyPackage(reading, await load(undefined)).status, 'Signed');
    assert.equal(verifyPackage(reading, await load('# nothing revoked\n')).status, 'Signed');
    const revoked = verifyPackage(reading, await load(`0x${key.toUpperCase()}\n`));
    assert.equal(revoked.status, 'Untrusted');
    assert.equal(revoked.reason, `signed by revoked key ${key}`);
  });

  test('an unreadable line: what would be Signed is Untrusted, naming the first bad line', async () => {
    const trust = await load(`# list\n0123456789abcdef\ngarbage\n012345678901234\n`);
    assert.deepEqual(
      trust.revocationProblems?.map((p) => p.where),
      ['etc/wmopkg/revoked line 3', 'etc/wmopkg/revoked line 4'],
    );
    const verdict = verifyPackage(reading, trust);
    assert.equal(verdict.status, 'Untrusted');
    assert.equal(verdict.reason, 'revocation list unreadable: etc/wmopkg/revoked line 3');
    assert.equal(verdict.keyNumber, key);
    assert.ok(trust.problems.some((p) => p.startsWith('etc/wmopkg/revoked line 3: ')));
  });

  test('a list that cannot be read at all fails closed too', async () => {
    await rm(join(dir, 'revoked'), { force: true });
    await mkdir(join(dir, 'revoked'));
    const trust = await loadTrustStore(join(dir, 'keys'), join(dir, 'revoked'), 'etc/wmopkg/revoked');
    const verdict = verifyPackage(reading, trust);
    assert.equal(verdict.status, 'Untrusted');
    assert.equal(verdict.reason, 'revocation list unreadable: etc/wmopkg/revoked');
    await rm(join(dir, 'revoked'), { recursive: true });
  });

  test('a bad key file is a problem of its own: that key is not trusted, the others are', async () => {
    await writeFile(join(dir, 'keys', 'broken.pub'), 'not a key\n');
    const trust = await load(`${'0'.repeat(16)}\n`);
    assert.equal(trust.revocationProblems, undefined);
    assert.equal(trust.problems.length, 1);
    assert.match(trust.problems[0]!, /broken\.pub: .*; ignored$/);
    assert.equal(verifyPackage(reading, trust).status, 'Signed');
  });
});
