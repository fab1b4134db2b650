// The transfer guard on its own: cap, announced size, stall (not counting our backpressure), abort, progress, release.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { checkAnnouncedSize, guardReadable, TransferGuard } from '../../transports/guard.js';
import type { TransferProgress } from '../../transports/types.js';
import { drain, drainError, until } from '../helpers/transport-fixtures.js';

const base = { origin: 'test 127.0.0.1:1', ctx: { maxBytes: 1000, stallTimeoutMs: 200 } };
const endpoint = { kind: 'remote', proto: 'ftp', host: '127.0.0.1', port: 1 } as const;

function guarded(
  size: number | undefined,
  ctx: Partial<typeof base.ctx & { signal: AbortSignal; onProgress: (p: TransferProgress) => void }> = {},
) {
  const source = new PassThrough();
  let released = 0;
  const transfer = guardReadable(source, {
    ...base,
    endpoint,
    size,
    ctx: { ...base.ctx, ...ctx },
    release: () => released++,
  });
  return { source, transfer, released: () => released };
}

describe('guard', () => {
  test('passes bytes through and releases once at the end', async () => {
    const { source, transfer, released } = guarded(6);
    source.end(Buffer.from('abcdef'));
    assert.equal((await drain(transfer)).bytes, 6);
    assert.equal(released(), 1);
  });

  const failures = [
    { title: 'more than the cap', size: undefined, chunks: [600, 600], code: 'TRANSPORT_TOO_LARGE' },
    { title: 'more than announced', size: 500, chunks: [400, 200], code: 'TRANSPORT_SIZE_MISMATCH' },
    { title: 'less than announced', size: 500, chunks: [400], code: 'TRANSPORT_TRUNCATED' },
  ];
  for (const { title, size, chunks, code } of failures) {
    test(`fails on ${title}, releasing once`, async () => {
      const { source, transfer, released } = guarded(size);
      for (const n of chunks) source.write(Buffer.alloc(n));
      source.end();
      assert.equal((await drainError(transfer)).code, code);
      assert.equal(released(), 1);
    });
  }

  test('a source destroyed before its end is a truncated transfer', async () => {
    const { source, transfer } = guarded(undefined);
    source.write(Buffer.alloc(10));
    setImmediate(() => source.destroy());
    assert.equal((await drainError(transfer)).code, 'TRANSPORT_TRUNCATED');
  });

  test('a silent source stalls; a slow reader does not', async () => {
    const stalled = guarded(undefined);
    stalled.source.write(Buffer.alloc(10));
    const error = await drainError(stalled.transfer);
    assert.equal(error.code, 'TRANSPORT_STALLED');
    assert.equal(error.message, 'test 127.0.0.1:1: no data for 200 ms after 10 bytes (stall timeout)');

    // The reader pauses for longer than the stall timeout while the source has data: no stall.
    const guard = new TransferGuard({
      ...base,
      size: undefined,
      ctx: { ...base.ctx, maxBytes: 10_000_000 },
      release: () => undefined,
    });
    const big = Buffer.alloc(1024 * 1024);
    guard.feed(big); // over the high water mark: the guard now waits for its reader, not the server
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(guard.destroyed, false);
    guard.finish();
    assert.equal((await drain({ stream: guard, size: undefined, origin: endpoint })).bytes, big.length);
  });

  test('abort at any moment: TRANSPORT_ABORTED, released', async () => {
    const controller = new AbortController();
    const { source, transfer, released } = guarded(undefined, { signal: controller.signal });
    source.write(Buffer.alloc(10));
    setImmediate(() => controller.abort());
    const error = await drainError(transfer);
    assert.equal(error.code, 'TRANSPORT_ABORTED');
    assert.equal(released(), 1);
  });

  test('a failure before anyone reads waits for the reader instead of crashing the process', async () => {
    const controller = new AbortController();
    const { transfer, released } = guarded(undefined, { signal: controller.signal });
    controller.abort();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(released(), 1, 'the connection is closed at once');
    assert.equal((await drainError(transfer)).code, 'TRANSPORT_ABORTED');
  });

  test('a reader that gives up releases the connection', async () => {
    const { source, transfer, released } = guarded(undefined);
    source.write(Buffer.alloc(10));
    transfer.stream.destroy();
    await until(() => released() === 1, 'release');
  });

  test('progress is a frozen value, throttled, with a final report', async () => {
    const reports: TransferProgress[] = [];
    const { source, transfer } = guarded(300, { onProgress: (p) => reports.push(p) });
    for (let i = 0; i < 3; i++) source.write(Buffer.alloc(100));
    source.end();
    await drain(transfer);
    assert.ok(reports.length >= 2 && reports.length < 4, `${reports.length} reports`);
    assert.deepEqual(
      { bytes: reports.at(-1)?.bytes, total: reports.at(-1)?.total },
      { bytes: 300, total: 300 },
    );
    assert.ok(reports.every((r) => Object.isFrozen(r)));
  });

  test('a throwing progress callback does not break the transfer', async () => {
    const { source, transfer } = guarded(3, {
      onProgress: () => {
        throw new Error('display broke');
      },
    });
    source.end(Buffer.from('abc'));
    assert.equal((await drain(transfer)).bytes, 3);
  });

  test('checkAnnouncedSize', () => {
    assert.throws(() => checkAnnouncedSize('x', 2048, 1024), {
      code: 'TRANSPORT_TOO_LARGE',
      message: 'x: file is 2.0 KiB, more than the maximum of 1.0 KiB',
    });
    assert.doesNotThrow(() => checkAnnouncedSize('x', undefined, 1));
  });

  test('a Readable source that is not pausable still works (tftp pushes regardless)', async () => {
    const source = new Readable({ read() {} });
    const transfer = guardReadable(source, { ...base, endpoint, size: undefined, release: () => undefined });
    source.push(Buffer.alloc(5));
    source.push(null);
    assert.equal((await drain(transfer)).bytes, 5);
  });
});
