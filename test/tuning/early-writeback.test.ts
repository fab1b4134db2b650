// Write-back during the write: flushes start as the file grows, one at a time, and a failed one is reported.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EarlyWriteback } from '../../tuning/early-writeback.js';

const MiB = 1024 * 1024;

test('a flush starts once every `every` bytes, never two at once, and settles', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgesh-writeback-'));
  try {
    const handle = await open(join(dir, 'f'), 'w');
    const data = randomBytes(4 * MiB);
    try {
      const writeback = new EarlyWriteback(handle, MiB);
      writeback.wrote(MiB / 2);
      assert.equal(writeback.started, 0, 'not before `every` bytes');
      for (let at = 0; at < data.length; at += MiB) {
        await handle.write(data, at, MiB, at);
        writeback.wrote(MiB);
        await writeback.settled();
      }
      assert.equal(writeback.started, 4);
      writeback.wrote(MiB);
      writeback.wrote(MiB);
      assert.equal(writeback.started, 5, 'the second waits for the first');
      await writeback.settled();
    } finally {
      await handle.close();
    }
    assert.deepEqual(await readFile(join(dir, 'f')), data);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a flush that fails is reported by settled()', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgesh-writeback-'));
  try {
    const handle = await open(join(dir, 'f'), 'w');
    await handle.close();
    const writeback = new EarlyWriteback(handle, 1);
    writeback.wrote(1);
    await assert.rejects(writeback.settled());
    writeback.wrote(1);
    assert.equal(writeback.started, 1, 'no flush after a failure');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
