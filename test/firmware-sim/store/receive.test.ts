// The install of a large package, hashed on another core: the digests recorded are the file's, a tampered one is refused.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HASH_THREAD_MIN_BYTES } from '../../../tuning/hash-thread.js';
import {
  installFile,
  makeTestDevice,
  rejectsWith,
  type TestDevice,
  tempFiles,
} from '../../helpers/device-fixtures.js';
import { buildPackage, file, flipByte, memberOffset, readArMembers } from '../../helpers/package-fixtures.js';

describe('installing a package whose data archive is hashed on another core', () => {
  let t: TestDevice;
  let path: string;

  before(async () => {
    t = await makeTestDevice();
    path = await buildPackage(t.root, {
      name: 'large',
      sign: t.vendorKey,
      data: [file('./opt/large/blob', randomBytes(HASH_THREAD_MIN_BYTES + 1024 * 1024))],
      gzipLevel: 1,
    });
  });
  after(() => t.cleanup());

  test('records the digest of every member as the file holds it, and verifies the signature', async () => {
    const result = await installFile(t.device, path);
    assert.equal(result.verification, 'Signed');
    const storeDir = join(t.dir, 'cfg/packages/large');
    const record = JSON.parse(await readFile(join(storeDir, 'record.json'), 'utf8')) as {
      members: Array<{ name: string; sha256: string }>;
    };
    const members = await readArMembers(path);
    assert.ok(members.find((m) => m.name === 'data.tar.gz')!.data.length >= HASH_THREAD_MIN_BYTES);
    assert.deepEqual(
      record.members.map((m) => [m.name, m.sha256]),
      members.map((m) => [m.name, createHash('sha256').update(m.data).digest('hex')]),
    );
    const stored = (await readdir(storeDir)).find((f) => f.endsWith('.wmopkg'))!;
    assert.deepEqual(await readFile(join(storeDir, stored)), await readFile(path));
  });

  test('a byte changed in the data archive after signing: refused, nothing left behind', async () => {
    await flipByte(path, (await memberOffset(path, 'data.tar.gz')) + HASH_THREAD_MIN_BYTES - 7);
    await rejectsWith(
      installFile(t.device, path),
      'DEVICE_INVALID_PACKAGE',
      /digest mismatch: data\.tar\.gz/,
    );
    assert.deepEqual(await tempFiles(t.dir), []);
  });
});
