// Memory an activation lends instead of copying: the reader's buffers to the unpacker, the writer threads' batches back to the next batch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { SafeUnpacker } from '../../../firmware-sim/boot/unpack.js';
import { readPackage, readPackageFile } from '../../../firmware-sim/format/index.js';
import { installFile, makeTestDevice, type TestDevice } from '../../helpers/device-fixtures.js';
import { buildPackage, dir, file } from '../../helpers/package-fixtures.js';

describe('readPackageFile with dataConsumed', () => {
  let root: string;
  let path: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'edgesh-lend-'));
    // Noise does not compress: data.tar.gz spans several 1 MiB reads.
    path = await buildPackage(root, {
      name: 'noise',
      data: [file('./opt/noise', randomBytes(5 * 1024 * 1024))],
    });
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('lends its read buffers, and reads into one again only once the consumer is done with it', async () => {
    const held: Array<{ chunk: Buffer; copy: Buffer }> = [];
    const memories = new Set<ArrayBufferLike>();
    let chunks = 0;
    let checks = 0;
    const reading = await readPackageFile(path, {
      onData: (chunk) => {
        chunks++;
        memories.add(chunk.buffer);
        held.push({ chunk, copy: Buffer.from(chunk) });
      },
      // A slow consumer: the chunks it holds must not change until it says it is done with them.
      dataConsumed: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const { chunk, copy } of held) {
          assert.ok(chunk.equals(copy), 'a lent buffer was read into while it was held');
          checks++;
        }
        held.length = 0;
      },
    });
    assert.ok(chunks >= 5, `${chunks} chunks`);
    assert.ok(checks >= chunks - 1, `${checks} checks of ${chunks} chunks`);
    // The same two buffers all along: lent, not copied.
    assert.ok(memories.size <= 2, `${memories.size} distinct memories`);
    const bytes = await readFile(path);
    const expected = await readPackage(
      (async function* () {
        yield bytes;
      })(),
    );
    assert.deepStrictEqual(reading, expected);
  });

  test('without it, every chunk is a copy of its own', async () => {
    const memories = new Set<ArrayBufferLike>();
    let chunks = 0;
    await readPackageFile(path, {
      onData: (chunk) => {
        chunks++;
        memories.add(chunk.buffer);
      },
    });
    assert.equal(memories.size, chunks);
  });
});

test('SafeUnpacker.consumed settles after zlib failed on a chunk (zlib never calls back for it)', async () => {
  const stage = await mkdtemp(join(tmpdir(), 'edgesh-consumed-'));
  try {
    const unpacker = new SafeUnpacker({
      limits: { dataBytes: 2 ** 40, entries: 1000, pathDepth: 64 },
      stageDir: stage,
    });
    // A gzip header, then 1 MiB that is no deflate stream: large enough to go to zlib as it is.
    const bad = Buffer.concat([gzipSync(Buffer.alloc(0)).subarray(0, 10), Buffer.alloc(1024 * 1024, 0xff)]);
    await unpacker.write(bad).catch(() => {});
    const settled = await Promise.race([
      unpacker.consumed().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    assert.equal(settled, true, 'consumed() never settled');
    await assert.rejects(unpacker.end(), /bad gzip data/);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
});

describe('an activation of thousands of small files through the writer threads', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('every file has its own bytes, though batches reuse the memory of earlier ones', async () => {
    // More than the writers' batches in flight (512 files each), each file different.
    const contents = new Map<string, Buffer>();
    const entries = [];
    for (let d = 0; d < 30; d++) {
      entries.push(dir(`./opt/many/d${d}/`));
      for (let f = 0; f < 100; f++) {
        const content = randomBytes(1 + (((d * 100 + f) * 37) % 3000));
        contents.set(`opt/many/d${d}/f${f}`, content);
        entries.push(file(`./opt/many/d${d}/f${f}`, content));
      }
    }
    await mkdir(join(t.root, 'many'), { recursive: true });
    const pkg = await buildPackage(join(t.root, 'many'), { name: 'many', data: entries, sign: t.vendorKey });
    await installFile(t.device, pkg);
    const report = await t.device.boot();
    assert.equal(report.lines.find((l) => l.name === 'many')?.reason, 'activated');
    for (const [name, content] of contents) {
      assert.ok((await readFile(join(t.dir, 'rootfs', name))).equals(content), name);
    }
  });
});

test('a large file after the first 200 entries goes to its writer no faster than the writers take it', async () => {
  const stage = await mkdtemp(join(tmpdir(), 'edgesh-inflight-'));
  try {
    // 250 small files move the unpack onto the writer threads; then 96 MiB in one file, stored
    // uncompressed so that inflating is a copy and outruns any disk.
    const big = randomBytes(96 * 1024 * 1024);
    const pack = tarStream.pack();
    const chunks: Buffer[] = [];
    const collected = (async () => {
      for await (const chunk of pack) chunks.push(chunk as Buffer);
    })();
    for (let i = 0; i < 250; i++) pack.entry({ name: `small/f${i}`, mode: 0o644 }, `${i}\n`);
    pack.entry({ name: 'big', mode: 0o644 }, big);
    pack.finalize();
    await collected;
    const gz = gzipSync(Buffer.concat(chunks), { level: 0 });
    const unpacker = new SafeUnpacker({
      limits: { dataBytes: 2 ** 40, entries: 1000, pathDepth: 64 },
      stageDir: stage,
    });
    for (let at = 0; at < gz.length; at += 1024 * 1024)
      await unpacker.write(gz.subarray(at, at + 1024 * 1024));
    await unpacker.end();
    assert.ok((await readFile(join(stage, 'big'))).equals(big));
    assert.equal(await readFile(join(stage, 'small/f249'), 'utf8'), '249\n');
    // At most 8 batches per writer (2) within a file, and the last flush of each lane at the end.
    const { peakInFlight } = (unpacker as unknown as { sink: { peakInFlight: number } }).sink;
    assert.ok(peakInFlight <= 18, `${peakInFlight} batches were on their way at once`);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
});
