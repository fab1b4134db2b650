// SHA-256 on another thread: the digests are node:crypto's, shared memory is read in place, and one core never starts it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
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

  test('a shared chunk is read in place until hashed(); afterwards its memory may change', async () => {
    const memory = shared(randomBytes(2 * MiB));
    const original = Buffer.from(memory);
    const thread = new HashThread();
    try {
      thread.update(memory);
      await thread.hashed();
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
      for (let i = 0; i < 16; i++) {
        const full = thread.update(chunk);
        if (full) {
          asked++;
          await full;
        }
      }
      assert.ok(asked > 0, 'update returned a promise while the thread was behind');
      const expected = createHash('sha256');
      for (let i = 0; i < 16; i++) expected.update(chunk);
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
    await thread.hashed();
    await assert.rejects(thread.digest(), /closed/);
  });
});

test('only a device with another core, and only a large member, starts the thread', () => {
  assert.equal(hashThreadPays(HASH_THREAD_MIN_BYTES, 2), true);
  assert.equal(hashThreadPays(HASH_THREAD_MIN_BYTES, 1), false, 'a single core hashes on its own thread');
  assert.equal(hashThreadPays(HASH_THREAD_MIN_BYTES - 1, 8), false);
});
