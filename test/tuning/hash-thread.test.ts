// SHA-256 on another thread: the digests are node:crypto's, shared memory is read in place, the file it writes is what it was given, and one core never starts it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HASH_THREAD_MIN_BYTES, HashThread, hashThreadPays } from '../../tuning/hash-thread.js';

const MiB = 1024 * 1024;

/** A Buffer over shared memory holding `bytes`. */
function shared(bytes: Uint8Array): Buffer {
  const buffer = Buffer.from(new SharedArrayBuffer(bytes.length));
  buffer.set(bytes);
  return buffer;
}

describe('HashThread', () => {
  test('digests equal node:crypto over shared, plain and oversized chunks, in order', async () => {
    const chunks = [
      shared(randomBytes(MiB)),
      randomBytes(1000),
      shared(randomBytes(3 * MiB)).subarray(5, 2 * MiB),
      randomBytes(3 * MiB), // more than a staging buffer
      Buffer.alloc(0),
      randomBytes(1),
    ];
    const thread = new HashThread();
    try {
      for (const chunk of chunks) {
        const full = thread.update(chunk);
        if (full) await full;
      }
      const expected = createHash('sha256');
      for (const chunk of chunks) expected.update(chunk);
      assert.equal(await thread.digest(), expected.digest('hex'));
    } finally {
      await thread.close();
    }
  });

  test('a shared chunk is read in place until idle(); afterwards its memory may change', async () => {
    const memory = shared(randomBytes(2 * MiB));
    const original = Buffer.from(memory);
    const thread = new HashThread();
    try {
      thread.update(memory);
      await thread.idle();
      memory.fill(0);
      assert.equal(await thread.digest(), createHash('sha256').update(original).digest('hex'));
    } finally {
      await thread.close();
    }
  });

  test('more than a few MiB waiting asks the caller to wait, and the wait ends', async () => {
    const thread = new HashThread();
    try {
      const chunk = shared(randomBytes(MiB));
      let asked = 0;
      for (let i = 0; i < 40; i++) {
        const full = thread.update(chunk);
        if (full) {
          asked++;
          await full;
        }
      }
      assert.ok(asked > 0, 'update returned a promise while the thread was behind');
      const expected = createHash('sha256');
      for (let i = 0; i < 40; i++) expected.update(chunk);
      assert.equal(await thread.digest(), expected.digest('hex'));
    } finally {
      await thread.close();
    }
  });

  test('a closed thread refuses updates and digests instead of hanging', async () => {
    const thread = new HashThread();
    thread.update(randomBytes(10));
    await thread.close();
    assert.throws(() => thread.update(randomBytes(10)), /closed/);
    await thread.idle();
    await assert.rejects(thread.digest(), /closed/);
  });
});

describe('HashThread writing a file', () => {
  /** Runs `body` with a fresh file open for writing; returns what the file holds afterwards. */
  async function withFile(body: (fd: number) => Promise<void>): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), 'edgesh-hash-thread-'));
    try {
      const handle = await open(join(dir, 'f'), 'w');
      try {
        await body(handle.fd);
      } finally {
        await handle.close();
      }
      return await readFile(join(dir, 'f'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('the chunks written land at their positions, hashed or not, and every byte is counted once', async () => {
    const head = randomBytes(1000);
    const body = [shared(randomBytes(MiB)), randomBytes(3 * MiB), shared(randomBytes(2 * MiB)).subarray(7)];
    const tail = randomBytes(333);
    let counted = 0;
    const content = await withFile(async (fd) => {
      const thread = new HashThread({ fd, onWritten: (bytes) => (counted += bytes) });
      try {
        assert.equal(thread.writes, true);
        let at = 0;
        for (const chunk of [head, ...body]) {
          const full = thread.write(chunk, at);
          at += chunk.length;
          if (body.includes(chunk)) await thread.update(chunk);
          if (full) await full;
        }
        const expected = createHash('sha256');
        for (const chunk of body) expected.update(chunk);
        assert.equal(await thread.digest(), expected.digest('hex'));
        // Still writing after the digest: the rest of the file comes after the hashed member.
        thread.write(tail, at);
        await thread.flush();
        assert.equal(typeof thread.writeMs, 'number');
      } finally {
        await thread.close();
      }
    });
    const all = Buffer.concat([head, ...body, tail]);
    assert.deepEqual(content, all);
    assert.equal(counted, all.length);
  });

  test('a failed write fails flush with the system error, and nothing after it is done', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgesh-hash-thread-'));
    try {
      // Open for reading only: the thread's write fails with EBADF.
      const handle = await open(join(dir, 'f'), 'w+');
      await handle.close();
      const reading = await open(join(dir, 'f'), 'r');
      const thread = new HashThread({ fd: reading.fd });
      try {
        thread.write(shared(randomBytes(1000)), 0);
        await assert.rejects(thread.flush(), (error: NodeJS.ErrnoException) => error.code === 'EBADF');
        assert.throws(
          () => thread.write(randomBytes(10), 1000),
          (error: NodeJS.ErrnoException) => error.code === 'EBADF',
        );
        await thread.idle();
      } finally {
        await thread.close();
        await reading.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a thread without a file refuses to write', async () => {
    const thread = new HashThread();
    try {
      assert.equal(thread.writes, false);
      assert.throws(() => thread.write(randomBytes(10), 0), /no file/);
    } finally {
      await thread.close();
    }
  });
});

test('only a device with another core, and only a large member, starts the thread', () => {
  assert.equal(hashThreadPays(HASH_THREAD_MIN_BYTES, 2), true);
  assert.equal(hashThreadPays(HASH_THREAD_MIN_BYTES, 1), false, 'a single core hashes on its own thread');
  assert.equal(hashThreadPays(HASH_THREAD_MIN_BYTES - 1, 8), false);
});
