// How the install takes in a download: batches (gathered, passed through, reused) and the background file writer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { lend } from '../../../common/lent.js';
import {
  COLLECT_EVERY,
  eachBatch,
  GatheringWriter,
  RECEIVE_BATCH,
} from '../../../firmware-sim/store/receive-stream.js';

/** Feeds `chunks` through a stream and collects what eachBatch hands out (copies, and the originals). */
async function collect(
  chunks: readonly Buffer[],
  batchBytes: number,
  options: { release?: boolean; copyLarge?: boolean } = {},
): Promise<{ batches: Buffer[]; originals: Buffer[] }> {
  const batches: Buffer[] = [];
  const originals: Buffer[] = [];
  await eachBatch(
    Readable.from(chunks, { objectMode: false }),
    async (batch, release) => {
      originals.push(batch);
      batches.push(Buffer.from(batch));
      if (options.release !== false) release();
    },
    { batchBytes, ...(options.copyLarge ? { copyLarge: () => true } : {}) },
  );
  return { batches, originals };
}

describe('eachBatch', () => {
  test('small chunks are gathered into batches of at most batchBytes, in order, nothing lost', async () => {
    const chunks = Array.from({ length: 37 }, (_, i) => randomBytes(100 + i));
    const { batches } = await collect(chunks, 1024);
    assert.deepEqual(Buffer.concat(batches), Buffer.concat(chunks));
    assert.ok(batches.every((b) => b.length <= 1024));
    assert.ok(batches.length < chunks.length, 'chunks were gathered');
  });

  test('gathered batches are in shared memory, which a hashing thread reads in place', async () => {
    const { originals } = await collect([randomBytes(100), randomBytes(100)], 1024);
    assert.ok(originals.every((b) => b.buffer instanceof SharedArrayBuffer));
  });

  test('a large chunk is passed on as it is, without a copy', async () => {
    const large = randomBytes(800);
    const chunks = [randomBytes(10), large, randomBytes(10)];
    const { batches, originals } = await collect(chunks, 1024);
    assert.deepEqual(Buffer.concat(batches), Buffer.concat(chunks));
    assert.ok(originals.includes(large), 'the large chunk itself was handed out');
  });

  test('where copyLarge says so, a large chunk is copied into shared memory too, and a lent one goes back at once', async () => {
    const back: string[] = [];
    const large = lend(randomBytes(800), () => back.push('large'));
    const chunks = [randomBytes(10), large, randomBytes(600), randomBytes(10)];
    const handed: Buffer[] = [];
    await eachBatch(
      Readable.from(chunks),
      async (batch, release) => {
        assert.ok(batch.buffer instanceof SharedArrayBuffer, 'every batch is in shared memory');
        // The first batch holds the 10 bytes and the large chunk (the 600 do not fit beside them).
        if (handed.length === 0) assert.deepEqual(back, ['large'], 'given back once copied');
        handed.push(Buffer.from(batch));
        release();
      },
      { batchBytes: 1024, copyLarge: () => true },
    );
    assert.deepEqual(Buffer.concat(handed), Buffer.concat(chunks));
    assert.ok(handed.every((b) => b.length <= 1024));
  });

  test('a large chunk already in shared memory is passed on as it is, even where copyLarge says so', async () => {
    const large = Buffer.from(new SharedArrayBuffer(800));
    large.set(randomBytes(800));
    const originals: Buffer[] = [];
    await eachBatch(
      Readable.from([randomBytes(10), large]),
      async (batch, release) => {
        originals.push(batch);
        release();
      },
      { batchBytes: 1024, copyLarge: () => true },
    );
    assert.ok(originals.includes(large), 'the shared chunk itself was handed out');
  });

  test('released batch buffers are reused; unreleased ones are not', async () => {
    // Batches over 4 KiB: Buffer.allocUnsafe gives each its own memory (smaller ones share a pool).
    const chunks = Array.from({ length: 64 }, () => randomBytes(1000));
    const reused = await collect(chunks, 8192);
    const buffersOf = (list: Buffer[]) => new Set(list.map((b) => b.buffer));
    assert.ok(buffersOf(reused.originals).size < reused.originals.length, 'a buffer came back');
    const kept = await collect(chunks, 8192, { release: false });
    assert.equal(buffersOf(kept.originals).size, kept.originals.length);
    assert.deepEqual(Buffer.concat(kept.batches), Buffer.concat(chunks));
  });

  test('a stream error rejects, after the batch in progress is done', async () => {
    const stream = new PassThrough();
    let inProgress = false;
    const done = eachBatch(
      stream,
      async () => {
        inProgress = true;
        // The connection fails while this batch is being processed.
        stream.destroy(new Error('connection lost'));
        await new Promise((r) => setImmediate(r));
        inProgress = false;
      },
      { batchBytes: 100 },
    );
    stream.write(randomBytes(150));
    await assert.rejects(
      done.finally(() => assert.equal(inProgress, false)),
      /connection lost/,
    );
  });

  test('an error of the consumer rejects and stops the batches', async () => {
    const chunks = Array.from({ length: 10 }, () => randomBytes(100));
    let calls = 0;
    await assert.rejects(
      eachBatch(
        Readable.from(chunks),
        async () => {
          calls += 1;
          throw new Error('full disk');
        },
        { batchBytes: 100 },
      ),
      /full disk/,
    );
    assert.equal(calls, 1);
  });
});

