import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, rm, symlink, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { takeReturn } from '../../common/lent.js';
import {
  createMediaResolver,
  DEFAULT_MEDIA_LABELS,
  type MediaFile,
  type MediaResolver,
} from '../../media/index.js';
import type { TransferProgress } from '../../transports/types.js';
import { openCount } from '../helpers/media-fds.js';
import { type MountDirs, makeMountDirs, put } from '../helpers/media-fixtures.js';

const MiB = 1024 * 1024;
const BIG = 5 * MiB + 123;

async function sha256(stream: Readable): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), bytes };
}

/** Waits until the stream has closed (its descriptor with it), whatever the outcome. */
async function closed(stream: Readable): Promise<void> {
  if (!stream.closed) await finished(stream).catch(() => {});
  if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
}

describe('open: streaming a media file', () => {
  let mounts: MountDirs;
  let resolver: MediaResolver;
  let data: Buffer;
  let stick: string;
  before(async () => {
    mounts = await makeMountDirs(['usb0', 'outside']);
    stick = mounts.dir('usb0');
    resolver = createMediaResolver({ usbStick: stick, lister: async () => [] });
    data = randomBytes(BIG);
    await put(mounts.dir('outside'), 'pkg/big.wmopkg', 'not this one');
  });
  beforeEach(async () => {
    await rm(join(stick, 'pkg'), { recursive: true, force: true });
    await put(stick, 'pkg/big.wmopkg', data);
  });
  after(() => mounts.cleanup());

  const resolve = (path = 'pkg/big.wmopkg'): Promise<MediaFile> =>
    resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', path);

  test('streams the exact bytes, with size and origin', async () => {
    const file = await resolve();
    const transfer = await resolver.open(file, { maxBytes: 64 * MiB });
    assert.equal(transfer.size, BIG);
    assert.deepEqual(transfer.origin, { kind: 'media', label: 'external' });
    const got = await sha256(transfer.stream);
    assert.deepEqual(got, { digest: createHash('sha256').update(data).digest('hex'), bytes: BIG });
    await closed(transfer.stream);
    assert.equal(await openCount(file.path), 0);
  });

  test('reads in large chunks (at least 256 KiB but the last)', async () => {
    const transfer = await resolver.open(await resolve(), { maxBytes: 64 * MiB });
    const sizes: number[] = [];
    for await (const chunk of transfer.stream) sizes.push((chunk as Buffer).length);
    assert.ok(sizes.length <= Math.ceil(BIG / (256 * 1024)), `${sizes.length} chunks`);
    assert.ok(sizes.slice(0, -1).every((n) => n >= 256 * 1024));
  });

  test('chunks are lent: given back, their buffers read later chunks; kept, they stay as they were', async () => {
    // Given back as soon as hashed, as the install does: a few buffers serve the whole file.
    const transfer = await resolver.open(await resolve(), { maxBytes: 64 * MiB });
    const memories = new Set<ArrayBufferLike>();
    const hash = createHash('sha256');
    for await (const chunk of transfer.stream) {
      memories.add((chunk as Buffer).buffer);
      hash.update(chunk as Buffer);
      takeReturn(chunk as Buffer)?.();
    }
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.ok(memories.size <= 3, `${memories.size} buffers for ${Math.ceil(BIG / MiB)} chunks`);
    // Kept (never given back): every chunk is its own and still holds its bytes at the end.
    const kept: Buffer[] = [];
    for await (const chunk of (await resolver.open(await resolve(), { maxBytes: 64 * MiB })).stream) {
      kept.push(chunk as Buffer);
    }
    assert.ok(Buffer.concat(kept).equals(data));
    assert.equal(new Set(kept.map((chunk) => chunk.buffer)).size, kept.length);
  });

  test('an empty file is an empty stream', async () => {
    await put(stick, 'pkg/empty.wmopkg', '');
    const progress: TransferProgress[] = [];
    const transfer = await resolver.open(await resolve('pkg/empty.wmopkg'), {
      maxBytes: 10,
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(await sha256(transfer.stream), {
      digest: createHash('sha256').digest('hex'),
      bytes: 0,
    });
    assert.deepEqual(
      progress.map(({ bytes, total }) => ({ bytes, total })),
      [{ bytes: 0, total: 0 }],
    );
  });

  test('progress: monotonic, total is the size, the last report is the whole file', async () => {
    const progress: TransferProgress[] = [];
    const transfer = await resolver.open(await resolve(), {
      maxBytes: 64 * MiB,
      onProgress: (p) => progress.push(p),
    });
    await sha256(transfer.stream);
    assert.ok(progress.length >= 1 && progress.length <= 7, `${progress.length} reports for 6 reads`);
    assert.deepEqual(progress.at(-1) && { bytes: progress.at(-1)!.bytes, total: progress.at(-1)!.total }, {
      bytes: BIG,
      total: BIG,
    });
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i]!.bytes >= progress[i - 1]!.bytes);
      assert.ok(progress[i]!.elapsedMs >= progress[i - 1]!.elapsedMs);
    }
  });

  test('size cap: a file of exactly maxBytes is read; one byte more is refused before reading', async () => {
    const exact = await resolver.open(await resolve(), { maxBytes: BIG });
    assert.equal((await sha256(exact.stream)).bytes, BIG);
    const file = await resolve();
    await assert.rejects(resolver.open(file, { maxBytes: BIG - 1 }), {
      name: 'MediaError',
      code: 'MEDIA_TOO_LARGE',
      message: 'media external: pkg/big.wmopkg is 5.0 MiB, more than the limit of 5.0 MiB',
    });
    await assert.rejects(resolver.open(file, { maxBytes: 1000 }), {
      message: 'media external: pkg/big.wmopkg is 5.0 MiB, more than the limit of 1000 bytes',
    });
    assert.equal(await openCount(file.path), 0);
  });

  test('size cap: a file that grows past the cap after opening ends the stream with an error', async () => {
    const file = await resolve();
    const transfer = await resolver.open(file, { maxBytes: BIG + 10 });
    await appendFile(file.path, Buffer.alloc(MiB));
    await assert.rejects(sha256(transfer.stream), {
      code: 'MEDIA_TOO_LARGE',
      message: /^media external: pkg\/big\.wmopkg is 5\.0 MiB, more than the limit of 5\.0 MiB$/,
    });
    await closed(transfer.stream);
    assert.equal(await openCount(file.path), 0);
  });

  test('a file that shrinks or grows (within the cap) while read is an error', async () => {
    const file = await resolve();
    const shrunk = await resolver.open(file, { maxBytes: 64 * MiB });
    await truncate(file.path, 1000);
    await assert.rejects(sha256(shrunk.stream), {
      code: 'MEDIA_CHANGED',
      message: `media external: pkg/big.wmopkg changed while it was read (${BIG} bytes, now 1000)`,
    });
    const grown = await resolver.open(file, { maxBytes: 64 * MiB });
    await appendFile(file.path, 'more');
    await assert.rejects(sha256(grown.stream), { code: 'MEDIA_CHANGED' });
  });

  test('abort mid-transfer: the stream errors with MEDIA_ABORTED and the file is closed', async () => {
    const file = await resolve();
    const controller = new AbortController();
    const transfer = await resolver.open(file, { maxBytes: 64 * MiB, signal: controller.signal });
    assert.equal(await openCount(file.path), 1);
    let bytes = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of transfer.stream) {
          bytes += (chunk as Buffer).length;
          controller.abort();
        }
      })(),
      { name: 'MediaError', code: 'MEDIA_ABORTED', message: 'media external: transfer aborted' },
    );
    assert.ok(bytes > 0 && bytes < BIG);
    await closed(transfer.stream);
    assert.equal(await openCount(file.path), 0);
  });

  test('abort before open: nothing is opened', async () => {
    const file = await resolve();
    await assert.rejects(resolver.open(file, { maxBytes: 64 * MiB, signal: AbortSignal.abort() }), {
      code: 'MEDIA_ABORTED',
    });
    assert.equal(await openCount(file.path), 0);
  });

  test('a reader that gives up (destroy) closes the file', async () => {
    const file = await resolve();
    const transfer = await resolver.open(file, { maxBytes: 64 * MiB });
    for await (const _ of transfer.stream) break;
    await closed(transfer.stream);
    assert.equal(await openCount(file.path), 0);
  });

  test('a progress callback that throws ends the stream with its error, the file closed', async () => {
    const file = await resolve();
    const transfer = await resolver.open(file, {
      maxBytes: 64 * MiB,
      onProgress: () => {
        throw new Error('progress broke');
      },
    });
    await assert.rejects(sha256(transfer.stream), /progress broke/);
    await closed(transfer.stream);
    assert.equal(await openCount(file.path), 0);
  });

  describe('the media changes between resolve and open', () => {
    test('the file became a symlink out of the media: refused', async () => {
      const file = await resolve();
      await rm(file.path);
      await symlink(join(mounts.dir('outside'), 'pkg/big.wmopkg'), file.path);
      await assert.rejects(resolver.open(file, { maxBytes: 64 * MiB }), {
        code: 'MEDIA_PATH_ESCAPE',
        message: 'media external: file became a symbolic link: pkg/big.wmopkg',
      });
    });

    test('a directory on the way became a symlink out of the media: refused once open', async () => {
      const file = await resolve();
      await rename(join(stick, 'pkg'), join(stick, 'pkg-old'));
      await symlink(join(mounts.dir('outside'), 'pkg'), join(stick, 'pkg'));
      await assert.rejects(resolver.open(file, { maxBytes: 64 * MiB }), {
        code: 'MEDIA_PATH_ESCAPE',
        message: 'media external: path escapes the media: pkg/big.wmopkg',
      });
      assert.equal(await openCount(join(mounts.dir('outside'), 'pkg/big.wmopkg')), 0);
      await rm(join(stick, 'pkg'));
      await rename(join(stick, 'pkg-old'), join(stick, 'pkg'));
    });

    test('the file became a fifo: refused without hanging', async () => {
      const file = await resolve();
      await rm(file.path);
      execFileSync('mkfifo', [file.path]);
      await assert.rejects(resolver.open(file, { maxBytes: 64 * MiB }), {
        code: 'MEDIA_NOT_A_FILE',
        message: 'media external: not a regular file: pkg/big.wmopkg',
      });
      assert.equal(await openCount(file.path), 0);
    });

    test('the file is gone: no such file', async () => {
      const file = await resolve();
      await rm(file.path);
      await assert.rejects(resolver.open(file, { maxBytes: 64 * MiB }), {
        code: 'MEDIA_NOT_FOUND',
        message: 'media external: no such file: pkg/big.wmopkg',
      });
    });

    test('a directory at the path: not a regular file', async () => {
      const file = await resolve();
      await rm(file.path);
      await mkdir(file.path);
      await assert.rejects(resolver.open(file, { maxBytes: 64 * MiB }), { code: 'MEDIA_NOT_A_FILE' });
    });
  });
});