describe('collecting young garbage', () => {
  const MiB = 1024 * 1024;
  const count = async (chunk: number, total: number) => {
    let collected = 0;
    const chunks = Array.from({ length: total / chunk }, () => Buffer.alloc(chunk, 7));
    await eachBatch(Readable.from(chunks), async (_batch, release) => release(), {
      collect: () => {
        collected += 1;
      },
    });
    return collected;
  };

  test('eachBatch collects once per COLLECT_EVERY bytes it hands out', async () => {
    assert.equal(await count(64 * 1024, 3 * COLLECT_EVERY), 3);
    assert.equal(await count(64 * 1024, COLLECT_EVERY - 64 * 1024), 0);
  });

  test('chunks passed on without a copy count too', async () => {
    assert.equal(await count(MiB, 3 * COLLECT_EVERY), 3);
  });

  test('lent chunks go back to their source: when copied, or after release when passed on', async () => {
    const back: string[] = [];
    const small = lend(Buffer.alloc(1000, 1), () => back.push('small'));
    const large = lend(Buffer.alloc(RECEIVE_BATCH, 2), () => back.push('large'));
    const plain = Buffer.alloc(1000, 3);
    const seen: string[] = [];
    await eachBatch(Readable.from([small, large, plain]), async (batch, release) => {
      seen.push(`batch of ${batch.length}, back so far: ${back.join(' ')}`);
      release();
      release();
    });
    assert.deepEqual(seen, [
      'batch of 1000, back so far: small',
      `batch of ${RECEIVE_BATCH}, back so far: small`,
      'batch of 1000, back so far: small large',
    ]);
    assert.deepEqual(back, ['small', 'large'], 'each given back once');
  });
});

describe('GatheringWriter', () => {
  test('writes every chunk in order; written() resolves once they are on the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgesh-gather-'));
    try {
      const path = join(dir, 'out');
      const handle = await open(path, 'wx');
      const writer = new GatheringWriter(handle, 4096);
      const chunks = Array.from({ length: 50 }, (_, i) => randomBytes(200 + i));
      for (const chunk of chunks) {
        const full = writer.write(chunk);
        if (full) await full;
      }
      await writer.written();
      assert.deepEqual(await readFile(path), Buffer.concat(chunks));
      await writer.flush();
      await handle.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a failed write: flush rejects with it, written() still resolves, the next write throws', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgesh-gather-'));
    try {
      const handle = await open(join(dir, 'out'), 'wx');
      const writer = new GatheringWriter(handle);
      await handle.close();
      writer.write(randomBytes(100));
      await writer.written();
      await assert.rejects(writer.flush(), { code: 'EBADF' });
      assert.throws(() => writer.write(randomBytes(1)), { code: 'EBADF' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
